//! The working-day calendar of England and Wales: bank holidays as published for
//! 2018–2027 (or imported from the government's file), the statutory pattern for
//! other years, locally configured non-working days, and working-day arithmetic in
//! O(1). Pure: built from data, asked questions, never reads a file or the clock.

pub mod govuk;
mod index;
mod published;
pub mod rules;
mod working_days;

pub use working_days::WorkingDays;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Serialize;

use index::WorkingDayIndex;

/// The span whose working days are precomputed; dates outside it are still answered,
/// by walking day by day.
const INDEX_FIRST_YEAR: i32 = 1950;
const INDEX_LAST_YEAR: i32 = 2200;

/// Where a non-working day comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HolidaySource {
    /// Published by the government (built in, or imported from its file).
    Published,
    /// Derived from the statutory pattern for a year not yet published.
    Rules,
    /// A local non-working day from configuration.
    Local,
}

/// One non-working day other than a weekend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holiday {
    pub date: NaiveDate,
    pub title: String,
    pub substitute: bool,
    pub source: HolidaySource,
}

impl Holiday {
    /// The title as shown to people: substitute days are marked `(substitute day)`.
    pub fn label(&self) -> String {
        if self.substitute { format!("{} (substitute day)", self.title) } else { self.title.clone() }
    }
}

/// A working-day calendar: Monday to Friday less bank holidays and local days.
#[derive(Debug, Clone)]
pub struct Calendar {
    bank_holidays: BTreeMap<NaiveDate, Holiday>,
    published_years: BTreeSet<i32>,
    local: BTreeMap<NaiveDate, Holiday>,
    index: WorkingDayIndex,
}

impl Default for Calendar {
    fn default() -> Self {
        Self::england_and_wales()
    }
}

impl Calendar {
    /// The built-in England and Wales calendar.
    pub fn england_and_wales() -> Self {
        Self::new(Vec::new(), Vec::new())
    }

    /// The bank holidays built in, as published.
    pub fn built_in_published() -> Vec<Holiday> {
        published::ENGLAND_AND_WALES
            .iter()
            .filter_map(|&(y, m, d, title, substitute)| {
                Some(Holiday {
                    date: NaiveDate::from_ymd_opt(y, m, d)?,
                    title: title.to_owned(),
                    substitute,
                    source: HolidaySource::Published,
                })
            })
            .collect()
    }

    /// A calendar from imported published data (which replaces the built-in data for
    /// every year it covers) and local non-working days.
    pub fn new(imported: Vec<Holiday>, local: Vec<Holiday>) -> Self {
        let imported_years: BTreeSet<i32> = imported.iter().map(|h| h.date.year()).collect();
        let built_in = Self::built_in_published().into_iter().filter(|h| !imported_years.contains(&h.date.year()));
        let mut bank_holidays = BTreeMap::new();
        let mut published_years = BTreeSet::new();
        for holiday in built_in.chain(imported) {
            published_years.insert(holiday.date.year());
            bank_holidays.insert(holiday.date, Holiday { source: HolidaySource::Published, ..holiday });
        }
        for year in INDEX_FIRST_YEAR..=INDEX_LAST_YEAR {
            if !published_years.contains(&year) {
                for holiday in by_rule(year) {
                    bank_holidays.insert(holiday.date, holiday);
                }
            }
        }
        let local: BTreeMap<NaiveDate, Holiday> =
            local.into_iter().map(|h| (h.date, Holiday { source: HolidaySource::Local, ..h })).collect();
        let first = NaiveDate::from_ymd_opt(INDEX_FIRST_YEAR, 1, 1).unwrap_or(NaiveDate::MIN);
        let last = NaiveDate::from_ymd_opt(INDEX_LAST_YEAR, 12, 31).unwrap_or(NaiveDate::MAX);
        let index = WorkingDayIndex::build(first, last, |day| {
            !is_weekend(day) && !bank_holidays.contains_key(&day) && !local.contains_key(&day)
        });
        Self { bank_holidays, published_years, local, index }
    }

    /// The bank holidays and local non-working days of a year, in date order.
    pub fn holidays_in_year(&self, year: i32) -> Vec<Holiday> {
        let mut days: Vec<Holiday> = if (INDEX_FIRST_YEAR..=INDEX_LAST_YEAR).contains(&year) {
            self.bank_holidays.values().filter(|h| h.date.year() == year).cloned().collect()
        } else {
            by_rule(year)
        };
        days.extend(self.local.values().filter(|h| h.date.year() == year).cloned());
        days.sort_by_key(|h| h.date);
        days
    }

    /// The bank holiday or local day on `date`, if any.
    pub fn holiday_on(&self, date: NaiveDate) -> Option<Holiday> {
        if let Some(local) = self.local.get(&date) {
            return Some(local.clone());
        }
        if (INDEX_FIRST_YEAR..=INDEX_LAST_YEAR).contains(&date.year()) {
            self.bank_holidays.get(&date).cloned()
        } else {
            by_rule(date.year()).into_iter().find(|h| h.date == date)
        }
    }

    /// Every bank holiday and local non-working day, in date order within each.
    pub fn non_working_days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.bank_holidays.keys().chain(self.local.keys()).copied()
    }

    /// Monday to Friday and neither a bank holiday nor a local non-working day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.index.is_working(date).unwrap_or_else(|| !is_weekend(date) && self.holiday_on(date).is_none())
    }

    /// The `n`-th working day after `date` (before it when `n` is negative), `date`
    /// itself not counted whatever day it is; `n = 0` gives `date` itself.
    pub fn add_working_days(&self, date: NaiveDate, n: impl Into<WorkingDays>) -> NaiveDate {
        let n = n.into().get();
        if n == 0 {
            return date;
        }
        self.index.add(date, i64::from(n)).unwrap_or_else(|| self.walk(date, n))
    }

    /// Working days in `(from, to]`: how many working days late `to` is for a deadline
    /// of `from`. Negative when `to` is before `from`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        if let Some(count) = self.index.between(from, to) {
            return count;
        }
        let (low, high, sign) = if from <= to { (from, to, 1) } else { (to, from, -1) };
        let count = low.iter_days().skip(1).take_while(|d| *d <= high).filter(|d| self.is_working_day(*d)).count();
        sign * i64::try_from(count).unwrap_or(i64::MAX)
    }

    /// Whether the government's published data covers `year` (otherwise the statutory
    /// pattern is used, and one-off days cannot be known).
    pub fn is_published(&self, year: i32) -> bool {
        self.published_years.contains(&year)
    }

    /// The first and last year of published data.
    pub fn published_span(&self) -> Option<(i32, i32)> {
        Some((*self.published_years.first()?, *self.published_years.last()?))
    }

    /// Whether any year from `from` to `to` lies beyond the published data.
    pub fn runs_beyond_published(&self, from: NaiveDate, to: NaiveDate) -> bool {
        let (low, high) = if from <= to { (from, to) } else { (to, from) };
        (low.year()..=high.year()).any(|year| !self.is_published(year))
    }

    fn walk(&self, date: NaiveDate, n: i32) -> NaiveDate {
        let mut day = date;
        let mut left = n.unsigned_abs();
        while left > 0 {
            let next = if n > 0 { day.succ_opt() } else { day.pred_opt() };
            let Some(next) = next else { return day };
            day = next;
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

fn by_rule(year: i32) -> Vec<Holiday> {
    rules::holidays_by_rule(year)
        .into_iter()
        .map(|(date, title, substitute)| Holiday {
            date,
            title: title.to_owned(),
            substitute,
            source: HolidaySource::Rules,
        })
        .collect()
}

#[cfg(test)]
mod tests;
