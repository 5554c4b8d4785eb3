//! The one transaction in which a processed message (or a decision of the scheduler's)
//! changes its case, clocks, audit log, outbox and triage together.

use chrono::{DateTime, Utc};

use super::cases::{last_number_in, load_case_in, lookups_in, next_reference_in};
use super::deferred::{Ahead, Deferred};
use super::outbox::{NewIntent, insert_intents};
use super::rows::{self, AuditRow, TriageRow};
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

impl Store {
    /// A transaction for processing several messages: each sees what the ones before it
    /// wrote, and all are committed together (or none, after a crash).
    pub async fn batch(&self) -> Result<Batch, StoreError> {
        // SQLite: take the write lock now; a read snapshot upgraded later could fail.
        let begin = if self.engine == super::Engine::Sqlite { "BEGIN IMMEDIATE" } else { "BEGIN" };
        let tx = self.pool.begin_with(begin).await.map_err(query_error("begin a transaction"))?;
        Ok(Batch { tx, fence: self.fence_epoch(), deferred: None })
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
    /// What it decided and has not written yet (`Batch::defer`).
    deferred: Option<Deferred>,
}

impl Batch {
    /// From now on the batch keeps what its messages decide and writes it when it ends
    /// (`store::deferred`); what `ahead` refers to is read now, in one query.
    pub async fn defer(&mut self, ahead: &[Ahead<'_>], own_domain: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.go_direct().await?;
        self.deferred = Some(Deferred::begin(&mut self.tx, ahead, own_domain, stamp(now)).await?);
        Ok(())
    }

    /// Writes what was kept, and goes on a statement at a time.
    pub async fn go_direct(&mut self) -> Result<(), StoreError> {
        match self.deferred.take() {
            Some(deferred) => deferred.write(&mut self.tx).await,
            None => Ok(()),
        }
    }

    pub async fn lookups(&mut self, understood: &Understood, own_domain: &str) -> Result<Lookups, StoreError> {
        if let Some(deferred) = &self.deferred {
            return Ok(deferred.lookups(understood, own_domain));
        }
        lookups_in(&mut self.tx, understood, own_domain).await
    }

    pub async fn next_reference(&mut self, prefix: &str, year: i32, digits: usize) -> Result<CaseRef, StoreError> {
        let Some(deferred) = &mut self.deferred else {
            return next_reference_in(&mut self.tx, prefix, year, digits).await;
        };
        let last = match deferred.last_number(year) {
            Some(last) => last,
            None => {
                let last = last_number_in(&mut self.tx, year).await?;
                deferred.counter_read(year, last);
                last
            }
        };
        Ok(CaseRef::new(prefix, year, u32::try_from(last + 1).unwrap_or(u32::MAX), digits))
    }

    pub async fn load_case(&mut self, reference: &CaseRef) -> Result<Option<CaseState>, StoreError> {
        let Some(deferred) = &mut self.deferred else {
            return load_case_in(&mut self.tx, reference).await;
        };
        if let Some(known) = deferred.case(reference.as_str()) {
            return Ok(known);
        }
        let case = load_case_in(&mut self.tx, reference).await?;
        deferred.loaded(reference.as_str(), case.clone());
        Ok(case)
    }

    /// Records one processed message in the batch (see `Store::commit_processing`).
    pub async fn record(
        &mut self,
        processed: &Processed<'_>,
        outcome: &Outcome,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if let Some(deferred) = &mut self.deferred {
            let plain = processed.resolves_triage.is_none() && outcome.merged.is_none() && deferred.at == stamp(now);
            if plain {
                deferred.record(processed, outcome)?;
                return Ok(true);
            }
        }
        self.go_direct().await?;
        record_in(&mut self.tx, processed, outcome, now).await
    }

    /// A decision of the scheduler's (see `Store::commit_case`).
    pub async fn record_case(&mut self, outcome: &Outcome, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.go_direct().await?;
        write_outcome(&mut self.tx, None, None, outcome, &stamp(now)).await
    }

    pub async fn add_intent(
        &mut self,
        intent: &crate::protocol::Intent,
        not_before: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.go_direct().await?;
        super::outbox::add_intent_in(&mut self.tx, intent, not_before, now).await
    }

    /// Adds intents, many rows a statement (see `add_intent`); returns how many were
    /// added.
    pub async fn add_intents(
        &mut self,
        intents: &[(crate::protocol::Intent, Option<DateTime<Utc>>)],
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.go_direct().await?;
        let rows: Vec<NewIntent<'_>> = intents
            .iter()
            .map(|(intent, not_before)| NewIntent { intent, message: None, not_before: *not_before })
            .collect();
        insert_intents(&mut self.tx, &rows, &stamp(now)).await
    }

    pub async fn cancel_pending_except(&mut self, case: &str, prefix: &str, keep: &str) -> Result<u64, StoreError> {
        self.go_direct().await?;
        super::outbox::cancel_pending_except_in(&mut *self.tx, case, prefix, keep).await
    }

    /// The stored message an open triage item holds.
    pub async fn open_triage_message(&mut self, id: i64) -> Result<Option<i64>, StoreError> {
        self.go_direct().await?;
        sqlx::query_scalar("SELECT message FROM triage WHERE id = $1 AND resolved_at IS NULL")
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(query_error("read a triage item"))
    }

    pub async fn message_raw(&mut self, id: i64) -> Result<Option<(Vec<u8>, DateTime<Utc>)>, StoreError> {
        self.go_direct().await?;
        super::cases::message_raw_in(&mut *self.tx, id).await
    }

    /// Marks the point one message's writes start from (`SAVEPOINT`).
    pub async fn savepoint(&mut self) -> Result<(), StoreError> {
        self.go_direct().await?;
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

    pub async fn commit(mut self) -> Result<(), StoreError> {
        self.go_direct().await?;
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
            let number = i64::from(case.reference.number().unwrap_or(0));
            rows::take_case_numbers(tx, year, number - 1, number).await?;
        }
        rows::upsert_cases(tx, &[case], at).await?;
        crate::fault::point("processing:case-saved");
        // A case numbered now has no clocks stored yet.
        let stored_clocks = if new_case_year.is_none() { vec![case.reference.as_str()] } else { Vec::new() };
        rows::replace_clocks(tx, &[case], &stored_clocks).await?;
        let audit: Vec<AuditRow<'_>> = outcome
            .audit
            .iter()
            .map(|entry| AuditRow { case: case.reference.as_str(), entry, message: stored })
            .collect();
        rows::append_audit(tx, &audit, at).await?;
    }
    if let (Some((duplicate, entries)), Some(kept)) = (&outcome.merged, &outcome.case) {
        merge_into(tx, duplicate, entries, kept, stored, at).await?;
    }
    crate::fault::point("processing:audit-written");
    // The item is numbered first: an alert about it names the number to reply with.
    let mut item = None;
    if let Some(reason) = &outcome.triage {
        let row = TriageRow {
            message: stored,
            reason,
            candidates: outcome.candidates.iter().map(|c| c.to_string()).collect(),
            evidence: outcome.evidence.as_deref(),
        };
        item = Some(rows::hold(tx, &row, at).await?);
    }
    let named: Vec<_> = outcome.intents.iter().map(|intent| rows::naming_item(intent, item)).collect();
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
