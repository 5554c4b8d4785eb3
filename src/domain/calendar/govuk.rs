//! The UK government's `bank-holidays.json` format: reading its `england-and-wales`
//! division (from the whole file or from a file holding just that division) and
//! writing the division back as the data file that configuration points at. Pure:
//! text in, text out.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Holiday, HolidaySource};
use crate::domain::dates::parse_iso_date;

/// The division this calendar uses.
pub const DIVISION: &str = "england-and-wales";
const SUBSTITUTE_NOTE: &str = "Substitute day";

/// Why a bank-holidays file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum GovukError {
    #[error("cannot read bank holidays: not JSON in the government's format ({0})")]
    Json(serde_json::Error),
    #[error("cannot read bank holidays: no '{DIVISION}' division")]
    NoDivision,
    #[error("cannot read bank holidays: division is '{0}', expected '{DIVISION}'")]
    WrongDivision(String),
    #[error("cannot read bank holidays: event {index}: {reason}")]
    BadEvent { index: usize, reason: String },
    #[error("cannot read bank holidays: {0} is listed twice")]
    Duplicate(NaiveDate),
    #[error("cannot read bank holidays: the file lists no events")]
    Empty,
}

#[derive(Debug, Deserialize, Serialize)]
struct Division {
    division: String,
    events: Vec<Event>,
}

#[derive(Debug, Deserialize, Serialize)]
struct Event {
    title: String,
    date: String,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    bunting: bool,
}

/// Reads the England and Wales bank holidays from the whole government file or from a
/// single-division file, in date order.
pub fn parse(text: &str) -> Result<Vec<Holiday>, GovukError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(GovukError::Json)?;
    let division_value = match value.get(DIVISION) {
        Some(inner) => inner.clone(),
        None if value.get("division").is_some() => value,
        None => return Err(GovukError::NoDivision),
    };
    let division: Division = serde_json::from_value(division_value).map_err(GovukError::Json)?;
    if division.division != DIVISION {
        return Err(GovukError::WrongDivision(division.division));
    }
    let mut holidays = Vec::with_capacity(division.events.len());
    for (index, event) in division.events.into_iter().enumerate() {
        let date = parse_iso_date(&event.date).map_err(|e| GovukError::BadEvent { index, reason: e.to_string() })?;
        let title = event.title.trim();
        if title.is_empty() {
            return Err(GovukError::BadEvent { index, reason: "the title is empty".into() });
        }
        holidays.push(Holiday {
            date,
            title: title.to_owned(),
            substitute: event.notes.trim().eq_ignore_ascii_case(SUBSTITUTE_NOTE),
            source: HolidaySource::Published,
        });
    }
    holidays.sort_by_key(|h| h.date);
    if let Some(pair) = holidays.windows(2).find(|pair| pair[0].date == pair[1].date) {
        return Err(GovukError::Duplicate(pair[0].date));
    }
    if holidays.is_empty() {
        return Err(GovukError::Empty);
    }
    Ok(holidays)
}

/// Writes holidays as a single `england-and-wales` division in the government's shape.
pub fn write(holidays: &[Holiday]) -> String {
    let division = Division {
        division: DIVISION.to_owned(),
        events: holidays
            .iter()
            .map(|h| Event {
                title: h.title.clone(),
                date: h.date.to_string(),
                notes: if h.substitute { SUBSTITUTE_NOTE.to_owned() } else { String::new() },
                bunting: true,
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&division).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHOLE: &str = r#"{
      "england-and-wales": {"division": "england-and-wales", "events": [
        {"title": "Boxing Day", "date": "2028-12-26", "notes": "", "bunting": true},
        {"title": "Christmas Day", "date": "2028-12-25", "notes": "", "bunting": true},
        {"title": "New Year’s Day", "date": "2028-01-03", "notes": "Substitute day", "bunting": true}
      ]},
      "scotland": {"division": "scotland", "events": [
        {"title": "2nd January", "date": "2028-01-04", "notes": "", "bunting": true}
      ]}
    }"#;

    #[test]
    fn reads_the_england_and_wales_division_in_date_order() {
        let holidays = parse(WHOLE).unwrap();
        let dates: Vec<_> = holidays.iter().map(|h| h.date.to_string()).collect();
        assert_eq!(dates, ["2028-01-03", "2028-12-25", "2028-12-26"]);
        assert!(holidays[0].substitute);
        assert_eq!(holidays[0].title, "New Year’s Day");
    }

    #[test]
    fn a_written_division_reads_back_the_same() {
        let holidays = parse(WHOLE).unwrap();
        assert_eq!(parse(&write(&holidays)).unwrap(), holidays);
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        assert!(matches!(parse("not json"), Err(GovukError::Json(_))));
        assert!(matches!(parse(r#"{"scotland": {}}"#), Err(GovukError::NoDivision)));
        assert!(matches!(parse(r#"{"division": "scotland", "events": []}"#), Err(GovukError::WrongDivision(_))));
        assert!(matches!(
            parse(r#"{"division": "england-and-wales", "events": [{"title": "X", "date": "2028-02-30"}]}"#),
            Err(GovukError::BadEvent { index: 0, .. })
        ));
        let twice = r#"{"division": "england-and-wales", "events": [
            {"title": "X", "date": "2028-02-01"}, {"title": "Y", "date": "2028-02-01"}]}"#;
        assert!(matches!(parse(twice), Err(GovukError::Duplicate(_))));
        assert!(matches!(parse(r#"{"division": "england-and-wales", "events": []}"#), Err(GovukError::Empty)));
    }
}
