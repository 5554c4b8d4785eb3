//! A batch of messages recorded at its end: what its messages refer to is read for all
//! of them in one query when the batch begins, each message then sees the database as
//! it was plus what the messages before it decided (kept here), and everything is
//! written in a handful of multi-row statements when the batch ends.
//!
//! The rows end as they would after the messages went one at a time — the same
//! messages, cases, clocks, chronology, triage items, emails and counters, and the same
//! order of chronology, triage and email rows; only surrogate ids of cases and clocks
//! (never referred to) may differ, as a case changed twice is written once.
//!
//! Only the plain path is kept here — a message marked processed, a case opened or
//! changed, its chronology, triage items and emails. Anything else a batch is asked to
//! do (a merge, a triage item resolved, a read this overlay cannot answer) writes what
//! is kept first and goes on statement by statement (`Batch::go_direct`).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::cases::{Found, Keys, lookups_from};
use super::outbox::{NewIntent, insert_intents};
use super::rows::{self, AuditRow, TriageRow};
use super::{StoreError, placeholders, query_error};
use crate::domain::case::CaseState;
use crate::domain::message::Understood;
use crate::protocol::{AuditEntry, Intent, Lookups, Outcome};

type Tx<'t> = sqlx::Transaction<'t, sqlx::Any>;

/// Messages a statement when they are marked processed.
const MESSAGES_A_STATEMENT: usize = 200;

/// Values bound to one lookup query at most.
const BINDS_A_QUERY: usize = 10_000;

/// One message of the batch, as the batch knows it before it is processed.
pub struct Ahead<'a> {
    pub stored_id: i64,
    /// Its Message-ID as stored.
    pub message_id: Option<&'a str>,
    /// What it was understood to be (`None`: it could not be read).
    pub understood: Option<&'a Understood>,
}

/// A message as it will be marked.
struct Marked {
    id: i64,
    kind: String,
    trust: String,
    summary: String,
    case: Option<String>,
    failure: Option<String>,
}

fn distinct(values: Vec<&str>) -> Vec<&str> {
    let mut seen = HashSet::new();
    values.into_iter().filter(|v| seen.insert(*v)).collect()
}

/// A message to be held for a person.
struct Held {
    message: i64,
    reason: String,
    candidates: Vec<String>,
    evidence: Option<String>,
}

/// What a batch has decided and not yet written.
pub(super) struct Deferred {
    /// When the batch's decisions were made (`stamp`ed).
    pub at: String,
    /// What the batch's messages' keys found in the database when it began.
    found: Vec<Found>,
    /// The stored Message-IDs of the batch's messages.
    message_ids: HashMap<i64, String>,
    /// Cases as the batch left them, by reference.
    cases: BTreeMap<String, CaseState>,
    /// Cases numbered in this batch: no clocks stored yet.
    opened: HashSet<String>,
    /// Cases read from the database, as read.
    loaded: HashMap<String, Option<CaseState>>,
    /// Each year's case counter: as read, and as taken by this batch.
    counters: BTreeMap<i32, (i64, i64)>,
    marked: Vec<Marked>,
    audit: Vec<(String, AuditEntry, Option<i64>)>,
    triage: Vec<Held>,
    /// Emails in order, with their message and the triage item (index) they are about.
    intents: Vec<(Intent, Option<i64>, Option<usize>)>,
}

impl Deferred {
    /// Reads, in one query, what any of `ahead` refers to.
    pub async fn begin(tx: &mut Tx<'_>, ahead: &[Ahead<'_>], own_domain: &str, at: String) -> Result<Self, StoreError> {
        let keys: Vec<Keys<'_>> = ahead.iter().filter_map(|a| a.understood).map(|u| Keys::of(u, own_domain)).collect();
        let named = distinct(keys.iter().flat_map(|k| k.named.iter().map(String::as_str)).collect());
        let thread = distinct(keys.iter().flat_map(|k| k.thread.iter().copied()).collect());
        let externals = distinct(keys.iter().flat_map(|k| k.externals.iter().map(String::as_str)).collect());
        // One query, unless the batch's keys pass what one statement may bind (SQLite
        // takes 32,766 parameters; a batch of messages each naming the most it may
        // names about 46,000): then in parts, each key answered on its own anyway.
        let found = if named.len() + thread.len() + 2 * externals.len() <= BINDS_A_QUERY {
            super::cases::found_in(tx, &named, &thread, &externals).await?
        } else {
            let mut found = Vec::new();
            for part in named.chunks(BINDS_A_QUERY) {
                found.extend(super::cases::found_in(tx, part, &[], &[]).await?);
            }
            for part in thread.chunks(BINDS_A_QUERY) {
                found.extend(super::cases::found_in(tx, &[], part, &[]).await?);
            }
            for part in externals.chunks(BINDS_A_QUERY / 2) {
                found.extend(super::cases::found_in(tx, &[], &[], part).await?);
            }
            found
        };
        Ok(Deferred {
            at,
            found,
            message_ids: ahead.iter().filter_map(|a| Some((a.stored_id, a.message_id?.to_owned()))).collect(),
            cases: BTreeMap::new(),
            opened: HashSet::new(),
            loaded: HashMap::new(),
            counters: BTreeMap::new(),
            marked: Vec::new(),
            audit: Vec::new(),
            triage: Vec::new(),
            intents: Vec::new(),
        })
    }

    /// What `understood` refers to: the database as the batch found it, with the cases
    /// and messages of the batch as they are now.
    pub fn lookups(&self, understood: &Understood, own_domain: &str) -> Lookups {
        let keys = Keys::of(understood, own_domain);
        let mut rows: Vec<Found> = self
            .found
            .iter()
            .filter(|(what, reference, key)| {
                keys.wants(what, key) && (what == "thread" || !self.cases.contains_key(reference))
            })
            .cloned()
            .collect();
        for (reference, case) in &self.cases {
            let written = [
                ("case", Some(reference.as_str())),
                ("panel", case.notification.panel_reference.as_deref()),
                ("la", case.notification.la_reference.as_deref()),
            ];
            for (what, key) in written {
                if let Some(key) = key.filter(|k| keys.wants(what, k)) {
                    rows.push((what.to_owned(), reference.clone(), key.to_owned()));
                }
            }
        }
        for marked in &self.marked {
            if let (Some(case), Some(id)) = (&marked.case, self.message_ids.get(&marked.id))
                && keys.wants("thread", id)
            {
                rows.push(("thread".to_owned(), case.clone(), id.clone()));
            }
        }
        rows.sort();
        rows.dedup();
        lookups_from(&mut rows, understood, own_domain)
    }

    /// Case `reference` as the batch knows it: `None` if it has not been read yet.
    pub fn case(&self, reference: &str) -> Option<Option<CaseState>> {
        match self.cases.get(reference) {
            Some(case) => Some(Some(case.clone())),
            None => self.loaded.get(reference).cloned(),
        }
    }

    pub fn loaded(&mut self, reference: &str, case: Option<CaseState>) {
        self.loaded.insert(reference.to_owned(), case);
    }

    /// The last number `year`'s counter gave, if the batch has read it.
    pub fn last_number(&self, year: i32) -> Option<i64> {
        self.counters.get(&year).map(|(_, taken)| *taken)
    }

    pub fn counter_read(&mut self, year: i32, last: i64) {
        self.counters.insert(year, (last, last));
    }

    /// Keeps what one processed message decided.
    pub fn record(&mut self, processed: &super::Processed<'_>, outcome: &Outcome) -> Result<(), StoreError> {
        if let Some(case) = &outcome.case {
            let reference = case.reference.as_str().to_owned();
            if let Some(year) = processed.new_case_year {
                let number = case.reference.number().map(i64::from);
                let counter = self.counters.entry(year).or_insert((0, 0));
                if number != Some(counter.1 + 1) {
                    return Err(StoreError::Conflict(format!("case number of {reference} is not the next of {year}")));
                }
                counter.1 += 1;
                self.opened.insert(reference.clone());
            }
            self.audit.extend(
                outcome.audit.iter().map(|entry| (reference.clone(), entry.clone(), Some(processed.stored_id))),
            );
            self.cases.insert(reference, case.clone());
        }
        let item = outcome.triage.as_ref().map(|reason| {
            self.triage.push(Held {
                message: processed.stored_id,
                reason: reason.clone(),
                candidates: outcome.candidates.iter().map(|c| c.to_string()).collect(),
                evidence: outcome.evidence.clone(),
            });
            self.triage.len() - 1
        });
        self.intents.extend(outcome.intents.iter().map(|intent| (intent.clone(), Some(processed.stored_id), item)));
        self.marked.push(Marked {
            id: processed.stored_id,
            kind: processed.kind.to_owned(),
            trust: processed.trust.to_owned(),
            summary: processed.summary.to_owned(),
            case: outcome.case.as_ref().map(|c| c.reference.to_string()),
            failure: processed.failure.map(str::to_owned),
        });
        Ok(())
    }

    /// Writes everything kept, in `tx`.
    pub async fn write(self, tx: &mut Tx<'_>) -> Result<(), StoreError> {
        let at = self.at.as_str();
        for (year, (read, taken)) in &self.counters {
            if taken > read {
                rows::take_case_numbers(tx, *year, *read, *taken).await?;
            }
        }
        for part in self.marked.chunks(MESSAGES_A_STATEMENT) {
            let sql = format!(
                "UPDATE messages SET state = 'processed', kind = v.column2, trust = v.column3, summary = v.column4,
                   case_reference = v.column5, failure = v.column6
                 FROM (VALUES {}) AS v WHERE messages.id = v.column1 AND messages.state <> 'processed'",
                placeholders(tx, part.len(), 6)
            );
            let mut query = sqlx::query(&sql);
            for m in part {
                query = query
                    .bind(m.id)
                    .bind(m.kind.as_str())
                    .bind(m.trust.as_str())
                    .bind(m.summary.as_str())
                    .bind(m.case.as_deref())
                    .bind(m.failure.as_deref());
            }
            let marked = query.execute(&mut **tx).await.map_err(query_error("mark messages processed"))?;
            // One was processed meanwhile by another instance: the batch goes again,
            // a message at a time, and leaves that one as it is.
            if marked.rows_affected() != part.len() as u64 {
                return Err(StoreError::Conflict("a message of the batch was processed meanwhile".into()));
            }
        }
        crate::fault::point("processing:message-marked");
        let cases: Vec<&CaseState> = self.cases.values().collect();
        rows::upsert_cases(tx, &cases, at).await?;
        crate::fault::point("processing:case-saved");
        let stored: Vec<&str> =
            self.cases.keys().filter(|r| !self.opened.contains(r.as_str())).map(String::as_str).collect();
        rows::replace_clocks(tx, &cases, &stored).await?;
        let audit: Vec<AuditRow<'_>> = self
            .audit
            .iter()
            .map(|(case, entry, message)| AuditRow { case: case.as_str(), entry, message: *message })
            .collect();
        rows::append_audit(tx, &audit, at).await?;
        crate::fault::point("processing:audit-written");
        let mut items = Vec::with_capacity(self.triage.len());
        for held in &self.triage {
            let row = TriageRow {
                message: Some(held.message),
                reason: &held.reason,
                candidates: held.candidates.clone(),
                evidence: held.evidence.as_deref(),
            };
            items.push(rows::hold(tx, &row, at).await?);
        }
        let named: Vec<_> = self
            .intents
            .iter()
            .map(|(intent, message, item)| (rows::naming_item(intent, item.map(|i| items[i])), *message))
            .collect();
        let rows: Vec<NewIntent<'_>> =
            named.iter().map(|(intent, message)| NewIntent { intent, message: *message, not_before: None }).collect();
        insert_intents(tx, &rows, at).await?;
        Ok(())
    }
}
