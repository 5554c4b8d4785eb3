//! What follows the words of the commands that open, attach or correct cases by hand:
//! `OPEN NOTIFICATION Hackney aware 18/11/2026 ref SIN-2026-0412`,
//! `TRIAGE 12 NEW-CASE NOTIFICATION notified 20 November 2026 la Hackney`,
//! `TYPE looked-after death`. Read strictly: a word that is not one of the facts, or a
//! fact that does not read, is an error in words for the sender, never a guess.

use chrono::NaiveDate;

use super::case_ref::CaseRef;
use super::incident::IncidentType;
use super::parse_uk_date;

/// The choice a command's arguments start with, as written in any case and with a space
/// or a hyphen between its words ("NO-CSPR", "no CSPR"): the choice as the table writes
/// it, and what follows.
pub fn choice<'a>(rest: &'a str, options: &[&'static str]) -> Option<(&'static str, &'a str)> {
    let rest = rest.trim_start();
    options.iter().find_map(|option| {
        let mut at = 0;
        for (i, word) in option.split('-').enumerate() {
            if i > 0 {
                let gap = rest[at..].len() - rest[at..].trim_start_matches([' ', '-']).len();
                if gap == 0 {
                    return None;
                }
                at += gap;
            }
            let candidate = rest.get(at..at + word.len())?;
            if !candidate.eq_ignore_ascii_case(word) {
                return None;
            }
            at += word.len();
        }
        let after = &rest[at..];
        after.is_empty().then_some(()).or_else(|| after.starts_with(char::is_whitespace).then_some(()))?;
        Some((*option, after.trim()))
    })
}

/// Which kind of case a person opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenKind {
    /// A notification of a serious incident (2.1): C3 runs.
    Notification,
    /// A request for the Case Review sub-group to consider a review (11.1): C7 runs.
    Consideration,
}

/// The facts a person gives about a case they open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    pub kind: OpenKind,
    pub authority: Option<String>,
    pub aware: Option<NaiveDate>,
    pub notified: Option<NaiveDate>,
    pub panel_reference: Option<String>,
    pub incident_type: Option<IncidentType>,
}

/// The words that name a fact; each takes what follows it up to the next such word.
const KEYWORDS: [&str; 5] = ["aware", "notified", "ref", "type", "la"];

/// Reads `NOTIFICATION|CONSIDERATION [authority] [aware <date>] [notified <date>]
/// [ref <reference>] [type <incident type>] [la <authority>]`. With `authority_first`
/// (OPEN), the authority is written straight after the kind and must be there.
pub fn read_facts(text: &str, authority_first: bool) -> Result<CaseFacts, String> {
    let (kind, rest) = match choice(text, &["NOTIFICATION", "CONSIDERATION"]) {
        Some(("NOTIFICATION", rest)) => (OpenKind::Notification, rest),
        Some((_, rest)) => (OpenKind::Consideration, rest),
        None => return Err("say NOTIFICATION or CONSIDERATION".into()),
    };
    let mut facts =
        CaseFacts { kind, authority: None, aware: None, notified: None, panel_reference: None, incident_type: None };
    let mut segments: Vec<(Option<&str>, Vec<&str>)> = vec![(None, Vec::new())];
    for word in rest.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        match KEYWORDS.iter().find(|k| **k == lower) {
            Some(key) if segments.iter().any(|(k, _)| *k == Some(*key)) => {
                return Err(format!("'{key}' is given twice"));
            }
            Some(key) => segments.push((Some(key), Vec::new())),
            None => segments.last_mut().map_or((), |(_, words)| words.push(word)),
        }
    }
    for (key, words) in segments {
        let value = words.join(" ");
        match key {
            None if value.is_empty() && authority_first => return Err("name the local authority after the kind".into()),
            None if value.is_empty() => {}
            None if authority_first => facts.authority = Some(value),
            None => return Err(format!("'{value}' is not one of aware, notified, ref, type or la")),
            Some(key) if value.is_empty() => return Err(format!("'{key}' needs a value after it")),
            Some("aware") => facts.aware = Some(date(&value)?),
            Some("notified") => facts.notified = Some(date(&value)?),
            Some("ref") if value.contains(char::is_whitespace) => {
                return Err(format!("'{value}' is not a reference (one word, like SIN-2026-0412)"));
            }
            Some("ref") => facts.panel_reference = Some(value),
            Some("type") => facts.incident_type = Some(incident_type(&value)?),
            Some(_) if authority_first => return Err("the local authority is named straight after the kind".into()),
            Some(_) => facts.authority = Some(value),
        }
    }
    Ok(facts)
}

fn date(text: &str) -> Result<NaiveDate, String> {
    parse_uk_date(text).ok_or_else(|| format!("'{text}' is not a date (for example 24/11/2026 or 24 November 2026)"))
}

/// The incident types as a person writes them: `death`, `serious harm`,
/// `looked-after death`, `care leaver death` (hyphens, underscores and "child" optional).
pub fn incident_type(text: &str) -> Result<IncidentType, String> {
    let words: Vec<String> = text
        .split(|c: char| c.is_whitespace() || c == '-' || c == '_')
        .filter(|w| !w.is_empty() && !w.eq_ignore_ascii_case("child") && !w.eq_ignore_ascii_case("of"))
        .map(str::to_ascii_lowercase)
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["death"] => Ok(IncidentType::Death),
        ["serious", "harm"] | ["harm"] => Ok(IncidentType::SeriousHarm),
        ["looked", "after", "death"] | ["death", "a", "looked", "after"] => Ok(IncidentType::LookedAfterDeath),
        ["care", "leaver", "death"] | ["death", "a", "care", "leaver"] => Ok(IncidentType::CareLeaverDeath),
        _ => Err(format!(
            "'{}' is not an incident type (death, serious harm, looked-after death or care leaver death)",
            text.trim()
        )),
    }
}

/// What a person decides for a message held for triage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriageOrder {
    Attach(CaseRef),
    NewCase(CaseFacts),
    Ignore(String),
}

/// Reads `<id> ATTACH <case>`, `<id> NEW-CASE NOTIFICATION|CONSIDERATION [facts]` or
/// `<id> IGNORE <reason>`.
pub fn read_triage(text: &str) -> Result<(i64, TriageOrder), String> {
    let text = text.trim();
    let (id, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let id: i64 = id
        .trim_start_matches('#')
        .parse()
        .map_err(|_| format!("'{id}' is not a triage item's number (the alert names it)"))?;
    let order = match choice(rest, &["ATTACH", "NEW-CASE", "IGNORE"]) {
        Some(("ATTACH", case)) => {
            TriageOrder::Attach(CaseRef::parse(case).map_err(|_| format!("'{case}' is not a case reference"))?)
        }
        Some(("NEW-CASE", facts)) => TriageOrder::NewCase(read_facts(facts, false)?),
        Some((_, "")) => return Err("IGNORE needs the reason".into()),
        Some((_, reason)) => TriageOrder::Ignore(reason.to_owned()),
        None => {
            return Err(
                "after the number, say ATTACH <case>, NEW-CASE NOTIFICATION|CONSIDERATION or IGNORE <reason>".into()
            );
        }
    };
    Ok((id, order))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    #[test]
    fn facts_read_as_staff_write_them() {
        let facts = read_facts("NOTIFICATION City of London aware 18/11/2026 notified 20 November 2026 ref SIN-2026-0412 type looked-after death", true).unwrap();
        assert_eq!(facts.kind, OpenKind::Notification);
        assert_eq!(facts.authority.as_deref(), Some("City of London"));
        assert_eq!(facts.aware, d(2026, 11, 18));
        assert_eq!(facts.notified, d(2026, 11, 20));
        assert_eq!(facts.panel_reference.as_deref(), Some("SIN-2026-0412"));
        assert_eq!(facts.incident_type, Some(IncidentType::LookedAfterDeath));
        let facts = read_facts("consideration la Hackney", false).unwrap();
        assert_eq!((facts.kind, facts.authority.as_deref()), (OpenKind::Consideration, Some("Hackney")));
        assert!(read_facts("NOTIFICATION", true).is_err(), "OPEN names the authority");
        assert!(read_facts("NOTIFICATION Hackney aware last Tuesday", true).is_err());
        assert!(read_facts("NOTIFICATION Hackney aware 18/11/2026 aware 19/11/2026", true).is_err());
        assert!(read_facts("NOTIFICATION about Hackney", false).is_err(), "TRIAGE takes only the named facts");
        assert!(read_facts("an incident", true).is_err());
    }

    #[test]
    fn incident_types_read_as_written() {
        for (text, kind) in [
            ("death", IncidentType::Death),
            ("Serious harm", IncidentType::SeriousHarm),
            ("serious-harm", IncidentType::SeriousHarm),
            ("looked after child death", IncidentType::LookedAfterDeath),
            ("death of a care leaver", IncidentType::CareLeaverDeath),
        ] {
            assert_eq!(incident_type(text), Ok(kind), "{text}");
        }
        assert!(incident_type("of incident: death").is_err());
    }

    #[test]
    fn triage_orders_read_back() {
        assert_eq!(
            read_triage("12 ATTACH CHSCP-2026-004"),
            Ok((12, TriageOrder::Attach(CaseRef::parse("CHSCP-2026-004").unwrap())))
        );
        assert_eq!(read_triage("#3 ignore newsletter"), Ok((3, TriageOrder::Ignore("newsletter".into()))));
        assert!(matches!(read_triage("7 NEW-CASE NOTIFICATION aware 18/11/2026"), Ok((7, TriageOrder::NewCase(_)))));
        assert!(read_triage("7 IGNORE").is_err());
        assert!(read_triage("seven ATTACH CHSCP-2026-004").is_err());
        assert!(read_triage("7 ATTACH the Hackney case").is_err());
    }
}
