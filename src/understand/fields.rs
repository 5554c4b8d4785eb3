//! Notification fields from the text of a forwarded original: `Label: value` lines
//! (HTML table rows arrive as such lines), the configured label vocabulary, UK dates,
//! and the free-text sentences that can be read reliably.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;

use super::provenance::{Sources, dated, known, note};
use super::{Labels, Rules};
use crate::domain::message::{IncidentType, NotificationFields};
use crate::domain::read_written_date;

static SAYS_NOTIFICATION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)serious (?:incident|safeguarding incident) notification|child safeguarding incident notification|notification (?:was |has been )?(?:made |sent |submitted |completed )?(?:to|with) the (?:national )?(?:child safeguarding practice review )?panel|panel notification|(?:notified|informed) the (?:national )?(?:child safeguarding practice review )?panel|panel (?:was|were|has been|have been) (?:notified|informed)|notification (?:form|copy)|copy of (?:the |our )?(?:panel |serious incident )?notification|sin notification").ok()
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
    /// The authority the letter names first, if any (used when neither a label nor the
    /// sender's domain says which authority notifies).
    pub authority_in_text: Option<String>,
    /// Where each field was read.
    pub sources: Sources,
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
    // "Looked after? – No": the dash after a question mark is the writer's separator.
    let v = value.trim_start_matches(|c: char| !c.is_alphanumeric()).trim_end().to_ascii_lowercase();
    if NOT_KNOWN.iter().any(|phrase| v.starts_with(phrase)) {
        return None;
    }
    let first: String = v.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    match first.as_str() {
        "yes" | "y" | "true" | "suspected" | "known" | "confirmed" => Some(true),
        "no" | "n" | "false" | "not" | "none" => Some(false),
        // "neglect known", "physical abuse suspected"
        _ if v.contains("not suspected") || v.contains("no concerns") => Some(false),
        _ if ["suspected", "known", "confirmed", "alleged"].iter().any(|w| v.contains(w)) => Some(true),
        _ => None,
    }
}

fn children(value: &str) -> Option<u32> {
    let v = value.trim().to_ascii_lowercase();
    // The number the value starts with ("two (Cassius, 4 and Delphine, 2)" is two).
    let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
    if let Ok(n) = digits.parse() {
        return Some(n);
    }
    if v.starts_with("twins") || v.starts_with("both") {
        return Some(2);
    }
    let words = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"];
    let first: String = v.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    words.iter().position(|w| *w == first).map(|i| i as u32 + 1).or_else(|| (first == "single").then_some(1))
}

fn incident(value: &str) -> IncidentType {
    let v = value.to_lowercase();
    let death = ["death", "died", "dead", "fatal", "deceased", "passed away", "killed", "sudi", "sudden unexpected"]
        .iter()
        .any(|w| v.contains(w));
    if death && super::prose::affirms(&v, "care leaver") {
        IncidentType::CareLeaverDeath
    } else if death
        && (super::prose::affirms(&v, "looked after")
            || super::prose::affirms(&v, "looked-after")
            || v.starts_with("lac"))
    {
        IncidentType::LookedAfterDeath
    } else if death {
        IncidentType::Death
    } else if [
        "serious harm",
        "seriously harmed",
        "serious injur",
        "seriously injured",
        "seriously assaulted",
        "serious assault",
        "life-threatening",
        "life threatening",
        "critical condition",
        "intensive care",
        "picu",
        "stabbed",
        "stabbing",
        "significant injur",
    ]
    .iter()
    .any(|w| v.contains(w))
    {
        IncidentType::SeriousHarm
    } else {
        IncidentType::Unknown
    }
}

/// How a label was found: exactly as configured, or by its meaning.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Found {
    Configured,
    Meaning,
}

/// A line as a label and its value: `Label: value`, `Label<TAB>value`, or a label on
/// its own line ("Panel ref", "Q: When was the Panel notified?") whose value is the
/// next line ("A: Monday 11 January 2027"). `None` when the line is no label.
fn label_and_value(
    lines: &[&str],
    i: usize,
    vocabulary: &std::collections::HashMap<String, &'static str>,
) -> Option<(&'static str, Found, String, String, bool)> {
    let line = clean(lines[i]);
    if line.is_empty() || line.starts_with("A:") || line.starts_with("A.") {
        return None;
    }
    let field_of = |label: &str| {
        vocabulary
            .get(&normalise_label(label))
            .map(|f| (*f, Found::Configured))
            .or_else(|| super::labels::concept(label).map(|f| (f, Found::Meaning)))
    };
    let question = ["Q:", "Q.", "Question:"].iter().find_map(|q| line.strip_prefix(q));
    let (label, value) = match question {
        Some(q) => (q.trim(), None),
        None => match split(line, &field_of) {
            Some((label, value)) if !value.trim().is_empty() => (label, Some(value.trim())),
            Some((label, _)) => (label, None),
            None if line.len() <= 80 && !line.ends_with('.') && !line.ends_with(',') => (line, None),
            None => return None,
        },
    };
    if label.len() > 80 {
        return None;
    }
    let (field, found) = field_of(label)?;
    if let Some(value) = value {
        return Some((field, found, label.trim().to_owned(), value.to_owned(), false));
    }
    // The value is on the next line that has text, unless that line is a label itself.
    let next = lines[i + 1..].iter().map(|l| clean(l)).find(|l| !l.is_empty())?;
    let answer = ["A:", "A."].iter().find_map(|a| next.strip_prefix(a)).map(str::trim);
    if answer.is_none() {
        let own_label = next.split_once(':').map_or(next, |(l, _)| l);
        let looks_like_label = next.contains(':') || next.ends_with('?');
        if looks_like_label && own_label.len() <= 80 && field_of(own_label).is_some() {
            return None;
        }
    }
    Some((field, found, label.trim().to_owned(), answer.unwrap_or(next).to_owned(), true))
}

/// A line split into label and value: at the first colon or tab; else at " – ", " - ",
/// "? " or " | " where what stands before is a label ("Date submitted – 19 November
/// 2026", "Was the child looked after by the local authority? No").
fn split<'l, F>(line: &'l str, field_of: &F) -> Option<(&'l str, &'l str)>
where
    F: Fn(&str) -> Option<(&'static str, Found)>,
{
    let plain = [':', '\t'].iter().filter_map(|sep| line.find(*sep).map(|at| (at, at + 1))).min();
    // A dash or question mark before the colon splits first ("Child(ren) – 1: Juniper").
    let labelled = ["? ", " – ", " — ", " - ", " | "].iter().find_map(|sep| {
        let at = line.find(sep)?;
        let label_end = if *sep == "? " { at + 1 } else { at };
        let label = &line[..label_end];
        (label.len() <= 80 && field_of(label).is_some()).then_some((label_end, at + sep.len()))
    });
    let (label_end, value_start) = match (plain, labelled) {
        (Some(p), Some(l)) => {
            if l.0 < p.0 {
                l
            } else {
                p
            }
        }
        (p, l) => p.or(l)?,
    };
    Some((&line[..label_end], &line[value_start..]))
}

/// A line without quotation marks, bullets or the spaces around them.
fn clean(line: &str) -> &str {
    line.trim_start_matches(|c: char| matches!(c, '>' | '-' | '•' | '*' | '·' | '–') || c.is_whitespace()).trim()
}

/// A reference as written: the part that matches a known pattern, else a short token
/// with a digit in it (what people put after "Our ref:").
fn reference(value: &str, patterns: &[regex::Regex], loose: bool) -> Option<String> {
    if let Some(m) = patterns.iter().find_map(|re| re.find(value)) {
        return Some(m.as_str().to_owned());
    }
    if loose {
        return Some(value.to_owned());
    }
    let first = value.split_whitespace().next()?.trim_end_matches(['.', ',', ';', ')']);
    (first.len() >= 3 && first.chars().any(|c| c.is_ascii_digit())).then(|| first.to_owned())
}

/// Reads notification fields from `text`. `written_on` is the London date of the text
/// (what "today" means in it).
pub fn extract(text: &str, subject: Option<&str>, written_on: Option<NaiveDate>, rules: &Rules<'_>) -> Extracted {
    let mut out = Extracted::default();
    let mut sources = Sources::new();
    let f = &mut out.fields;
    let lines: Vec<&str> = text.lines().collect();
    let vocabulary = vocabulary(rules.labels);
    for i in 0..lines.len() {
        let Some((field, found, label, mut value, alone)) = label_and_value(&lines, i, &vocabulary) else { continue };
        let before = known(f);
        // A field's value is a short phrase; a longer "value" is prose (or an attack on
        // the date parser), read only as far as a value could go.
        if value.len() > MAX_VALUE {
            let mut end = MAX_VALUE;
            while !value.is_char_boundary(end) {
                end -= 1;
            }
            value.truncate(end);
        }
        // A configured label after a colon is taken at its word; a label recognised by
        // its meaning, or standing alone, only when its value reads as that field.
        let sure = found == Found::Configured && !alone;
        match field {
            // "Camden Council – We Make Camden" is a signature, not a label.
            "local_authority" if found == Found::Meaning && rules.directory.authority_in(&label).is_some() => {}
            "local_authority" if f.local_authority.is_none() => {
                // Only a configured label is taken at its word for an authority not in
                // the directory; by meaning, the value must name one we know.
                f.local_authority = match rules.directory.authority_in(&value) {
                    Some(name) => Some(name),
                    None if sure && value.len() <= 60 => Some(rules.directory.canonical_authority(&value)),
                    None => None,
                }
            }
            "incident_type" if f.incident_type.is_none() => {
                f.incident_type = Some(incident(&value)).filter(|t| sure || *t != IncidentType::Unknown)
            }
            "aware_date" if f.aware_date.is_none() => {
                f.aware_date = dated(read_written_date(&value, written_on), "aware_date", &mut f.provisional)
            }
            "notified_date" if f.notified_date.is_none() => {
                f.notified_date = dated(read_written_date(&value, written_on), "notified_date", &mut f.provisional)
            }
            "panel_reference" if f.panel_reference.is_none() => {
                f.panel_reference = reference(&value, rules.panel_patterns, sure)
            }
            // "Reference number: SIN-2027-00031": a reference by meaning is the Panel's
            // when it looks like the Panel's.
            "la_reference" if found == Found::Meaning && rules.panel_patterns.iter().any(|re| re.is_match(&value)) => {
                f.panel_reference = f.panel_reference.take().or_else(|| reference(&value, rules.panel_patterns, false))
            }
            "la_reference" if f.la_reference.is_none() => f.la_reference = reference(&value, rules.la_patterns, sure),
            "children" if f.children.is_none() => f.children = children(&value),
            "looked_after" if f.looked_after.is_none() => f.looked_after = yes_no(&value),
            "abuse_or_neglect" if f.abuse_or_neglect_suspected.is_none() => {
                f.abuse_or_neglect_suspected = yes_no(&value)
            }
            "child_name" if f.child_identifiers.name.is_none() && !alone => {
                f.child_identifiers.name = Some(value.clone())
            }
            "date_of_birth" if f.child_identifiers.date_of_birth.is_none() && !alone => {
                f.child_identifiers.date_of_birth = Some(value.clone())
            }
            _ => {}
        }
        note(before, f, &mut sources, || format!("label '{label}'"));
    }
    let before = known(f);
    if f.panel_reference.is_none() {
        f.panel_reference = rules.panel_patterns.iter().find_map(|re| re.find(text)).map(|m| m.as_str().to_owned());
    }
    if f.la_reference.is_none() {
        f.la_reference = rules.la_patterns.iter().find_map(|re| re.find(text)).map(|m| m.as_str().to_owned());
    }
    note(before, f, &mut sources, || "a reference in the text".to_owned());
    // What labels (and references) gave: how sure it is that this is a notification.
    let labelled = count(f);
    let before = known(f);
    if f.incident_type.is_none_or(|t| t == IncidentType::Unknown) {
        let letter = super::prose::letter_of(text);
        let from_subject = subject.map(incident).filter(|t| *t != IncidentType::Unknown);
        let from_text = Some(incident(&letter)).filter(|t| *t != IncidentType::Unknown);
        if let Some(kind) = from_subject.or(from_text) {
            f.incident_type = Some(kind);
        }
        let how = if from_subject.is_some() { "the subject" } else { "the letter's words" };
        note(before, f, &mut sources, || how.to_owned());
    }
    let notified_by_label = f.notified_date.is_some();
    let before = known(f);
    super::prose::read(text, subject, written_on, f);
    note(before, f, &mut sources, || "a sentence of the letter".to_owned());
    // A letter that says when the Panel was notified of a death or serious harm is a
    // notification, however few labels it has.
    let told_in_prose =
        !notified_by_label && f.notified_date.is_some() && f.incident_type.is_some_and(|t| t != IncidentType::Unknown);
    out.authority_in_text = rules.directory.authority_in(&super::prose::letter_of(text));
    let lowered = text.to_lowercase();
    if let Some(kind) = f.incident_type {
        let death =
            matches!(kind, IncidentType::Death | IncidentType::LookedAfterDeath | IncidentType::CareLeaverDeath);
        if death && super::prose::affirms(&lowered, "care leaver") {
            f.incident_type = Some(IncidentType::CareLeaverDeath);
        } else if death && f.looked_after == Some(true) {
            f.incident_type = Some(IncidentType::LookedAfterDeath);
        }
    }
    let before = known(f);
    if matches!(f.incident_type, Some(IncidentType::LookedAfterDeath)) && f.looked_after.is_none() {
        f.looked_after = Some(true);
    }
    // A care leaver has left care: no longer looked after.
    if matches!(f.incident_type, Some(IncidentType::CareLeaverDeath)) && f.looked_after.is_none() {
        f.looked_after = Some(false);
    }
    note(before, f, &mut sources, || "the incident type".to_owned());
    out.sources = sources;
    out.found = labelled;
    // Words alone ("how a serious incident notification leads to a Rapid Review") are
    // not a notification: something of one must be there too.
    let something = labelled >= 1 || f.panel_reference.is_some() || f.aware_date.is_some() || f.notified_date.is_some();
    out.says_notification = told_in_prose
        || (something
            && SAYS_NOTIFICATION
                .as_ref()
                .is_some_and(|re| re.is_match(text) || subject.is_some_and(|s| re.is_match(s))));
    out
}

/// How many notification fields are known (child identifiers not counted).
fn count(f: &NotificationFields) -> usize {
    known(f).iter().filter(|b| **b).count()
}
