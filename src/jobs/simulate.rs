//! Simulation: the daemon's own steps (ingest, tick, digests, delivery) driven by a
//! simulated clock over a folder of messages, each delivered at its `Date:`. Ticks
//! run at the configured schedule's first occurrence of each day and at each digest
//! time: every other tick of the day would find the same dates and queue nothing new.
//! Produces the timeline of what happened, in order.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::London;
use serde::Serialize;

use super::deliver::Outbox;
use super::{ingest, tick};
use crate::config::Config;
use crate::domain::london_date;
use crate::outbound::{Templates, Transport};
use crate::protocol::Recipient;
use crate::store::{NewMessage, Store, StoreError};

/// A message and the moment it is delivered.
pub type Timed = (DateTime<Utc>, PathBuf, Vec<u8>);
/// A moment of the simulation: the scheduler's (`None`) or a message's.
type Step = (DateTime<Utc>, Option<(PathBuf, Vec<u8>)>);

/// One line of the timeline.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Event {
    pub at: String,
    pub kind: String,
    pub case: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Event {
    fn new(at: DateTime<Utc>, kind: &str, case: Option<String>) -> Self {
        Self {
            at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            kind: kind.to_owned(),
            case,
            clock: None,
            due: None,
            to: None,
            purpose: None,
            subject: None,
            detail: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("cannot read the mail folder {path}: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot set up outbound mail: {0}")]
    Outbound(String),
}

/// The messages in a Maildir (`new/`, `cur/`) or a plain folder of `.eml` files, each
/// with the moment it is delivered: its `Date:`.
pub fn load_messages(dir: &Path) -> Result<Vec<Timed>, SimulateError> {
    let read = |p: &Path| {
        std::fs::read_dir(p).map_err(|source| SimulateError::Read { path: p.display().to_string(), cause: source })
    };
    let mut paths = Vec::new();
    for sub in [dir.join("new"), dir.join("cur"), dir.to_path_buf()] {
        if !sub.is_dir() {
            continue;
        }
        for entry in read(&sub)?.flatten() {
            let path = entry.path();
            if path.is_file() && !entry.file_name().to_string_lossy().starts_with('.') {
                paths.push(path);
            }
        }
    }
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let raw = std::fs::read(&path)
            .map_err(|source| SimulateError::Read { path: path.display().to_string(), cause: source })?;
        let date = mail_parser::MessageParser::default()
            .parse_headers(&raw)
            .and_then(|m| m.date().filter(|d| d.is_valid()).map(|d| d.to_timestamp()))
            .and_then(|t| DateTime::from_timestamp(t, 0));
        if let Some(date) = date {
            out.push((date, path, raw));
        }
    }
    out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    Ok(out)
}

fn day_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0)
        .and_then(|t| London.from_local_datetime(&t).earliest())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// The moments the scheduler acts on `day`: its first tick, and the first tick at or
/// after each digest time.
fn tick_times(config: &Config, day: NaiveDate) -> Vec<DateTime<Utc>> {
    let start = day_start(day) - Duration::seconds(1);
    let end = day_start(day + Duration::days(1));
    let mut times: Vec<DateTime<Utc>> = config.tick.after_utc(&start).next().filter(|t| *t < end).into_iter().collect();
    for digest in &config.digests {
        if let Some(at) = digest.schedule.after_utc(&start).next().filter(|t| *t < end)
            && let Some(tick) = config.tick.after_utc(&(at - Duration::seconds(1))).next().filter(|t| *t < end)
        {
            times.push(tick);
        }
    }
    times.sort();
    times.dedup();
    times
}

struct Recorder<'a> {
    store: &'a Store,
    config: &'a Config,
    templates: &'a Templates,
    audit: i64,
    email: i64,
    triage: i64,
    breached: std::collections::BTreeSet<(String, String, NaiveDate)>,
    events: Vec<Event>,
}

impl Recorder<'_> {
    /// Everything that happened since the last call, stamped `at`.
    async fn collect(&mut self, at: DateTime<Utc>) -> Result<(), StoreError> {
        for (row, case) in self.store.audit_after(self.audit).await? {
            self.audit = row.id;
            let kind = match row.event.as_str() {
                "case_opened" | "clock_started" | "clock_met" | "clock_extended" => row.event.clone(),
                // A clock counted again from a corrected date starts anew, with its new due date.
                "clock_moved" => "clock_started".into(),
                "fact_corrected"
                | "correction_proposed"
                | "case_merged"
                | "case_merged_into"
                | "case_closed"
                | "case_reopened"
                | "request_confirmed"
                | "released_from_triage" => row.event.clone(),
                "reply_received" | "notification_repeated" | "panel_response" | "note" | "decision" | "published" => {
                    "case_matched".into()
                }
                _ => continue,
            };
            let mut event = Event::new(at, &kind, Some(case.clone()));
            event.clock = row.clock.clone();
            event.detail = Some(row.detail.clone());
            if kind == "clock_started" || kind == "clock_extended" {
                let state = match crate::domain::case::CaseRef::parse(&case) {
                    Ok(reference) => self.store.load_case(&reference).await?,
                    Err(_) => None,
                };
                event.due = state.and_then(|s| {
                    s.clocks
                        .iter()
                        .rev()
                        .find(|c| Some(c.clock.as_str()) == row.clock.as_deref())
                        .map(|c| c.due_in_force().to_string())
                });
            }
            if kind == "case_matched"
                && self
                    .events
                    .last()
                    .is_some_and(|e| e.kind == "case_matched" && e.case.as_ref() == Some(&case) && e.at == event.at)
            {
                continue;
            }
            self.events.push(event);
        }
        let seen = self.triage;
        for item in self.store.triage(false).await?.into_iter().filter(|t| t.id > seen) {
            self.triage = item.id;
            let mut event = Event::new(at, "triaged", None);
            event.detail = Some(item.reason);
            self.events.push(event);
        }
        let seen = self.email;
        for row in self.store.outbox(None).await?.into_iter().filter(|r| r.id > seen) {
            self.email = row.id;
            if row.status == "cancelled" {
                continue;
            }
            let mut event = Event::new(at, "mail_queued", row.case_reference.clone());
            let mut to = Vec::new();
            for recipient in &row.recipients {
                match recipient {
                    Recipient::Address(a) => to.push(a.clone()),
                    Recipient::Role(role) => to.extend(
                        self.config
                            .members(*role)
                            .map(|m| m.addresses.iter().map(ToString::to_string).collect::<Vec<_>>())
                            .unwrap_or_default(),
                    ),
                }
            }
            event.to = Some(to);
            event.purpose = Some(row.purpose.as_str().to_owned());
            // The daemon's own context: what the simulation shows is what would be sent.
            let context = crate::jobs::deliver::context(&row, self.config);
            event.subject = self.templates.render(&row.template, &context).ok().map(|r| r.subject);
            self.events.push(event);
        }
        Ok(())
    }

    /// Running clocks past their due date, reported once per due date.
    async fn breaches(&mut self, at: DateTime<Utc>) -> Result<(), StoreError> {
        let today = london_date(&at);
        for row in self.store.cases(true).await? {
            for c in row.state.clocks.iter().filter(|c| c.is_running() && c.due_in_force() < today) {
                let key = (row.state.reference.to_string(), c.clock.to_string(), c.due_in_force());
                if self.breached.insert(key) {
                    let mut event = Event::new(at, "clock_breached", Some(row.state.reference.to_string()));
                    event.clock = Some(c.clock.to_string());
                    event.due = Some(c.due_in_force().to_string());
                    self.events.push(event);
                }
            }
        }
        Ok(())
    }
}

/// Runs the simulation from `from` to `until` (inclusive, London dates).
pub async fn run(
    store: &Store,
    config: &Config,
    messages: Vec<Timed>,
    from: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<Event>, SimulateError> {
    let templates = Templates::load(config.outbound.templates_dir.as_deref())
        .map_err(|e| SimulateError::Outbound(e.to_string()))?;
    let transport =
        Transport::new(&config.outbound.transport, None).map_err(|e| SimulateError::Outbound(e.to_string()))?;
    let outbox = Outbox { store, config, transport: &transport, templates: &templates };
    let mut recorder = Recorder {
        store,
        config,
        templates: &templates,
        audit: 0,
        email: 0,
        triage: 0,
        breached: Default::default(),
        events: Vec::new(),
    };
    let mut pending =
        messages.into_iter().filter(|(at, _, _)| london_date(at) >= from && london_date(at) <= until).peekable();
    let mut day = from;
    while day <= until {
        let mut steps: Vec<Step> = tick_times(config, day).into_iter().map(|t| (t, None)).collect();
        while let Some((at, path, raw)) = pending.next_if(|(at, _, _)| london_date(at) <= day) {
            steps.push((at, Some((path, raw))));
        }
        // At the same moment the scheduler acts before a message is taken in.
        steps.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.is_some().cmp(&b.1.is_some())));
        let starts: Vec<DateTime<Utc>> =
            steps.iter().map(|s| s.0).skip(1).chain([day_start(day + Duration::days(1))]).collect();
        for ((at, message), next) in steps.into_iter().zip(starts) {
            match message {
                Some((path, raw)) => {
                    let source = format!("simulation:{}", path.display());
                    store
                        .store_message(&NewMessage {
                            truncated_from: None,
                            source: &source,
                            uidvalidity: None,
                            uid: None,
                            raw: &raw,
                            arrived_at: at,
                        })
                        .await?;
                    let mut event = Event::new(at, "message_received", None);
                    event.detail = path.file_name().map(|f| f.to_string_lossy().into_owned());
                    recorder.events.push(event);
                    ingest::drain(store, config, || at, &|| {}).await?;
                }
                None => {
                    recorder.breaches(at).await?;
                    tick::run(store, config, at).await?;
                    tick::digests(store, config, at).await?;
                }
            }
            recorder.collect(at).await?;
            outbox.drain(|| at).await?;
            // Held emails go when they may (the sending window's opening), so that each
            // is dated when it would really go.
            let mut last = at;
            while let Some(opens) = store.next_held_email().await?.filter(|t| *t > last && *t < next) {
                outbox.drain(|| opens).await?;
                last = opens;
            }
        }
        day += Duration::days(1);
    }
    Ok(recorder.events)
}
