//! `CronSchedule`: a validated cron expression read in Europe/London time.

use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDate, TimeZone};
use chrono_tz::Europe::London;

/// A cron expression, checked when it is parsed. Five fields (minute hour day month
/// weekday) or the six/seven-field form with seconds (and year). Day of month and day
/// of week must both match: `0 10 1-7 * Tue` is the first Tuesday of each month.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    source: String,
    schedule: cron::Schedule,
}

/// Text that is not a cron expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a cron expression ({reason})")]
pub struct NotASchedule {
    pub text: String,
    pub reason: String,
}

impl CronSchedule {
    pub fn parse(text: &str) -> Result<Self, NotASchedule> {
        let trimmed = text.trim();
        let fields = trimmed.split_whitespace().count();
        let full = match fields {
            5 => format!("0 {trimmed}"),
            6 | 7 => trimmed.to_owned(),
            _ => {
                return Err(NotASchedule {
                    text: text.to_owned(),
                    reason: format!("{fields} fields; expected 5, 6 or 7"),
                });
            }
        };
        let schedule = cron::Schedule::from_str(&full)
            .map_err(|e| NotASchedule { text: text.to_owned(), reason: e.to_string() })?;
        if schedule.after(&London.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap()).next().is_none() {
            return Err(NotASchedule { text: text.to_owned(), reason: "it never occurs".into() });
        }
        Ok(Self { source: trimmed.to_owned(), schedule })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The London date of the first occurrence on a day after `date`.
    pub fn next_date_after(&self, date: NaiveDate) -> Option<NaiveDate> {
        let end_of_day = London.from_local_datetime(&date.and_hms_opt(23, 59, 59)?).latest()?;
        self.schedule.after(&end_of_day).next().map(|at| at.date_naive())
    }

    /// Occurrences strictly after `from`, as UTC instants.
    pub fn after_utc<'a>(
        &'a self,
        from: &chrono::DateTime<chrono::Utc>,
    ) -> impl Iterator<Item = chrono::DateTime<chrono::Utc>> + 'a {
        self.schedule.after(&from.with_timezone(&London)).map(|at| at.with_timezone(&chrono::Utc))
    }
}

impl PartialEq for CronSchedule {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl FromStr for CronSchedule {
    type Err = NotASchedule;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dates::parse_iso_date;

    fn d(s: &str) -> NaiveDate {
        parse_iso_date(s).unwrap()
    }

    #[test]
    fn first_tuesday_of_the_month_needs_both_day_fields() {
        let s = CronSchedule::parse("0 10 1-7 * Tue").unwrap();
        assert_eq!(s.next_date_after(d("2026-11-26")), Some(d("2026-12-01")));
        assert_eq!(s.next_date_after(d("2026-12-01")), Some(d("2027-01-05")));
        assert_eq!(s.next_date_after(d("2026-11-30")), Some(d("2026-12-01")));
    }

    #[test]
    fn refuses_bad_expressions() {
        assert!(CronSchedule::parse("every tuesday").is_err());
        assert!(CronSchedule::parse("0 10 * * Tue * * *").is_err());
        assert!(CronSchedule::parse("0 0 10 31 2 *").is_err());
    }
}
