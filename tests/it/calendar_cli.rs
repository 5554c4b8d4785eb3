//! `cspr calendar …` end to end, against answers worked out by hand from the published
//! bank holidays.

use crate::support::{cspr, stderr, stdout, write};

#[test]
fn calendar_answers_match_the_published_holidays_worked_by_hand() {
    let cases: &[(&[&str], &str)] = &[
        (&["add-working-days", "2026-12-19", "5"], "2026-12-29"),
        (&["add-working-days", "2022-09-12", "5"], "2022-09-20"),
        (&["add-working-days", "2027-03-25", "1"], "2027-03-30"),
        (&["add-working-days", "2026-12-24", "1"], "2026-12-29"),
        (&["add-working-days", "2026-12-24", "-7"], "2026-12-15"),
        (&["add-working-days", "2026-12-24", "--", "-7"], "2026-12-15"),
        (&["add-working-days", "2026-11-21", "5"], "2026-11-27"),
        (&["add-working-days", "2026-11-21", "0"], "2026-11-21"),
        (&["add-working-days", "2021-12-23", "3"], "2021-12-30"),
        (&["add-working-days", "2023-05-05", "1"], "2023-05-09"),
        (&["add-working-days", "2022-06-01", "1"], "2022-06-06"),
        (&["add-months", "2026-08-31", "6"], "2027-02-28"),
        (&["add-months", "2023-08-31", "6"], "2024-02-29"),
        (&["is-working-day", "2023-05-08"], "no"),
        (&["is-working-day", "2020-05-08"], "no"),
        (&["is-working-day", "2020-05-04"], "yes"),
        (&["is-working-day", "2022-05-30"], "yes"),
        (&["is-working-day", "2021-12-28"], "no"),
        (&["london-date", "2026-06-30T23:30:00Z"], "2026-07-01"),
    ];
    for (args, expected) in cases {
        let mut full = vec!["calendar"];
        full.extend_from_slice(args);
        let output = cspr(&full);
        assert!(output.status.success(), "{full:?}: {}", stderr(&output));
        assert_eq!(stdout(&output), format!("{expected}\n"), "{full:?}");
    }
}

#[test]
fn a_bad_date_is_a_one_line_usage_error_with_exit_code_2() {
    let output = cspr(&["calendar", "add-working-days", "2026-13-01", "1"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output), "error: '2026-13-01' is not a date (expected YYYY-MM-DD)\n");
    assert!(stdout(&output).is_empty());
    let output = cspr(&["calendar", "add-working-days", "2026-12-01", "five"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output).lines().count(), 1);
}

#[test]
fn holidays_lists_a_year_with_substitute_days_marked() {
    let output = cspr(&["calendar", "holidays", "--year", "2027"]);
    assert!(output.status.success());
    assert_eq!(
        stdout(&output),
        "2027-01-01\tNew Year’s Day\n\
         2027-03-26\tGood Friday\n\
         2027-03-29\tEaster Monday\n\
         2027-05-03\tEarly May bank holiday\n\
         2027-05-31\tSpring bank holiday\n\
         2027-08-30\tSummer bank holiday\n\
         2027-12-27\tChristmas Day (substitute day)\n\
         2027-12-28\tBoxing Day (substitute day)\n"
    );
    assert_eq!(cspr(&["calendar", "holidays", "--year", "twenty"]).status.code(), Some(2));
}

#[test]
fn an_imported_file_and_local_days_drive_the_configured_calendar() {
    let dir = tempfile::tempdir().unwrap();
    let govuk = write(
        dir.path(),
        "bank-holidays.json",
        r#"{"england-and-wales": {"division": "england-and-wales", "events": [
            {"title": "New Year’s Day", "date": "2028-01-03", "notes": "Substitute day", "bunting": true},
            {"title": "A one-off bank holiday", "date": "2028-06-05", "notes": "", "bunting": true}
        ]}, "scotland": {"division": "scotland", "events": []}}"#,
    );
    let data = dir.path().join("holidays.json").display().to_string();
    let output = cspr(&["calendar", "import-govuk", &govuk, "--out", &data]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("imported 2 bank holidays"));

    let config = write(
        dir.path(),
        "cspr.toml",
        "[calendar]\nholidays_file = \"holidays.json\"\nextra_non_working_days = [{ date = \"2026-12-24\", title = \"Christmas Eve closure\" }]\n",
    );
    let run = |args: &[&str]| {
        let mut full = vec!["--config", config.as_str(), "calendar"];
        full.extend_from_slice(args);
        let output = cspr(&full);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        stdout(&output)
    };
    assert_eq!(run(&["is-working-day", "2028-06-05"]), "no\n");
    // The built-in calendar knows nothing of that day.
    assert_eq!(stdout(&cspr(&["calendar", "is-working-day", "2028-06-05"])), "yes\n");
    assert_eq!(run(&["add-working-days", "2026-12-23", "1"]), "2026-12-29\n");
    assert!(run(&["holidays", "--year", "2026"]).contains("2026-12-24\tChristmas Eve closure\n"));
    assert_eq!(stdout(&cspr(&["calendar", "add-working-days", "2026-12-23", "1"])), "2026-12-24\n");
}
