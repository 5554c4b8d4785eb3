//! The sending window: the London hours (on working days) in which reminders may go.

use std::fmt;

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::London;

use crate::domain::calendar::Calendar;

/// From `start` to `end`, London time, on working days only unless told otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendingWindow {
    pub start: NaiveTime,
    /// `None`: the window runs to midnight (written `24:00`).
    pub end: Option<NaiveTime>,
    pub working_days_only: bool,
}

impl Default for SendingWindow {
    fn default() -> Self {
        Self {
            start: NaiveTime::from_hms_opt(8, 0, 0).unwrap_or(NaiveTime::MIN),
            end: NaiveTime::from_hms_opt(18, 0, 0),
            working_days_only: true,
        }
    }
}

impl SendingWindow {
    /// Open at every hour of every day.
    pub const ALWAYS: Self = Self { start: NaiveTime::MIN, end: None, working_days_only: false };

    fn day_counts(&self, date: chrono::NaiveDate, calendar: &Calendar) -> bool {
        !self.working_days_only || calendar.is_working_day(date)
    }

    /// Whether mail may go at `now`.
    pub fn is_open(&self, now: DateTime<Utc>, calendar: &Calendar) -> bool {
        let local = now.with_timezone(&London);
        let time = local.time();
        self.day_counts(local.date_naive(), calendar) && time >= self.start && self.end.is_none_or(|end| time < end)
    }

    /// `now` if the window is open, else the moment it next opens.
    pub fn next_open(&self, now: DateTime<Utc>, calendar: &Calendar) -> DateTime<Utc> {
        if self.is_open(now, calendar) {
            return now;
        }
        let local = now.with_timezone(&London);
        let mut date = local.date_naive();
        if local.time() >= self.start {
            date += Duration::days(1);
        }
        for _ in 0..3660 {
            if self.day_counts(date, calendar)
                && let Some(opens) = London.from_local_datetime(&date.and_time(self.start)).earliest()
            {
                return opens.with_timezone(&Utc);
            }
            date += Duration::days(1);
        }
        now
    }
}

impl fmt::Display for SendingWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = self.end.map_or_else(|| "24:00".to_owned(), |end| end.format("%H:%M").to_string());
        write!(f, "{}–{end}", self.start.format("%H:%M"))?;
        if self.working_days_only {
            f.write_str(" working days")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn opens_at_eight_london_time_on_the_next_working_day() {
        let cal = Calendar::england_and_wales();
        let w = SendingWindow::default();
        // Thursday 24 December 2026, 19:00 GMT: next is Tuesday 29th at 08:00.
        assert_eq!(w.next_open(at("2026-12-24T19:00:00Z"), &cal), at("2026-12-29T08:00:00Z"));
        // A Sunday at 03:00 in summer: Monday 08:00 BST is 07:00 UTC.
        assert_eq!(w.next_open(at("2026-06-07T02:00:00Z"), &cal), at("2026-06-08T07:00:00Z"));
        // Inside the window: now.
        assert_eq!(w.next_open(at("2026-11-26T10:00:00Z"), &cal), at("2026-11-26T10:00:00Z"));
        assert!(!w.is_open(at("2026-11-26T18:00:00Z"), &cal));
        assert!(w.is_open(at("2026-11-26T17:59:59Z"), &cal));
    }

    #[test]
    fn a_window_to_midnight_on_every_day_is_always_open() {
        let cal = Calendar::england_and_wales();
        let w = SendingWindow::ALWAYS;
        // Christmas Day, a Sunday night, the last second of a day, and the hour the clocks go back.
        for moment in ["2026-12-25T12:00:00Z", "2026-12-06T02:00:00Z", "2026-12-01T23:59:59Z", "2027-10-31T01:30:00Z"] {
            assert!(w.is_open(at(moment), &cal), "{moment}");
            assert_eq!(w.next_open(at(moment), &cal), at(moment));
        }
        assert_eq!(w.to_string(), "00:00–24:00");
    }
}
