//! The scheduler's tick: for every running clock, the reminder and escalation steps the
//! protocol finds due become outbox rows, keyed so that each step is queued once.
//! After downtime, steps missed along the way are not sent as a burst: only the latest
//! day's steps of each clock go. A moved due date (extension, calendar change) cancels
//! the rows queued for the old one.

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::domain::london_date;
use crate::protocol::{
    Context, DigestRow, TriageRow, clock_steps, digest_due, digest_intents, digest_row, duty_intents, on_tick,
};
use crate::store::{Store, StoreError};

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tick {
    pub clocks: usize,
    pub queued: usize,
}

/// Queues every reminder and escalation due by `now`.
pub async fn run(store: &Store, config: &Config, now: DateTime<Utc>) -> Result<Tick, StoreError> {
    run_since(store, config, now, None).await
}

/// The same, knowing that a tick that began at `since` completed: a case not changed
/// since then whose latest step day is not newer has nothing new to queue or cancel,
/// and is not written to again (the daemon's ticks after its first).
pub async fn run_since(
    store: &Store,
    config: &Config,
    now: DateTime<Utc>,
    since: Option<DateTime<Utc>>,
) -> Result<Tick, StoreError> {
    let today = london_date(&now);
    let seen = since.map(|t| (crate::store::stamp(t), london_date(&t)));
    let mut tick = Tick::default();
    let ctx = Context { now, rules: config.protocol_rules(), released_by: None };
    // Only clocks close enough to their due date for a step (or an automatic approval
    // request) to fall due are read: an index range, not every open case.
    let horizon = config.calendar.add_working_days(today, config.longest_lead());
    // Every write of the tick in one transaction: a burst of reminders after downtime
    // costs one commit, and a crash leaves none of it half done.
    let mut batch = store.batch().await?;
    for row in store.cases_due_by(&horizon.to_string()).await? {
        if let Some(outcome) = on_tick(&row.state, &ctx) {
            tick.queued += outcome.intents.len();
            batch.record_case(&outcome, now).await?;
        }
        let case = &row.state;
        let unchanged_since = seen.as_ref().filter(|(stamp, _)| row.updated_at < *stamp).map(|(_, day)| *day);
        for clock in clock_steps(case, &ctx) {
            tick.clocks += 1;
            if let Some(last_day) = unchanged_since {
                // Its due date has not moved, and the last tick saw these steps.
                if clock.latest.is_none_or(|latest| latest <= last_day) {
                    continue;
                }
            } else {
                let keep = format!(":{}", clock.deadline.due);
                batch.cancel_pending_except(case.reference.as_str(), &clock.prefix, &keep).await?;
            }
            for (intent, not_before) in clock.intents(case, &ctx) {
                if batch.add_intent(&intent, not_before, now).await? {
                    tick.queued += 1;
                }
            }
        }
    }
    // Duties without a deadline: their reminders, each once.
    for row in store.cases_with_open_duties().await? {
        for (intent, not_before) in duty_intents(&row.state, &ctx) {
            if batch.add_intent(&intent, not_before, now).await? {
                tick.queued += 1;
            }
        }
    }
    batch.commit().await?;
    Ok(tick)
}

/// Queues each configured digest once on each day its schedule has come round by `now`
/// (London time): open cases, next deadlines with red/amber/green, and triage items.
pub async fn digests(store: &Store, config: &Config, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let today = london_date(&now);
    let ctx = Context { now, rules: config.protocol_rules(), released_by: None };
    let mut queued = 0;
    let mut rows: Option<(Vec<DigestRow>, Vec<TriageRow>)> = None;
    for digest in config.digests.iter().filter(|d| digest_due(&d.schedule, now)) {
        if rows.is_none() {
            let cases = store.cases(true).await?.iter().map(|r| digest_row(&r.state, &ctx)).collect();
            let triage =
                store.triage(true).await?.into_iter().map(|t| TriageRow { id: t.id, reason: t.reason }).collect();
            rows = Some((cases, triage));
        }
        let Some((cases, triage)) = &rows else { continue };
        let intents = digest_intents(digest.name, &digest.roles, today, cases.clone(), triage)
            .map_err(|e| StoreError::Conflict(format!("cannot write the digest's lists: {e}")))?;
        for intent in intents {
            if store.add_intent(&intent, None, now).await? {
                queued += 1;
            }
        }
    }
    Ok(queued)
}
