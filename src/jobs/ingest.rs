//! Ingest: take the oldest stored messages, and for each in turn understand it (pure),
//! match it to a case, decide (pure), and record the case change, audit, intents and the
//! message's new state. A batch of messages shares one transaction (each sees what the
//! ones before it wrote; all commit together, or none after a crash). Never logs a body
//! or a child's details.

use chrono::{DateTime, Datelike, Utc};

use crate::config::Config;
use crate::domain::london_date;
use crate::domain::message::Kind;
use crate::protocol::{Context, Incoming, Match, Outcome as Decision, Target, decide, match_case};
use crate::store::{Batch, Processed, Store, StoreError, StoredMessage};
use crate::understand::{to_json, understand};

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A message was processed.
    Processed(i64),
    /// Nothing was waiting.
    Idle,
}

/// Messages committed together at most: a backlog is worked through in large
/// transactions, a single new message at once.
pub const BATCH: u32 = 100;

/// Processes one waiting message.
pub async fn try_step(store: &Store, config: &Config, now: DateTime<Utc>) -> Result<Outcome, StoreError> {
    Ok(match try_batch(store, config, now, 1).await?.first() {
        Some(id) => Outcome::Processed(*id),
        None => Outcome::Idle,
    })
}

/// Processes up to `limit` waiting messages, oldest first, in one transaction; returns
/// their ids.
pub async fn try_batch(store: &Store, config: &Config, now: DateTime<Utc>, limit: u32) -> Result<Vec<i64>, StoreError> {
    let messages = store.pending_messages(limit).await?;
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    crate::fault::pause("processing:read");
    let mut batch = store.batch().await?;
    let mut done = Vec::with_capacity(messages.len());
    for message in &messages {
        if process(&mut batch, config, now, message).await? {
            done.push(message.id);
        }
    }
    crate::fault::point("processing:before-commit");
    batch.commit().await?;
    Ok(done)
}

/// One message within a batch: understood, matched, decided and recorded.
async fn process(
    batch: &mut Batch,
    config: &Config,
    now: DateTime<Utc>,
    message: &StoredMessage,
) -> Result<bool, StoreError> {
    // Reading attached documents may take CPU for a while: off the async workers.
    let understood = if tokio::runtime::Handle::current().runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
    {
        tokio::task::block_in_place(|| understand(&message.raw, config))
    } else {
        understand(&message.raw, config)
    };
    crate::fault::point("processing:understood");
    let found = batch.lookups(&understood, &config.intake.own_message_id_domain).await?;
    let ctx = Context { now, config, released_by: None };
    let incoming = Incoming { stored_id: message.id, understood: &understood, arrived_at: message.arrived_at };
    let mut new_year = None;
    let decision = match match_case(understood.kind, &found) {
        // A referral reaches a person whatever it seems to match.
        Match::Triage { .. } if understood.kind == Kind::Referral => decide(Target::None, &incoming, &ctx),
        Match::Triage { reason, candidates } => Decision { candidates, ..Decision::triage(reason) },
        Match::Existing(reference) => match batch.load_case(reference.as_str()).await? {
            Some(state) => decide(Target::Existing(Box::new(state)), &incoming, &ctx),
            None => Decision::triage(format!("{reference} could not be loaded")),
        },
        Match::New => {
            let year = london_date(&now).year();
            new_year = Some(year);
            let reference = batch.next_reference(&config.cases.prefix, year, config.cases.digits).await?;
            decide(Target::New(reference), &incoming, &ctx)
        }
        Match::NoCase => decide(Target::None, &incoming, &ctx),
    };
    let mut decision = decision;
    if let Some(reason) = decision.triage.clone().filter(|_| config.outbound.triage_alert_each) {
        decision.intents.push(crate::protocol::Intent {
            purpose: crate::protocol::Purpose::TriageAlert,
            to: vec![crate::protocol::Recipient::Role(crate::domain::Role::Spa)],
            case: None,
            template: "triage_alert".into(),
            facts: [("reason".to_owned(), reason)].into(),
            dedupe_key: format!("message:{}:triage_alert", message.id),
            urgent: false,
            not_before: None,
        });
    }
    let opened = decision.case.as_ref().filter(|_| new_year.is_some()).is_some();
    let summary = to_json(&understood).to_string();
    let processed = Processed {
        stored_id: message.id,
        kind: understood.kind.as_str(),
        trust: understood.trust.as_str(),
        summary: &summary,
        new_case_year: if opened { new_year } else { None },
        resolves_triage: None,
    };
    if !batch.record(&processed, &decision, now).await? {
        return Ok(false);
    }
    tracing::info!(
        stored_id = message.id,
        message_id = understood.message_id.as_deref().unwrap_or(""),
        kind = understood.kind.as_str(),
        trust = understood.trust.as_str(),
        case = decision.case.as_ref().map(|c| c.reference.as_str()).unwrap_or(""),
        triaged = decision.triage.is_some(),
        intents = decision.intents.len(),
        "message processed"
    );
    Ok(true)
}

/// Steps until nothing is waiting; returns how many were processed.
pub async fn drain(store: &Store, config: &Config, now: impl Fn() -> DateTime<Utc>) -> Result<usize, StoreError> {
    let mut count = 0;
    loop {
        // Empty only when nothing was waiting (a message another process took meanwhile
        // is no longer waiting either).
        let done = try_batch(store, config, now(), BATCH).await?;
        if done.is_empty() {
            return Ok(count);
        }
        count += done.len();
    }
}
