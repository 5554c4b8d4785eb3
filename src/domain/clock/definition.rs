//! What a clock is: its identity, start event, due rule and reminder ladder.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::schedule::CronSchedule;
use super::window::SendingWindow;
use crate::domain::calendar::WorkingDays;
use crate::domain::role::Role;

/// The protocol's clocks, C1 to C8 (protocol.md, "The clocks").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ClockId {
    C1,
    C2,
    C3,
    C4,
    C5,
    C6,
    C7,
    C8,
}

impl ClockId {
    pub const ALL: [ClockId; 8] =
        [ClockId::C1, ClockId::C2, ClockId::C3, ClockId::C4, ClockId::C5, ClockId::C6, ClockId::C7, ClockId::C8];

    /// `C1` … `C8`.
    pub fn as_str(self) -> &'static str {
        ["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"][self as usize]
    }

    /// The configuration key: `c1` … `c8`.
    pub fn key(self) -> &'static str {
        ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"][self as usize]
    }
}

impl fmt::Display for ClockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a clock.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a clock (expected C1 to C8)")]
pub struct NotAClock(pub String);

impl FromStr for ClockId {
    type Err = NotAClock;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ClockId::ALL
            .into_iter()
            .find(|id| id.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| NotAClock(text.to_owned()))
    }
}

/// Whose duty a clock measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    /// The local authority's (C1, C2): recorded, reported when late, never chased.
    LocalAuthority,
    /// The partnership's own: driven by reminders and escalations.
    Partnership,
}

/// The event whose date starts (or, counted back, anchors) a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartEvent {
    /// The local authority became aware of the incident.
    LaAware,
    /// The notification was sent to the Panel.
    NotifiedToPanel,
    /// A Panel response that disagrees arrived.
    PanelDisagrees,
    /// The decision to start a CSPR.
    CsprDecision,
    /// A request from any organisation was received.
    RequestReceived,
    /// The planned publication date (counted back from).
    PlannedPublication,
}

impl StartEvent {
    pub fn key(self) -> &'static str {
        match self {
            StartEvent::LaAware => "la_aware",
            StartEvent::NotifiedToPanel => "notified_to_panel",
            StartEvent::PanelDisagrees => "panel_disagrees",
            StartEvent::CsprDecision => "cspr_decision",
            StartEvent::RequestReceived => "request_received",
            StartEvent::PlannedPublication => "planned_publication",
        }
    }
}

/// How a clock's due date is found from its start (or anchor) date.
#[derive(Debug, Clone, PartialEq)]
pub enum DueRule {
    /// The N-th working day after the start, the start not counted.
    WorkingDaysAfter(u32),
    /// N working days before the anchor (C8: before the planned publication).
    WorkingDaysBefore(u32),
    /// N calendar months after the start, clamped to the month's last day.
    CalendarMonths(u32),
    /// The next occurrence of a schedule after the start day (C7's sub-group meetings).
    NextScheduled(Box<CronSchedule>),
}

impl fmt::Display for DueRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DueRule::WorkingDaysAfter(n) => write!(f, "{n} working days after"),
            DueRule::WorkingDaysBefore(n) => write!(f, "{n} working days before"),
            DueRule::CalendarMonths(n) => write!(f, "{n} calendar months after"),
            DueRule::NextScheduled(schedule) => write!(f, "next of '{schedule}'"),
        }
    }
}

/// One rung of a reminder or escalation ladder: write to `to` on the working day `at`
/// days from the due date (negative: before it), and every `every` working days after
/// that while the clock stays open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub to: Role,
    pub at: WorkingDays,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u32>,
    /// Sent at once, outside the sending window too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub urgent: bool,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:+}", self.to, self.at)?;
        if let Some(every) = self.every {
            write!(f, " every {every}")?;
        }
        if self.urgent {
            f.write_str(" urgent")?;
        }
        Ok(())
    }
}

/// A clock as configuration defines it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockDef {
    pub id: ClockId,
    pub title: String,
    /// The protocol section it comes from.
    pub protocol: String,
    pub owner: Owner,
    pub start: StartEvent,
    pub due: DueRule,
    /// "Due soon" from this many working days before the due date.
    pub amber_within: u32,
    pub reminders: Vec<Step>,
    pub escalations: Vec<Step>,
    /// The reply commands that complete it (empty for the local authority's clocks,
    /// which are recorded when the notification arrives).
    pub completed_by: Vec<String>,
    pub sending_window: SendingWindow,
    pub enabled: bool,
}
