//! A request for consideration by the Case Review sub-group (11.1): C7 runs to the next
//! meeting, and the SPA is told.

use chrono::NaiveDate;

use super::{Builder, Purpose, Recipient};
use crate::domain::case::CaseState;
use crate::domain::clock::ClockId;
use crate::domain::{Role, format_long};

/// A request under consideration: C7 runs from `received` to the next sub-group meeting,
/// and the SPA is told; returns that meeting's date, in words.
pub(super) fn consider(state: &mut CaseState, b: &mut Builder<'_>, received: NaiveDate) -> String {
    b.start_clock(state, ClockId::C7, received);
    let meeting: Option<NaiveDate> = state.running(ClockId::C7).map(|c| c.due_in_force());
    let meeting = meeting.map(format_long).unwrap_or_default();
    let reference = state.reference.clone();
    b.intent(
        Purpose::Escalation,
        vec![Recipient::Role(Role::Spa)],
        Some(&reference),
        "consideration_new",
        &[("meeting", meeting.clone())],
        false,
    );
    meeting
}
