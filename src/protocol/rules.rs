//! What the protocol's decisions consult: who is who, the calendar, the clocks in
//! force and the approval policy — a narrow view the caller builds from configuration.

use super::alerts::AlertRecipients;
use crate::domain::command::CommandRoles;
use crate::domain::policy::Approvals;
use crate::domain::{Calendar, ClockDef, ClockId, Directory, WorkingDays};

#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub directory: &'a Directory,
    pub calendar: &'a Calendar,
    pub clocks: &'a [ClockDef],
    pub approvals: &'a Approvals,
    /// Untrusted or unknown senders change no case (they go to triage).
    pub require_authentication: bool,
    /// Who is told of what goes wrong.
    pub alerts: &'a AlertRecipients,
    /// Who may give each staff command.
    pub commands: &'a CommandRoles,
    /// Partner agencies' mail domains (a provisional request for consideration).
    pub partner_domains: &'a [String],
    /// When duties without a deadline are chased, and who is reminded.
    pub duties: &'a crate::domain::duty::DutySchedules,
}

impl<'a> Rules<'a> {
    pub fn clock(&self, id: ClockId) -> Option<&'a ClockDef> {
        self.clocks.iter().find(|c| c.id == id)
    }

    /// The most working days before a due date at which anything is sent: the earliest
    /// reminder or escalation of any clock, or the automatic approval request.
    pub fn longest_lead(&self) -> WorkingDays {
        let steps = self
            .clocks
            .iter()
            .filter(|c| c.enabled)
            .flat_map(|c| c.reminders.iter().chain(&c.escalations))
            .map(|s| -s.at);
        steps
            .chain(std::iter::once(-self.approvals.request_at))
            .max()
            .unwrap_or(WorkingDays::ZERO)
            .max(WorkingDays::ZERO)
    }
}
