//! Notifications (2.1–2.5): a new case; another copy for a case already open (its blanks
//! filled, a provisional date replaced when the copy gives it in full, the clocks that
//! ran from a date that moved moved with it and the SPA told); a notification for a case
//! that is closed (a new case beside it, or a person decides when it carries the closed
//! case's own Panel reference); a notification for a request under consideration (the
//! case becomes a notification case). Nothing is absorbed.

use chrono::NaiveDate;

use super::{Builder, Context, Incoming, Outcome, Purpose, Recipient};
use crate::domain::case::{CaseKind, CaseRef, CaseState, ClockInstance, ClockStatus};
use crate::domain::clock::{ClockId, StartEvent, due_date};
use crate::domain::duty::DutyKind;
use crate::domain::message::{IncidentType, Kind, NotificationFields, Understood};
use crate::domain::{Role, format_long, london_date};

/// Whether a notification matched to `state` is a new incident to open beside it: the
/// case is closed and the notification does not carry the closed case's own Panel
/// reference (with it, it may be a late copy: a person decides).
pub fn opens_beside(understood: &Understood, state: &CaseState) -> bool {
    let theirs = understood.notification.as_ref().and_then(|f| f.panel_reference.as_ref());
    understood.kind == Kind::Notification
        && state.is_closed()
        && !(theirs.is_some() && theirs == state.notification.panel_reference.as_ref())
}

pub(super) fn new_notification(reference: CaseRef, incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    let state = CaseState::new(reference, CaseKind::Incident, london_date(&ctx.now));
    let mut b = Builder::new(incoming, ctx);
    let arrived_on = london_date(&incoming.arrived_at);
    b.audit("case_opened", None, format!("notification copy received {arrived_on}"));
    open(state, b, incoming)
}

/// A notification case opened by hand (`OPEN NOTIFICATION …`) from the facts a person
/// gives: everything a notification starts, with no acknowledgement (nobody forwarded it).
pub(super) fn opened_by_hand(reference: CaseRef, incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    let state = CaseState::new(reference, CaseKind::Incident, london_date(&ctx.now));
    let mut b = Builder::new(incoming, ctx);
    b.audit("case_opened", None, "opened by hand: a notification told to the partnership another way");
    let mut out = open(state, b, incoming);
    out.intents.retain(|i| i.purpose != Purpose::Acknowledgement);
    out
}

/// A new incident for a child or family whose earlier case is closed: a case of its own,
/// linked to the closed one.
pub(super) fn beside_closed(
    reference: CaseRef,
    closed: &CaseState,
    incoming: &Incoming<'_>,
    ctx: &Context<'_>,
) -> Outcome {
    let mut state = CaseState::new(reference, CaseKind::Incident, london_date(&ctx.now));
    state.related.push(closed.reference.clone());
    let mut b = Builder::new(incoming, ctx);
    let arrived_on = london_date(&incoming.arrived_at);
    b.audit(
        "case_opened",
        None,
        format!("notification copy received {arrived_on}; it matched {} (closed), linked", closed.reference),
    );
    open(state, b, incoming)
}

/// A notification for a case already open: a copy for it, or — for a request under
/// consideration or a closed case — more than a copy.
pub(super) fn for_existing(state: CaseState, incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    // Released to a closed case by a person: a copy for it, as they say.
    if state.is_closed() && ctx.released_by.is_none() {
        let reason = format!(
            "a notification carrying the Panel reference of {}, which is closed: a late copy, or a new incident?",
            state.reference
        );
        let mut b = Builder::new(incoming, ctx);
        let to = ctx.rules.alerts.triage.iter().copied().map(Recipient::Role).collect();
        b.intent(Purpose::Escalation, to, None, "triage_alert", &[("reason", reason.clone())], true);
        b.out.candidates = vec![state.reference.clone()];
        b.out.triage = Some(reason);
        return b.out;
    }
    if state.kind == CaseKind::Consideration {
        return from_consideration(state, incoming, ctx);
    }
    repeat_notification(state, incoming, ctx)
}

/// The case was opened as a request for consideration (11.1); the local authority has
/// now notified the Panel: a notification case from here on, C7 no longer needed.
fn from_consideration(mut state: CaseState, incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    let mut b = Builder::new(incoming, ctx);
    let on = london_date(&incoming.arrived_at);
    state.kind = CaseKind::Incident;
    state.provisional = false;
    if let Some(c7) = state.running_mut(ClockId::C7) {
        c7.status = ClockStatus::Stopped;
        c7.closed_on = Some(on);
    }
    b.audit(
        "case_became_notification",
        None,
        format!(
            "notification copy received {on}: the request for consideration is now a notification case (C7 stopped)"
        ),
    );
    open(state, b, incoming)
}

/// Records a notification on `state` and starts what it starts: C1/C2 assessed, the
/// Secretary of State duty, C3 (or footnote 1), acknowledgement and alerts.
fn open(mut state: CaseState, mut b: Builder<'_>, incoming: &Incoming<'_>) -> Outcome {
    let fields = incoming.understood.notification.clone().unwrap_or_default();
    let arrived_on = london_date(&incoming.arrived_at);
    let reference = state.reference.clone();
    fill(&mut state, &fields);
    let (late, unknown) = la_duties(&mut state, &mut b, arrived_on);

    let death = matches!(
        state.notification.incident_type,
        Some(IncidentType::LookedAfterDeath | IncidentType::CareLeaverDeath)
    );
    if death {
        state.secretary_of_state_duty = true;
        b.audit(
            "secretary_of_state_duty",
            None,
            "looked-after child or care leaver death: the Secretary of State must be told (2.3)",
        );
        b.intent(
            Purpose::NoticeDraft,
            vec![Recipient::Role(Role::Spa)],
            Some(&reference),
            "sos_notice_draft",
            &[],
            false,
        );
        super::duties::open(&mut state, &mut b, DutyKind::SosNotified, arrived_on);
    }
    if death && state.notification.abuse_or_neglect_suspected == Some(false) {
        state.dfe_ofsted_only = true;
        b.audit(
            "dfe_ofsted_only",
            None,
            "no abuse or neglect suspected: for DfE and Ofsted, not the Panel; no Rapid Review (footnote 1)",
        );
    } else {
        let written = [incoming.understood.forwarded.as_ref().and_then(|f| f.date), incoming.understood.date]
            .into_iter()
            .flatten()
            .map(|d| london_date(&d))
            .chain([arrived_on])
            .min()
            .unwrap_or(arrived_on);
        start_c3(&mut state, &mut b, written);
    }

    let due = state.running(ClockId::C3).map(|c| format_long(c.due_in_force())).unwrap_or_default();
    let basis = state.running(ClockId::C3).and_then(|c| c.basis.clone()).unwrap_or_default();
    let area = state.notification.local_authority.clone().unwrap_or_default();
    let facts = [("rapid_review_due", due), ("rapid_review_basis", basis), ("area", area)];
    b.intent(Purpose::Acknowledgement, b.reply_to_sender(), Some(&reference), "acknowledgement", &facts, true);
    let mut facts = facts.to_vec();
    facts.push(("to_confirm", unknown));
    b.intent(
        Purpose::Escalation,
        vec![Recipient::Role(Role::Spa), Recipient::Role(Role::Icsc)],
        Some(&reference),
        "new_case",
        &facts,
        true,
    );
    if !late.is_empty() {
        b.intent(
            Purpose::LateNotice,
            vec![Recipient::Role(Role::Spa)],
            Some(&reference),
            "late_notice",
            &[("late", late.join("; "))],
            false,
        );
    }
    b.out.case = Some(state);
    b.out
}

/// Starts C3 from the date the case's facts give, else the earliest they support
/// (`written`: when the notification was written), recording why.
pub(super) fn start_c3(state: &mut CaseState, b: &mut Builder<'_>, written: NaiveDate) {
    let Some(def) = b.ctx.rules.clock(ClockId::C3) else { return };
    let (start, basis) = c3_start(def.start, &state.notification, written);
    if let Some(basis) = &basis {
        b.audit("assumed", Some(ClockId::C3), format!("C3 {basis}"));
    }
    b.start_clock(state, ClockId::C3, start);
    if let Some(c3) = state.running_mut(ClockId::C3) {
        c3.basis = basis;
    }
}

/// C1 and C2, the local authority's duties, assessed from the dates the case holds (C2
/// met on `copy_received`); assessed again when a later copy moves a date. Returns the
/// ones met late, in words, and what could not be assessed for want of a date (a date
/// not given is something to confirm, never a deadline missed).
pub(super) fn la_duties(state: &mut CaseState, b: &mut Builder<'_>, copy_received: NaiveDate) -> (Vec<String>, String) {
    state.clocks.retain(|c| !matches!(c.clock, ClockId::C1 | ClockId::C2));
    let mut late = Vec::new();
    let Some(aware) = state.notification.aware_date else {
        b.audit(
            "clock_recorded",
            None,
            "the date the local authority became aware is not given: C1 and C2 not assessed",
        );
        return (late, "the date the local authority became aware (C1 and C2 cannot be assessed)".to_owned());
    };
    let mut unknown = String::new();
    for (clock, done_on, what) in [
        (ClockId::C1, state.notification.notified_date, "Panel notified"),
        (ClockId::C2, Some(copy_received), "partnership copy received"),
    ] {
        let Some(def) = b.ctx.rules.clock(clock).filter(|d| d.enabled) else { continue };
        let Ok(due) = due_date(def, aware, b.ctx.rules.calendar) else { continue };
        let status = match done_on {
            Some(on) if on <= due => ClockStatus::Met,
            Some(_) => ClockStatus::MetLate,
            None => ClockStatus::Stopped,
        };
        state.clocks.push(ClockInstance {
            clock,
            started: aware,
            due,
            extensions: Vec::new(),
            status,
            closed_on: done_on,
            basis: None,
        });
        let when = done_on.map(|d| d.to_string()).unwrap_or_else(|| "date not given".into());
        b.audit("clock_recorded", Some(clock), format!("{clock} {what} {when}, due {due}: {status:?}"));
        match status {
            ClockStatus::MetLate => late.push(format!("{clock} ({what} {when}; due {})", format_long(due))),
            ClockStatus::Stopped => unknown = format!("the date the Panel was notified ({clock} cannot be assessed)"),
            _ => {}
        }
    }
    (late, unknown)
}

/// The date C3 counts from — as configured, the date the Panel was notified or the date
/// the local authority became aware — and, when that date was not given, why it counts
/// from the one it does: the earliest the message supports (the other date, else the
/// date the notification was written), so the deadline is never later than the statute
/// allows.
fn c3_start(start: StartEvent, n: &NotificationFields, written: NaiveDate) -> (NaiveDate, Option<String>) {
    let (wanted, other, missing) = match start {
        StartEvent::LaAware => (n.aware_date, n.notified_date, "when the local authority became aware"),
        _ => (n.notified_date, n.aware_date, "when the Panel was notified"),
    };
    match (wanted, other) {
        (Some(date), _) => (date, None),
        (None, Some(date)) => {
            (date, Some(format!("counted from {} because the notification did not say {missing}", format_long(date))))
        }
        (None, None) => (
            written,
            Some(format!(
                "counted from {}, the day the notification was written, because it did not say when the Panel was \
                 notified or when the local authority became aware",
                format_long(written)
            )),
        ),
    }
}

fn repeat_notification(mut state: CaseState, incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    let fields = incoming.understood.notification.clone().unwrap_or_default();
    if let (Some(ours), Some(theirs)) = (&state.notification.panel_reference, &fields.panel_reference)
        && ours != theirs
    {
        return Outcome::triage(format!("a notification for {} with a different Panel reference", state.reference));
    }
    let mut b = Builder::new(incoming, ctx);
    let before = (state.notification.aware_date, state.notification.notified_date);
    let confirmed = fill(&mut state, &fields);
    b.audit(
        "notification_repeated",
        None,
        "another copy of the notification: missing details filled, nothing duplicated",
    );
    for (field, provisional, firm) in confirmed {
        let name = field.replace('_', " ");
        b.audit("date_confirmed", None, format!("{name}: the provisional {provisional} is {firm} in a later copy"));
    }
    correct_dates(&mut state, &mut b, &fields);
    let after = (state.notification.aware_date, state.notification.notified_date);
    if after != before {
        let mut moved = Vec::new();
        for (what, old, new) in [("became aware", before.0, after.0), ("Panel notified", before.1, after.1)] {
            if old != new {
                let old = old.map_or_else(|| "not given".to_owned(), format_long);
                moved.push(format!("{what}: {old}, now {}", new.map_or_else(|| "not given".to_owned(), format_long)));
            }
        }
        // The partnership's copy came with the first one: when the case was opened.
        let copy_received = state.clocks.iter().find(|c| c.clock == ClockId::C2).and_then(|c| c.closed_on);
        let copy_received = copy_received.unwrap_or(state.opened_on);
        let (late, _) = la_duties(&mut state, &mut b, copy_received);
        moved.extend(late.into_iter().map(|l| format!("met late: {l}")));
        if let Some(due) = move_c3(&mut b, &mut state) {
            moved.push(format!("the Rapid Review (C3) is now due {}", format_long(due)));
        }
        let reference = state.reference.clone();
        b.intent(
            Purpose::Escalation,
            vec![Recipient::Role(Role::Spa)],
            Some(&reference),
            "dates_changed",
            &[("changes", moved.join("; "))],
            false,
        );
    }
    b.out.case = Some(state);
    b.out
}

/// A firm date in a later copy that differs from a firm date the case holds: the later
/// copy corrects it ("please treat this as the corrected copy").
fn correct_dates(state: &mut CaseState, b: &mut Builder<'_>, copy: &NotificationFields) {
    let n = &mut state.notification;
    for (name, mine, theirs) in [
        ("aware_date", &mut n.aware_date, copy.aware_date),
        ("notified_date", &mut n.notified_date, copy.notified_date),
    ] {
        let firm = !copy.provisional.iter().any(|p| p == name) && !n.provisional.iter().any(|p| p == name);
        if let (Some(old), Some(new)) = (*mine, theirs)
            && old != new
            && firm
        {
            *mine = Some(new);
            b.audit(
                "date_corrected",
                None,
                format!("{}: {old} in an earlier copy, {new} in this one", name.replace('_', " ")),
            );
        }
    }
}

/// A running C3 counted again from the date it should now start from; its new due date
/// when it moved (an approved extension stands: it is a date of its own).
pub(super) fn move_c3(b: &mut Builder<'_>, state: &mut CaseState) -> Option<NaiveDate> {
    let def = b.ctx.rules.clock(ClockId::C3)?;
    let running = state.running(ClockId::C3)?;
    // With no date at all, it stays where it was first counted from.
    let (to, basis) = c3_start(def.start, &state.notification, running.started);
    let instance = state.clocks.iter_mut().find(|c| c.clock == ClockId::C3 && c.is_running())?;
    instance.basis = basis;
    if instance.started == to {
        return None;
    }
    let due = due_date(def, to, b.ctx.rules.calendar).ok()?;
    let from = instance.started;
    b.audit(
        "clock_moved",
        Some(ClockId::C3),
        format!("C3 now counted from {to} (was {from}): due {due} (was {})", instance.due),
    );
    instance.started = to;
    instance.due = due;
    Some(instance.due_in_force())
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
