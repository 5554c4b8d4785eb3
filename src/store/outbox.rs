//! The outbox: every email is a row first (an intent), claimed, sent, and marked; a
//! row left `sending` by a crash is reconciled before anything is sent again.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Store, StoreError, encode, query_error, stamp};
use crate::protocol::{Intent, Purpose, Recipient};

/// One outbox row.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub case_reference: Option<String>,
    pub purpose: Purpose,
    pub recipients: Vec<Recipient>,
    pub template: String,
    pub facts: BTreeMap<String, serde_json::Value>,
    pub dedupe_key: String,
    pub urgent: bool,
    pub status: String,
    pub attempts: u32,
    pub message_id: Option<String>,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
    /// How many events a coalescing alert stands for (1 for every other email).
    pub coalesced: u32,
}

const COLUMNS: &str = "id, case_reference, purpose, recipients, template, facts, dedupe_key, urgent, status, attempts, message_id, next_attempt_at, last_error, created_at, sent_at, coalesced";

fn row(r: sqlx::any::AnyRow) -> Result<OutboxRow, StoreError> {
    let id: i64 = r.get(0);
    let purpose: String = r.get(2);
    let undecodable = |what: &str, detail: String| StoreError::Conflict(format!("outbox row {id}: {what} ({detail})"));
    Ok(OutboxRow {
        id,
        case_reference: r.get(1),
        purpose: Purpose::parse(&purpose).ok_or_else(|| undecodable("unknown purpose", purpose.clone()))?,
        recipients: serde_json::from_str(&r.get::<String, _>(3))
            .map_err(|e| undecodable("unreadable recipients", e.to_string()))?,
        template: r.get(4),
        facts: serde_json::from_str(&r.get::<String, _>(5))
            .map_err(|e| undecodable("unreadable facts", e.to_string()))?,
        dedupe_key: r.get(6),
        urgent: r.get::<i64, _>(7) != 0,
        status: r.get(8),
        attempts: u32::try_from(r.get::<i64, _>(9)).unwrap_or(u32::MAX),
        message_id: r.get(10),
        next_attempt_at: r.get(11),
        last_error: r.get(12),
        created_at: r.get(13),
        sent_at: r.get(14),
        coalesced: u32::try_from(r.get::<i64, _>(15)).unwrap_or(u32::MAX),
    })
}

impl Store {
    /// Adds an intent unless one with its dedupe key exists; `not_before` holds it back.
    pub async fn add_intent(
        &self,
        intent: &Intent,
        not_before: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let added = add_intent_in(&mut tx, intent, not_before, now).await?;
        self.commit_write(tx, "commit an outbound intent").await?;
        Ok(added)
    }

    /// The next row due to go: urgent first, then oldest.
    pub async fn next_due_email(&self, now: DateTime<Utc>) -> Result<Option<OutboxRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM intents WHERE status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= $1)
             ORDER BY urgent DESC, id LIMIT 1"
        );
        let found = sqlx::query(&sql)
            .bind(stamp(now))
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("read the outbox"))?;
        found.map(row).transpose()
    }

    /// When the first pending email held back (by the sending window, or a retry) may
    /// go: what a simulation delivers at.
    pub async fn next_held_email(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let at: Option<String> = sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM intents WHERE status = 'pending' AND next_attempt_at IS NOT NULL",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(query_error("read the outbox"))?;
        Ok(at.and_then(|a| DateTime::parse_from_rfc3339(&a).ok()).map(|a| a.with_timezone(&Utc)))
    }

    /// Marks a row `sending` with its Message-ID; false if another worker took it.
    pub async fn claim_email(&self, id: i64, message_id: &str) -> Result<bool, StoreError> {
        let claim = sqlx::query("UPDATE intents SET status = 'sending', message_id = $2, attempts = attempts + 1 WHERE id = $1 AND status = 'pending'")
            .bind(id)
            .bind(message_id);
        let done = self.write(claim, "claim an email").await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn defer_email(&self, id: i64, until: DateTime<Utc>) -> Result<(), StoreError> {
        self.set_email(id, "UPDATE intents SET next_attempt_at = $2 WHERE id = $1", Some(stamp(until))).await
    }

    pub async fn email_sent(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.set_email(
            id,
            "UPDATE intents SET status = 'sent', sent_at = $2, last_error = NULL WHERE id = $1",
            Some(stamp(now)),
        )
        .await
    }

    pub async fn email_back_to_pending(&self, id: i64) -> Result<(), StoreError> {
        self.set_email(id, "UPDATE intents SET status = 'pending' WHERE id = $1 AND status = 'sending'", None).await
    }

    /// A failed attempt: tried again at `next`.
    pub async fn email_failed(&self, id: i64, next: DateTime<Utc>, error: &str) -> Result<(), StoreError> {
        let failed =
            sqlx::query("UPDATE intents SET status = 'pending', next_attempt_at = $2, last_error = $3 WHERE id = $1")
                .bind(id)
                .bind(stamp(next))
                .bind(error);
        self.write(failed, "record a failed attempt").await?;
        Ok(())
    }

    /// Given up: a dead letter, visible and retryable.
    pub async fn email_dead(&self, id: i64, error: &str) -> Result<(), StoreError> {
        let dead =
            sqlx::query("UPDATE intents SET status = 'dead', last_error = $2 WHERE id = $1").bind(id).bind(error);
        self.write(dead, "set an email aside").await?;
        Ok(())
    }

    async fn set_email(&self, id: i64, sql: &str, value: Option<String>) -> Result<(), StoreError> {
        let mut query = sqlx::query(sql).bind(id);
        if let Some(value) = value {
            query = query.bind(value);
        }
        self.write(query, "update an email").await?;
        Ok(())
    }

    /// Rows left `sending` (by a crash).
    pub async fn emails_in_flight(&self) -> Result<Vec<OutboxRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM intents WHERE status = 'sending' ORDER BY id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await.map_err(query_error("read the outbox"))?;
        rows.into_iter().map(row).collect()
    }

    /// The outbox, optionally one status only.
    pub async fn outbox(&self, status: Option<&str>) -> Result<Vec<OutboxRow>, StoreError> {
        let rows = match status {
            Some(status) => {
                let sql = format!("SELECT {COLUMNS} FROM intents WHERE status = $1 ORDER BY id");
                sqlx::query(&sql).bind(status).fetch_all(&self.pool).await
            }
            None => sqlx::query(&format!("SELECT {COLUMNS} FROM intents ORDER BY id")).fetch_all(&self.pool).await,
        }
        .map_err(query_error("read the outbox"))?;
        rows.into_iter().map(row).collect()
    }

    /// One case's emails, oldest first.
    pub async fn case_outbox(&self, reference: &str) -> Result<Vec<OutboxRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM intents WHERE case_reference = $1 ORDER BY id");
        let rows = sqlx::query(&sql)
            .bind(reference)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("read a case's emails"))?;
        rows.into_iter().map(row).collect()
    }

    /// Puts a dead letter back in the queue.
    pub async fn retry_email(&self, id: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE intents SET status = 'pending', next_attempt_at = NULL, attempts = 0 WHERE id = $1 AND status = 'dead'")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(query_error("retry an email"))?;
        Ok(done.rows_affected() == 1)
    }
}

impl Store {
    /// Cancels `case`'s pending rows whose key starts with `prefix` but does not end with `keep`.
    pub async fn cancel_pending_except(&self, case: &str, prefix: &str, keep: &str) -> Result<u64, StoreError> {
        cancel_pending_except_in(&self.pool, case, prefix, keep).await
    }
}

/// An intent to insert: caused by stored message `message`, if any; held back until
/// `not_before` unless the intent says otherwise.
pub(super) struct NewIntent<'a> {
    pub intent: &'a Intent,
    pub message: Option<i64>,
    pub not_before: Option<DateTime<Utc>>,
}

/// Rows an intent insert writes at most.
const INTENTS_A_STATEMENT: usize = 100;

/// Inserts intents at `created`, many rows a statement; one whose dedupe key exists
/// already adds nothing, except a coalescing one (`coalesce:…`) still waiting, whose
/// count goes up by one. Returns how many were added or counted.
pub(super) async fn insert_intents(
    conn: &mut sqlx::AnyConnection,
    rows: &[NewIntent<'_>],
    created: &str,
) -> Result<u64, StoreError> {
    // One statement cannot meet the same key twice: such a list goes a row at a time.
    let mut keys = std::collections::HashSet::new();
    let distinct = rows.iter().all(|r| keys.insert(r.intent.dedupe_key.as_str()));
    let mut added = 0;
    for part in rows.chunks(if distinct { INTENTS_A_STATEMENT } else { 1 }) {
        let sql = format!(
            "INSERT INTO intents (case_reference, message, purpose, recipients, template, facts, dedupe_key, urgent, created_at, next_attempt_at)
             VALUES {}
             ON CONFLICT (dedupe_key) DO UPDATE SET coalesced = intents.coalesced + 1
             WHERE intents.status = 'pending' AND intents.dedupe_key LIKE 'coalesce:%'",
            super::placeholders(conn, part.len(), 10)
        );
        let mut query = sqlx::query(&sql);
        for row in part {
            let intent = row.intent;
            query = query
                .bind(intent.case.as_ref().map(|c| c.to_string()))
                .bind(row.message)
                .bind(intent.purpose.as_str())
                .bind(encode("an email's recipients", &intent.to)?)
                .bind(intent.template.as_str())
                .bind(encode("an email's facts", &intent.facts)?)
                .bind(intent.dedupe_key.as_str())
                .bind(i64::from(intent.urgent))
                .bind(created)
                .bind(intent.not_before.or(row.not_before).map(stamp));
        }
        added += query.execute(&mut *conn).await.map_err(query_error("add emails to the outbox"))?.rows_affected();
    }
    Ok(added)
}

pub(super) async fn add_intent_in(
    conn: &mut sqlx::AnyConnection,
    intent: &Intent,
    not_before: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let added = insert_intents(conn, &[NewIntent { intent, message: None, not_before }], &stamp(now)).await?;
    Ok(added == 1)
}

pub(super) async fn cancel_pending_except_in<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    case: &str,
    prefix: &str,
    keep: &str,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE intents SET status = 'cancelled'
         WHERE case_reference = $3 AND status = 'pending' AND dedupe_key LIKE $1 AND dedupe_key NOT LIKE $2",
    )
    .bind(format!("{}%", prefix.replace('%', "")))
    .bind(format!("%{}", keep.replace('%', "")))
    .bind(case)
    .execute(executor)
    .await
    .map_err(query_error("cancel superseded reminders"))?;
    Ok(done.rows_affected())
}
