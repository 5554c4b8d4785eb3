//! Cases: finding them by reference, numbering new ones, reading them back, and the
//! figures the metrics endpoint shows.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Store, StoreError, query_error};
use crate::domain::case::{CaseRef, CaseState};
use crate::domain::message::Understood;
use crate::protocol::Lookups;

/// A case as listed.
#[derive(Debug, Clone)]
pub struct CaseRow {
    pub state: CaseState,
    pub updated_at: String,
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
    /// What the email is to say, as JSON (`{"case": …, "rapid_review_due": …}`).
    pub facts: String,
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

    pub async fn load_case(&self, reference: &CaseRef) -> Result<Option<CaseState>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(query_error("open a connection"))?;
        load_case_in(&mut conn, reference).await
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

    /// The raw bytes and arrival time of a stored message.
    pub async fn message_raw(&self, id: i64) -> Result<Option<(Vec<u8>, DateTime<Utc>)>, StoreError> {
        message_raw_in(&self.pool, id).await
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
            "SELECT id, case_reference, message, purpose, recipients, template, urgent, facts FROM intents ORDER BY id",
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
                facts: r.get(7),
            })
            .collect())
    }
}

/// What a message may be matched by: the tags it carries and our own Message-IDs it
/// replies to (cases by reference), the Message-IDs it replies to (the cases of those
/// messages) and its Panel and LA references.
pub(super) struct Keys<'a> {
    pub named: Vec<String>,
    pub thread: Vec<&'a str>,
    pub externals: Vec<String>,
}

impl<'a> Keys<'a> {
    pub fn of(understood: &'a Understood, own_domain: &str) -> Self {
        let suffix = format!("@{own_domain}");
        let thread: Vec<&str> =
            understood.in_reply_to.iter().chain(&understood.references).map(String::as_str).collect();
        let mut named: Vec<String> = understood.case_refs.clone();
        named.extend(thread.iter().filter_map(|id| own_reference(id, &suffix)));
        let mut externals: Vec<String> = understood.external_refs.clone();
        if let Some(n) = &understood.notification {
            externals.extend(n.panel_reference.iter().cloned());
            externals.extend(n.la_reference.iter().cloned());
        }
        Keys { named, thread, externals }
    }

    /// Whether a found row `(what, reference, key)` answers one of these keys.
    pub fn wants(&self, what: &str, key: &str) -> bool {
        match what {
            "case" => self.named.iter().any(|k| k == key),
            "thread" => self.thread.contains(&key),
            _ => self.externals.iter().any(|k| k == key),
        }
    }
}

/// The case reference one of our own Message-IDs carries (`REF.rest@domain`).
fn own_reference(id: &str, suffix: &str) -> Option<String> {
    id.to_ascii_lowercase().ends_with(suffix).then(|| id.split(['.', '@']).next().map(str::to_owned)).flatten()
}

/// A row of what lookups found: `(what, case reference, key)`, where `what` is `case`,
/// `thread`, `panel` or `la`.
pub(super) type Found = (String, String, String);

/// The cases a message's references point at, in one query.
pub(super) async fn lookups_in(
    conn: &mut sqlx::AnyConnection,
    understood: &Understood,
    own_domain: &str,
) -> Result<Lookups, StoreError> {
    let keys = Keys::of(understood, own_domain);
    let named: Vec<&str> = keys.named.iter().map(String::as_str).collect();
    let externals: Vec<&str> = keys.externals.iter().map(String::as_str).collect();
    let mut rows = found_in(conn, &named, &keys.thread, &externals).await?;
    Ok(lookups_from(&mut rows, understood, own_domain))
}

/// The rows answering any of these keys, in one query.
pub(super) async fn found_in<'a>(
    conn: &mut sqlx::AnyConnection,
    named: &[&'a str],
    thread: &[&'a str],
    externals: &[&'a str],
) -> Result<Vec<Found>, StoreError> {
    let mut parts = Vec::new();
    let mut binds: Vec<&str> = Vec::new();
    // SQLite looks numbered parameters up by name, a cost that grows with their number.
    let numbered = !conn.backend_name().eq_ignore_ascii_case("sqlite");
    let placeholders_for = |values: &[&'a str], binds: &mut Vec<&'a str>| {
        let start = binds.len();
        binds.extend(values);
        let each = |n: usize| if numbered { format!("${n}") } else { "?".to_owned() };
        (start + 1..=binds.len()).map(each).collect::<Vec<_>>().join(", ")
    };
    if !named.is_empty() {
        let these = placeholders_for(named, &mut binds);
        parts.push(format!("SELECT 'case', reference, reference FROM cases WHERE reference IN ({these})"));
    }
    if !thread.is_empty() {
        let these = placeholders_for(thread, &mut binds);
        parts.push(format!(
            "SELECT DISTINCT 'thread', case_reference, message_id FROM messages WHERE case_reference IS NOT NULL AND message_id IN ({these})"
        ));
    }
    if !externals.is_empty() {
        // Bound once for each part: SQLite's `?` takes the next value wherever it stands.
        let these = placeholders_for(externals, &mut binds);
        parts.push(format!("SELECT 'panel', reference, panel_reference FROM cases WHERE panel_reference IN ({these})"));
        let these = placeholders_for(externals, &mut binds);
        parts.push(format!("SELECT 'la', reference, la_reference FROM cases WHERE la_reference IN ({these})"));
    }
    if parts.is_empty() {
        return Ok(Vec::new());
    }
    let sql = parts.join(" UNION ALL ");
    let mut query = sqlx::query(&sql);
    for value in &binds {
        query = query.bind(*value);
    }
    let found = query.fetch_all(&mut *conn).await.map_err(query_error("look up what a message refers to"))?;
    Ok(found.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
}

/// What `rows` (found for this message's keys, and perhaps others) say it refers to.
pub(super) fn lookups_from(rows: &mut [Found], understood: &Understood, own_domain: &str) -> Lookups {
    rows.sort();
    let suffix = format!("@{own_domain}");
    let keys = Keys::of(understood, own_domain);
    let cases_of = |what: &[&str], key: &str| -> Vec<CaseRef> {
        let mut out: Vec<CaseRef> = Vec::new();
        for (_, reference, _) in rows.iter().filter(|(w, _, k)| what.contains(&w.as_str()) && k == key) {
            if let Ok(r) = CaseRef::parse(reference)
                && !out.contains(&r)
            {
                out.push(r);
            }
        }
        out
    };
    let mut found = Lookups::default();
    for tag in &understood.case_refs {
        match cases_of(&["case"], tag).into_iter().next() {
            Some(r) => found.by_tag.push(r),
            None => found.unknown_tags.push(tag.clone()),
        }
    }
    for id in &keys.thread {
        if let Some(r) =
            own_reference(id, &suffix).and_then(|candidate| cases_of(&["case"], &candidate).into_iter().next())
        {
            found.by_thread.push(r);
            continue;
        }
        found.by_thread.extend(cases_of(&["thread"], id));
    }
    for reference in &keys.externals {
        found.by_external.extend(cases_of(&["panel", "la"], reference));
    }
    found
}

pub(super) async fn next_reference_in(
    conn: &mut sqlx::AnyConnection,
    prefix: &str,
    year: i32,
    digits: usize,
) -> Result<CaseRef, StoreError> {
    let next = u32::try_from(last_number_in(conn, year).await? + 1).unwrap_or(u32::MAX);
    Ok(CaseRef::new(prefix, year, next, digits))
}

/// The last number `year`'s counter gave (0 before its first case).
pub(super) async fn last_number_in(conn: &mut sqlx::AnyConnection, year: i32) -> Result<i64, StoreError> {
    let last: Option<i64> = sqlx::query_scalar("SELECT last_number FROM case_counters WHERE year = $1")
        .bind(i64::from(year))
        .fetch_optional(&mut *conn)
        .await
        .map_err(query_error("read the case counter"))?;
    Ok(last.unwrap_or(0))
}

pub(super) async fn load_case_in(
    conn: &mut sqlx::AnyConnection,
    reference: &CaseRef,
) -> Result<Option<CaseState>, StoreError> {
    let row = sqlx::query("SELECT state FROM cases WHERE reference = $1")
        .bind(reference.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(query_error("load a case"))?;
    row.map(|r| decode(&r.get::<String, _>(0))).transpose()
}

/// A stored case's state.
pub(super) fn decode(text: &str) -> Result<CaseState, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Conflict(format!("a stored case cannot be read: {e}")))
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

/// The raw bytes and arrival time of stored message `id`, read through `executor`.
pub(super) async fn message_raw_in<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    id: i64,
) -> Result<Option<(Vec<u8>, DateTime<Utc>)>, StoreError> {
    let row = sqlx::query(
        "SELECT b.raw, m.arrived_at FROM messages m LEFT JOIN message_bodies b ON b.message = m.id WHERE m.id = $1",
    )
    .bind(id)
    .fetch_optional(executor)
    .await
    .map_err(query_error("read a message"))?;
    Ok(row.map(|r| {
        let arrived =
            DateTime::parse_from_rfc3339(&r.get::<String, _>(1)).map(|d| d.with_timezone(&Utc)).unwrap_or_default();
        (r.get::<Option<Vec<u8>>, _>(0).unwrap_or_default(), arrived)
    }))
}
