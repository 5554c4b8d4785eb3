//! A precomputed rank of working days over a span of years, so that adding N working
//! days is two array reads instead of a walk: O(1) per addition.

use chrono::{Datelike, NaiveDate};

/// Working-day ranks for every date from `first` to `last` inclusive.
#[derive(Debug, Clone)]
pub(super) struct WorkingDayIndex {
    first_day: i32,
    /// `rank[i]`: how many working days lie in `[first, first + i]`.
    rank: Vec<u32>,
    /// The working days themselves, in order: `working[k]` has rank `k + 1`.
    working: Vec<NaiveDate>,
}

impl WorkingDayIndex {
    pub(super) fn build(first: NaiveDate, last: NaiveDate, is_working: impl Fn(NaiveDate) -> bool) -> Self {
        let mut rank = Vec::new();
        let mut working = Vec::new();
        let mut count = 0u32;
        for day in first.iter_days().take_while(|d| *d <= last) {
            if is_working(day) {
                count += 1;
                working.push(day);
            }
            rank.push(count);
        }
        Self { first_day: first.num_days_from_ce(), rank, working }
    }

    fn offset(&self, date: NaiveDate) -> Option<usize> {
        let offset = usize::try_from(date.num_days_from_ce() - self.first_day).ok()?;
        (offset < self.rank.len()).then_some(offset)
    }

    /// Whether `date` is a working day; `None` outside the indexed span.
    pub(super) fn is_working(&self, date: NaiveDate) -> Option<bool> {
        let offset = self.offset(date)?;
        let before = if offset == 0 { 0 } else { self.rank[offset - 1] };
        Some(self.rank[offset] > before)
    }

    /// The `n`-th working day after `date` (before it when `n < 0`), `date` itself
    /// not counted; `None` when the answer lies outside the indexed span.
    pub(super) fn add(&self, date: NaiveDate, n: i64) -> Option<NaiveDate> {
        let offset = self.offset(date)?;
        let at_or_before = i64::from(self.rank[offset]);
        let target = if n >= 0 {
            at_or_before + n - 1
        } else {
            let strictly_before = at_or_before - i64::from(self.is_working(date)?);
            strictly_before + n
        };
        self.working.get(usize::try_from(target).ok()?).copied()
    }

    /// Working days in `(from, to]`; negative when `to` is before `from`.
    pub(super) fn between(&self, from: NaiveDate, to: NaiveDate) -> Option<i64> {
        let a = i64::from(self.rank[self.offset(from)?]);
        let b = i64::from(self.rank[self.offset(to)?]);
        Some(b - a)
    }
}
