//! The protocol as a pure decision: (case, message, now, configuration) → the case as
//! it becomes, audit entries, outbound intents, or triage with a reason. No I/O, no
//! clock reads: `now` and the calendar come in.

pub mod alerts;
pub mod approvals;
mod args;
mod by_hand;
mod commands;
mod consideration;
mod corrections;
mod criteria;
mod decisions;
mod delays;
mod duties;
mod events;
mod failure;
mod help;
mod matching;
mod merge;
mod notifications;
mod partners;
mod release;
mod replies;
mod rules;
mod schedule;
mod tick;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub use by_hand::{open_at_console, triage_answer};
pub use duties::duty_intents;
pub use failure::{Failure, MAX_ATTEMPTS, failed};
pub use matching::{Lookups, Match, match_case, match_message};
pub use notifications::opens_beside;
pub use rules::Rules;
pub use schedule::{next_step_on, schedule_basis};
pub use tick::{ClockSteps, DigestRow, Rag, TriageRow, clock_steps, digest_due, digest_intents, digest_row, on_tick};

use crate::domain::case::{CaseRef, CaseState, ClockInstance, ClockStatus};
use crate::domain::clock::{ClockId, due_date};
use crate::domain::message::{Trust, Understood};
use crate::domain::{EmailAddress, Role, london_date};

/// A message as it reaches the decision.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    /// The stored message's id: intents and audit point back to it.
    pub stored_id: i64,
    pub understood: &'a Understood,
    pub arrived_at: DateTime<Utc>,
    /// What caused it when it is no stored message (a command given at the console):
    /// its intents are keyed by this instead.
    pub cause: Option<String>,
}

impl Incoming<'_> {
    /// The London date of what the sender wrote (its Date:, else its arrival).
    pub fn written_on(&self) -> NaiveDate {
        london_date(&self.understood.date.unwrap_or(self.arrived_at))
    }

    pub fn sender(&self) -> Option<EmailAddress> {
        self.understood.from.address.as_deref().and_then(|a| EmailAddress::parse(a).ok())
    }
}

/// What the protocol writes to, by role or to one address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    Role(Role),
    Address(String),
}

/// Why an email is sent (the outbox's and the simulation's vocabulary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Acknowledgement,
    Reminder,
    Escalation,
    ApprovalRequest,
    NoticeDraft,
    CommandReply,
    TriageAlert,
    ReferralAlert,
    LateNotice,
    Digest,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Acknowledgement => "acknowledgement",
            Purpose::Reminder => "reminder",
            Purpose::Escalation => "escalation",
            Purpose::ApprovalRequest => "approval_request",
            Purpose::NoticeDraft => "notice_draft",
            Purpose::CommandReply => "command_reply",
            Purpose::TriageAlert => "triage_alert",
            Purpose::ReferralAlert => "referral_alert",
            Purpose::LateNotice => "late_notice",
            Purpose::Digest => "digest",
        }
    }

    /// The purpose stored as `text` (`as_str`'s inverse).
    pub fn parse(text: &str) -> Option<Purpose> {
        const ALL: [Purpose; 10] = [
            Purpose::Acknowledgement,
            Purpose::Reminder,
            Purpose::Escalation,
            Purpose::ApprovalRequest,
            Purpose::NoticeDraft,
            Purpose::CommandReply,
            Purpose::TriageAlert,
            Purpose::ReferralAlert,
            Purpose::LateNotice,
            Purpose::Digest,
        ];
        ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// Emails of this purpose go at once, whatever the hour: an answer to someone who
    /// just wrote (an acknowledgement, a command's reply, a referral's redirection).
    pub fn goes_at_once(self) -> bool {
        matches!(self, Purpose::Acknowledgement | Purpose::CommandReply | Purpose::ReferralAlert)
    }
}

/// An email the protocol wants sent; the outbox delivers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    pub purpose: Purpose,
    pub to: Vec<Recipient>,
    pub case: Option<CaseRef>,
    /// The template that words it.
    pub template: String,
    /// What the template may say: references, dates, outcomes — never a child's details.
    /// Typed as the template reads them: text, and lists that stay lists (a digest's rows).
    pub facts: BTreeMap<String, serde_json::Value>,
    /// Unique per email, so that replaying a decision adds nothing.
    pub dedupe_key: String,
    /// Sent at once, outside the sending window too.
    pub urgent: bool,
    /// Held back until then (an alert that gathers what follows it).
    pub not_before: Option<DateTime<Utc>>,
}

/// A dedupe key that coalesces: a second intent with it, while the first still waits,
/// adds one to the first's count instead of being dropped.
pub const COALESCE: &str = "coalesce:";

/// One line of a case's chronology.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub event: String,
    pub clock: Option<ClockId>,
    pub actor: Option<String>,
    pub detail: String,
}

/// The case a message was matched to.
#[derive(Debug, Clone)]
pub enum Target {
    /// A new case, with the reference it will have.
    New(CaseRef),
    Existing(Box<CaseState>),
    /// A new case, with the reference it will have, beside the closed case the message
    /// matched (`opens_beside`).
    Beside {
        reference: CaseRef,
        closed: Box<CaseState>,
    },
    /// A MERGE sent on a duplicate's thread, with the case it names (if it exists).
    Merge {
        duplicate: Box<CaseState>,
        into: Option<Box<CaseState>>,
    },
    /// No case (referrals, unmatched auto-replies, …).
    None,
}

/// What a decision produced.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The case as it becomes (new or changed); `None` when no case is touched.
    pub case: Option<CaseState>,
    pub audit: Vec<AuditEntry>,
    pub intents: Vec<Intent>,
    /// Held for a person, with the reason; nothing else happens.
    pub triage: Option<String>,
    /// The cases a triaged message might belong to.
    pub candidates: Vec<CaseRef>,
    /// The words of the message that left it for a person (kept in the triage record,
    /// never emailed or logged).
    pub evidence: Option<String>,
    /// A TRIAGE reply's order, for the job to carry out with the held message at hand.
    pub order: Option<(i64, crate::domain::facts::TriageOrder)>,
    /// A duplicate joined into `case` (`MERGE`), as it becomes, with its own chronology
    /// entries: the store moves its messages and chronology to `case`.
    pub merged: Option<(Box<CaseState>, Vec<AuditEntry>)>,
}

impl Outcome {
    pub fn triage(reason: impl Into<String>) -> Self {
        Self { triage: Some(reason.into()), ..Self::default() }
    }
}

/// What a decision may consult.
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    pub rules: Rules<'a>,
    /// Who released the message from triage, if a person did. A release ties the
    /// message to a case (or opens one) in that person's name; it is not the claimed
    /// sender's signature, so a released staff command or approval is never run.
    pub released_by: Option<String>,
}

/// Builds outcomes: audit lines and intents keyed to what caused them (a message, or
/// the scheduler).
pub(crate) struct Builder<'a> {
    /// Unique per cause: intents' dedupe keys start with it.
    cause: String,
    /// Who acted, if anyone: the sender's address, or the person who released the
    /// message from triage.
    pub actor: Option<String>,
    /// Where replies to the message go: its sender's address.
    reply_to: Option<String>,
    /// The sender's address when it was not authenticated: named in the chronology as
    /// claimed, never as the actor.
    claimed: Option<String>,
    pub ctx: &'a Context<'a>,
    pub out: Outcome,
}

impl<'a> Builder<'a> {
    pub fn new(incoming: &'a Incoming<'a>, ctx: &'a Context<'a>) -> Self {
        let authenticated = matches!(incoming.understood.trust, Trust::Trusted | Trust::Authenticated);
        let sender = incoming.understood.from.address.clone();
        Self {
            cause: incoming.cause.clone().unwrap_or_else(|| format!("message:{}", incoming.stored_id)),
            actor: ctx.released_by.clone().or_else(|| authenticated.then(|| sender.clone()).flatten()),
            reply_to: sender.clone(),
            claimed: if authenticated || ctx.released_by.is_some() { None } else { sender },
            ctx,
            out: Outcome::default(),
        }
    }

    /// For a decision of the scheduler's, keyed by `cause`.
    pub fn scheduled(cause: String, ctx: &'a Context<'a>) -> Self {
        Self { cause, actor: None, reply_to: None, claimed: None, ctx, out: Outcome::default() }
    }

    pub fn audit(&mut self, event: &str, clock: Option<ClockId>, detail: impl Into<String>) {
        let actor = self.actor.clone();
        let mut detail = detail.into();
        if let Some(claimed) = &self.claimed {
            detail.push_str(&format!(" (claimed sender {claimed}, not authenticated)"));
        }
        self.out.audit.push(AuditEntry { event: event.to_owned(), clock, actor, detail });
    }

    pub fn intent(
        &mut self,
        purpose: Purpose,
        to: Vec<Recipient>,
        case: Option<&CaseRef>,
        template: &str,
        facts: &[(&str, String)],
        urgent: bool,
    ) {
        let n = self.out.intents.len();
        let mut facts: BTreeMap<String, serde_json::Value> =
            facts.iter().map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(v.clone()))).collect();
        if let Some(case) = case {
            facts.insert("case".into(), case.to_string().into());
        }
        self.out.intents.push(Intent {
            purpose,
            to,
            case: case.cloned(),
            template: template.to_owned(),
            facts,
            dedupe_key: format!("{}:{template}:{n}", self.cause),
            urgent,
            not_before: None,
        });
    }

    /// Gives the intent just added its own dedupe key (replacing the per-cause one) and
    /// holds it back until `not_before`: for emails limited across causes.
    pub fn rekey_last(&mut self, dedupe_key: String, not_before: Option<DateTime<Utc>>) {
        if let Some(intent) = self.out.intents.last_mut() {
            intent.dedupe_key = dedupe_key;
            intent.not_before = not_before;
        }
    }

    /// A reply to whoever sent the message.
    pub fn reply_to_sender(&self) -> Vec<Recipient> {
        self.reply_to.iter().map(|a| Recipient::Address(a.clone())).collect()
    }

    /// Starts a clock on `state` from `start`, unless the same clock is running.
    pub fn start_clock(&mut self, state: &mut CaseState, clock: ClockId, start: NaiveDate) {
        let Some(def) = self.ctx.rules.clock(clock).filter(|d| d.enabled) else { return };
        if state.running(clock).is_some() {
            return;
        }
        let Ok(due) = due_date(def, start, self.ctx.rules.calendar) else {
            self.audit("clock_not_started", Some(clock), format!("{clock}: no due date can be found from {start}"));
            return;
        };
        state.clocks.push(ClockInstance {
            clock,
            started: start,
            due,
            extensions: Vec::new(),
            status: ClockStatus::Running,
            closed_on: None,
            basis: None,
        });
        self.audit("clock_started", Some(clock), format!("{clock} {} started {start}, due {due}", def.title));
    }

    /// Completes a running clock on `on`: met, or met late.
    pub fn complete_clock(&mut self, state: &mut CaseState, clock: ClockId, on: NaiveDate) -> bool {
        let Some(instance) = state.running_mut(clock) else { return false };
        let late = on > instance.due_in_force();
        instance.status = if late { ClockStatus::MetLate } else { ClockStatus::Met };
        instance.closed_on = Some(on);
        let due = instance.due_in_force();
        self.audit(
            "clock_met",
            Some(clock),
            format!("{clock} completed {on} (due {due}){}", if late { ", late" } else { "" }),
        );
        true
    }
}

/// Decides what one message does to its case.
pub fn decide(target: Target, incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    let mut out = release::decide(target, incoming, ctx);
    if let Some(case) = out.case.as_ref() {
        help::add_footers(case, &mut out.intents, ctx);
    }
    out
}
