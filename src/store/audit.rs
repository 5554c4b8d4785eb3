//! The chronology of every case (append-only), and the messages held for a person.

use sqlx::Row;

use super::{Store, StoreError, query_error};

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
    /// The words of the message that left it for a person, if any were kept.
    pub evidence: Option<String>,
}

impl Store {
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
            "SELECT id, message, reason, candidates, created_at, resolution, evidence FROM triage WHERE resolved_at IS NULL ORDER BY id"
        } else {
            "SELECT id, message, reason, candidates, created_at, resolution, evidence FROM triage ORDER BY id"
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
                evidence: r.get(6),
            })
            .collect())
    }
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

/// An audit row from `id, at, event, clock, actor, message, detail`.
pub(super) fn audit_row(r: &sqlx::any::AnyRow) -> AuditRow {
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
