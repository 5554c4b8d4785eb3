//! Duties without a statutory deadline (`domain::duty`): opened where the protocol gives
//! them, recorded by their command, and chased by the scheduler until recorded.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::args::date_or;
use super::{Builder, Context, Intent, Purpose, Recipient};
use crate::domain::case::CaseState;
use crate::domain::clock::ClockId;
use crate::domain::duty::DutyKind;
use crate::domain::{format_long, london_date};

/// Opens a duty arising on `since` (once while it is open), with a chronology entry.
pub(super) fn open(state: &mut CaseState, b: &mut Builder<'_>, kind: DutyKind, since: NaiveDate) {
    if state.open_duty(kind, since) {
        let spec = kind.spec();
        b.audit("duty_opened", None, format!("to do: {} — recorded by {}", spec.what, spec.line));
    }
}

/// A command that records a duty done: on its date (or the reply's), whether or not it
/// was being chased.
pub(super) fn record(
    state: &mut CaseState,
    b: &mut Builder<'_>,
    kind: DutyKind,
    rest: &str,
    on: NaiveDate,
) -> Result<String, String> {
    let date = date_or(rest, on)?;
    let chased = state.complete_duty(kind, date);
    let what = kind.spec().what;
    b.audit("duty_done", None, format!("done {date}: {what}"));
    Ok(if chased {
        format!("recorded for {}; no more reminders", format_long(date))
    } else {
        format!("recorded for {}", format_long(date))
    })
}

/// The reminders of a case's open duties that fall due by `ctx.now`: the latest of each
/// duty, keyed by duty, start and occurrence so that each goes once.
pub fn duty_intents(case: &CaseState, ctx: &Context<'_>) -> Vec<(Intent, Option<DateTime<Utc>>)> {
    if case.is_closed() {
        return Vec::new();
    }
    let today = london_date(&ctx.now);
    let window = ctx.rules.clock(ClockId::C3).map(|c| c.sending_window.next_open(ctx.now, ctx.rules.calendar));
    case.open_duties()
        .filter_map(|duty| {
            let schedule = ctx.rules.duties.of(duty.kind);
            let (day, occurrence) = duty.reminder_due(&schedule, ctx.rules.calendar, today)?;
            let spec = duty.kind.spec();
            let facts: BTreeMap<String, serde_json::Value> = [
                ("case", case.reference.to_string()),
                ("what", spec.what.to_owned()),
                ("short", spec.short.to_owned()),
                ("line", spec.line.to_owned()),
                ("arose_on", format_long(duty.since)),
                ("reminder_on", format_long(day)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.into()))
            .collect();
            let intent = Intent {
                purpose: Purpose::Reminder,
                to: schedule.to.iter().copied().map(Recipient::Role).collect(),
                case: Some(case.reference.clone()),
                template: "duty_reminder".to_owned(),
                facts,
                dedupe_key: format!("duty:{}:{}:{}:{occurrence}", case.reference, duty.kind.name(), duty.since),
                urgent: false,
                not_before: None,
            };
            let mut intent = [intent];
            super::help::add_footers(case, &mut intent, ctx);
            let [intent] = intent;
            Some((intent, window))
        })
        .collect()
}
