//! The scheduler's tick: for every running clock, the reminder and escalation steps
//! that have fallen due become outbox rows, keyed so that each step is queued once.
//! After downtime, steps missed along the way are not sent as a burst: only the latest
//! day's steps of each clock go. A moved due date (extension, calendar change) cancels
//! the rows queued for the old one.

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::domain::clock::DeadlineStatus;
use crate::domain::clock::{Owner, StepKind, deadline};
use crate::domain::{format_long, london_date};
use crate::protocol::{Context, Intent, Purpose, Recipient, on_tick};
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
    let ctx = Context { now, config, released_by: None };
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
        for instance in case.clocks.iter().filter(|c| c.is_running()) {
            let Some(def) = config.clock(instance.clock).filter(|d| d.enabled && d.owner == Owner::Partnership) else {
                continue;
            };
            let Ok(dl) = deadline(def, instance.started, &instance.extensions, now, &config.calendar) else { continue };
            tick.clocks += 1;
            let prefix = format!("clock:{}:{}:", case.reference, instance.clock);
            let latest = dl.steps.iter().filter(|s| s.date <= today).map(|s| s.date).max();
            if let Some(last_day) = unchanged_since {
                // Its due date has not moved, and the last tick saw these steps.
                if latest.is_none_or(|latest| latest <= last_day) {
                    continue;
                }
            } else {
                batch.cancel_pending_except(case.reference.as_str(), &prefix, &format!(":{}", dl.due)).await?;
            }
            let Some(latest) = latest else { continue };
            for step in dl.steps.iter().filter(|s| s.date == latest) {
                let kind = if step.kind == StepKind::Reminder { "reminder" } else { "escalation" };
                let facts = [
                    ("clock", instance.clock.to_string()),
                    ("clock_title", def.title.clone()),
                    ("due", format_long(dl.due)),
                    ("command", def.completed_by.first().cloned().unwrap_or_default()),
                    ("overdue", if today > dl.due { "yes".into() } else { String::new() }),
                ];
                let mut facts: std::collections::BTreeMap<String, String> =
                    facts.into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.to_owned(), v)).collect();
                facts.insert("case".into(), case.reference.to_string());
                let intent = Intent {
                    purpose: if step.kind == StepKind::Reminder { Purpose::Reminder } else { Purpose::Escalation },
                    to: vec![Recipient::Role(step.to)],
                    case: Some(case.reference.clone()),
                    template: kind.to_owned(),
                    facts,
                    dedupe_key: format!("{prefix}{kind}:{}:{}:{}", step.step, step.occurrence, dl.due),
                    urgent: step.urgent,
                    not_before: None,
                };
                let not_before =
                    if step.urgent { None } else { Some(def.sending_window.next_open(now, &config.calendar)) };
                if batch.add_intent(&intent, not_before, now).await? {
                    tick.queued += 1;
                }
            }
        }
    }
    batch.commit().await?;
    Ok(tick)
}

/// One summary row of an open case.
fn summary_row(state: &crate::domain::case::CaseState, config: &Config, now: DateTime<Utc>) -> serde_json::Value {
    let next = state.next_due();
    let status = next.and_then(|c| {
        let def = config.clock(c.clock)?;
        deadline(def, c.started, &c.extensions, now, &config.calendar).ok().map(|d| d.status)
    });
    let rag = match status {
        Some(DeadlineStatus::Overdue | DeadlineStatus::DueToday) => "RED",
        Some(DeadlineStatus::DueSoon) => "AMBER",
        _ => "GREEN",
    };
    serde_json::json!({
        "reference": state.reference.as_str(),
        "stage": state.stage(),
        "clock": next.map(|c| c.clock.to_string()),
        "due": next.map(|c| format_long(c.due_in_force())),
        "status": status.map(DeadlineStatus::as_str),
        "rag": rag,
    })
}

/// Queues each configured digest once on each day its schedule has come round by `now`
/// (London time): open cases, next deadlines with red/amber/green, and triage items.
pub async fn digests(store: &Store, config: &Config, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let today = london_date(&now);
    let mut queued = 0;
    let mut rows: Option<(Vec<serde_json::Value>, Vec<serde_json::Value>)> = None;
    for digest in &config.digests {
        let Some(start) = today
            .and_hms_opt(0, 0, 0)
            .and_then(|t| chrono::TimeZone::from_local_datetime(&chrono_tz::Europe::London, &t).earliest())
        else {
            continue;
        };
        let due_today = digest
            .schedule
            .after_utc(&(start.with_timezone(&Utc) - chrono::Duration::seconds(1)))
            .next()
            .is_some_and(|at| at <= now && london_date(&at) == today);
        if !due_today {
            continue;
        }
        if rows.is_none() {
            let mut cases: Vec<serde_json::Value> =
                store.cases(true).await?.iter().map(|r| summary_row(&r.state, config, now)).collect();
            let order = |v: &serde_json::Value| match v["rag"].as_str() {
                Some("RED") => 0,
                Some("AMBER") => 1,
                _ => 2,
            };
            cases.sort_by_key(|c| order(c));
            let triage =
                store.triage(true).await?.iter().map(|t| serde_json::json!({"id": t.id, "reason": t.reason})).collect();
            rows = Some((cases, triage));
        }
        let Some((cases, triage)) = &rows else { continue };
        let count = |rag: &str| cases.iter().filter(|c| c["rag"] == rag).count().to_string();
        for role in &digest.roles {
            let facts = [
                ("date", format_long(today)),
                ("cases_list", serde_json::to_string(cases).unwrap_or_default()),
                ("triage_list", serde_json::to_string(triage).unwrap_or_default()),
                ("red", count("RED")),
                ("amber", count("AMBER")),
                ("green", count("GREEN")),
            ];
            let intent = Intent {
                purpose: Purpose::Digest,
                to: vec![Recipient::Role(*role)],
                case: None,
                template: digest.name.to_owned(),
                facts: facts.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                dedupe_key: format!("{}:{role}:{today}", digest.name),
                urgent: false,
                not_before: None,
            };
            if store.add_intent(&intent, None, now).await? {
                queued += 1;
            }
        }
    }
    Ok(queued)
}
