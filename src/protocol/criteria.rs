//! 11.2: a request for consideration — or later news on one — that tells of a death or
//! serious harm where abuse or neglect is suspected (the notification criteria, 2.1)
//! means the local authority must be told at once: the SPA is alerted immediately,
//! with the authority to tell when the message names it.

use super::{Builder, Incoming, Purpose, Recipient};
use crate::domain::Role;
use crate::domain::case::CaseRef;

/// Alerts the SPA at once when `incoming` shows the 2.1 criteria may be met.
pub(super) fn alert(b: &mut Builder<'_>, reference: &CaseRef, incoming: &Incoming<'_>) {
    let Some(signs) = &incoming.understood.criteria else { return };
    let area = signs.authority.clone().unwrap_or_default();
    b.intent(
        Purpose::Escalation,
        vec![Recipient::Role(Role::Spa)],
        Some(reference),
        "consideration_criteria",
        &[("area", area.clone())],
        true,
    );
    let whom = if area.is_empty() { "the local authority".to_owned() } else { area };
    b.audit(
        "criteria_may_be_met",
        None,
        format!("the message suggests the 2.1 criteria: the SPA is prompted to alert {whom} at once (11.2)"),
    );
}
