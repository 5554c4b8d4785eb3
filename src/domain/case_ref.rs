//! A case's reference, apart from the case: commands and facts name cases by it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A case reference: `PREFIX-YYYY-NNN`, numbers never reused.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CaseRef(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a case reference (expected PREFIX-YYYY-NNN)")]
pub struct NotACaseRef(pub String);

impl CaseRef {
    pub fn new(prefix: &str, year: i32, number: u32, digits: usize) -> Self {
        Self(format!("{prefix}-{year}-{number:0digits$}"))
    }

    /// Parses `PREFIX-YYYY-N…` (capital letters and digits, a year, a number).
    pub fn parse(text: &str) -> Result<Self, NotACaseRef> {
        let text = text.trim();
        let mut parts = text.rsplitn(3, '-');
        let (number, year, prefix) = (parts.next(), parts.next(), parts.next());
        let ok = matches!((prefix, year, number), (Some(p), Some(y), Some(n))
            if !p.is_empty() && p.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && y.len() == 4 && y.chars().all(|c| c.is_ascii_digit())
            && !n.is_empty() && n.len() <= 6 && n.chars().all(|c| c.is_ascii_digit()));
        if ok { Ok(Self(text.to_owned())) } else { Err(NotACaseRef(text.to_owned())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its number within its year (`7` of `CHSCP-2026-007`).
    pub fn number(&self) -> Option<u32> {
        self.0.rsplit('-').next().and_then(|n| n.parse().ok())
    }
}

impl fmt::Display for CaseRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
