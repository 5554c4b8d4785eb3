//! Due dates of every clock C1–C8 for start dates around Christmas, Easter and the
//! one-off bank holidays of 2020, 2022 and 2023, each worked out by hand.

use chrono::{DateTime, NaiveDate, Utc};
use cspr::config::Config;
use cspr::domain::clock::{DeadlineStatus, StepKind, deadline, due_date};
use cspr::domain::{ClockId, Role, parse_iso_date};

fn d(s: &str) -> NaiveDate {
    parse_iso_date(s).unwrap()
}

fn noon(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{s}T12:00:00Z")).unwrap().with_timezone(&Utc)
}

fn due(config: &Config, clock: ClockId, start: &str) -> String {
    due_date(config.clock(clock).unwrap(), d(start), &config.calendar).unwrap().to_string()
}

#[test]
fn every_clock_falls_due_on_the_day_worked_out_by_hand() {
    let config = Config::defaults();
    let cases = [
        // C1/C2: 5 working days from awareness; Christmas 2026 and the 2022 state funeral.
        (ClockId::C1, "2026-12-21", "2026-12-30"),
        (ClockId::C2, "2026-12-21", "2026-12-30"),
        (ClockId::C1, "2022-09-14", "2022-09-22"),
        // C3: 15 working days across Christmas and New Year 2026/27.
        (ClockId::C3, "2026-12-10", "2027-01-05"),
        // C3 across Easter 2027 (Good Friday 26 March, Easter Monday 29 March).
        (ClockId::C3, "2027-03-18", "2027-04-12"),
        // C3 across early May and the coronation, 2023.
        (ClockId::C3, "2023-04-27", "2023-05-22"),
        // C4 across the 2022 jubilee (2 and 3 June).
        (ClockId::C4, "2022-05-27", "2022-06-07"),
        // C5 across VE day 2020.
        (ClockId::C5, "2020-05-04", "2020-05-12"),
        // C6: six calendar months, clamped.
        (ClockId::C6, "2026-08-31", "2027-02-28"),
        (ClockId::C6, "2023-08-31", "2024-02-29"),
        // C7: the next first-Tuesday meeting after the request day.
        (ClockId::C7, "2026-11-26", "2026-12-01"),
        (ClockId::C7, "2026-12-01", "2027-01-05"),
        // C8: 7 working days before publication, counted back over Christmas 2026.
        (ClockId::C8, "2027-01-05", "2026-12-22"),
        // C8 counted back over the 2022 state funeral.
        (ClockId::C8, "2022-09-21", "2022-09-09"),
    ];
    for (clock, start, expected) in cases {
        assert_eq!(due(&config, clock, start), expected, "{clock} from {start}");
    }
}

#[test]
fn rapid_review_ladder_over_christmas_is_dated_by_hand() {
    let config = Config::defaults();
    let c3 = config.clock(ClockId::C3).unwrap();
    let dl = deadline(c3, d("2026-12-10"), &[], noon("2027-01-14"), &config.calendar).unwrap();
    assert_eq!(dl.due, d("2027-01-05"));
    assert_eq!(dl.status, DeadlineStatus::Overdue);
    let dated: Vec<(String, Role, StepKind)> = dl.steps.iter().map(|s| (s.date.to_string(), s.to, s.kind)).collect();
    let expected = [
        ("2026-12-17", Role::Spa, StepKind::Reminder),
        ("2026-12-24", Role::Spa, StepKind::Reminder),
        ("2026-12-31", Role::Spa, StepKind::Reminder),
        ("2026-12-31", Role::Icsc, StepKind::Escalation),
        ("2027-01-05", Role::Icsc, StepKind::Escalation),
        ("2027-01-06", Role::Slt, StepKind::Escalation),
        ("2027-01-13", Role::Slt, StepKind::Escalation),
        ("2027-01-20", Role::Slt, StepKind::Escalation),
    ];
    let expected: Vec<(String, Role, StepKind)> = expected.iter().map(|(d, r, k)| (d.to_string(), *r, *k)).collect();
    assert_eq!(dated, expected);
}

#[test]
fn status_moves_from_on_track_to_overdue() {
    let config = Config::defaults();
    let c3 = config.clock(ClockId::C3).unwrap();
    let status = |today: &str| deadline(c3, d("2026-12-10"), &[], noon(today), &config.calendar).unwrap().status;
    assert_eq!(status("2026-12-23"), DeadlineStatus::OnTrack);
    assert_eq!(status("2026-12-24"), DeadlineStatus::DueSoon);
    assert_eq!(status("2027-01-05"), DeadlineStatus::DueToday);
    assert_eq!(status("2027-01-06"), DeadlineStatus::Overdue);
    // 23:30 UTC on 4 January is still 4 January in London (GMT).
    let late = DateTime::parse_from_rfc3339("2027-01-04T23:30:00Z").unwrap().with_timezone(&Utc);
    assert_eq!(deadline(c3, d("2026-12-10"), &[], late, &config.calendar).unwrap().status, DeadlineStatus::DueSoon);
}

#[test]
fn an_approved_extension_moves_the_due_date_and_its_ladder() {
    let config = Config::defaults();
    let c6 = config.clock(ClockId::C6).unwrap();
    let dl = deadline(c6, d("2026-08-31"), &[d("2027-03-31"), d("2027-04-30")], noon("2027-04-15"), &config.calendar)
        .unwrap();
    assert_eq!(dl.base_due, d("2027-02-28"));
    assert_eq!(dl.due, d("2027-04-30"));
    assert_eq!(dl.status, DeadlineStatus::DueSoon);
    // ICSC on the due day itself.
    assert!(dl.steps.iter().any(|s| s.to == Role::Icsc && s.date == d("2027-04-30")));
}

#[test]
fn a_clock_into_an_unpublished_year_is_flagged() {
    let config = Config::defaults();
    let c6 = config.clock(ClockId::C6).unwrap();
    let dl = deadline(c6, d("2027-09-01"), &[], noon("2027-09-01"), &config.calendar).unwrap();
    assert!(dl.beyond_published_calendar);
    let dl = deadline(c6, d("2026-11-26"), &[], noon("2026-11-26"), &config.calendar).unwrap();
    assert!(!dl.beyond_published_calendar);
}
