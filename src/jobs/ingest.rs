//! Ingest, one message at a time: take the oldest stored message, understand it
//! (pure), match it to a case, decide (pure), and commit the case change, audit,
//! intents and the message's new state in one transaction. Never logs a body or a
//! child's details.

use chrono::{DateTime, Datelike, Utc};

use crate::config::Config;
use crate::domain::london_date;
use crate::domain::message::Kind;
use crate::protocol::{Context, Incoming, Match, Outcome as Decision, Target, decide, match_case};
use crate::store::{Processed, Store, StoreError};
use crate::understand::{to_json, understand};

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A message was processed.
    Processed(i64),
    /// Nothing was waiting.
    Idle,
}

/// Processes one waiting message.
pub async fn try_step(store: &Store, config: &Config, now: DateTime<Utc>) -> Result<Outcome, StoreError> {
    let Some(message) = store.pending_messages(1).await?.into_iter().next() else {
        return Ok(Outcome::Idle);
    };
    // Reading attached documents may take CPU for a while: off the async workers.
    let understood = if tokio::runtime::Handle::current().runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
    {
        tokio::task::block_in_place(|| understand(&message.raw, config))
    } else {
        understand(&message.raw, config)
    };
    crate::fault::point("processing:understood");
    let found = store.lookups(&understood, &config.intake.own_message_id_domain).await?;
    let ctx = Context { now, config, vouched: false };
    let incoming = Incoming { stored_id: message.id, understood: &understood, arrived_at: message.arrived_at };
    let mut new_year = None;
    let decision = match match_case(understood.kind, &found) {
        // A referral reaches a person whatever it seems to match.
        Match::Triage { .. } if understood.kind == Kind::Referral => decide(Target::None, &incoming, &ctx),
        Match::Triage { reason, candidates } => Decision { candidates, ..Decision::triage(reason) },
        Match::Existing(reference) => match store.load_case(reference.as_str()).await? {
            Some(state) => decide(Target::Existing(Box::new(state)), &incoming, &ctx),
            None => Decision::triage(format!("{reference} could not be loaded")),
        },
        Match::New => {
            let year = london_date(&now).year();
            new_year = Some(year);
            let reference = store.next_reference(&config.cases.prefix, year, config.cases.digits).await?;
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
    store.commit_processing(&processed, &decision, now).await?;
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
    Ok(Outcome::Processed(message.id))
}

/// Steps until nothing is waiting; returns how many were processed.
pub async fn drain(store: &Store, config: &Config, now: impl Fn() -> DateTime<Utc>) -> Result<usize, StoreError> {
    let mut count = 0;
    while let Outcome::Processed(_) = try_step(store, config, now()).await? {
        count += 1;
    }
    Ok(count)
}
