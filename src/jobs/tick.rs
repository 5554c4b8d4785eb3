//! The scheduler's tick: for every running clock, the reminder and escalation steps
//! that have fallen due become outbox rows, keyed so that each step is queued once.
//! After downtime, steps missed along the way are not sent as a burst: only the latest
//! day's steps of each clock go. A moved due date (extension, calendar change) cancels
//! the rows queued for the old one.

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::domain::clock::{Owner, StepKind, deadline};
use crate::domain::{format_long, london_date};
use crate::protocol::{Intent, Purpose, Recipient};
use crate::store::{Store, StoreError};

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tick {
    pub clocks: usize,
    pub queued: usize,
}

/// Queues every reminder and escalation due by `now`.
pub async fn run(store: &Store, config: &Config, now: DateTime<Utc>) -> Result<Tick, StoreError> {
    let today = london_date(&now);
    let mut tick = Tick::default();
    for row in store.cases(true).await? {
        let case = &row.state;
        for instance in case.clocks.iter().filter(|c| c.is_running()) {
            let Some(def) = config.clock(instance.clock).filter(|d| d.enabled && d.owner == Owner::Partnership) else {
                continue;
            };
            let Ok(dl) = deadline(def, instance.started, &instance.extensions, now, &config.calendar) else { continue };
            tick.clocks += 1;
            let prefix = format!("clock:{}:{}:", case.reference, instance.clock);
            store.cancel_pending_except(&prefix, &format!(":{}", dl.due)).await?;
            let Some(latest) = dl.steps.iter().filter(|s| s.date <= today).map(|s| s.date).max() else { continue };
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
                };
                let not_before =
                    if step.urgent { None } else { Some(def.sending_window.next_open(now, &config.calendar)) };
                if store.add_intent(&intent, not_before, now).await? {
                    tick.queued += 1;
                }
            }
        }
    }
    Ok(tick)
}
