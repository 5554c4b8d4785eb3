use super::*;
use crate::domain::dates::{add_months, days_in_month, parse_iso_date};
use proptest::prelude::*;
use std::sync::LazyLock;

/// Built once: the properties ask many questions of the same calendar.
static CAL: LazyLock<Calendar> = LazyLock::new(Calendar::england_and_wales);

fn d(s: &str) -> NaiveDate {
    parse_iso_date(s).unwrap()
}

/// Every England and Wales bank holiday 2018–2027, transcribed from the government's
/// published list (month-day, `*` marking a substitute day).
const BY_HAND: &[(i32, &str)] = &[
    (2018, "01-01 03-30 04-02 05-07 05-28 08-27 12-25 12-26"),
    (2019, "01-01 04-19 04-22 05-06 05-27 08-26 12-25 12-26"),
    (2020, "01-01 04-10 04-13 05-08 05-25 08-31 12-25 12-28*"),
    (2021, "01-01 04-02 04-05 05-03 05-31 08-30 12-27* 12-28*"),
    (2022, "01-03* 04-15 04-18 05-02 06-02 06-03 08-29 09-19 12-26 12-27*"),
    (2023, "01-02* 04-07 04-10 05-01 05-08 05-29 08-28 12-25 12-26"),
    (2024, "01-01 03-29 04-01 05-06 05-27 08-26 12-25 12-26"),
    (2025, "01-01 04-18 04-21 05-05 05-26 08-25 12-25 12-26"),
    (2026, "01-01 04-03 04-06 05-04 05-25 08-31 12-25 12-28*"),
    (2027, "01-01 03-26 03-29 05-03 05-31 08-30 12-27* 12-28*"),
];

#[test]
fn every_published_bank_holiday_2018_to_2027_is_a_non_working_day() {
    let cal = Calendar::england_and_wales();
    for &(year, days) in BY_HAND {
        let expected: Vec<(NaiveDate, bool)> = days
            .split_whitespace()
            .map(|md| {
                let substitute = md.ends_with('*');
                (d(&format!("{year}-{}", md.trim_end_matches('*'))), substitute)
            })
            .collect();
        let actual: Vec<(NaiveDate, bool)> =
            cal.holidays_in_year(year).iter().map(|h| (h.date, h.substitute)).collect();
        assert_eq!(actual, expected, "{year}");
        for (date, _) in expected {
            assert!(!cal.is_working_day(date), "{date}");
            assert!(cal.is_published(year));
        }
    }
}

#[test]
fn titles_are_the_governments_with_substitute_days_marked() {
    let cal = Calendar::england_and_wales();
    let labels: Vec<String> = cal.holidays_in_year(2022).iter().map(Holiday::label).collect();
    assert_eq!(labels[0], "New Year’s Day (substitute day)");
    assert!(labels.contains(&"Platinum Jubilee bank holiday".to_owned()));
    assert!(labels.contains(&"Bank Holiday for the State Funeral of Queen Elizabeth II".to_owned()));
    assert_eq!(labels.last().unwrap(), "Christmas Day (substitute day)");
    assert_eq!(cal.holiday_on(d("2020-05-08")).unwrap().title, "Early May bank holiday (VE day)");
}

#[test]
fn the_statutory_pattern_reproduces_every_published_year_but_the_one_offs() {
    let one_offs = [d("2020-05-08"), d("2022-06-02"), d("2022-06-03"), d("2022-09-19"), d("2023-05-08")];
    // The days the one-offs displaced.
    let displaced = [d("2020-05-04"), d("2022-05-30")];
    let published = Calendar::built_in_published();
    for year in 2018..=2027 {
        let by_rule: Vec<NaiveDate> = rules::holidays_by_rule(year).into_iter().map(|h| h.0).collect();
        let published: Vec<NaiveDate> = published.iter().map(|h| h.date).filter(|d| d.year() == year).collect();
        for date in &by_rule {
            assert!(published.contains(date) || displaced.contains(date), "{date} by rule, not published");
        }
        for date in &published {
            assert!(by_rule.contains(date) || one_offs.contains(date), "{date} published, not by rule");
        }
    }
}

#[test]
fn years_beyond_the_published_data_follow_the_pattern() {
    let cal = Calendar::england_and_wales();
    assert!(!cal.is_published(2028));
    assert_eq!(cal.published_span(), Some((2018, 2027)));
    let dates: Vec<String> = cal.holidays_in_year(2028).iter().map(|h| h.date.to_string()).collect();
    // Easter 2028 is 16 April; 1 January 2028 is a Saturday.
    assert_eq!(
        dates,
        [
            "2028-01-03",
            "2028-04-14",
            "2028-04-17",
            "2028-05-01",
            "2028-05-29",
            "2028-08-28",
            "2028-12-25",
            "2028-12-26"
        ]
    );
    assert!(cal.holidays_in_year(2028).iter().all(|h| h.source == HolidaySource::Rules));
    assert!(cal.runs_beyond_published(d("2027-11-30"), d("2028-01-05")));
    assert!(!cal.runs_beyond_published(d("2026-11-30"), d("2027-05-05")));
    // Far outside the precomputed span the answers still come, by walking.
    assert_eq!(cal.add_working_days(d("2301-12-24"), 1), d("2301-12-27"));
    assert!(!cal.is_working_day(d("2301-12-26")));
}

#[test]
fn imported_data_replaces_the_built_in_years_it_covers() {
    let imported = vec![Holiday {
        date: d("2027-06-07"),
        title: "An extra bank holiday".into(),
        substitute: false,
        source: HolidaySource::Published,
    }];
    let cal = Calendar::new(imported, Vec::new());
    assert!(!cal.is_working_day(d("2027-06-07")));
    // 2027 is now exactly what the file says: Good Friday is no longer listed.
    assert!(cal.is_working_day(d("2027-03-26")));
    assert!(!cal.is_working_day(d("2026-12-25")));
}

#[test]
fn local_non_working_days_count_and_are_listed() {
    let local = vec![Holiday {
        date: d("2026-12-24"),
        title: "Christmas Eve closure".into(),
        substitute: false,
        source: HolidaySource::Local,
    }];
    let cal = Calendar::new(Vec::new(), local);
    assert!(!cal.is_working_day(d("2026-12-24")));
    assert_eq!(cal.add_working_days(d("2026-12-23"), 1), d("2026-12-29"));
    assert!(cal.holidays_in_year(2026).iter().any(|h| h.source == HolidaySource::Local));
}

#[test]
fn additions_worked_out_by_hand() {
    let cal = Calendar::england_and_wales();
    for (from, n, expected) in [
        ("2026-12-19", 5, "2026-12-29"),
        ("2022-09-12", 5, "2022-09-20"),
        ("2027-03-25", 1, "2027-03-30"),
        ("2026-12-24", 1, "2026-12-29"),
        ("2026-12-24", -7, "2026-12-15"),
        ("2026-11-21", 5, "2026-11-27"),
        ("2026-11-21", 0, "2026-11-21"),
        ("2021-12-23", 3, "2021-12-30"),
        ("2023-05-05", 1, "2023-05-09"),
        ("2022-06-01", 1, "2022-06-06"),
        // Counting back from a holiday does not count the holiday.
        ("2026-12-28", -1, "2026-12-24"),
        ("2026-12-27", -1, "2026-12-24"),
    ] {
        assert_eq!(cal.add_working_days(d(from), n), d(expected), "{from} {n:+}");
    }
    assert_eq!(cal.working_days_between(d("2026-12-24"), d("2026-12-29")), 1);
    assert_eq!(cal.working_days_between(d("2026-12-29"), d("2026-12-24")), -1);
}

fn any_date() -> impl Strategy<Value = NaiveDate> {
    (0i64..365 * 30).prop_map(|offset| d("2010-01-01") + chrono::Duration::days(offset))
}

fn walk(cal: &Calendar, from: NaiveDate, n: i32) -> NaiveDate {
    let mut day = from;
    let mut left = n.unsigned_abs();
    while left > 0 {
        day = if n > 0 { day.succ_opt().unwrap() } else { day.pred_opt().unwrap() };
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && cal.holiday_on(day).is_none() {
            left -= 1;
        }
    }
    day
}

proptest! {
    #[test]
    fn an_addition_never_lands_on_a_non_working_day(date in any_date(), n in 1i32..400) {
        let cal = &*CAL;
        prop_assert!(cal.is_working_day(cal.add_working_days(date, n)));
        prop_assert!(cal.is_working_day(cal.add_working_days(date, -n)));
    }

    #[test]
    fn additions_are_monotonic_in_n(date in any_date(), n in -300i32..300) {
        let cal = &*CAL;
        prop_assert!(cal.add_working_days(date, n) < cal.add_working_days(date, n + 1));
    }

    #[test]
    fn adding_n_then_minus_n_returns_to_the_working_day_at_or_before(date in any_date(), n in 1i32..400) {
        let cal = &*CAL;
        let back = cal.add_working_days(cal.add_working_days(date, n), -n);
        let expected = if cal.is_working_day(date) { date } else { cal.add_working_days(date, -1) };
        prop_assert_eq!(back, expected);
    }

    #[test]
    fn the_index_agrees_with_walking_day_by_day(date in any_date(), n in -60i32..60) {
        let cal = &*CAL;
        prop_assert_eq!(cal.add_working_days(date, n), walk(cal, date, n));
        if n >= 0 {
            prop_assert_eq!(cal.working_days_between(date, cal.add_working_days(date, n)), i64::from(n));
        }
    }

    #[test]
    fn months_clamp_to_the_last_day(date in any_date(), n in -36i32..36) {
        let moved = add_months(date, n).unwrap();
        let months = (moved.year() - date.year()) * 12 + moved.month() as i32 - date.month() as i32;
        prop_assert_eq!(months, n);
        prop_assert_eq!(moved.day(), date.day().min(days_in_month(moved.year(), moved.month()).unwrap()));
    }
}
