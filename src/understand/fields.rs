//! Notification fields from the text of a forwarded original: `Label: value` lines
//! (HTML table rows arrive as such lines), the configured label vocabulary, UK dates,
//! and the free-text sentences that can be read reliably.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;

use super::{Labels, Rules};
use crate::domain::message::{IncidentType, NotificationFields};
use crate::domain::parse_uk_date;

static AWARE_SENTENCE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)became aware of (?:the |this )?(?:incident|death|serious harm|it)?[^.\n]{0,40}? on ([^.\n]{6,40})")
        .ok()
});
static NOTIFIED_TODAY: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:we have|we've|i have|have) (?:today|now) (?:notified|informed|submitted (?:a |the )?notification to) the (?:national )?(?:child safeguarding practice review )?panel").ok()
});
static NOTIFIED_ON: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:notified|informed) the (?:national )?(?:child safeguarding practice review )?panel on ([^.\n]{6,40})").ok()
});
static SAYS_NOTIFICATION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)serious (?:incident|safeguarding incident) notification|notification (?:to|sent to|submitted to) the (?:national )?(?:child safeguarding practice review )?panel|panel notification").ok()
});

/// The longest field value read, in bytes.
const MAX_VALUE: usize = 300;

/// What extraction found, and how much of it.
#[derive(Debug, Clone, Default)]
pub struct Extracted {
    pub fields: NotificationFields,
    /// How many notification fields were found (child identifiers not counted).
    pub found: usize,
    /// The text says it is a notification to the Panel.
    pub says_notification: bool,
}

fn normalise_label(label: &str) -> String {
    let trimmed = label.trim().trim_start_matches(['*', '-', '•', '·', ' ']).trim_matches('*').trim();
    let trimmed = trimmed.trim_end_matches(['?', ':', '*']).trim();
    trimmed.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase().replace('’', "'")
}

/// The label vocabulary, normalised once for a whole text: each line's label is then
/// one lookup.
fn vocabulary(labels: &Labels) -> std::collections::HashMap<String, &'static str> {
    let mut words = std::collections::HashMap::new();
    for (name, list) in labels.all() {
        for word in list {
            words.entry(normalise_label(word)).or_insert(name);
        }
    }
    words
}

/// Answers that say nothing yet: never read as no.
const NOT_KNOWN: &[&str] = &[
    "not known",
    "unknown",
    "not yet known",
    "tbc",
    "tbd",
    "to be confirmed",
    "to be determined",
    "under investigation",
    "being investigated",
    "unclear",
    "not clear",
    "not sure",
    "awaiting",
    "pending",
    "n/k",
    "not yet established",
];

/// Yes, no, or unknown (`None`): "not known", "TBC", "under investigation" are unknown.
fn yes_no(value: &str) -> Option<bool> {
    let v = value.trim().to_ascii_lowercase();
    if NOT_KNOWN.iter().any(|phrase| v.starts_with(phrase)) {
        return None;
    }
    let first: String = v.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    match first.as_str() {
        "yes" | "y" | "true" | "suspected" | "known" => Some(true),
        "no" | "n" | "false" | "not" | "none" => Some(false),
        _ => None,
    }
}

fn children(value: &str) -> Option<u32> {
    let v = value.trim().to_ascii_lowercase();
    if let Some(n) = v.split(|c: char| !c.is_ascii_digit()).find(|s| !s.is_empty()).and_then(|s| s.parse().ok()) {
        return Some(n);
    }
    ["one", "two", "three", "four", "five", "six"].iter().position(|w| v.starts_with(w)).map(|i| i as u32 + 1)
}

fn incident(value: &str) -> IncidentType {
    let v = value.to_lowercase();
    let death = ["death", "died", "dead", "fatal", "deceased"].iter().any(|w| v.contains(w));
    if death && v.contains("care leaver") {
        IncidentType::CareLeaverDeath
    } else if death && (v.contains("looked after") || v.contains("lac ") || v.starts_with("lac")) {
        IncidentType::LookedAfterDeath
    } else if death {
        IncidentType::Death
    } else if ["serious harm", "seriously harmed", "serious injury", "seriously injured"].iter().any(|w| v.contains(w))
    {
        IncidentType::SeriousHarm
    } else {
        IncidentType::Unknown
    }
}

/// Reads notification fields from `text`. `written_on` is the London date of the text
/// (what "today" means in it).
pub fn extract(text: &str, subject: Option<&str>, written_on: Option<NaiveDate>, rules: &Rules<'_>) -> Extracted {
    let mut out = Extracted::default();
    let f = &mut out.fields;
    let lines: Vec<&str> = text.lines().collect();
    let vocabulary = vocabulary(rules.labels);
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim_start_matches('>').trim();
        let split = line.split_once(':').or_else(|| line.split_once('\t'));
        let Some((label, value)) = split else { continue };
        if label.len() > 80 {
            continue;
        }
        let Some(&field) = vocabulary.get(&normalise_label(label)) else { continue };
        let mut value = value.trim().to_owned();
        if value.is_empty()
            && let Some(next) = lines[i + 1..].iter().map(|l| l.trim()).find(|l| !l.is_empty())
        {
            value = next.to_owned();
        }
        if value.is_empty() {
            continue;
        }
        // A field's value is a short phrase; a longer "value" is prose (or an attack on
        // the date parser), read only as far as a value could go.
        if value.len() > MAX_VALUE {
            let mut end = MAX_VALUE;
            while !value.is_char_boundary(end) {
                end -= 1;
            }
            value.truncate(end);
        }
        match field {
            "local_authority" if f.local_authority.is_none() => {
                f.local_authority = Some(rules.directory.canonical_authority(&value))
            }
            "incident_type" if f.incident_type.is_none() => f.incident_type = Some(incident(&value)),
            "aware_date" if f.aware_date.is_none() => f.aware_date = parse_uk_date(&value),
            "notified_date" if f.notified_date.is_none() => f.notified_date = parse_uk_date(&value),
            "panel_reference" if f.panel_reference.is_none() => f.panel_reference = Some(value.clone()),
            "la_reference" if f.la_reference.is_none() => f.la_reference = Some(value.clone()),
            "children" if f.children.is_none() => f.children = children(&value),
            "looked_after" if f.looked_after.is_none() => f.looked_after = yes_no(&value),
            "abuse_or_neglect" if f.abuse_or_neglect_suspected.is_none() => {
                f.abuse_or_neglect_suspected = yes_no(&value)
            }
            "child_name" if f.child_identifiers.name.is_none() => f.child_identifiers.name = Some(value.clone()),
            "date_of_birth" if f.child_identifiers.date_of_birth.is_none() => {
                f.child_identifiers.date_of_birth = Some(value.clone())
            }
            _ => {}
        }
    }
    if f.aware_date.is_none()
        && let Some(re) = AWARE_SENTENCE.as_ref()
    {
        f.aware_date = re.captures(text).and_then(|c| parse_uk_date(c.get(1)?.as_str()));
    }
    if f.notified_date.is_none() {
        if NOTIFIED_TODAY.as_ref().is_some_and(|re| re.is_match(text)) {
            f.notified_date = written_on;
        } else if let Some(re) = NOTIFIED_ON.as_ref() {
            f.notified_date = re.captures(text).and_then(|c| parse_uk_date(c.get(1)?.as_str()));
        }
    }
    if f.panel_reference.is_none() {
        f.panel_reference = rules.panel_patterns.iter().find_map(|re| re.find(text)).map(|m| m.as_str().to_owned());
    }
    if f.la_reference.is_none() {
        f.la_reference = rules.la_patterns.iter().find_map(|re| re.find(text)).map(|m| m.as_str().to_owned());
    }
    let lowered = text.to_lowercase();
    if let Some(kind) = f.incident_type {
        let death =
            matches!(kind, IncidentType::Death | IncidentType::LookedAfterDeath | IncidentType::CareLeaverDeath);
        if death && lowered.contains("care leaver") {
            f.incident_type = Some(IncidentType::CareLeaverDeath);
        } else if death && f.looked_after == Some(true) {
            f.incident_type = Some(IncidentType::LookedAfterDeath);
        }
    }
    if matches!(f.incident_type, Some(IncidentType::LookedAfterDeath)) && f.looked_after.is_none() {
        f.looked_after = Some(true);
    }
    out.found = [
        f.local_authority.is_some(),
        f.incident_type.is_some(),
        f.aware_date.is_some(),
        f.notified_date.is_some(),
        f.panel_reference.is_some(),
        f.la_reference.is_some(),
        f.children.is_some(),
        f.looked_after.is_some(),
        f.abuse_or_neglect_suspected.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    out.says_notification =
        SAYS_NOTIFICATION.as_ref().is_some_and(|re| re.is_match(text) || subject.is_some_and(|s| re.is_match(s)));
    out
}
