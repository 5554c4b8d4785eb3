//! What the scheduler reads: each open case carries the day of its next step
//! (`next_step_on`, indexed), written with every change of the case and by the tick
//! that acted on it, so that a tick reads only the cases whose day has come.

use sqlx::Row;

use super::cases::decode;
use super::{Batch, Store, StoreError, query_error};
use crate::domain::case::{CaseState, CaseSummary};

/// The day written for a case changed since the scheduler last looked at it: before any
/// real day, so the next tick reads it whatever its date.
pub const UNSETTLED: &str = "0001-01-01";

/// The `service_state` key holding the fingerprint of the rules the stored days were
/// worked out under (calendar, clocks, ladders, duties).
const BASIS_KEY: &str = "schedule_basis";

/// Rows per multi-row statement: well under both engines' limits on parameters.
const CHUNK: usize = 300;

/// A case the scheduler reads.
#[derive(Debug, Clone)]
pub struct ScheduledCase {
    pub state: CaseState,
    pub updated_at: String,
    /// The stored day of its next step ([`UNSETTLED`] after a change).
    pub next_step_on: String,
}

impl ScheduledCase {
    /// Changed since the scheduler last looked: every clock is re-examined.
    pub fn unsettled(&self) -> bool {
        self.next_step_on.as_str() == UNSETTLED
    }
}

/// The day worked out for a case after a tick: written only if the case is still as
/// it was read (`updated_at`), so that a change made meanwhile keeps its mark.
#[derive(Debug, Clone)]
pub struct Settled {
    pub reference: String,
    pub updated_at: String,
    pub next_step_on: Option<String>,
}

impl Store {
    /// The references of the open cases whose next step falls on or before `today`
    /// (ISO), or that changed since the last tick: one range of the `next_step_on` index.
    pub async fn cases_with_steps_due(&self, today: &str) -> Result<Vec<String>, StoreError> {
        // No ORDER BY: SQLite would walk the reference index instead of this range.
        let mut due: Vec<String> = sqlx::query_scalar("SELECT reference FROM cases WHERE next_step_on <= $1")
            .bind(today)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("list cases with steps due"))?;
        due.sort();
        Ok(due)
    }

    /// Every open case as a digest lists it, from the columns kept beside its state:
    /// one query on the open cases' index, nothing decoded.
    pub async fn open_case_summaries(&self) -> Result<Vec<CaseSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT reference, stage, next_clock, next_due FROM cases WHERE closed_at IS NULL ORDER BY reference",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("list the open cases"))?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let clock = r.get::<Option<String>, _>(2).and_then(|c| c.parse().ok());
                let due = r.get::<Option<String>, _>(3).and_then(|d| crate::domain::parse_iso_date(&d).ok());
                CaseSummary { reference: r.get(0), stage: r.get(1), next: clock.zip(due) }
            })
            .collect())
    }

    /// The references of every open case, for a full scan.
    pub async fn cases_to_rescan(&self) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar("SELECT reference FROM cases WHERE closed_at IS NULL ORDER BY reference")
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("list the open cases"))
    }

    /// Compares the fingerprint of the rules in force with the one the stored days were
    /// worked out under; when they differ (a holiday file imported, a ladder changed),
    /// marks every open case for the next tick to work its day out again. Returns whether
    /// it did. A database without a fingerprint takes this one.
    pub async fn check_schedule_basis(
        &self,
        basis: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError> {
        let stored: Option<String> = sqlx::query_scalar("SELECT value FROM service_state WHERE key = $1")
            .bind(BASIS_KEY)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("read the scheduler's basis"))?;
        if stored.as_deref() == Some(basis) {
            return Ok(false);
        }
        let mut tx = self.begin_write().await?;
        let changed = stored.is_some();
        if changed {
            sqlx::query("UPDATE cases SET next_step_on = $1 WHERE closed_at IS NULL")
                .bind(UNSETTLED)
                .execute(&mut *tx)
                .await
                .map_err(query_error("mark cases for the scheduler"))?;
        }
        sqlx::query(
            "INSERT INTO service_state (key, value, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(BASIS_KEY)
        .bind(basis)
        .bind(super::stamp(now))
        .execute(&mut *tx)
        .await
        .map_err(query_error("note the scheduler's basis"))?;
        self.commit_write(tx, "commit the scheduler's basis").await?;
        Ok(changed)
    }
}

impl Batch {
    /// Cases `references` as the scheduler reads them (a page of those found due);
    /// `as_changed` reads each as if it had changed (a full scan).
    pub async fn scheduled_cases(
        &mut self,
        references: &[String],
        as_changed: bool,
    ) -> Result<Vec<ScheduledCase>, StoreError> {
        self.go_direct().await?;
        if references.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT state, updated_at, next_step_on FROM cases WHERE reference IN {}",
            super::placeholders(&self.tx, 1, references.len())
        );
        let mut query = sqlx::query(&sql);
        for reference in references {
            query = query.bind(reference.as_str());
        }
        let rows = query.fetch_all(&mut *self.tx).await.map_err(query_error("read cases with steps due"))?;
        let mut cases = rows
            .into_iter()
            .map(|r| {
                let next_step_on: Option<String> = r.get(2);
                Ok(ScheduledCase {
                    state: decode(&r.get::<String, _>(0))?,
                    updated_at: r.get(1),
                    next_step_on: if as_changed { UNSETTLED.to_owned() } else { next_step_on.unwrap_or_default() },
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        // A case closed since its reference was read has nothing left to schedule.
        cases.retain(|c| !c.state.is_closed() && (as_changed || !c.next_step_on.is_empty()));
        cases.sort_by(|a, b| a.state.reference.as_str().cmp(b.state.reference.as_str()));
        Ok(cases)
    }

    /// Writes the days a tick worked out, many rows a statement; a case changed since it
    /// was read keeps its mark.
    pub async fn settle(&mut self, settled: &[Settled]) -> Result<(), StoreError> {
        self.go_direct().await?;
        for chunk in settled.chunks(CHUNK) {
            let sql = format!(
                "UPDATE cases SET next_step_on = v.column3 FROM (VALUES {}) AS v
                 WHERE cases.reference = v.column1 AND cases.updated_at = v.column2",
                super::placeholders(&self.tx, chunk.len(), 3)
            );
            let mut query = sqlx::query(&sql);
            for s in chunk {
                query = query.bind(&s.reference).bind(&s.updated_at).bind(&s.next_step_on);
            }
            query.execute(&mut *self.tx).await.map_err(query_error("note the days of the next steps"))?;
        }
        Ok(())
    }
}
