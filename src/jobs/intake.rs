//! What the mail sources hand their messages to: the store keeps them (each message and
//! its checkpoint in one transaction), and the daemon's sink also queues the alerts the
//! protocol decides on when the mailbox is out of reach and when it is back.

use chrono::Utc;

use crate::domain::mailbox::{Checkpoint, FilingProblem, NewMessage, Outage, Stored};
use crate::protocol::Intent;
use crate::protocol::alerts::{self, AlertRecipients};
use crate::sources::{Sink, SinkError};
use crate::store::Store;

/// The store as a sink: keeps what it is given, tells nobody of outages (tools, tests).
impl Sink for Store {
    async fn checkpoint(&self, source: &str) -> Result<Option<Checkpoint>, SinkError> {
        Ok(Store::checkpoint(self, source).await?)
    }

    async fn reset_checkpoint(&self, source: &str, uidvalidity: u32) -> Result<(), SinkError> {
        Ok(Store::reset_checkpoint(self, source, uidvalidity).await?)
    }

    async fn keep(&self, batch: &[NewMessage<'_>]) -> Result<Vec<Stored>, SinkError> {
        Ok(self.store_messages(batch).await?)
    }
}

/// The daemon's sink: the store, and alerts about the mailbox to those configured.
pub struct Intake<'a> {
    pub store: &'a Store,
    pub recipients: &'a AlertRecipients,
}

impl Intake<'_> {
    async fn queue(&self, intent: Intent, mailbox: &str) -> bool {
        match self.store.add_intent(&intent, None, Utc::now()).await {
            Ok(_) => true,
            Err(error) => {
                tracing::warn!(source = %mailbox, %error, "cannot queue the mailbox alert");
                false
            }
        }
    }
}

impl Sink for Intake<'_> {
    async fn checkpoint(&self, source: &str) -> Result<Option<Checkpoint>, SinkError> {
        Sink::checkpoint(self.store, source).await
    }

    async fn reset_checkpoint(&self, source: &str, uidvalidity: u32) -> Result<(), SinkError> {
        Sink::reset_checkpoint(self.store, source, uidvalidity).await
    }

    async fn keep(&self, batch: &[NewMessage<'_>]) -> Result<Vec<Stored>, SinkError> {
        self.store.keep(batch).await
    }

    async fn unreachable(&self, outage: &Outage) -> bool {
        self.queue(alerts::mailbox_unreachable(self.recipients, outage), &outage.mailbox).await
    }

    async fn filing_failed(&self, problem: &FilingProblem) -> bool {
        self.queue(alerts::filing_failed(self.recipients, problem), &problem.mailbox).await
    }

    async fn reachable_again(&self, outage: &Outage) -> bool {
        self.queue(alerts::mailbox_recovered(self.recipients, outage), &outage.mailbox).await
    }
}
