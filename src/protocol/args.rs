//! Reading what follows a command word: a date, or a first word and the rest.

use chrono::NaiveDate;

use crate::domain::parse_uk_date;

/// The date a command names, else the date of the sender's message.
pub(super) fn date_or(rest: &str, default: NaiveDate) -> Result<NaiveDate, String> {
    let rest = rest.trim();
    if rest.is_empty() {
        return Ok(default);
    }
    parse_uk_date(rest).ok_or_else(|| format!("'{rest}' is not a date (for example 24/11/2026 or 24 November 2026)"))
}

/// The first word of a command's arguments, and the rest.
pub(super) fn split_first(rest: &str) -> (&str, &str) {
    let rest = rest.trim();
    match rest.find(char::is_whitespace) {
        Some(i) => (&rest[..i], rest[i..].trim()),
        None => (rest, ""),
    }
}
