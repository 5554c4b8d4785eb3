//! Delivery, one email at a time: claim the next due outbox row, word it, send it, mark
//! it sent the moment the server accepts it, then keep a copy in Sent. A crash can leave
//! a row `sending`; `reconcile` looks for a copy in Sent before it is sent again, so an
//! email goes twice only if the process died between the server's acceptance and the
//! commit that follows it (and then with the same Message-ID).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::backoff::Backoff;
use crate::config::Config;
use crate::outbound::{Envelope, Templates, Transport, compose, message_id};
use crate::protocol::Recipient;
use crate::protocol::alerts::{self, DeadLetter};
use crate::store::{OutboxRow, Store, StoreError};

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Sent(i64),
    /// Outside the sending window: held until it opens.
    Deferred(i64),
    /// A temporary failure: tried again later.
    Retrying(i64),
    /// Given up: a dead letter.
    Dead(i64),
    Idle,
}

/// What the worker works with.
pub struct Outbox<'a> {
    pub store: &'a Store,
    pub config: &'a Config,
    pub transport: &'a Transport,
    pub templates: &'a Templates,
}

/// The longest pause between attempts to record an accepted email (about two minutes
/// of attempts in all).
const MAX_RECORD_WAIT: Duration = Duration::from_secs(60);

/// What the Sent copy of an approval request shows instead of the approver's token.
pub const WITHHELD: &str = "<token withheld from this copy: only the approver's own email carries it>";

/// Emails that go at once, whatever the hour.
fn immediate(row: &OutboxRow) -> bool {
    row.urgent || row.purpose.goes_at_once()
}

fn addresses(row: &OutboxRow, config: &Config) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for recipient in &row.recipients {
        let found: Vec<String> = match recipient {
            Recipient::Address(a) => vec![a.clone()],
            Recipient::Role(role) => {
                config.members(*role).map(|m| m.addresses.iter().map(ToString::to_string).collect()).unwrap_or_default()
            }
        };
        for a in found {
            if !out.iter().any(|o| o.eq_ignore_ascii_case(&a)) {
                out.push(a);
            }
        }
    }
    out
}

/// What a template is given for `row`: its facts as they were typed, the partnership's
/// names and the referral advice. The daemon and the simulation render through this.
pub fn context(row: &OutboxRow, config: &Config) -> Value {
    let mut facts: serde_json::Map<String, Value> = row
        .facts
        .iter()
        .map(|(k, v)| match v {
            // A list queued before facts kept their types was stored as its JSON text.
            Value::String(text) if k.ends_with("_list") => (k.clone(), serde_json::from_str(text).unwrap_or_default()),
            other => (k.clone(), other.clone()),
        })
        .collect();
    facts.insert(
        "partnership".into(),
        json!({"name": config.partnership.name, "short_name": config.partnership.short_name, "mailbox": config.partnership.mailbox.as_str()}),
    );
    facts.insert("referral_advice".into(), Value::String(config.partnership.referral_advice.clone()));
    facts.insert("count".into(), json!(row.coalesced));
    if let Some(case) = &row.case_reference {
        facts.entry("case").or_insert(Value::String(case.clone()));
    }
    Value::Object(facts)
}

impl Outbox<'_> {
    /// Settles rows a crash left `sending`: sent if their copy is found, else queued again.
    pub async fn reconcile(&self) -> Result<usize, StoreError> {
        let in_flight = self.store.emails_in_flight().await?;
        for row in &in_flight {
            let found = match &row.message_id {
                Some(id) => self.transport.was_sent(id).await,
                None => Ok(Some(false)),
            };
            match found {
                Ok(Some(true)) => {
                    tracing::info!(email = row.id, "found in Sent after a restart: marked sent");
                    self.store.email_sent(row.id, Utc::now()).await?;
                }
                Ok(_) => self.store.email_back_to_pending(row.id).await?,
                Err(error) => {
                    tracing::warn!(email = row.id, %error, "cannot look in Sent yet; the email stays in flight");
                }
            }
        }
        Ok(in_flight.len())
    }

    /// Sends the next due email.
    pub async fn try_step(&self, now: DateTime<Utc>) -> Result<Delivery, StoreError> {
        let Some(row) = self.store.next_due_email(now).await? else { return Ok(Delivery::Idle) };
        let window = &self.config.sending_window;
        if !immediate(&row) && !window.is_open(now, &self.config.calendar) {
            let opens = window.next_open(now, &self.config.calendar);
            self.store.defer_email(row.id, opens).await?;
            return Ok(Delivery::Deferred(row.id));
        }
        let to = addresses(&row, self.config);
        if to.is_empty() {
            return self.dead(&row, "no address for its recipients".into(), now).await;
        }
        let domain = &self.config.intake.own_message_id_domain;
        let id = message_id(row.case_reference.as_deref(), &row.dedupe_key, domain);
        if !self.store.claim_email(row.id, &id).await? {
            return Ok(Delivery::Idle);
        }
        crate::fault::point("delivery:claimed");
        let rendered = match self.templates.render(&row.template, &context(&row, self.config)) {
            Ok(r) => r,
            Err(e) => return self.dead(&row, e.to_string(), now).await,
        };
        let envelope = Envelope {
            from_name: &self.config.partnership.name,
            from: self.config.partnership.mailbox.as_str(),
            to: &to,
            message_id: &id,
            case: row.case_reference.as_deref(),
            domain,
            date: now.into(),
        };
        let raw = match compose(&envelope, &rendered) {
            Ok(raw) => raw,
            Err(e) => return self.dead(&row, e.to_string(), now).await,
        };
        // The copy in Sent is read by everyone with access to the shared mailbox: an
        // approval token appears only in the approver's own email.
        let copy: Option<std::borrow::Cow<'_, [u8]>> = if row.facts.contains_key("token") {
            let mut redacted = context(&row, self.config);
            redacted["token"] = Value::String(WITHHELD.into());
            let rendered = self.templates.render(&row.template, &redacted).ok();
            rendered.and_then(|r| compose(&envelope, &r).ok()).map(std::borrow::Cow::Owned)
        } else {
            Some(std::borrow::Cow::Borrowed(raw.as_slice()))
        };
        // A leader paused since the claim, and replaced meanwhile, sends nothing.
        self.store.still_fenced().await?;
        match self.transport.send(self.config.partnership.mailbox.as_str(), &to, &id, &raw).await {
            Ok(()) => {}
            Err(error) if error.is_permanent() => return self.dead(&row, error.to_string(), now).await,
            Err(error) => {
                let attempts = row.attempts + 1;
                if attempts >= self.config.outbound.max_attempts {
                    return self.dead(&row, error.to_string(), now).await;
                }
                let mut backoff = Backoff::new(self.config.outbound.retry_base, Duration::from_secs(3600));
                let mut wait = backoff.next_delay();
                for _ in 1..attempts {
                    wait = backoff.next_delay();
                }
                let next = now + chrono::Duration::from_std(wait).unwrap_or_default();
                tracing::warn!(email = row.id, %error, attempts, "email not sent; will try again");
                self.store.email_failed(row.id, next, &error.to_string()).await?;
                return Ok(Delivery::Retrying(row.id));
            }
        }
        crate::fault::point("delivery:accepted");
        // Recorded at once: the only moment a crash can cause a second copy (with the
        // same Message-ID) is between the server's acceptance and this commit.
        self.record_sent(row.id, now).await?;
        match &copy {
            Some(copy) => {
                if let Err(error) = self.transport.keep_copy(copy).await {
                    tracing::warn!(email = row.id, %error, "sent, but no copy could be kept in Sent");
                }
            }
            None => tracing::warn!(email = row.id, "sent; no copy kept in Sent (its token could not be withheld)"),
        }
        crate::fault::point("delivery:copied");
        if self.transport.writes_files() {
            tracing::info!(email = row.id, case = row.case_reference.as_deref().unwrap_or(""), template = %row.template, "email written to a file (not sent)");
        } else {
            tracing::info!(email = row.id, case = row.case_reference.as_deref().unwrap_or(""), template = %row.template, "email sent");
        }
        Ok(Delivery::Sent(row.id))
    }

    /// Records an email the server has accepted. A busy store (SQLite's write lock held
    /// by processing, a PostgreSQL failover) is waited out here rather than reported:
    /// left unrecorded, the email would be sent a second time.
    async fn record_sent(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut wait = Duration::from_millis(50);
        loop {
            match self.store.email_sent(id, now).await {
                Ok(()) => return Ok(()),
                Err(error) if error.is_transient() && wait <= MAX_RECORD_WAIT => {
                    tracing::warn!(email = id, %error, "sent, but not yet recorded: trying again");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                Err(error) => return Err(error),
            }
        }
    }

    async fn dead(&self, row: &OutboxRow, error: String, now: DateTime<Utc>) -> Result<Delivery, StoreError> {
        tracing::error!(email = row.id, %error, "email set aside as a dead letter");
        self.store.email_dead(row.id, &error).await?;
        let dead = DeadLetter {
            outbox_id: row.id,
            template: &row.template,
            case: row.case_reference.as_deref().and_then(|c| crate::domain::case::CaseRef::parse(c).ok()),
            error,
        };
        if let Some(alert) = alerts::dead_letter(&self.config.alerts, dead) {
            self.store.add_intent(&alert, None, now).await?;
        }
        Ok(Delivery::Dead(row.id))
    }

    /// Steps until nothing is due now.
    pub async fn drain(&self, now: impl Fn() -> DateTime<Utc>) -> Result<usize, StoreError> {
        let mut sent = 0;
        loop {
            match self.try_step(now()).await? {
                Delivery::Idle => return Ok(sent),
                Delivery::Sent(_) => sent += 1,
                _ => {}
            }
        }
    }
}
