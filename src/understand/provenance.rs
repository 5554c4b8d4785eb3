//! Where each notification field was read: a label, a sentence, the subject, the
//! sender's domain. Shown by `cspr inspect` so that a person can see why.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::domain::message::NotificationFields;

/// For each field read, how.
pub type Sources = BTreeMap<&'static str, String>;

/// The notification fields, by the names `inspect --json` gives them.
const NAMES: [&str; 9] = [
    "local_authority",
    "incident_type",
    "aware_date",
    "notified_date",
    "panel_reference",
    "la_reference",
    "children",
    "looked_after",
    "abuse_or_neglect_suspected",
];

/// Which fields are known.
pub fn known(f: &NotificationFields) -> [bool; 9] {
    [
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
}

/// Records `how` for every field known now that was not `before`.
pub fn note(before: [bool; 9], f: &NotificationFields, sources: &mut Sources, how: impl Fn() -> String) {
    for ((name, was), is) in NAMES.iter().zip(before).zip(known(f)) {
        if is && !was {
            sources.entry(name).or_insert_with(&how);
        }
    }
}

/// A date as read, marked provisional (under `name`) when its year or week was inferred.
pub fn dated(read: Option<(NaiveDate, bool)>, name: &str, provisional: &mut Vec<String>) -> Option<NaiveDate> {
    let (date, inferred) = read?;
    if inferred && !provisional.iter().any(|p| p == name) {
        provisional.push(name.to_owned());
    }
    Some(date)
}
