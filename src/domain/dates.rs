//! Calendar-date values: strict ISO parsing, calendar-month arithmetic and the
//! Europe/London date of a timestamp. Pure.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone};
use chrono_tz::Europe::London;

/// A string that is not an ISO calendar date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a date (expected YYYY-MM-DD)")]
pub struct NotADate(pub String);

/// Parses exactly `YYYY-MM-DD` (no time, no zone, no other shapes).
pub fn parse_iso_date(text: &str) -> Result<NaiveDate, NotADate> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() });
    if !shaped {
        return Err(NotADate(text.to_owned()));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| NotADate(text.to_owned()))
}

/// Adds `months` calendar months (negative counts back), clamping the day to the
/// last day of the resulting month: 31 August + 6 months = 28 (or 29) February.
/// `None` only outside chrono's representable range.
pub fn add_months(date: NaiveDate, months: i32) -> Option<NaiveDate> {
    let total = i64::from(date.year()) * 12 + i64::from(date.month0()) + i64::from(months);
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = u32::try_from(total.rem_euclid(12)).ok()? + 1;
    let day = date.day().min(days_in_month(year, month)?);
    NaiveDate::from_ymd_opt(year, month, day)
}

/// The number of days in a month.
pub fn days_in_month(year: i32, month: u32) -> Option<u32> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    u32::try_from((next - first).num_days()).ok()
}

/// The Europe/London calendar date of any timestamp (DST-correct).
pub fn london_date<Tz: TimeZone>(at: &DateTime<Tz>) -> NaiveDate {
    at.with_timezone(&London).date_naive()
}

/// A date written in full, as in every email: "Tuesday 15 December 2026".
pub fn format_long(date: NaiveDate) -> String {
    date.format("%A %-d %B %Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, Utc};

    fn d(s: &str) -> NaiveDate {
        parse_iso_date(s).unwrap()
    }

    #[test]
    fn parses_only_strict_iso_dates() {
        assert_eq!(d("2026-02-28"), NaiveDate::from_ymd_opt(2026, 2, 28).unwrap());
        for bad in ["2026-13-01", "2026-2-28", "26-02-28", "2026/02/28", "2026-02-29", "", "2026-02-28T00:00"] {
            assert_eq!(parse_iso_date(bad), Err(NotADate(bad.to_owned())), "{bad}");
        }
        assert_eq!(NotADate("2026-13-01".into()).to_string(), "'2026-13-01' is not a date (expected YYYY-MM-DD)");
    }

    #[test]
    fn months_clamp_to_the_end_of_the_month() {
        assert_eq!(add_months(d("2026-08-31"), 6), Some(d("2027-02-28")));
        assert_eq!(add_months(d("2023-08-31"), 6), Some(d("2024-02-29")));
        assert_eq!(add_months(d("2026-01-31"), 1), Some(d("2026-02-28")));
        assert_eq!(add_months(d("2026-03-31"), -1), Some(d("2026-02-28")));
        assert_eq!(add_months(d("2026-11-26"), 6), Some(d("2027-05-26")));
        assert_eq!(add_months(d("2026-11-26"), -12), Some(d("2025-11-26")));
        assert_eq!(add_months(d("2026-11-26"), 0), Some(d("2026-11-26")));
    }

    #[test]
    fn london_date_follows_british_summer_time() {
        // 23:30 UTC on 30 June is 00:30 BST on 1 July.
        let summer = DateTime::parse_from_rfc3339("2026-06-30T23:30:00Z").unwrap();
        assert_eq!(london_date(&summer), d("2026-07-01"));
        // 23:30 UTC on 30 December is still 30 December in GMT.
        let winter = DateTime::parse_from_rfc3339("2026-12-30T23:30:00Z").unwrap();
        assert_eq!(london_date(&winter), d("2026-12-30"));
        // The last Sunday of March: clocks go forward at 01:00 UTC.
        let before = DateTime::parse_from_rfc3339("2026-03-28T23:59:00+00:00").unwrap();
        assert_eq!(london_date(&before), d("2026-03-28"));
        let after = DateTime::parse_from_rfc3339("2026-03-29T23:30:00+00:00").unwrap();
        assert_eq!(london_date(&after), d("2026-03-30"));
        // A sender in New York late on the 20th wrote on the 21st in London.
        let ny = FixedOffset::west_opt(5 * 3600).unwrap();
        let late = ny.with_ymd_and_hms(2026, 11, 20, 22, 0, 0).unwrap();
        assert_eq!(london_date(&late), d("2026-11-21"));
        assert_eq!(london_date(&late.with_timezone(&Utc)), d("2026-11-21"));
    }

    #[test]
    fn long_dates_are_written_in_full() {
        assert_eq!(format_long(d("2026-12-15")), "Tuesday 15 December 2026");
        assert_eq!(format_long(d("2027-01-01")), "Friday 1 January 2027");
    }
}
