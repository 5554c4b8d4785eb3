//! What happened to the child, as a notification says (2.1): the incident types.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentType {
    Death,
    SeriousHarm,
    LookedAfterDeath,
    CareLeaverDeath,
    Unknown,
}
