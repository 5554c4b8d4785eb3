//! How much work one message may take. The caller decides what "spent" means (a
//! deadline on its clock, a fault injected by a test); the pure code only asks, between
//! chunks of work, and stops with `Overrun` once the answer is yes. A timeout wrapped
//! around a blocking call could not interrupt it; this can.

/// Processing stopped because the message's budget was spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("processing the message took longer than its budget")]
pub struct Overrun;

/// Asked between chunks of work whether the budget is spent.
#[derive(Clone, Copy)]
pub struct Budget<'a> {
    spent: Option<&'a (dyn Fn() -> bool + Sync)>,
}

impl std::fmt::Debug for Budget<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.spent.is_some() { "Budget(limited)" } else { "Budget(unlimited)" })
    }
}

impl<'a> Budget<'a> {
    /// Never spent (tools, tests of meaning rather than of limits).
    pub const fn unlimited() -> Budget<'static> {
        Budget { spent: None }
    }

    /// Spent once `spent` says so.
    pub fn new(spent: &'a (dyn Fn() -> bool + Sync)) -> Self {
        Self { spent: Some(spent) }
    }

    /// `Err(Overrun)` once the budget is spent.
    pub fn check(&self) -> Result<(), Overrun> {
        match self.spent {
            Some(spent) if spent() => Err(Overrun),
            _ => Ok(()),
        }
    }
}
