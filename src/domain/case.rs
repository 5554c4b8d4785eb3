//! A case as the protocol sees it: its reference, what the notification said, the
//! decisions taken and every clock instance. Plain data; the protocol module decides
//! how events change it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use super::case_ref::{CaseRef, NotACaseRef};
use super::clock::ClockId;
use super::message::{ChildIdentifiers, NotificationFields, PanelOutcome};

/// What track a case is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    /// A notified incident: Rapid Review, Panel response, perhaps a CSPR.
    Incident,
    /// A request from any organisation for the Case Review sub-group (11.1).
    Consideration,
}

impl CaseKind {
    /// As stored and shown (`incident`, `consideration`).
    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Incident => "incident",
            CaseKind::Consideration => "consideration",
        }
    }
}

/// The ICSC's decision after the Rapid Review (4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    Cspr,
    NoCspr,
    /// Stored by cases decided before 3.4's question was asked apart (`NATIONAL`).
    National,
}

impl ReviewDecision {
    /// As staff write it: "CSPR", "NO-CSPR".
    pub fn label(self) -> &'static str {
        match self {
            ReviewDecision::Cspr => "CSPR",
            ReviewDecision::NoCspr => "NO-CSPR",
            ReviewDecision::National => "NATIONAL",
        }
    }
}

/// Where a clock instance stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockStatus {
    Running,
    /// Completed on or before its due date.
    Met,
    /// Completed after its due date.
    MetLate,
    /// Stopped without completion (case closed, or the clock no longer applies).
    Stopped,
}

impl ClockStatus {
    /// As stored and shown (`running`, `met`, `met_late`, `stopped`).
    pub fn as_str(self) -> &'static str {
        match self {
            ClockStatus::Running => "running",
            ClockStatus::Met => "met",
            ClockStatus::MetLate => "met_late",
            ClockStatus::Stopped => "stopped",
        }
    }
}

/// One running (or finished) clock of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockInstance {
    pub clock: ClockId,
    /// The start date, or for a clock counted back, the anchor date.
    pub started: NaiveDate,
    pub due: NaiveDate,
    /// Approved new due dates, in order; the last one is in force.
    #[serde(default)]
    pub extensions: Vec<NaiveDate>,
    pub status: ClockStatus,
    #[serde(default)]
    pub closed_on: Option<NaiveDate>,
    /// Why the clock counts from `started` when the date it should count from was not
    /// given: the start is provisional until that date is confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
}

impl ClockInstance {
    /// The due date in force.
    pub fn due_in_force(&self) -> NaiveDate {
        self.extensions.last().copied().unwrap_or(self.due)
    }

    pub fn is_running(&self) -> bool {
        self.status == ClockStatus::Running
    }
}

/// A delay the SLT has been asked to approve (8.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelayRequest {
    /// The request's number on its case (from 1; 0 for requests made before numbering):
    /// its tokens name it, and a later request makes them void.
    #[serde(default)]
    pub number: u32,
    pub new_due: NaiveDate,
    pub reason: String,
    pub requested_on: NaiveDate,
    #[serde(default)]
    pub approvals: Vec<String>,
    /// Approval tokens already spent (each counts once).
    #[serde(default)]
    pub used_tokens: Vec<String>,
    /// The due date in force when the delay was asked for.
    #[serde(default)]
    pub current_due: Option<NaiveDate>,
}

/// A delay request as it ended: approved, declined or replaced (8.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelayRecord {
    pub number: u32,
    pub from_due: Option<NaiveDate>,
    pub new_due: NaiveDate,
    pub reason: String,
    /// "approved", "declined" or "replaced".
    pub outcome: String,
    pub on: NaiveDate,
}

/// Everything the daemon knows of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseState {
    pub reference: CaseRef,
    pub kind: CaseKind,
    pub opened_on: NaiveDate,
    /// What the notification said (stored flat, beside the case's other facts).
    #[serde(flatten)]
    pub notification: NotificationFields,
    /// The child's identifiers, kept apart from the notification's other fields.
    #[serde(default)]
    pub child: ChildIdentifiers,
    /// The Secretary of State must be told (a looked-after child's or care leaver's death, 2.3).
    pub secretary_of_state_duty: bool,
    pub secretary_of_state_notified: Option<NaiveDate>,
    /// No abuse or neglect suspected in a looked-after child's death: for DfE/Ofsted,
    /// not the Panel (footnote 1); no Rapid Review clock.
    pub dfe_ofsted_only: bool,
    pub panel_outcome: Option<PanelOutcome>,
    /// When the Panel's (latest) response was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panel_response_on: Option<NaiveDate>,
    pub decision: Option<(ReviewDecision, NaiveDate)>,
    /// Duties without a statutory deadline, chased until recorded (`domain::duty`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duties: Vec<super::duty::Duty>,
    /// Cases this one is linked to (a new incident for a child whose earlier case closed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<CaseRef>,
    /// Whether this might be a national review (3.4), asked apart from the decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub national: Option<(bool, NaiveDate)>,
    pub family_contacted: Option<NaiveDate>,
    pub publication_planned: Option<NaiveDate>,
    pub published: Option<(String, NaiveDate)>,
    pub not_publishing: Option<String>,
    pub delay: Option<DelayRequest>,
    /// Earlier delay requests and how each ended.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delay_history: Vec<DelayRecord>,
    /// The C6 due date about which the ICSC was asked whether to recommend a delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_asked: Option<NaiveDate>,
    /// How many delay requests the case has had: the next one's number follows.
    #[serde(default)]
    pub delay_requests: u32,
    pub subgroup_decision: Option<(bool, NaiveDate)>,
    pub closed: Option<(String, NaiveDate)>,
    /// The clocks the last CLOSE stopped: REOPEN runs them again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stopped_by_close: Vec<ClockId>,
    /// A duplicate joined into another case (`MERGE`): closed, pointing there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<CaseRef>,
    /// Staff told once, on this case, what they can send after a reply with no command.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub told_commands: Vec<String>,
    pub clocks: Vec<ClockInstance>,
    /// Opened on a partner agency's request, not yet confirmed by the SPA: no clock
    /// runs until it is (11.1).
    #[serde(default)]
    pub provisional: bool,
}

impl CaseState {
    pub fn new(reference: CaseRef, kind: CaseKind, opened_on: NaiveDate) -> Self {
        Self {
            reference,
            kind,
            opened_on,
            notification: NotificationFields::default(),
            child: ChildIdentifiers::default(),
            secretary_of_state_duty: false,
            secretary_of_state_notified: None,
            dfe_ofsted_only: false,
            panel_outcome: None,
            panel_response_on: None,
            decision: None,
            national: None,
            related: Vec::new(),
            duties: Vec::new(),
            family_contacted: None,
            publication_planned: None,
            published: None,
            not_publishing: None,
            delay: None,
            delay_requests: 0,
            delay_history: Vec::new(),
            delay_asked: None,
            merged_into: None,
            told_commands: Vec::new(),
            subgroup_decision: None,
            closed: None,
            stopped_by_close: Vec::new(),
            clocks: Vec::new(),
            provisional: false,
        }
    }

    /// The running instance of a clock.
    pub fn running(&self, clock: ClockId) -> Option<&ClockInstance> {
        self.clocks.iter().find(|c| c.clock == clock && c.is_running())
    }

    pub fn running_mut(&mut self, clock: ClockId) -> Option<&mut ClockInstance> {
        self.clocks.iter_mut().find(|c| c.clock == clock && c.is_running())
    }

    pub fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    /// Where the case stands, derived from what has happened.
    pub fn stage(&self) -> &'static str {
        if self.closed.is_some() {
            return "closed";
        }
        if self.kind == CaseKind::Consideration {
            return if self.subgroup_decision.is_some() { "considered" } else { "for_consideration" };
        }
        if self.published.is_some() {
            return "published";
        }
        if self.not_publishing.is_some() {
            return "not_published";
        }
        match self.decision {
            Some((ReviewDecision::Cspr, _)) => return "review",
            // NO-CSPR that the Panel disagrees with waits on the meeting (C4).
            Some(_) if self.running(ClockId::C4).is_none() => return "decided",
            _ => {}
        }
        if self.running(ClockId::C4).is_some() {
            return "panel_disagreed";
        }
        if self.dfe_ofsted_only {
            return "dfe_ofsted";
        }
        if self.clocks.iter().any(|c| c.clock == ClockId::C3 && !c.is_running()) {
            return "awaiting_decision";
        }
        "rapid_review"
    }

    /// 3.4's answer: recorded by `NATIONAL`, or by a decision of `NATIONAL` stored before
    /// the question was asked apart.
    pub fn national_review(&self) -> Option<(bool, NaiveDate)> {
        self.national.or(match self.decision {
            Some((ReviewDecision::National, on)) => Some((true, on)),
            _ => None,
        })
    }

    /// Opens a duty arising on `since`, unless the same duty is already open.
    pub fn open_duty(&mut self, kind: super::duty::DutyKind, since: NaiveDate) -> bool {
        if self.duties.iter().any(|d| d.kind == kind && d.done_on.is_none()) {
            return false;
        }
        self.duties.push(super::duty::Duty { kind, since, done_on: None });
        true
    }

    /// Records the open duty of `kind` done on `on`; false when none is open.
    pub fn complete_duty(&mut self, kind: super::duty::DutyKind, on: NaiveDate) -> bool {
        match self.duties.iter_mut().find(|d| d.kind == kind && d.done_on.is_none()) {
            Some(duty) => {
                duty.done_on = Some(on);
                true
            }
            None => false,
        }
    }

    /// Duties not yet recorded done.
    pub fn open_duties(&self) -> impl Iterator<Item = &super::duty::Duty> {
        self.duties.iter().filter(|d| d.done_on.is_none())
    }

    /// The running clock due soonest.
    pub fn next_due(&self) -> Option<&ClockInstance> {
        self.clocks.iter().filter(|c| c.is_running()).min_by_key(|c| c.due_in_force())
    }
}

/// What a list of open cases shows of one (a digest's row), as the store keeps it
/// beside the state: no names, only the reference, the stage and the next deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSummary {
    pub reference: String,
    pub stage: String,
    /// The running clock due soonest, and its due date in force.
    pub next: Option<(ClockId, NaiveDate)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_made_and_parsed() {
        let r = CaseRef::new("CHSCP", 2026, 4, 3);
        assert_eq!(r.as_str(), "CHSCP-2026-004");
        assert_eq!(CaseRef::parse("CHSCP-2026-004"), Ok(r));
        assert!(CaseRef::parse("chscp-2026-004").is_err());
        assert!(CaseRef::parse("CHSCP-26-004").is_err());
        assert!(CaseRef::parse("CHSCP-2026-").is_err());
    }

    /// The case's own `provisional` and the notification's provisional dates are stored
    /// side by side in one record: each reads back as itself.
    #[test]
    fn a_case_with_provisional_dates_reads_back_the_same() {
        let mut state = CaseState::new(CaseRef::new("CHSCP", 2026, 4, 3), CaseKind::Incident, NaiveDate::MIN);
        state.provisional = true;
        state.notification.provisional = vec!["notified_date".to_owned()];
        let stored = serde_json::to_string(&state).expect("write");
        let read: CaseState = serde_json::from_str(&stored).expect("read");
        assert_eq!(read, state);
    }
}
