//! Cases, their audit log, clock instances, intents and triage; and the one
//! transaction in which a processed message changes all of them together.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Store, StoreError, query_error, stamp};
use crate::domain::case::{CaseRef, CaseState};
use crate::domain::message::Understood;
use crate::protocol::{Lookups, Outcome};

/// How a processed message is recorded.
#[derive(Debug, Clone)]
pub struct Processed<'a> {
    pub stored_id: i64,
    pub kind: &'a str,
    pub trust: &'a str,
    pub summary: &'a str,
    /// The case is new: its number is taken from the year's counter in this transaction.
    pub new_case_year: Option<i32>,
    /// A triage item being resolved by this outcome.
    pub resolves_triage: Option<(i64, String)>,
    /// Why processing was given up on, for a message that failed.
    pub failure: Option<&'a str>,
}

/// A case as listed.
#[derive(Debug, Clone)]
pub struct CaseRow {
    pub state: CaseState,
    pub updated_at: String,
}

/// One chronology line.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub event: String,
    pub clock: Option<String>,
    pub actor: Option<String>,
    pub message: Option<i64>,
    pub detail: String,
}

/// One triage item.
#[derive(Debug, Clone)]
pub struct TriageRow {
    pub id: i64,
    pub message: i64,
    pub reason: String,
    pub candidates: Vec<String>,
    pub created_at: String,
    pub resolution: Option<String>,
}

/// One recorded intent.
#[derive(Debug, Clone)]
pub struct IntentRow {
    pub id: i64,
    pub case_reference: Option<String>,
    pub message: Option<i64>,
    pub purpose: String,
    pub recipients: String,
    pub template: String,
    pub urgent: bool,
}

impl Store {
    /// Finds the cases a message's references point at.
    pub async fn lookups(&self, understood: &Understood, own_domain: &str) -> Result<Lookups, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(query_error("open a connection"))?;
        lookups_in(&mut conn, understood, own_domain).await
    }

    /// The reference the next new case of `year` will have.
    pub async fn next_reference(&self, prefix: &str, year: i32, digits: usize) -> Result<CaseRef, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(query_error("open a connection"))?;
        next_reference_in(&mut conn, prefix, year, digits).await
    }

    pub async fn load_case(&self, reference: &str) -> Result<Option<CaseState>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(query_error("open a connection"))?;
        load_case_in(&mut conn, reference).await
    }

    /// A transaction for processing several messages: each sees what the ones before it
    /// wrote, and all are committed together (or none, after a crash).
    pub async fn batch(&self) -> Result<Batch, StoreError> {
        // SQLite: take the write lock now; a read snapshot upgraded later could fail.
        let begin = if self.engine == super::Engine::Sqlite { "BEGIN IMMEDIATE" } else { "BEGIN" };
        let tx = self.pool.begin_with(begin).await.map_err(query_error("begin a transaction"))?;
        Ok(Batch { tx, fence: self.fence_epoch() })
    }

    /// Records a processed message and everything its decision produced, in one
    /// transaction. A message already processed is left as it is (replay is a no-op).
    pub async fn commit_processing(
        &self,
        processed: &Processed<'_>,
        outcome: &Outcome,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        if !record_in(&mut tx, processed, outcome, now).await? {
            return Ok(false);
        }
        crate::fault::point("processing:before-commit");
        self.commit_write(tx, "commit a processed message").await?;
        Ok(true)
    }

    /// Records a decision of the scheduler's (no message behind it) in one transaction.
    pub async fn commit_case(&self, outcome: &Outcome, now: DateTime<Utc>) -> Result<(), StoreError> {
        let at = stamp(now);
        let mut tx = self.begin_write().await?;
        write_outcome(&mut tx, None, None, outcome, &at).await?;
        self.commit_write(tx, "commit a scheduled change").await?;
        Ok(())
    }

    /// Open cases with a running clock due on or before `date` (ISO).
    pub async fn cases_due_by(&self, date: &str) -> Result<Vec<CaseRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT state, updated_at FROM cases WHERE closed_at IS NULL AND reference IN
               (SELECT case_reference FROM clocks WHERE status = 'running' AND due_on <= $1) ORDER BY reference",
        )
        .bind(date)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("list cases with clocks due"))?;
        rows.into_iter().map(|r| Ok(CaseRow { state: decode(&r.get::<String, _>(0))?, updated_at: r.get(1) })).collect()
    }

    pub async fn cases(&self, open_only: bool) -> Result<Vec<CaseRow>, StoreError> {
        let sql = if open_only {
            "SELECT state, updated_at FROM cases WHERE closed_at IS NULL ORDER BY reference"
        } else {
            "SELECT state, updated_at FROM cases ORDER BY reference"
        };
        let rows = sqlx::query(sql).fetch_all(&self.pool).await.map_err(query_error("list cases"))?;
        rows.into_iter().map(|r| Ok(CaseRow { state: decode(&r.get::<String, _>(0))?, updated_at: r.get(1) })).collect()
    }

    pub async fn audit(&self, reference: &str) -> Result<Vec<AuditRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, event, clock, actor, message, detail FROM audit WHERE case_reference = $1 ORDER BY id",
        )
        .bind(reference)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("read the audit log"))?;
        Ok(rows.into_iter().map(|r| audit_row(&r)).collect())
    }

    pub async fn triage(&self, open_only: bool) -> Result<Vec<TriageRow>, StoreError> {
        let sql = if open_only {
            "SELECT id, message, reason, candidates, created_at, resolution FROM triage WHERE resolved_at IS NULL ORDER BY id"
        } else {
            "SELECT id, message, reason, candidates, created_at, resolution FROM triage ORDER BY id"
        };
        let rows = sqlx::query(sql).fetch_all(&self.pool).await.map_err(query_error("list triage"))?;
        Ok(rows
            .into_iter()
            .map(|r| TriageRow {
                id: r.get(0),
                message: r.get(1),
                reason: r.get(2),
                candidates: serde_json::from_str(&r.get::<String, _>(3)).unwrap_or_default(),
                created_at: r.get(4),
                resolution: r.get(5),
            })
            .collect())
    }

    /// The raw bytes and arrival time of a stored message.
    pub async fn message_raw(&self, id: i64) -> Result<Option<(Vec<u8>, DateTime<Utc>)>, StoreError> {
        let row = sqlx::query(
            "SELECT b.raw, m.arrived_at FROM messages m LEFT JOIN message_bodies b ON b.message = m.id WHERE m.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("read a message"))?;
        Ok(row.map(|r| {
            let arrived =
                DateTime::parse_from_rfc3339(&r.get::<String, _>(1)).map(|d| d.with_timezone(&Utc)).unwrap_or_default();
            (r.get::<Option<Vec<u8>>, _>(0).unwrap_or_default(), arrived)
        }))
    }

    /// `(id, kind, arrived_at)` of every message tied to a case, oldest first.
    pub async fn case_messages(&self, reference: &str) -> Result<Vec<(i64, Option<String>, String)>, StoreError> {
        let rows = sqlx::query("SELECT id, kind, arrived_at FROM messages WHERE case_reference = $1 ORDER BY id")
            .bind(reference)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("list a case's messages"))?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
    }

    pub async fn intents(&self) -> Result<Vec<IntentRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, case_reference, message, purpose, recipients, template, urgent FROM intents ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("list intents"))?;
        Ok(rows
            .into_iter()
            .map(|r| IntentRow {
                id: r.get(0),
                case_reference: r.get(1),
                message: r.get(2),
                purpose: r.get(3),
                recipients: r.get(4),
                template: r.get(5),
                urgent: r.get::<i64, _>(6) != 0,
            })
            .collect())
    }
}

/// A transaction processing messages one after another (`Store::batch`).
pub struct Batch {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    /// The leader epoch its commit is fenced by.
    fence: Option<i64>,
}

impl Batch {
    pub async fn lookups(&mut self, understood: &Understood, own_domain: &str) -> Result<Lookups, StoreError> {
        lookups_in(&mut self.tx, understood, own_domain).await
    }

    pub async fn next_reference(&mut self, prefix: &str, year: i32, digits: usize) -> Result<CaseRef, StoreError> {
        next_reference_in(&mut self.tx, prefix, year, digits).await
    }

    pub async fn load_case(&mut self, reference: &str) -> Result<Option<CaseState>, StoreError> {
        load_case_in(&mut self.tx, reference).await
    }

    /// Records one processed message in the batch (see `Store::commit_processing`).
    pub async fn record(
        &mut self,
        processed: &Processed<'_>,
        outcome: &Outcome,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        record_in(&mut self.tx, processed, outcome, now).await
    }

    /// A decision of the scheduler's (see `Store::commit_case`).
    pub async fn record_case(&mut self, outcome: &Outcome, now: DateTime<Utc>) -> Result<(), StoreError> {
        write_outcome(&mut self.tx, None, None, outcome, &stamp(now)).await
    }

    pub async fn add_intent(
        &mut self,
        intent: &crate::protocol::Intent,
        not_before: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        super::outbox::add_intent_in(&mut *self.tx, intent, not_before, now).await
    }

    pub async fn cancel_pending_except(&mut self, case: &str, prefix: &str, keep: &str) -> Result<u64, StoreError> {
        super::outbox::cancel_pending_except_in(&mut *self.tx, case, prefix, keep).await
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        let mut tx = self.tx;
        super::check_fence(self.fence, &mut tx).await?;
        tx.commit().await.map_err(query_error("commit processed messages"))
    }
}

async fn record_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    processed: &Processed<'_>,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let at = stamp(now);
    if processed.resolves_triage.is_none() {
        let claimed = sqlx::query(
                "UPDATE messages SET state = 'processed', kind = $2, trust = $3, summary = $4, case_reference = $5, failure = $6 WHERE id = $1 AND state <> 'processed'",
            )
            .bind(processed.stored_id)
            .bind(processed.kind)
            .bind(processed.trust)
            .bind(processed.summary)
            .bind(outcome.case.as_ref().map(|c| c.reference.to_string()))
            .bind(processed.failure)
            .execute(&mut **tx)
            .await
            .map_err(query_error("mark a message processed"))?;
        if claimed.rows_affected() == 0 {
            return Ok(false);
        }
    } else {
        sqlx::query("UPDATE messages SET case_reference = $2 WHERE id = $1")
            .bind(processed.stored_id)
            .bind(outcome.case.as_ref().map(|c| c.reference.to_string()))
            .execute(&mut **tx)
            .await
            .map_err(query_error("tie a message to its case"))?;
    }
    crate::fault::point("processing:message-marked");
    write_outcome(tx, Some(processed.stored_id), processed.new_case_year, outcome, &at).await?;
    if let Some((id, resolution)) = &processed.resolves_triage {
        sqlx::query("UPDATE triage SET resolved_at = $2, resolution = $3 WHERE id = $1 AND resolved_at IS NULL")
            .bind(id)
            .bind(&at)
            .bind(resolution)
            .execute(&mut **tx)
            .await
            .map_err(query_error("resolve a triage item"))?;
    }
    Ok(true)
}

async fn lookups_in(
    conn: &mut sqlx::AnyConnection,
    understood: &Understood,
    own_domain: &str,
) -> Result<Lookups, StoreError> {
    let mut found = Lookups::default();
    for tag in &understood.case_refs {
        match case_exists_in(conn, tag).await? {
            Some(r) => found.by_tag.push(r),
            None => found.unknown_tags.push(tag.clone()),
        }
    }
    let suffix = format!("@{own_domain}");
    for id in understood.in_reply_to.iter().chain(&understood.references) {
        // Our own Message-IDs carry the case reference: REF.rest@domain.
        if id.to_ascii_lowercase().ends_with(&suffix)
            && let Some(candidate) = id.split(['.', '@']).next()
            && let Some(r) = case_exists_in(conn, candidate).await?
        {
            found.by_thread.push(r);
            continue;
        }
        let rows = sqlx::query(
            "SELECT DISTINCT case_reference FROM messages WHERE message_id = $1 AND case_reference IS NOT NULL",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .map_err(query_error("follow a thread"))?;
        for row in rows {
            if let Ok(r) = CaseRef::parse(&row.get::<String, _>(0)) {
                found.by_thread.push(r);
            }
        }
    }
    let mut externals: Vec<String> = understood.external_refs.clone();
    if let Some(n) = &understood.notification {
        externals.extend(n.panel_reference.iter().cloned());
        externals.extend(n.la_reference.iter().cloned());
    }
    for reference in externals {
        let rows = sqlx::query("SELECT reference FROM cases WHERE panel_reference = $1 OR la_reference = $1")
            .bind(&reference)
            .fetch_all(&mut *conn)
            .await
            .map_err(query_error("match an external reference"))?;
        for row in rows {
            if let Ok(r) = CaseRef::parse(&row.get::<String, _>(0)) {
                found.by_external.push(r);
            }
        }
    }
    Ok(found)
}

async fn case_exists_in(conn: &mut sqlx::AnyConnection, reference: &str) -> Result<Option<CaseRef>, StoreError> {
    let row = sqlx::query("SELECT reference FROM cases WHERE reference = $1")
        .bind(reference)
        .fetch_optional(&mut *conn)
        .await
        .map_err(query_error("look up a case"))?;
    Ok(row.and_then(|r| CaseRef::parse(&r.get::<String, _>(0)).ok()))
}

async fn next_reference_in(
    conn: &mut sqlx::AnyConnection,
    prefix: &str,
    year: i32,
    digits: usize,
) -> Result<CaseRef, StoreError> {
    let last: Option<i64> = sqlx::query_scalar("SELECT last_number FROM case_counters WHERE year = $1")
        .bind(i64::from(year))
        .fetch_optional(&mut *conn)
        .await
        .map_err(query_error("read the case counter"))?;
    let next = u32::try_from(last.unwrap_or(0) + 1).unwrap_or(u32::MAX);
    Ok(CaseRef::new(prefix, year, next, digits))
}

async fn load_case_in(conn: &mut sqlx::AnyConnection, reference: &str) -> Result<Option<CaseState>, StoreError> {
    let row = sqlx::query("SELECT state FROM cases WHERE reference = $1")
        .bind(reference)
        .fetch_optional(&mut *conn)
        .await
        .map_err(query_error("load a case"))?;
    row.map(|r| decode(&r.get::<String, _>(0))).transpose()
}

/// Writes a decision's case, clocks, audit, intents and triage row in `tx`.
async fn write_outcome(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    stored: Option<i64>,
    new_case_year: Option<i32>,
    outcome: &Outcome,
    at: &str,
) -> Result<(), StoreError> {
    if let Some(case) = &outcome.case {
        if let Some(year) = new_case_year {
            let number: i64 = sqlx::query_scalar(
                    "INSERT INTO case_counters (year, last_number) VALUES ($1, 1)
                     ON CONFLICT (year) DO UPDATE SET last_number = case_counters.last_number + 1 RETURNING last_number",
                )
                .bind(i64::from(year))
                .fetch_one(&mut **tx)
                .await
                .map_err(query_error("number a new case"))?;
            let expected = case.reference.as_str().rsplit('-').next().and_then(|n| n.parse::<i64>().ok());
            if expected != Some(number) {
                return Err(StoreError::Conflict(format!(
                    "case number {number} was taken while {} was being opened",
                    case.reference
                )));
            }
        }
        let state =
            serde_json::to_string(case).map_err(|e| StoreError::Conflict(format!("cannot encode a case: {e}")))?;
        let next = case.next_due();
        sqlx::query(
                "INSERT INTO cases (reference, kind, stage, opened_at, closed_at, panel_reference, la_reference, next_clock, next_due, state, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (reference) DO UPDATE SET stage = excluded.stage, closed_at = excluded.closed_at,
                   panel_reference = excluded.panel_reference, la_reference = excluded.la_reference,
                   next_clock = excluded.next_clock, next_due = excluded.next_due, state = excluded.state, updated_at = excluded.updated_at",
            )
            .bind(case.reference.as_str())
            .bind(serde_json::to_value(case.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())
            .bind(case.stage())
            .bind(case.opened_on.to_string())
            .bind(case.closed.as_ref().map(|(_, d)| d.to_string()))
            .bind(&case.panel_reference)
            .bind(&case.la_reference)
            .bind(next.map(|c| c.clock.as_str()))
            .bind(next.map(|c| c.due_in_force().to_string()))
            .bind(state)
            .bind(at)
            .execute(&mut **tx)
            .await
            .map_err(query_error("save a case"))?;
        crate::fault::point("processing:case-saved");
        sqlx::query("DELETE FROM clocks WHERE case_reference = $1")
            .bind(case.reference.as_str())
            .execute(&mut **tx)
            .await
            .map_err(query_error("replace a case's clocks"))?;
        for clock in &case.clocks {
            sqlx::query("INSERT INTO clocks (case_reference, clock, started_on, due_on, status, closed_on) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(case.reference.as_str())
                    .bind(clock.clock.as_str())
                    .bind(clock.started.to_string())
                    .bind(clock.due_in_force().to_string())
                    .bind(serde_json::to_value(clock.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())
                    .bind(clock.closed_on.map(|d| d.to_string()))
                    .execute(&mut **tx)
                    .await
                    .map_err(query_error("save a clock"))?;
        }
        for entry in &outcome.audit {
            sqlx::query("INSERT INTO audit (case_reference, at, event, clock, actor, message, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(case.reference.as_str())
                    .bind(at)
                    .bind(&entry.event)
                    .bind(entry.clock.map(|c| c.as_str()))
                    .bind(&entry.actor)
                    .bind(stored)
                    .bind(&entry.detail)
                    .execute(&mut **tx)
                    .await
                    .map_err(query_error("append to the audit log"))?;
        }
    }
    crate::fault::point("processing:audit-written");
    for intent in &outcome.intents {
        super::outbox::insert_intent(intent, stored, at.to_owned(), None)
            .execute(&mut **tx)
            .await
            .map_err(query_error("record an outbound intent"))?;
    }
    if let Some(reason) = &outcome.triage {
        sqlx::query("INSERT INTO triage (message, reason, candidates, created_at) VALUES ($1, $2, $3, $4)")
            .bind(stored)
            .bind(reason)
            .bind(
                serde_json::to_string(&outcome.candidates.iter().map(|c| c.to_string()).collect::<Vec<_>>())
                    .unwrap_or_default(),
            )
            .bind(at)
            .execute(&mut **tx)
            .await
            .map_err(query_error("hold a message for triage"))?;
    }
    Ok(())
}

/// An audit row from `id, at, event, clock, actor, message, detail`.
fn audit_row(r: &sqlx::any::AnyRow) -> AuditRow {
    AuditRow {
        id: r.get(0),
        at: r.get(1),
        event: r.get(2),
        clock: r.get(3),
        actor: r.get(4),
        message: r.get(5),
        detail: r.get(6),
    }
}

fn decode(text: &str) -> Result<CaseState, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Conflict(format!("a stored case cannot be read: {e}")))
}

impl Store {
    /// Audit rows of every case after `id`, oldest first: `(row, case reference)`.
    pub async fn audit_after(&self, id: i64) -> Result<Vec<(AuditRow, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, event, clock, actor, message, detail, case_reference FROM audit WHERE id > $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("read the audit log"))?;
        Ok(rows.into_iter().map(|r| (audit_row(&r), r.get(7))).collect())
    }
}

impl Store {
    /// `(name, label, count)` rows for the metrics endpoint.
    pub async fn metrics(&self) -> Result<Vec<(&'static str, String, i64)>, StoreError> {
        let mut out = Vec::new();
        for (name, sql) in [
            ("cspr_messages", "SELECT COALESCE(kind, state), COUNT(*) FROM messages GROUP BY COALESCE(kind, state)"),
            ("cspr_outbox", "SELECT status, COUNT(*) FROM intents GROUP BY status"),
            ("cspr_clocks", "SELECT status, COUNT(*) FROM clocks GROUP BY status"),
            ("cspr_triage_open", "SELECT 'open', COUNT(*) FROM triage WHERE resolved_at IS NULL"),
            ("cspr_cases", "SELECT stage, COUNT(*) FROM cases GROUP BY stage"),
        ] {
            let rows = sqlx::query(sql).fetch_all(&self.pool).await.map_err(query_error("read metrics"))?;
            out.extend(rows.into_iter().map(|r| (name, r.get::<String, _>(0), r.get::<i64, _>(1))));
        }
        Ok(out)
    }
}
