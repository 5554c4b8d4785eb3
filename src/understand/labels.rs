//! The label vocabulary of notification fields: the words people put before each
//! value. Configuration replaces any list; these are the defaults.

/// For each field, the labels that introduce it.
#[derive(Debug, Clone)]
pub struct Labels {
    fields: Vec<(&'static str, Vec<String>)>,
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| (*w).to_owned()).collect()
}

impl Labels {
    /// The labels in use when configuration names none.
    pub fn defaults() -> Self {
        Self {
            fields: vec![
                (
                    "local_authority",
                    words(&["Local authority", "Local authority area", "Local authority name", "LA", "Area"]),
                ),
                (
                    "incident_type",
                    words(&["Incident type", "Type of incident", "Notification type", "Nature of incident"]),
                ),
                (
                    "aware_date",
                    words(&[
                        "Date LA became aware",
                        "LA aware of incident on",
                        "Date the local authority became aware of the incident",
                        "Date local authority became aware",
                        "Date of awareness",
                        "Date became aware",
                    ]),
                ),
                (
                    "notified_date",
                    words(&[
                        "Date notified to the Panel",
                        "Date notified to Panel",
                        "Date of notification",
                        "Notified to Panel on",
                        "Date submitted to the Panel",
                        "Date notification submitted",
                    ]),
                ),
                (
                    "panel_reference",
                    words(&[
                        "Panel reference",
                        "Notification reference",
                        "SIN reference",
                        "Serious incident notification reference",
                    ]),
                ),
                ("la_reference", words(&["LA reference", "Local authority reference"])),
                ("children", words(&["Number of children", "Number of children involved"])),
                (
                    "looked_after",
                    words(&[
                        "Looked after child",
                        "Was the child looked after",
                        "Child looked after",
                        "Is the child looked after",
                        "Looked after",
                    ]),
                ),
                (
                    "abuse_or_neglect",
                    words(&[
                        "Abuse or neglect suspected",
                        "Is abuse or neglect suspected",
                        "Abuse or neglect known or suspected",
                        "Abuse/neglect suspected",
                    ]),
                ),
                ("child_name", words(&["Child's name", "Name of child", "Child name", "Child's initials"])),
                ("date_of_birth", words(&["Date of birth", "DOB", "Child's date of birth"])),
            ],
        }
    }

    /// Replaces the labels of `field` (one of the names in `all`); false for no such field.
    pub fn replace(&mut self, field: &str, labels: Vec<String>) -> bool {
        match self.fields.iter_mut().find(|(name, _)| *name == field) {
            Some((_, words)) => {
                *words = labels;
                true
            }
            None => false,
        }
    }

    /// Every field with its labels.
    pub fn all(&self) -> impl Iterator<Item = (&'static str, &Vec<String>)> {
        self.fields.iter().map(|(name, words)| (*name, words))
    }
}
