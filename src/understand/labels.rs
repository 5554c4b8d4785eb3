//! The label vocabulary of notification fields: the words people put before each
//! value. Configuration replaces any list; these are the defaults.

use super::raw::RawLabels;

/// For each field, the labels that introduce it.
#[derive(Debug, Clone)]
pub struct Labels {
    fields: Vec<(&'static str, Vec<String>)>,
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| (*w).to_owned()).collect()
}

impl Labels {
    pub fn from_raw(raw: RawLabels) -> Self {
        let pick = |configured: Option<Vec<String>>, default: &[&str]| configured.unwrap_or_else(|| words(default));
        Self {
            fields: vec![
                (
                    "local_authority",
                    pick(
                        raw.local_authority,
                        &["Local authority", "Local authority area", "Local authority name", "LA", "Area"],
                    ),
                ),
                (
                    "incident_type",
                    pick(
                        raw.incident_type,
                        &["Incident type", "Type of incident", "Notification type", "Nature of incident"],
                    ),
                ),
                (
                    "aware_date",
                    pick(
                        raw.aware_date,
                        &[
                            "Date LA became aware",
                            "LA aware of incident on",
                            "Date the local authority became aware of the incident",
                            "Date local authority became aware",
                            "Date of awareness",
                            "Date became aware",
                        ],
                    ),
                ),
                (
                    "notified_date",
                    pick(
                        raw.notified_date,
                        &[
                            "Date notified to the Panel",
                            "Date notified to Panel",
                            "Date of notification",
                            "Notified to Panel on",
                            "Date submitted to the Panel",
                            "Date notification submitted",
                        ],
                    ),
                ),
                (
                    "panel_reference",
                    pick(
                        raw.panel_reference,
                        &[
                            "Panel reference",
                            "Notification reference",
                            "SIN reference",
                            "Serious incident notification reference",
                        ],
                    ),
                ),
                ("la_reference", pick(raw.la_reference, &["LA reference", "Local authority reference"])),
                ("children", pick(raw.children, &["Number of children", "Number of children involved"])),
                (
                    "looked_after",
                    pick(
                        raw.looked_after,
                        &[
                            "Looked after child",
                            "Was the child looked after",
                            "Child looked after",
                            "Is the child looked after",
                            "Looked after",
                        ],
                    ),
                ),
                (
                    "abuse_or_neglect",
                    pick(
                        raw.abuse_or_neglect,
                        &[
                            "Abuse or neglect suspected",
                            "Is abuse or neglect suspected",
                            "Abuse or neglect known or suspected",
                            "Abuse/neglect suspected",
                        ],
                    ),
                ),
                (
                    "child_name",
                    pick(raw.child_name, &["Child's name", "Name of child", "Child name", "Child's initials"]),
                ),
                ("date_of_birth", pick(raw.date_of_birth, &["Date of birth", "DOB", "Child's date of birth"])),
            ],
        }
    }

    /// Every field with its labels.
    pub fn all(&self) -> impl Iterator<Item = (&'static str, &Vec<String>)> {
        self.fields.iter().map(|(name, words)| (*name, words))
    }
}
