//! A signed count of working days: after a date when positive, before it when negative.

use std::fmt;
use std::ops::{Add, Neg};

use serde::{Deserialize, Serialize};

/// A count of working days (negative: before). Written in configuration as a plain
/// number (`at = -5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WorkingDays(pub i32);

impl WorkingDays {
    pub const ZERO: WorkingDays = WorkingDays(0);

    pub fn get(self) -> i32 {
        self.0
    }

    /// This many more, without overflowing.
    pub fn saturating_add(self, more: i32) -> WorkingDays {
        WorkingDays(self.0.saturating_add(more))
    }
}

impl From<i32> for WorkingDays {
    fn from(n: i32) -> Self {
        WorkingDays(n)
    }
}

impl Neg for WorkingDays {
    type Output = WorkingDays;
    fn neg(self) -> WorkingDays {
        WorkingDays(self.0.saturating_neg())
    }
}

impl Add<i32> for WorkingDays {
    type Output = WorkingDays;
    fn add(self, more: i32) -> WorkingDays {
        self.saturating_add(more)
    }
}

impl PartialEq<i32> for WorkingDays {
    fn eq(&self, other: &i32) -> bool {
        self.0 == *other
    }
}

/// Formats as the number (flags such as `{:+}` apply).
impl fmt::Display for WorkingDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
