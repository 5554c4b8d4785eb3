//! Another copy of a notification for a case already open: its blanks filled, nothing
//! duplicated, and a date first read as provisional ("on Friday", "30 November") replaced
//! when the copy gives it in full — with the clock that ran from it moved to match.

use chrono::NaiveDate;

use super::{Builder, Context, Incoming, Outcome};
use crate::domain::case::CaseState;
use crate::domain::clock::due_date;
use crate::domain::message::NotificationFields;

pub(super) fn repeat_notification(mut state: CaseState, incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    let fields = incoming.understood.notification.clone().unwrap_or_default();
    if let (Some(ours), Some(theirs)) = (&state.notification.panel_reference, &fields.panel_reference)
        && ours != theirs
    {
        return Outcome::triage(format!("a notification for {} with a different Panel reference", state.reference));
    }
    let mut b = Builder::new(incoming, ctx);
    let confirmed = fill(&mut state, &fields);
    b.audit(
        "notification_repeated",
        None,
        "another copy of the notification: missing details filled, nothing duplicated",
    );
    for (field, provisional, firm) in confirmed {
        let name = field.replace('_', " ");
        b.audit("date_confirmed", None, format!("{name}: the provisional {provisional} is {firm} in a later copy"));
        if provisional != firm {
            move_clocks(&mut b, &mut state, provisional, firm);
        }
    }
    b.out.case = Some(state);
    b.out
}

/// Running clocks that started on the provisional date start on the firm one instead,
/// due counted again from it (an approved extension stands: it is a date of its own).
fn move_clocks(b: &mut Builder<'_>, state: &mut CaseState, from: NaiveDate, to: NaiveDate) {
    for instance in state.clocks.iter_mut().filter(|c| c.is_running() && c.started == from) {
        let Some(def) = b.ctx.rules.clock(instance.clock) else { continue };
        let Ok(due) = due_date(def, to, b.ctx.rules.calendar) else { continue };
        let clock = instance.clock;
        b.audit(
            "clock_moved",
            Some(clock),
            format!("{clock} now counted from {to} (was {from}): due {due} (was {})", instance.due),
        );
        instance.started = to;
        instance.due = due;
    }
}

/// Fills the case's blanks from a copy of the notification; returns the provisional
/// dates the copy gave firmly (`NotificationFields::fill_blanks`).
pub(super) fn fill(state: &mut CaseState, fields: &NotificationFields) -> Vec<(&'static str, NaiveDate, NaiveDate)> {
    let confirmed = state.notification.fill_blanks(fields);
    if state.child.is_empty() {
        state.child = fields.child_identifiers.clone();
    }
    confirmed
}
