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

/// Words a label can carry that say nothing about which field it is.
const FILLER: &[&str] = &[
    "the", "a", "an", "of", "to", "was", "is", "were", "did", "does", "has", "have", "been", "being", "by", "this",
    "that", "it", "if", "any", "please", "state", "confirm", "give", "provide", "for", "in", "at", "and", "or", "q",
];

/// A label's words: lower case, punctuation and filler dropped ("Was the child Looked
/// After?" and "looked after" are the same words).
pub fn label_words(label: &str) -> Vec<String> {
    label
        .to_lowercase()
        .replace(['’', '\''], "")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !FILLER.contains(w))
        .map(str::to_owned)
        .collect()
}

/// The field a label is about, however it is worded, from the words that carry its
/// meaning ("Panel ref", "Date Camden became aware", "No. of children involved",
/// "When was the Panel notified", "Type of incident"); `None` for anything else. A
/// label is short: more than ten words is a sentence, not a label.
pub fn concept(label: &str) -> Option<&'static str> {
    let words = label_words(label);
    if words.is_empty() || words.len() > 10 {
        return None;
    }
    let has = |w: &str| words.iter().any(|x| x == w);
    let any = |ws: &[&str]| ws.iter().any(|w| has(w));
    if any(&["dob", "birth"]) || words.concat() == "dob" {
        return Some("date_of_birth");
    }
    if any(&["abuse", "neglect", "maltreatment"]) {
        return Some("abuse_or_neglect");
    }
    if (has("looked") && has("after")) || any(&["lac", "cla"]) {
        return Some("looked_after");
    }
    let counting = any(&["number", "no", "how", "many", "count", "total"]) || any(&["children", "ren", "siblings"]);
    if any(&["children", "child", "siblings", "young"]) && counting && !any(&["ref", "reference", "case", "name"]) {
        return Some("children");
    }
    if any(&["ref", "reference", "refs", "references", "id", "number", "no"]) && words.len() > 1
        || any(&["ref", "reference"])
    {
        let panel = any(&["panel", "sin", "dfe", "national", "notification", "cspr"]);
        return Some(if panel { "panel_reference" } else { "la_reference" });
    }
    if has("aware") || has("awareness") {
        return Some("aware_date");
    }
    if any(&["type", "nature", "category", "happened"]) {
        return Some("incident_type");
    }
    if any(&["notified", "notification", "submitted", "reported", "informed", "notify"]) {
        return Some("notified_date");
    }
    if (has("looked") && has("after")) || any(&["lac", "cla", "care"]) && !has("leaver") {
        return Some("looked_after");
    }
    if has("name") || has("initials") {
        return any(&["child", "childs", "young", "person", "initials"]).then_some("child_name");
    }
    if has("incident") && !has("date") {
        return Some("incident_type");
    }
    if any(&["authority", "la", "council", "borough", "notifying", "lsp", "area"]) && !has("date") {
        return Some("local_authority");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::concept;

    #[test]
    fn labels_are_read_however_they_are_worded() {
        for (label, field) in [
            ("Type of incident", "incident_type"),
            ("What type of incident is being notified?", "incident_type"),
            ("Date Camden became aware", "aware_date"),
            ("When did the LA become aware?", "aware_date"),
            ("Submitted to the Panel on", "notified_date"),
            ("When was the Panel notified?", "notified_date"),
            ("Panel ref", "panel_reference"),
            ("SIN number", "panel_reference"),
            ("Camden ref", "la_reference"),
            ("Our ref", "la_reference"),
            ("No. of children involved", "children"),
            ("How many children?", "children"),
            ("Looked after?", "looked_after"),
            ("Was the child a CLA", "looked_after"),
            ("Abuse/neglect known or suspected?", "abuse_or_neglect"),
            ("Notifying authority", "local_authority"),
            ("Child's name", "child_name"),
            ("D.O.B.", "date_of_birth"),
        ] {
            assert_eq!(concept(label), Some(field), "{label}");
        }
        for label in ["Kind regards", "CAUTION", "Telephone", "From", "Sent", "Team Manager name", "Subject"] {
            assert_eq!(concept(label), None, "{label}");
        }
    }
}
