//! Retention: the raw text of messages is removed once it is no longer needed — for a
//! case's messages, a while after the case closes; for messages tied to no case (ignored
//! triage, referrals, spam, auto-replies), a while after they were stored. Summaries,
//! audit entries and the chronology stay.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Store, StoreError, query_error, stamp};

/// What a purge found (and, applied, removed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub messages: i64,
    pub bytes: i64,
}

impl Store {
    /// Raw bodies of messages of cases closed before `closed_before` (ISO date): how many,
    /// and how many bytes; with `apply`, they are removed.
    pub async fn purge_raw(&self, closed_before: &str, apply: bool) -> Result<(i64, i64), StoreError> {
        let selection = "FROM messages WHERE id IN (SELECT message FROM message_bodies) AND case_reference IN
             (SELECT reference FROM cases WHERE closed_at IS NOT NULL AND closed_at < $1)";
        let found = self.purge(selection, closed_before, apply).await?;
        Ok((found.messages, found.bytes))
    }

    /// Raw bodies of processed messages tied to no case and stored before
    /// `stored_before`; a message still waiting in triage for a person keeps its text
    /// until it is resolved. With `apply`, they are removed.
    pub async fn purge_unlinked(&self, stored_before: DateTime<Utc>, apply: bool) -> Result<Purged, StoreError> {
        let selection = "FROM messages WHERE case_reference IS NULL AND state = 'processed' AND stored_at < $1
             AND id IN (SELECT message FROM message_bodies)
             AND NOT EXISTS (SELECT 1 FROM triage WHERE triage.message = messages.id AND triage.resolved_at IS NULL)";
        self.purge(selection, &stamp(stored_before), apply).await
    }

    async fn purge(&self, selection: &str, bound: &str, apply: bool) -> Result<Purged, StoreError> {
        let row = sqlx::query(&format!("SELECT COUNT(*), COALESCE(SUM(size), 0) {selection}"))
            .bind(bound)
            .fetch_one(&self.pool)
            .await
            .map_err(query_error("measure what retention would remove"))?;
        let found = Purged { messages: row.get(0), bytes: row.get(1) };
        if apply && found.messages > 0 {
            let mut tx = self.begin_write().await?;
            sqlx::query(&format!("DELETE FROM message_bodies WHERE message IN (SELECT id {selection})"))
                .bind(bound)
                .execute(&mut *tx)
                .await
                .map_err(query_error("remove raw messages"))?;
            self.commit_write(tx, "commit removed raw messages").await?;
        }
        Ok(found)
    }
}
