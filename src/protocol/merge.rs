//! `MERGE <case>`, sent on a duplicate's thread: the duplicate is joined into the named
//! case. The kept case takes the earliest dates either gave and whatever it did not know,
//! its clocks are counted again from those dates (a met clock stays met; a clock only
//! the duplicate ran moves across), and the duplicate closes pointing to it. The store
//! moves the duplicate's messages and chronology across in the same transaction.

use super::commands::{answer_refused, may_give, refuse};
use super::notifications::{la_duties, move_c3};
use super::{AuditEntry, Builder, Context, Incoming, Outcome, Purpose};
use crate::domain::case::{CaseState, ClockStatus};
use crate::domain::command::Command;

/// The earlier of two dates either may lack.
fn earliest(a: Option<chrono::NaiveDate>, b: Option<chrono::NaiveDate>) -> Option<chrono::NaiveDate> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Joins `duplicate` into `into` (the case the command names, if it exists).
pub(super) fn merge(
    mut duplicate: CaseState,
    into: Option<CaseState>,
    incoming: &Incoming<'_>,
    ctx: &Context<'_>,
) -> Outcome {
    let rest = incoming.understood.command.as_ref().map_or("", |c| c.rest.trim());
    let (roles, allowed) = may_give(incoming, ctx, Command::Merge, rest);
    let mut b = Builder::new(incoming, ctx);
    let word = Command::Merge.word();
    let refused = |mut b: Builder<'_>, duplicate: CaseState, reason: String| {
        b.audit("command_refused", None, format!("{word}: {reason}"));
        answer_refused(&mut b, Some(&duplicate.reference), word, reason);
        b.out.case = Some(duplicate);
        b.out
    };
    if !allowed.iter().any(|r| roles.contains(r)) {
        refuse(&mut b, Some(&duplicate.reference), word, &allowed);
        b.out.case = Some(duplicate);
        return b.out;
    }
    let Some(mut keep) = into else {
        return refused(b, duplicate, format!("there is no case {rest}"));
    };
    if keep.reference == duplicate.reference {
        return refused(
            b,
            duplicate,
            "a case cannot be merged into itself: send MERGE on the duplicate's thread, naming the case to keep".into(),
        );
    }
    if keep.is_closed() || duplicate.is_closed() {
        return refused(b, duplicate, "both cases must be open".into());
    }
    let on = incoming.written_on();
    // The facts: the earliest dates, and whatever the kept case did not know.
    let (aware, notified) = (
        earliest(keep.notification.aware_date, duplicate.notification.aware_date),
        earliest(keep.notification.notified_date, duplicate.notification.notified_date),
    );
    keep.notification.fill_blanks(&duplicate.notification);
    keep.notification.aware_date = aware;
    keep.notification.notified_date = notified;
    if keep.child.is_empty() {
        keep.child = duplicate.child.clone();
    }
    // A clock only the duplicate ran (or met) moves across; the rest are counted again.
    for clock in &duplicate.clocks {
        if !keep.clocks.iter().any(|c| c.clock == clock.clock) {
            keep.clocks.push(clock.clone());
        }
    }
    for duty in &duplicate.duties {
        if !keep.duties.iter().any(|d| d.kind == duty.kind) {
            keep.duties.push(duty.clone());
        }
    }
    keep.related.push(duplicate.reference.clone());
    b.audit(
        "case_merged",
        None,
        format!("{} joined into this case: its messages and chronology are now here", duplicate.reference),
    );
    let copy_received =
        keep.clocks.iter().find(|c| c.clock == crate::domain::clock::ClockId::C2).and_then(|c| c.closed_on);
    let first_opened = keep.opened_on.min(duplicate.opened_on);
    let _ = la_duties(&mut keep, &mut b, copy_received.unwrap_or(first_opened));
    let _ = move_c3(&mut b, &mut keep);

    // The duplicate closes, pointing to the case kept.
    for clock in duplicate.clocks.iter_mut().filter(|c| c.is_running()) {
        clock.status = ClockStatus::Stopped;
        clock.closed_on = Some(on);
    }
    duplicate.closed = Some((format!("merged into {}", keep.reference), on));
    duplicate.merged_into = Some(keep.reference.clone());
    let merged_entry = AuditEntry {
        event: "case_merged_into".into(),
        clock: None,
        actor: b.actor.clone(),
        detail: format!("a duplicate: joined into {}, where its messages and chronology now are", keep.reference),
    };
    let done = format!(
        "{} joined into {} and closed. {}",
        duplicate.reference,
        keep.reference,
        super::corrections::due_dates(&keep)
    );
    let to = b.reply_to_sender();
    let kept = keep.reference.clone();
    b.intent(
        Purpose::CommandReply,
        to,
        Some(&kept),
        "command_done",
        &[("command", word.to_owned()), ("done", done)],
        false,
    );
    b.out.case = Some(keep);
    b.out.merged = Some((Box::new(duplicate), vec![merged_entry]));
    b.out
}
