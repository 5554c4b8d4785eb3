//! Alerts about the service itself rather than a case's protocol: a message held for a
//! person, an email that could not be delivered, the mailbox out of reach and back, the
//! disk full and back. Who receives each comes from configuration (`AlertRecipients`).

use chrono::{DateTime, SecondsFormat, Utc};

use super::{Intent, Purpose, Recipient};
use crate::domain::Role;
use crate::domain::case::CaseRef;
use crate::domain::mailbox::{FilingProblem, Outage};
use crate::domain::message::{Kind, Understood};

/// Who is told of what goes wrong.
#[derive(Debug, Clone)]
pub struct AlertRecipients {
    /// Messages held in triage, and messages given up on.
    pub triage: Vec<Role>,
    /// Each message held in triage is told at once (else only in the daily digest).
    pub triage_each: bool,
    /// Emails that could not be delivered (dead letters).
    pub dead_letters: Vec<Role>,
    /// The mailbox out of reach, and reachable again.
    pub mailbox: Vec<Role>,
    /// The database's disk full, and writable again.
    pub storage: Vec<Role>,
}

impl Default for AlertRecipients {
    fn default() -> Self {
        Self {
            triage: vec![Role::Spa],
            triage_each: false,
            dead_letters: vec![Role::Spa],
            mailbox: vec![Role::Spa],
            storage: vec![Role::Spa],
        }
    }
}

fn to(roles: &[Role]) -> Vec<Recipient> {
    roles.iter().map(|r| Recipient::Role(*r)).collect()
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn alert(roles: &[Role], template: &str, facts: Vec<(&str, String)>, dedupe_key: String, urgent: bool) -> Intent {
    Intent {
        purpose: Purpose::TriageAlert,
        to: to(roles),
        case: None,
        template: template.to_owned(),
        facts: facts.into_iter().map(|(k, v)| (k.to_owned(), v.into())).collect(),
        dedupe_key,
        urgent,
        not_before: None,
    }
}

/// Whether a held message may be one a clock hangs on — a notification, a Panel
/// response, a request for consideration, or something that could not be read — and so
/// must reach a person at once rather than in the next digest.
pub fn may_matter(understood: &Understood) -> bool {
    let found_fields = understood.notification.as_ref().is_some_and(|n| {
        n.aware_date.is_some() || n.notified_date.is_some() || n.panel_reference.is_some() || n.incident_type.is_some()
    });
    !matches!(understood.kind, Kind::Unknown | Kind::AutoReply | Kind::Bounce)
        || found_fields
        || !understood.external_refs.is_empty()
        || !understood.problems.is_empty()
}

/// A message held for a person: told at once when triage alerts go one by one, or when
/// it may matter (`may_matter`); else in the daily digest.
pub fn triaged(recipients: &AlertRecipients, stored_id: i64, reason: &str, may_matter: bool) -> Option<Intent> {
    (recipients.triage_each || may_matter).then(|| {
        alert(
            &recipients.triage,
            "triage_alert",
            vec![("reason", reason.to_owned())],
            format!("message:{stored_id}:triage_alert"),
            false,
        )
    })
}

/// A message given up on (see `failure`): its reason, told once.
pub fn given_up(recipients: &AlertRecipients, stored_id: i64, reason: &str) -> Intent {
    alert(
        &recipients.triage,
        "triage_alert",
        vec![("reason", format!("{reason} (stored message {stored_id})"))],
        format!("message:{stored_id}:failed"),
        false,
    )
}

/// An email that will not be sent: what it was, and why.
pub struct DeadLetter<'a> {
    pub outbox_id: i64,
    pub template: &'a str,
    pub case: Option<CaseRef>,
    pub error: String,
}

/// An email given up on, told at once; `None` when the email was itself a dead-letter
/// alert (an alert about an alert would never end).
pub fn dead_letter(recipients: &AlertRecipients, dead: DeadLetter<'_>) -> Option<Intent> {
    if dead.template == "dead_letter" {
        return None;
    }
    let mut intent = alert(
        &recipients.dead_letters,
        "dead_letter",
        vec![
            ("failed_template", dead.template.to_owned()),
            ("failed_id", dead.outbox_id.to_string()),
            ("error", dead.error),
        ],
        format!("dead:{}", dead.outbox_id),
        true,
    );
    intent.case = dead.case;
    Some(intent)
}

/// The mailbox has been out of reach since `outage.since`.
pub fn mailbox_unreachable(recipients: &AlertRecipients, outage: &Outage) -> Intent {
    alert(
        &recipients.mailbox,
        "mailbox_unreachable",
        vec![
            ("mailbox", outage.mailbox.clone()),
            ("since", stamp(outage.since)),
            ("minutes", (outage.now - outage.since).num_minutes().to_string()),
            ("error", outage.error.clone().unwrap_or_default()),
        ],
        format!("unreachable:{}:{}", outage.mailbox, outage.since.timestamp()),
        true,
    )
}

/// Messages kept but not moved to the processed folder: told once a day while it lasts
/// (the messages are processed all the same; only the filing waits).
pub fn filing_failed(recipients: &AlertRecipients, problem: &FilingProblem) -> Intent {
    alert(
        &recipients.mailbox,
        "filing_failed",
        vec![
            ("mailbox", problem.mailbox.clone()),
            ("folder", problem.folder.clone()),
            ("error", problem.error.clone()),
            ("since", stamp(problem.now)),
        ],
        format!("filing:{}:{}:{}", problem.mailbox, problem.folder, crate::domain::london_date(&problem.now)),
        true,
    )
}

/// The mailbox answers again after an outage someone was told of.
pub fn mailbox_recovered(recipients: &AlertRecipients, outage: &Outage) -> Intent {
    alert(
        &recipients.mailbox,
        "mailbox_recovered",
        vec![("mailbox", outage.mailbox.clone()), ("since", stamp(outage.since)), ("now", stamp(outage.now))],
        format!("recovered:{}:{}", outage.mailbox, outage.since.timestamp()),
        true,
    )
}

/// The database's disk, full since `since`, takes writes again.
pub fn storage_recovered(recipients: &AlertRecipients, since: DateTime<Utc>, now: DateTime<Utc>) -> Intent {
    alert(
        &recipients.storage,
        "storage_recovered",
        vec![("since", stamp(since)), ("now", stamp(now))],
        format!("storage:recovered:{}", since.timestamp()),
        true,
    )
}
