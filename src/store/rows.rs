//! The rows a decision writes — cases, their clocks, chronology, triage items and case
//! numbers — many a statement, shared by a message recorded at once and by a batch
//! recorded at its end (`store::deferred`).

use super::{StoreError, encode, placeholders, query_error};
use crate::domain::case::CaseState;
use crate::protocol::AuditEntry;

type Tx<'t> = sqlx::Transaction<'t, sqlx::Any>;

/// Rows a statement for the widest tables (13 columns: well inside both engines'
/// limits on parameters).
const CASES_A_STATEMENT: usize = 200;
const ROWS_A_STATEMENT: usize = 300;

/// One chronology entry of a case, with the stored message behind it.
pub(super) struct AuditRow<'a> {
    pub case: &'a str,
    pub entry: &'a AuditEntry,
    pub message: Option<i64>,
}

/// A message held for a person.
pub(super) struct TriageRow<'a> {
    pub message: Option<i64>,
    pub reason: &'a str,
    pub candidates: Vec<String>,
    pub evidence: Option<&'a str>,
}

/// Moves `year`'s counter from `from` (the last number the decisions read) to `to` (the
/// last they gave); a counter moved meanwhile by another instance is a conflict.
pub(super) async fn take_case_numbers(tx: &mut Tx<'_>, year: i32, from: i64, to: i64) -> Result<(), StoreError> {
    let taken = sqlx::query(
        "INSERT INTO case_counters (year, last_number) VALUES ($1, $2)
         ON CONFLICT (year) DO UPDATE SET last_number = excluded.last_number WHERE case_counters.last_number = $3",
    )
    .bind(i64::from(year))
    .bind(to)
    .bind(from)
    .execute(&mut **tx)
    .await
    .map_err(query_error("number new cases"))?;
    if taken.rows_affected() != 1 {
        return Err(StoreError::Conflict(format!("case numbers of {year} after {from} were taken meanwhile")));
    }
    Ok(())
}

/// Saves cases as they became (each reference once), marked changed for the scheduler.
pub(super) async fn upsert_cases(tx: &mut Tx<'_>, cases: &[&CaseState], at: &str) -> Result<(), StoreError> {
    for part in cases.chunks(CASES_A_STATEMENT) {
        let sql = format!(
            "INSERT INTO cases (reference, kind, stage, opened_at, closed_at, panel_reference, la_reference, next_clock, next_due, state, updated_at, open_duties, next_step_on)
             VALUES {}
             ON CONFLICT (reference) DO UPDATE SET stage = excluded.stage, closed_at = excluded.closed_at,
               panel_reference = excluded.panel_reference, la_reference = excluded.la_reference,
               next_clock = excluded.next_clock, next_due = excluded.next_due, state = excluded.state, updated_at = excluded.updated_at,
               open_duties = excluded.open_duties, next_step_on = excluded.next_step_on",
            placeholders(tx, part.len(), 13)
        );
        let mut query = sqlx::query(&sql);
        for case in part {
            let next = case.next_due();
            query = query
                .bind(case.reference.as_str())
                .bind(case.kind.as_str())
                .bind(case.stage())
                .bind(case.opened_on.to_string())
                .bind(case.closed.as_ref().map(|(_, d)| d.to_string()))
                .bind(case.notification.panel_reference.as_deref())
                .bind(case.notification.la_reference.as_deref())
                .bind(next.map(|c| c.clock.as_str()))
                .bind(next.map(|c| c.due_in_force().to_string()))
                .bind(encode("a case", case)?)
                .bind(at)
                .bind(case.open_duties().count() as i64)
                // Changed: the scheduler looks at it at its next tick (`store::schedule`).
                .bind((!case.is_closed()).then_some(super::schedule::UNSETTLED));
        }
        query.execute(&mut **tx).await.map_err(query_error("save a case"))?;
    }
    Ok(())
}

/// Replaces the stored clocks of `cases`; `stored` are those that may have clocks
/// stored already (a case numbered in this transaction has none).
pub(super) async fn replace_clocks(tx: &mut Tx<'_>, cases: &[&CaseState], stored: &[&str]) -> Result<(), StoreError> {
    for part in stored.chunks(ROWS_A_STATEMENT) {
        let sql = format!("DELETE FROM clocks WHERE case_reference IN {}", placeholders(tx, 1, part.len()));
        let mut query = sqlx::query(&sql);
        for reference in part {
            query = query.bind(*reference);
        }
        query.execute(&mut **tx).await.map_err(query_error("replace a case's clocks"))?;
    }
    let clocks: Vec<_> = cases.iter().flat_map(|case| case.clocks.iter().map(move |clock| (*case, clock))).collect();
    for part in clocks.chunks(ROWS_A_STATEMENT) {
        let sql = format!(
            "INSERT INTO clocks (case_reference, clock, started_on, due_on, status, closed_on) VALUES {}",
            placeholders(tx, part.len(), 6)
        );
        let mut query = sqlx::query(&sql);
        for (case, clock) in part {
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
    Ok(())
}

/// Appends chronology entries, in order.
pub(super) async fn append_audit(tx: &mut Tx<'_>, rows: &[AuditRow<'_>], at: &str) -> Result<(), StoreError> {
    for part in rows.chunks(ROWS_A_STATEMENT) {
        let sql = format!(
            "INSERT INTO audit (case_reference, at, event, clock, actor, message, detail) VALUES {}",
            placeholders(tx, part.len(), 7)
        );
        let mut query = sqlx::query(&sql);
        for row in part {
            query = query
                .bind(row.case)
                .bind(at)
                .bind(row.entry.event.as_str())
                .bind(row.entry.clock.map(|c| c.as_str()))
                .bind(row.entry.actor.as_deref())
                .bind(row.message)
                .bind(row.entry.detail.as_str());
        }
        query.execute(&mut **tx).await.map_err(query_error("append to the audit log"))?;
    }
    Ok(())
}

/// Holds a message for a person; returns the item's number.
pub(super) async fn hold(tx: &mut Tx<'_>, row: &TriageRow<'_>, at: &str) -> Result<i64, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO triage (message, reason, candidates, created_at, evidence) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(row.message)
    .bind(row.reason)
    .bind(encode("a triage item's candidates", &row.candidates)?)
    .bind(at)
    .bind(row.evidence)
    .fetch_one(&mut **tx)
    .await
    .map_err(query_error("hold a message for triage"))
}

/// `intent` naming triage item `item`, if it is the alert about it and names none yet.
pub(super) fn naming_item(
    intent: &crate::protocol::Intent,
    item: Option<i64>,
) -> std::borrow::Cow<'_, crate::protocol::Intent> {
    match item {
        Some(id) if intent.template == "triage_alert" && !intent.facts.contains_key("item") => {
            let mut with = intent.clone();
            with.facts.insert("item".into(), id.to_string().into());
            std::borrow::Cow::Owned(with)
        }
        _ => std::borrow::Cow::Borrowed(intent),
    }
}
