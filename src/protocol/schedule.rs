//! When the scheduler must next look at a case: the first day after today on which one
//! of its running clocks has a reminder or escalation, one of its open duties is
//! chased, or the ICSC is to be asked about a delay. The store keeps that day indexed,
//! so a tick reads only the cases whose day has come.

use std::fmt::Write;

use chrono::NaiveDate;

use super::Context;
use super::tick::ClockSteps;
use crate::domain::case::CaseState;
use crate::domain::clock::ClockId;
use crate::domain::london_date;

/// The first day after `ctx.now`'s London date on which a tick may have something to
/// do for `case`; `None` when nothing will ever fall due (closed, or no running clock,
/// open duty or coming delay question).
/// `clocks` are the case's [`clock_steps`] as of `ctx.now`.
pub fn next_step_on(case: &CaseState, clocks: &[ClockSteps<'_>], ctx: &Context<'_>) -> Option<NaiveDate> {
    if case.is_closed() {
        return None;
    }
    let today = london_date(&ctx.now);
    let steps =
        clocks.iter().filter_map(|clock| clock.deadline.steps.iter().map(|s| s.date).filter(|d| *d > today).min());
    let duties = case
        .open_duties()
        .filter_map(|duty| duty.next_reminder_after(&ctx.rules.duties.of(duty.kind), ctx.rules.calendar, today));
    steps.chain(duties).chain(delay_question_on(case, ctx, today)).min()
}

/// The day the ICSC is to be asked whether to recommend a delay (`on_tick`), if it is
/// still to come: tomorrow at the latest once due.
fn delay_question_on(case: &CaseState, ctx: &Context<'_>, today: NaiveDate) -> Option<NaiveDate> {
    let c6 = case.running(ClockId::C6)?;
    let due = c6.due_in_force();
    if case.delay.is_some() || case.published.is_some() || case.delay_asked == Some(due) {
        return None;
    }
    let ask_from = ctx.rules.calendar.add_working_days(due, ctx.rules.approvals.request_at);
    Some(ask_from.max(today.succ_opt()?))
}

/// A text naming everything the stored days were worked out from: the non-working days,
/// the clocks and their ladders, the duties' schedules and when a delay question is
/// asked. When it changes, every open case's day is worked out again.
pub fn schedule_basis(ctx: &Context<'_>) -> String {
    let rules = ctx.rules;
    let mut basis = String::new();
    for day in rules.calendar.non_working_days() {
        let _ = write!(basis, "{day} ");
    }
    for clock in rules.clocks {
        let _ = write!(basis, "\n{clock:?}");
    }
    let _ = write!(basis, "\n{:?}\n{:?}", rules.duties, rules.approvals.request_at);
    basis
}
