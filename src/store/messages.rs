//! Raw messages and mailbox checkpoints: a message and the checkpoint that follows it
//! are written in one transaction, so a message is acknowledged only once it is stored.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Store, StoreError, query_error, stamp};
pub use crate::domain::mailbox::{Checkpoint, NewMessage, Stored};

/// Messages stored a statement at most (ten columns each).
const MESSAGES_A_STATEMENT: usize = 200;

/// Text of waiting messages read into memory at once at most (one larger message is
/// read alone).
const PENDING_BYTES: i64 = 32 * 1024 * 1024;

/// A stored message waiting to be understood.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub id: i64,
    pub raw: Vec<u8>,
    pub arrived_at: DateTime<Utc>,
    /// Processing attempts begun before this one (each committed before it began).
    pub attempts: i64,
    /// Over the size limit: only its start was kept, and this was its size.
    pub truncated_from: Option<i64>,
    /// Its Message-ID, as stored.
    pub message_id: Option<String>,
}

/// The Message-ID header's value, read cheaply (no full parse) for deduplication.
fn message_id(raw: &[u8]) -> Option<String> {
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").or_else(|| raw.windows(2).position(|w| w == b"\n\n"));
    let head = String::from_utf8_lossy(&raw[..head_end.unwrap_or(raw.len().min(64 * 1024))]);
    let mut lines = head.lines().peekable();
    while let Some(line) = lines.next() {
        if line.len() >= 11 && line[..11].eq_ignore_ascii_case("message-id:") {
            let mut value = line[11..].trim().to_owned();
            while let Some(next) = lines.peek().filter(|l| l.starts_with([' ', '\t'])) {
                value.push_str(next.trim());
                lines.next();
            }
            let value = value.trim().trim_start_matches('<').trim_end_matches('>').trim().to_owned();
            return (!value.is_empty()).then_some(value);
        }
    }
    None
}

/// What is known of one stored message, for an operator: never its body.
#[derive(Debug, Clone)]
pub struct MessageInfo {
    pub id: i64,
    pub source: String,
    pub arrived_at: String,
    pub state: String,
    pub kind: Option<String>,
    pub trust: Option<String>,
    /// What was understood (`understand::to_json`), once it was.
    pub summary: Option<serde_json::Value>,
    pub case_reference: Option<String>,
    pub failure: Option<String>,
}

impl Store {
    /// What is known of stored message `id` (not its text).
    pub async fn message_info(&self, id: i64) -> Result<Option<MessageInfo>, StoreError> {
        let row = sqlx::query(
            "SELECT id, source, arrived_at, state, kind, trust, summary, case_reference, failure FROM messages WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("read a message"))?;
        Ok(row.map(|r| MessageInfo {
            id: r.get(0),
            source: r.get(1),
            arrived_at: r.get(2),
            state: r.get(3),
            kind: r.get(4),
            trust: r.get(5),
            summary: r.get::<Option<String>, _>(6).and_then(|s| serde_json::from_str(&s).ok()),
            case_reference: r.get(7),
            failure: r.get(8),
        }))
    }

    /// Stores a message unless the same Message-ID and content are stored already, and
    /// in the same transaction advances the source's checkpoint past its UID.
    pub async fn store_message(&self, message: &NewMessage<'_>) -> Result<Stored, StoreError> {
        let mut stored = self.store_messages(std::slice::from_ref(message)).await?;
        stored.pop().ok_or_else(|| StoreError::Conflict("a message was not stored".into()))
    }

    /// Stores several messages (a fetched batch) in one transaction, each as
    /// `store_message` would, the checkpoint advanced past the last.
    pub async fn store_messages(&self, messages: &[NewMessage<'_>]) -> Result<Vec<Stored>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut stored = Vec::with_capacity(messages.len());
        for part in messages.chunks(MESSAGES_A_STATEMENT) {
            stored.extend(insert_messages(&mut tx, part).await?);
        }
        self.commit_write(tx, "commit stored messages").await?;
        Ok(stored)
    }

    /// Where `source` was read up to.
    pub async fn checkpoint(&self, source: &str) -> Result<Option<Checkpoint>, StoreError> {
        let row = sqlx::query("SELECT uidvalidity, last_uid FROM checkpoints WHERE source = $1")
            .bind(source)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("read a checkpoint"))?;
        Ok(row.map(|r| Checkpoint {
            uidvalidity: u32::try_from(r.get::<i64, _>(0)).unwrap_or(0),
            last_uid: u32::try_from(r.get::<i64, _>(1)).unwrap_or(0),
        }))
    }

    /// Starts `source` again from the beginning under a new UIDVALIDITY.
    pub async fn reset_checkpoint(&self, source: &str, uidvalidity: u32) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO checkpoints (source, uidvalidity, last_uid, updated_at) VALUES ($1, $2, 0, $3)
             ON CONFLICT (source) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = 0, updated_at = excluded.updated_at",
        )
        .bind(source)
        .bind(i64::from(uidvalidity))
        .bind(stamp(Utc::now()))
        .execute(&self.pool)
        .await
        .map_err(query_error("reset a checkpoint"))?;
        Ok(())
    }

    /// Stored messages not yet understood, oldest first: at most `limit`, and no more
    /// than `PENDING_BYTES` of text together (always at least one).
    pub async fn pending_messages(&self, limit: u32) -> Result<Vec<StoredMessage>, StoreError> {
        let sizes = sqlx::query("SELECT id, size FROM messages WHERE state = 'stored' ORDER BY id LIMIT $1")
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("read pending messages"))?;
        let mut total = 0i64;
        let mut last = None;
        for (n, row) in sizes.iter().enumerate() {
            total = total.saturating_add(row.get::<i64, _>(1));
            if n > 0 && total > PENDING_BYTES {
                break;
            }
            last = Some(row.get::<i64, _>(0));
        }
        let (Some(first), Some(last)) = (sizes.first().map(|r| r.get::<i64, _>(0)), last) else {
            return Ok(Vec::new());
        };
        let rows = sqlx::query(
            "SELECT m.id, b.raw, m.arrived_at, m.attempts, m.truncated_from, m.message_id FROM messages m
             LEFT JOIN message_bodies b ON b.message = m.id
             WHERE m.state = 'stored' AND m.id BETWEEN $1 AND $2 ORDER BY m.id",
        )
        .bind(first)
        .bind(last)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("read pending messages"))?;
        Ok(rows
            .into_iter()
            .map(|r| StoredMessage {
                id: r.get(0),
                raw: r.get::<Option<Vec<u8>>, _>(1).unwrap_or_default(),
                arrived_at: DateTime::parse_from_rfc3339(&r.get::<String, _>(2))
                    .map(|d| d.with_timezone(&Utc))
                    .unwrap_or_default(),
                attempts: r.get(3),
                truncated_from: r.get(4),
                message_id: r.get(5),
            })
            .collect())
    }

    /// Counts an attempt at processing each of `ids`, committed before the attempt
    /// begins: a crash, abort or watchdog kill during it is then counted too.
    pub async fn count_attempts(&self, ids: &[i64]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!("UPDATE messages SET attempts = attempts + 1 WHERE id IN ({})", placeholders.join(", "));
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        query.execute(&mut *tx).await.map_err(query_error("count processing attempts"))?;
        self.commit_write(tx, "commit processing attempts").await
    }

    /// `(id, uid, message_id, state, kind)` of every stored message, for operators and tests.
    pub async fn message_list(
        &self,
    ) -> Result<Vec<(i64, Option<i64>, Option<String>, String, Option<String>)>, StoreError> {
        let rows = sqlx::query("SELECT id, uid, message_id, state, kind FROM messages ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("list messages"))?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))).collect())
    }
}

async fn advance(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    source: &str,
    uidvalidity: u32,
    uid: u32,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO checkpoints (source, uidvalidity, last_uid, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (source) DO UPDATE SET
           last_uid = CASE WHEN checkpoints.uidvalidity = excluded.uidvalidity AND checkpoints.last_uid > excluded.last_uid
                           THEN checkpoints.last_uid ELSE excluded.last_uid END,
           uidvalidity = excluded.uidvalidity,
           updated_at = excluded.updated_at",
    )
    .bind(source)
    .bind(i64::from(uidvalidity))
    .bind(i64::from(uid))
    .bind(stamp(Utc::now()))
    .execute(&mut **tx)
    .await
    .map_err(query_error("advance a checkpoint"))?;
    Ok(())
}

/// Inserts messages (or finds their stored copies: the same content and Message-ID,
/// stored before or earlier in `messages`), a few statements for all, and advances
/// their sources' checkpoints past them.
async fn insert_messages(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    messages: &[NewMessage<'_>],
) -> Result<Vec<Stored>, StoreError> {
    let keyed: Vec<(String, Option<String>, String)> = messages
        .iter()
        .map(|m| {
            let sha = hex::encode(Sha256::digest(m.raw));
            let id = message_id(m.raw);
            let dedupe_key = format!("{sha}|{}", id.as_deref().unwrap_or(""));
            (sha, id, dedupe_key)
        })
        .collect();
    // Write first, so that the transaction holds the write lock from its first statement.
    let sql = format!(
        "INSERT INTO messages (source, uidvalidity, uid, message_id, sha256, dedupe_key, size, arrived_at, stored_at, truncated_from)
         VALUES {} ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key",
        super::placeholders(tx, messages.len(), 10)
    );
    let stored_at = stamp(Utc::now());
    let mut query = sqlx::query(&sql);
    for (message, (sha, id, dedupe_key)) in messages.iter().zip(&keyed) {
        query = query
            .bind(message.source)
            .bind(message.uidvalidity.map(i64::from))
            .bind(message.uid.map(i64::from))
            .bind(id.as_deref())
            .bind(sha.as_str())
            .bind(dedupe_key.as_str())
            .bind(i64::try_from(message.raw.len()).unwrap_or(i64::MAX))
            .bind(stamp(message.arrived_at))
            .bind(stored_at.as_str())
            .bind(message.truncated_from.map(|n| i64::try_from(n).unwrap_or(i64::MAX)));
    }
    let rows = query.fetch_all(&mut **tx).await.map_err(query_error("store a message"))?;
    let new: std::collections::HashMap<String, i64> = rows.iter().map(|r| (r.get(1), r.get(0))).collect();
    let mut copies = std::collections::HashMap::new();
    let missing: Vec<&str> = keyed.iter().map(|(_, _, k)| k.as_str()).filter(|k| !new.contains_key(*k)).collect();
    if !missing.is_empty() {
        let sql = format!(
            "SELECT id, dedupe_key FROM messages WHERE dedupe_key IN {}",
            super::placeholders(tx, 1, missing.len())
        );
        let mut query = sqlx::query(&sql);
        for key in &missing {
            query = query.bind(*key);
        }
        let rows = query.fetch_all(&mut **tx).await.map_err(query_error("look for a stored copy"))?;
        copies.extend(rows.iter().map(|r| (r.get::<String, _>(1), r.get::<i64, _>(0))));
    }
    // The first of two equal messages in `messages` is the one stored.
    let mut bodies: Vec<(i64, &[u8])> = Vec::new();
    let mut stored = Vec::with_capacity(messages.len());
    for (message, (_, _, key)) in messages.iter().zip(&keyed) {
        match new.get(key) {
            Some(id) if !bodies.iter().any(|(b, _)| b == id) => {
                bodies.push((*id, message.raw));
                stored.push(Stored::New(*id));
            }
            Some(id) => stored.push(Stored::Duplicate(*id)),
            None => {
                let id = copies.get(key).ok_or_else(|| StoreError::Conflict("a stored copy vanished".into()))?;
                stored.push(Stored::Duplicate(*id));
            }
        }
    }
    if !bodies.is_empty() {
        let sql =
            format!("INSERT INTO message_bodies (message, raw) VALUES {}", super::placeholders(tx, bodies.len(), 2));
        let mut query = sqlx::query(&sql);
        for (id, raw) in &bodies {
            query = query.bind(*id).bind(*raw);
        }
        query.execute(&mut **tx).await.map_err(query_error("store a message's text"))?;
    }
    // Each run of messages from one source under one UIDVALIDITY moves its checkpoint
    // to the highest of their UIDs, in order: as if each had moved it in turn.
    let mut runs: Vec<(&str, u32, u32)> = Vec::new();
    for message in messages {
        if let (Some(uidvalidity), Some(uid)) = (message.uidvalidity, message.uid) {
            match runs.last_mut() {
                Some(run) if run.0 == message.source && run.1 == uidvalidity => run.2 = run.2.max(uid),
                _ => runs.push((message.source, uidvalidity, uid)),
            }
        }
    }
    for (source, uidvalidity, uid) in runs {
        advance(tx, source, uidvalidity, uid).await?;
    }
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_folded_message_id() {
        assert_eq!(
            message_id(b"Subject: x\r\nMessage-ID:\r\n <abc@x.test>\r\n\r\nbody").as_deref(),
            Some("abc@x.test")
        );
        assert_eq!(message_id(b"Subject: x\n\nMessage-ID: <no@x>\n"), None);
    }
}
