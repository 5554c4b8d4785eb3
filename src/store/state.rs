//! What the daemon is doing, written where another process can read it (`cspr status`):
//! the mailbox's state and last sync, the last tick; and the outbox counted by status.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Store, StoreError, query_error, stamp};

impl Store {
    /// Notes `key` = `value` as of `now` (overwriting the last).
    pub async fn note_state(&self, key: &str, value: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO service_state (key, value, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(stamp(now))
        .execute(&self.pool)
        .await
        .map_err(query_error("note the daemon's state"))?;
        Ok(())
    }

    /// Everything noted: `(key, value, updated_at)`.
    pub async fn service_state(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        let rows = sqlx::query("SELECT key, value, updated_at FROM service_state ORDER BY key")
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("read the daemon's state"))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
    }

    /// The outbox's emails counted by status.
    pub async fn outbox_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query("SELECT status, COUNT(*) FROM intents GROUP BY status ORDER BY status")
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("count the outbox"))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}
