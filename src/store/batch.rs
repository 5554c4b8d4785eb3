//! The one transaction in which a processed message (or a decision of the scheduler's)
//! changes its case, clocks, audit log, outbox and triage together.

use chrono::{DateTime, Utc};

use super::cases::{load_case_in, lookups_in, next_reference_in};
use super::outbox::{NewIntent, insert_intents};
use super::{Store, StoreError, encode, query_error, stamp};
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

impl Store {
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

    /// Records a case opened with no message behind it (`cspr open`), numbered from
    /// `year`'s counter, in one transaction.
    pub async fn commit_opened(&self, outcome: &Outcome, year: i32, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        write_outcome(&mut tx, None, Some(year), outcome, &stamp(now)).await?;
        self.commit_write(tx, "commit a case opened at the console").await
    }

    /// Records a decision of the scheduler's (no message behind it) in one transaction.
    pub async fn commit_case(&self, outcome: &Outcome, now: DateTime<Utc>) -> Result<(), StoreError> {
        let at = stamp(now);
        let mut tx = self.begin_write().await?;
        write_outcome(&mut tx, None, None, outcome, &at).await?;
        self.commit_write(tx, "commit a scheduled change").await?;
        Ok(())
    }
}

/// A transaction processing messages one after another (`Store::batch`).
pub struct Batch {
    pub(super) tx: sqlx::Transaction<'static, sqlx::Any>,
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

    pub async fn load_case(&mut self, reference: &CaseRef) -> Result<Option<CaseState>, StoreError> {
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
        super::outbox::add_intent_in(&mut self.tx, intent, not_before, now).await
    }

    /// Adds intents, many rows a statement (see `add_intent`); returns how many were
    /// added.
    pub async fn add_intents(
        &mut self,
        intents: &[(crate::protocol::Intent, Option<DateTime<Utc>>)],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let rows: Vec<NewIntent<'_>> = intents
            .iter()
            .map(|(intent, not_before)| NewIntent { intent, message: None, not_before: *not_before })
            .collect();
        insert_intents(&mut self.tx, &rows, &stamp(now)).await
    }

    pub async fn cancel_pending_except(&mut self, case: &str, prefix: &str, keep: &str) -> Result<u64, StoreError> {
        super::outbox::cancel_pending_except_in(&mut *self.tx, case, prefix, keep).await
    }

    /// The stored message an open triage item holds.
    pub async fn open_triage_message(&mut self, id: i64) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar("SELECT message FROM triage WHERE id = $1 AND resolved_at IS NULL")
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(query_error("read a triage item"))
    }

    pub async fn message_raw(&mut self, id: i64) -> Result<Option<(Vec<u8>, DateTime<Utc>)>, StoreError> {
        super::cases::message_raw_in(&mut *self.tx, id).await
    }

    /// Marks the point one message's writes start from (`SAVEPOINT`).
    pub async fn savepoint(&mut self) -> Result<(), StoreError> {
        sqlx::query("SAVEPOINT message").execute(&mut *self.tx).await.map_err(query_error("mark a savepoint"))?;
        Ok(())
    }

    /// Keeps what was written since the savepoint.
    pub async fn release(&mut self) -> Result<(), StoreError> {
        sqlx::query("RELEASE SAVEPOINT message")
            .execute(&mut *self.tx)
            .await
            .map_err(query_error("release a savepoint"))?;
        Ok(())
    }

    /// Undoes what was written since the savepoint, keeping what came before it.
    pub async fn roll_back_to_savepoint(&mut self) -> Result<(), StoreError> {
        sqlx::query("ROLLBACK TO SAVEPOINT message")
            .execute(&mut *self.tx)
            .await
            .map_err(query_error("roll back to a savepoint"))?;
        self.release().await
    }

    /// Undoes everything the batch wrote.
    pub async fn roll_back(self) -> Result<(), StoreError> {
        self.tx.rollback().await.map_err(query_error("roll back a batch"))
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
        let state = encode("a case", case)?;
        let next = case.next_due();
        sqlx::query(
                "INSERT INTO cases (reference, kind, stage, opened_at, closed_at, panel_reference, la_reference, next_clock, next_due, state, updated_at, open_duties, next_step_on)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                 ON CONFLICT (reference) DO UPDATE SET stage = excluded.stage, closed_at = excluded.closed_at,
                   panel_reference = excluded.panel_reference, la_reference = excluded.la_reference,
                   next_clock = excluded.next_clock, next_due = excluded.next_due, state = excluded.state, updated_at = excluded.updated_at,
                   open_duties = excluded.open_duties, next_step_on = excluded.next_step_on",
            )
            .bind(case.reference.as_str())
            .bind(case.kind.as_str())
            .bind(case.stage())
            .bind(case.opened_on.to_string())
            .bind(case.closed.as_ref().map(|(_, d)| d.to_string()))
            .bind(&case.notification.panel_reference)
            .bind(&case.notification.la_reference)
            .bind(next.map(|c| c.clock.as_str()))
            .bind(next.map(|c| c.due_in_force().to_string()))
            .bind(state)
            .bind(at)
            .bind(case.open_duties().count() as i64)
            // Changed: the scheduler looks at it at its next tick (`store::schedule`).
            .bind((!case.is_closed()).then_some(super::schedule::UNSETTLED))
            .execute(&mut **tx)
            .await
            .map_err(query_error("save a case"))?;
        crate::fault::point("processing:case-saved");
        // A case numbered now has no clocks stored yet.
        if new_case_year.is_none() {
            sqlx::query("DELETE FROM clocks WHERE case_reference = $1")
                .bind(case.reference.as_str())
                .execute(&mut **tx)
                .await
                .map_err(query_error("replace a case's clocks"))?;
        }
        if !case.clocks.is_empty() {
            let sql = format!(
                "INSERT INTO clocks (case_reference, clock, started_on, due_on, status, closed_on) VALUES {}",
                super::placeholders(tx, case.clocks.len(), 6)
            );
            let mut query = sqlx::query(&sql);
            for clock in &case.clocks {
                query = query
                    .bind(case.reference.as_str())
                    .bind(clock.clock.as_str())
                    .bind(clock.started.to_string())
                    .bind(clock.due_in_force().to_string())
                    .bind(clock.status.as_str())
                    .bind(clock.closed_on.map(|d| d.to_string()));
            }
            query.execute(&mut **tx).await.map_err(query_error("save a case's clocks"))?;
        }
        if !outcome.audit.is_empty() {
            let sql = format!(
                "INSERT INTO audit (case_reference, at, event, clock, actor, message, detail) VALUES {}",
                super::placeholders(tx, outcome.audit.len(), 7)
            );
            let mut query = sqlx::query(&sql);
            for entry in &outcome.audit {
                query = query
                    .bind(case.reference.as_str())
                    .bind(at)
                    .bind(entry.event.as_str())
                    .bind(entry.clock.map(|c| c.as_str()))
                    .bind(entry.actor.as_deref())
                    .bind(stored)
                    .bind(entry.detail.as_str());
            }
            query.execute(&mut **tx).await.map_err(query_error("append to the audit log"))?;
        }
    }
    if let (Some((duplicate, entries)), Some(kept)) = (&outcome.merged, &outcome.case) {
        merge_into(tx, duplicate, entries, kept, stored, at).await?;
    }
    crate::fault::point("processing:audit-written");
    // The item is numbered first: an alert about it names the number to reply with.
    let mut item = None;
    if let Some(reason) = &outcome.triage {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO triage (message, reason, candidates, created_at, evidence) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(stored)
        .bind(reason)
        .bind(encode(
            "a triage item's candidates",
            &outcome.candidates.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
        )?)
        .bind(at)
        .bind(outcome.evidence.as_deref())
        .fetch_one(&mut **tx)
        .await
        .map_err(query_error("hold a message for triage"))?;
        item = Some(id);
    }
    let named: Vec<std::borrow::Cow<'_, crate::protocol::Intent>> = outcome
        .intents
        .iter()
        .map(|intent| match item {
            Some(id) if intent.template == "triage_alert" && !intent.facts.contains_key("item") => {
                let mut with = intent.clone();
                with.facts.insert("item".into(), id.to_string().into());
                std::borrow::Cow::Owned(with)
            }
            _ => std::borrow::Cow::Borrowed(intent),
        })
        .collect();
    let rows: Vec<NewIntent<'_>> =
        named.iter().map(|intent| NewIntent { intent, message: stored, not_before: None }).collect();
    insert_intents(tx, &rows, at).await?;
    Ok(())
}

/// A duplicate joined into `kept`: its messages and chronology move there, then the
/// duplicate is saved as it became (closed, pointing there) with its own entries.
async fn merge_into(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    duplicate: &crate::domain::case::CaseState,
    entries: &[crate::protocol::AuditEntry],
    kept: &crate::domain::case::CaseState,
    stored: Option<i64>,
    at: &str,
) -> Result<(), StoreError> {
    for (table, what) in [("messages", "move a duplicate's messages"), ("audit", "move a duplicate's chronology")] {
        sqlx::query(&format!("UPDATE {table} SET case_reference = $1 WHERE case_reference = $2"))
            .bind(kept.reference.as_str())
            .bind(duplicate.reference.as_str())
            .execute(&mut **tx)
            .await
            .map_err(query_error(what))?;
    }
    let closing = Outcome { case: Some(duplicate.clone()), audit: entries.to_vec(), ..Outcome::default() };
    Box::pin(write_outcome(tx, stored, None, &closing, at)).await
}
