//! What a message was understood to be: its kind, the sender's trust, the forwarded
//! original and the notification fields. Plain data, produced by `understand`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

pub use super::incident::IncidentType;

/// A display name and address as written in a header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Sender {
    pub name: Option<String>,
    pub address: Option<String>,
}

/// What kind of message this is; when several fit, the first in this order wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Bounce,
    AutoReply,
    StaffCommand,
    PanelResponse,
    Notification,
    Referral,
    ConsiderationRequest,
    CaseReply,
    Unknown,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Bounce => "bounce",
            Kind::AutoReply => "auto_reply",
            Kind::StaffCommand => "staff_command",
            Kind::PanelResponse => "panel_response",
            Kind::Notification => "notification",
            Kind::Referral => "referral",
            Kind::ConsiderationRequest => "consideration_request",
            Kind::CaseReply => "case_reply",
            Kind::Unknown => "unknown",
        }
    }
}

/// Whether the sender is who it claims to be and may act for its role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    /// Authenticated and holds a role: may act for it.
    Trusted,
    /// The From domain is authenticated, but the address holds no role.
    Authenticated,
    /// Not authenticated (or the From field is not one clear address).
    Untrusted,
    /// No authserv-id or results profile is configured, so authentication cannot be judged.
    Unknown,
}

impl Trust {
    pub fn as_str(self) -> &'static str {
        match self {
            Trust::Trusted => "trusted",
            Trust::Authenticated => "authenticated",
            Trust::Untrusted => "untrusted",
            Trust::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PanelOutcome {
    Agree,
    Disagree,
    /// The Panel asks for more before it takes a view.
    MoreInformation,
    Unclear,
}

/// The outermost forwarded original.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Forwarded {
    pub from: Sender,
    pub date: Option<DateTime<Utc>>,
    pub subject: Option<String>,
    #[serde(skip)]
    pub body: String,
}

/// The fields of a Panel notification copy. Child identifiers are kept for the case
/// but never serialised or logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
pub struct NotificationFields {
    pub local_authority: Option<String>,
    pub incident_type: Option<IncidentType>,
    pub aware_date: Option<NaiveDate>,
    pub notified_date: Option<NaiveDate>,
    pub panel_reference: Option<String>,
    pub la_reference: Option<String>,
    pub children: Option<u32>,
    pub looked_after: Option<bool>,
    pub abuse_or_neglect_suspected: Option<bool>,
    /// Dates read with their year or week inferred ("30 November", "on Friday"):
    /// provisional until a person confirms them (`aware_date`, `notified_date`).
    /// Written as `provisional_dates`: a case stores these fields flat beside its own
    /// `provisional` (a request not yet confirmed).
    #[serde(default, rename = "provisional_dates", skip_serializing_if = "Vec::is_empty")]
    pub provisional: Vec<String>,
    /// Never written out with the fields (a case keeps them apart, in `child`).
    #[serde(skip)]
    pub child_identifiers: ChildIdentifiers,
}

impl NotificationFields {
    /// Fills what is still unknown from `other` (another copy of the notification);
    /// nothing known is overwritten, except a provisional date that `other` gives firmly.
    /// Returns those dates: `(field, provisional date, firm date)`.
    pub fn fill_blanks(&mut self, other: &NotificationFields) -> Vec<(&'static str, NaiveDate, NaiveDate)> {
        let mut confirmed = Vec::new();
        fn keep<T: Clone>(mine: &mut Option<T>, theirs: &Option<T>) {
            if mine.is_none() {
                mine.clone_from(theirs);
            }
        }
        keep(&mut self.local_authority, &other.local_authority);
        keep(&mut self.incident_type, &other.incident_type);
        for (name, mine, theirs) in [
            ("aware_date", &mut self.aware_date, &other.aware_date),
            ("notified_date", &mut self.notified_date, &other.notified_date),
        ] {
            let theirs_provisional = other.provisional.iter().any(|p| p == name);
            if let (Some(old), Some(new)) = (*mine, *theirs)
                && !theirs_provisional
                && self.provisional.iter().any(|p| p == name)
            {
                self.provisional.retain(|p| p != name);
                *mine = Some(new);
                confirmed.push((name, old, new));
            }
            if mine.is_none() && theirs.is_some() && theirs_provisional {
                self.provisional.push(name.to_owned());
            }
            keep(mine, theirs);
        }
        keep(&mut self.panel_reference, &other.panel_reference);
        keep(&mut self.la_reference, &other.la_reference);
        keep(&mut self.children, &other.children);
        keep(&mut self.looked_after, &other.looked_after);
        keep(&mut self.abuse_or_neglect_suspected, &other.abuse_or_neglect_suspected);
        confirmed
    }
}

/// Identifying details of the child: stored only where needed, never logged.
#[derive(Clone, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
pub struct ChildIdentifiers {
    pub name: Option<String>,
    pub date_of_birth: Option<String>,
}

impl ChildIdentifiers {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.date_of_birth.is_none()
    }
}

impl std::fmt::Debug for ChildIdentifiers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_empty() { "ChildIdentifiers(none)" } else { "ChildIdentifiers(<redacted>)" })
    }
}

/// A staff command found on the first line of a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandLine {
    /// The command its first word names.
    pub command: super::command::Command,
    /// The rest of the line, trimmed.
    pub rest: String,
}

/// A first line that looks like a staff command but is not one: a command word not in
/// capitals, with punctuation, after a greeting, or with arguments that do not read.
/// Nothing is run; the sender is told the line to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NearMiss {
    pub command: super::command::Command,
    /// What is wrong, in words for the sender.
    pub problem: String,
    /// The line to send instead: the command with what was written after it when that
    /// reads, else the command's usage (`SUBMITTED [date]`).
    pub line: String,
}

/// Signs in a message that the notification criteria (2.1) are met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CriteriaSigns {
    /// The local authority the message names (to be told), if any.
    pub authority: Option<String>,
}

/// Everything the pipeline understood of one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Understood {
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub from: Sender,
    pub date: Option<DateTime<Utc>>,
    pub date_london: Option<NaiveDate>,
    pub subject: Option<String>,
    pub kind: Kind,
    pub trust: Trust,
    /// Why, in a short phrase ("dmarc pass for hackney.gov.uk", "two From headers").
    pub trust_reason: String,
    /// Whether a reply to the From address is safe from backscatter (its domain is
    /// authenticated, or SPF passed for it at our server).
    pub reply_allowed: bool,
    pub forwarded: Option<Forwarded>,
    pub notification: Option<NotificationFields>,
    /// Where each notification field was read ("label 'Panel ref'", "the subject").
    pub field_sources: std::collections::BTreeMap<String, String>,
    pub panel_outcome: Option<PanelOutcome>,
    /// For an unclear Panel response, the sentence that left it unclear: kept in the
    /// triage record for the person who reads it; never logged, never emailed.
    pub panel_sentence: Option<String>,
    /// Whatever its kind, the message tells of a death or serious harm where abuse or
    /// neglect is suspected (2.1): what 11.2 asks the partnership to pass to the local
    /// authority at once. With the authority it names, if any.
    pub criteria: Option<CriteriaSigns>,
    pub command: Option<CommandLine>,
    /// A line that was nearly a command (never with `command`).
    pub near_miss: Option<NearMiss>,
    pub case_refs: Vec<String>,
    pub external_refs: Vec<String>,
    /// Loop-protection headers seen (ours or anyone's auto-submitted markers).
    pub loop_protected: bool,
    pub problems: Vec<String>,
}

impl Understood {
    /// A message understood as nothing at all (unreadable, refused), with its problems.
    pub fn empty(problems: Vec<String>) -> Self {
        Self {
            message_id: None,
            in_reply_to: Vec::new(),
            references: Vec::new(),
            from: Sender::default(),
            date: None,
            date_london: None,
            subject: None,
            kind: Kind::Unknown,
            trust: Trust::Untrusted,
            trust_reason: "message not read".to_owned(),
            reply_allowed: false,
            forwarded: None,
            notification: None,
            field_sources: Default::default(),
            panel_outcome: None,
            panel_sentence: None,
            criteria: None,
            command: None,
            near_miss: None,
            case_refs: Vec::new(),
            external_refs: Vec::new(),
            loop_protected: false,
            problems,
        }
    }
}
