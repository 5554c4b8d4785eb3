//! The scheduler's tick: for every running clock, the reminder and escalation steps the
//! protocol finds due become outbox rows, keyed so that each step is queued once.
//! A tick reads only the cases whose next step has come (`store::schedule`): each case
//! carries the day of its next step, written with every change of the case and again by
//! the tick that acted on it. After downtime the same query finds what fell due
//! meanwhile, and only the latest day's steps of each clock go, not a burst of every
//! missed one. A case changed since the last tick has every clock looked at again: a
//! moved due date (extension) cancels the rows queued for the old one.

use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::domain::london_date;
use crate::protocol::{
    Context, DigestRow, Intent, TriageRow, clock_steps, digest_due, digest_intents, digest_row, duty_intents,
    next_step_on, on_tick, schedule_basis,
};
use crate::store::{Batch, ScheduledCase, Settled, Store, StoreError, stamp};

/// Emails the tick queues in one statement.
const EMAILS_A_STATEMENT: usize = 100;

/// Cases read and decoded at once: a first tick over thousands of cases holds no more.
const CASES_A_PAGE: usize = 200;

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tick {
    /// Cases read (their next step had come, or they had changed).
    pub cases: usize,
    /// Running clocks looked at in them.
    pub clocks: usize,
    pub queued: usize,
}

/// Queues every reminder, escalation and duty reminder due by `now`, reading only the
/// cases whose next step has come. When the rules the stored days were worked out
/// under have changed (an imported holiday file, a new ladder), every open case is
/// read once and its day worked out again.
pub async fn run(store: &Store, config: &Config, now: DateTime<Utc>) -> Result<Tick, StoreError> {
    let ctx = Context { now, rules: config.protocol_rules(), released_by: None };
    let basis = format!("{:x}", Sha256::digest(schedule_basis(&ctx).as_bytes()));
    if store.check_schedule_basis(&basis, now).await? {
        tracing::info!("the calendar or the clocks changed: every open case's next step is worked out again");
    }
    let due = store.cases_with_steps_due(&london_date(&now).to_string()).await?;
    act_on(store, &ctx, &due, false).await
}

/// The same by reading every open case as if each had changed: what the index saves
/// the scheduler from (and what it must find the same as).
pub async fn rescan(store: &Store, config: &Config, now: DateTime<Utc>) -> Result<Tick, StoreError> {
    let ctx = Context { now, rules: config.protocol_rules(), released_by: None };
    let open = store.cases_to_rescan().await?;
    act_on(store, &ctx, &open, true).await
}

async fn act_on(store: &Store, ctx: &Context<'_>, references: &[String], as_changed: bool) -> Result<Tick, StoreError> {
    let mut tick = Tick::default();
    if references.is_empty() {
        return Ok(tick);
    }
    let mut emails = Vec::new();
    // Every write of the tick in one transaction: a burst of reminders after downtime
    // costs one commit, and a crash leaves none of it half done.
    let mut batch = store.batch().await?;
    for page in references.chunks(CASES_A_PAGE) {
        let cases = batch.scheduled_cases(page, as_changed).await?;
        tick.cases += cases.len();
        let mut settled = Vec::with_capacity(cases.len());
        for case in &cases {
            settled.push(act_on_case(&mut batch, case, ctx, &mut tick, &mut emails).await?);
            // Queued a statement's worth at a time: a tick after long downtime holds no more.
            if emails.len() >= EMAILS_A_STATEMENT {
                tick.queued += usize::try_from(batch.add_intents(&emails, ctx.now).await?).unwrap_or(usize::MAX);
                emails.clear();
            }
        }
        batch.settle(&settled).await?;
    }
    tick.queued += usize::try_from(batch.add_intents(&emails, ctx.now).await?).unwrap_or(usize::MAX);
    batch.commit().await?;
    Ok(tick)
}

/// One case: the delay question, each clock's latest step day not yet acted on, its
/// duties' reminders (added to `emails`); then the day of its next step.
async fn act_on_case(
    batch: &mut Batch,
    case: &ScheduledCase,
    ctx: &Context<'_>,
    tick: &mut Tick,
    emails: &mut Vec<(Intent, Option<DateTime<Utc>>)>,
) -> Result<Settled, StoreError> {
    let now = ctx.now;
    let mut state = std::borrow::Cow::Borrowed(&case.state);
    let mut updated_at = case.updated_at.clone();
    if let Some(outcome) = on_tick(&case.state, ctx) {
        tick.queued += outcome.intents.len();
        batch.record_case(&outcome, now).await?;
        updated_at = stamp(now);
        if let Some(changed) = outcome.case {
            state = std::borrow::Cow::Owned(changed);
        }
    }
    // The first day not yet acted on: every day, for a case changed since.
    let from = (!case.unsettled()).then(|| case.next_step_on.parse::<NaiveDate>().ok()).flatten();
    let clocks = clock_steps(&state, ctx);
    for clock in &clocks {
        tick.clocks += 1;
        match from {
            // Steps before that day were queued when it was worked out.
            Some(from) => {
                if clock.latest.is_none_or(|latest| latest < from) {
                    continue;
                }
            }
            None => {
                let keep = format!(":{}", clock.deadline.due);
                batch.cancel_pending_except(state.reference.as_str(), &clock.prefix, &keep).await?;
            }
        }
        emails.extend(clock.intents(&state, ctx));
    }
    emails.extend(duty_intents(&state, ctx));
    Ok(Settled {
        reference: state.reference.to_string(),
        updated_at,
        next_step_on: next_step_on(&state, &clocks, ctx).map(|d| d.to_string()),
    })
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
            let cases = store.open_case_summaries().await?.iter().map(|c| digest_row(c, &ctx)).collect();
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
