//! Ingest: take the oldest stored message not yet understood, understand it (pure),
//! record the result. Never logs a body or a child's details.

use crate::config::Config;
use crate::store::{Store, StoreError};
use crate::understand::{to_json, understand};

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A message was understood and recorded.
    Processed(i64),
    /// Nothing was waiting.
    Idle,
}

/// Understands and records one waiting message.
pub async fn try_step(store: &Store, config: &Config) -> Result<Outcome, StoreError> {
    let Some(message) = store.pending_messages(1).await?.into_iter().next() else {
        return Ok(Outcome::Idle);
    };
    let understood = understand(&message.raw, config);
    let summary = to_json(&understood).to_string();
    store.record_understanding(message.id, understood.kind.as_str(), understood.trust.as_str(), &summary).await?;
    tracing::info!(
        stored_id = message.id,
        message_id = understood.message_id.as_deref().unwrap_or(""),
        kind = understood.kind.as_str(),
        trust = understood.trust.as_str(),
        "message understood"
    );
    Ok(Outcome::Processed(message.id))
}

/// Steps until nothing is waiting; returns how many were processed.
pub async fn drain(store: &Store, config: &Config) -> Result<usize, StoreError> {
    let mut count = 0;
    while let Outcome::Processed(_) = try_step(store, config).await? {
        count += 1;
    }
    Ok(count)
}
