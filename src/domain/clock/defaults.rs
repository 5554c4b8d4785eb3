//! The protocol's clocks C1–C8 with the defaults of protocol.md and the CHSCP local
//! protocol. Configuration overrides any of it; nothing else in the code holds these
//! numbers.

use super::definition::{ClockDef, ClockId, DueRule, Owner, StartEvent, Step};
use super::schedule::CronSchedule;
use super::window::SendingWindow;
use crate::domain::calendar::WorkingDays;
use crate::domain::role::Role;

/// The Case Review sub-group's default meeting: 10:00 on the first Tuesday of the month.
pub const DEFAULT_SUBGROUP_SCHEDULE: &str = "0 10 1-7 * Tue";

fn step(to: Role, at: i32) -> Step {
    Step { to, at: WorkingDays(at), every: None, urgent: false }
}

fn repeating(to: Role, at: i32, every: u32) -> Step {
    Step { to, at: WorkingDays(at), every: Some(every), urgent: false }
}

/// The defaults table.
pub fn default_clocks() -> Vec<ClockDef> {
    let base = |id, title: &str, protocol: &str, owner, start, due| ClockDef {
        id,
        title: title.to_owned(),
        protocol: protocol.to_owned(),
        owner,
        start,
        due,
        amber_within: 5,
        reminders: Vec::new(),
        escalations: Vec::new(),
        completed_by: Vec::new(),
        sending_window: SendingWindow::default(),
        enabled: true,
    };
    let completed = |words: &[&str]| words.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
    let subgroup = CronSchedule::parse(DEFAULT_SUBGROUP_SCHEDULE).map(|s| DueRule::NextScheduled(Box::new(s)));
    vec![
        base(
            ClockId::C1,
            "LA notifies the Panel",
            "2.4",
            Owner::LocalAuthority,
            StartEvent::LaAware,
            DueRule::WorkingDaysAfter(5),
        ),
        base(
            ClockId::C2,
            "LA forwards its copy of the notification to the partnership",
            "2.5",
            Owner::LocalAuthority,
            StartEvent::LaAware,
            DueRule::WorkingDaysAfter(5),
        ),
        ClockDef {
            reminders: vec![step(Role::Spa, -10), step(Role::Spa, -5), step(Role::Spa, -2)],
            escalations: vec![step(Role::Icsc, -2), step(Role::Icsc, 0), repeating(Role::Slt, 1, 5)],
            completed_by: completed(&["SUBMITTED"]),
            ..base(
                ClockId::C3,
                "Rapid Review report submitted to the Panel",
                "3.3",
                Owner::Partnership,
                StartEvent::NotifiedToPanel,
                DueRule::WorkingDaysAfter(15),
            )
        },
        ClockDef {
            amber_within: 2,
            reminders: vec![step(Role::Spa, -2), step(Role::Spa, 0)],
            escalations: vec![step(Role::Icsc, 1), repeating(Role::Slt, 2, 5)],
            completed_by: completed(&["MEETING-HELD"]),
            ..base(
                ClockId::C4,
                "Panel disagreement circulated and ICSC and partners convened",
                "5.1",
                Owner::Partnership,
                StartEvent::PanelDisagrees,
                DueRule::WorkingDaysAfter(5),
            )
        },
        ClockDef {
            amber_within: 2,
            reminders: vec![step(Role::Spa, -2), step(Role::Spa, 0)],
            escalations: vec![step(Role::Icsc, 1), repeating(Role::Slt, 2, 5)],
            completed_by: completed(&["NOTIFIED-ORGS"]),
            ..base(
                ClockId::C5,
                "Organisations involved formally notified of the CSPR",
                "6.1",
                Owner::Partnership,
                StartEvent::CsprDecision,
                DueRule::WorkingDaysAfter(5),
            )
        },
        ClockDef {
            amber_within: 20,
            reminders: vec![step(Role::Spa, -40), step(Role::Spa, -20), step(Role::Spa, -10)],
            escalations: vec![step(Role::Icsc, -10), step(Role::Icsc, 0), repeating(Role::Slt, 1, 5)],
            completed_by: completed(&["PUBLISHED", "NOT-PUBLISHING"]),
            ..base(
                ClockId::C6,
                "CSPR completed and published",
                "8.1",
                Owner::Partnership,
                StartEvent::CsprDecision,
                DueRule::CalendarMonths(6),
            )
        },
        ClockDef {
            amber_within: 5,
            reminders: vec![step(Role::Spa, -5), step(Role::Spa, -1)],
            escalations: vec![step(Role::Icsc, 1)],
            completed_by: completed(&["SUBGROUP-DECISION"]),
            ..base(
                ClockId::C7,
                "Request considered by the Case Review sub-group",
                "11.3",
                Owner::Partnership,
                StartEvent::RequestReceived,
                subgroup.unwrap_or(DueRule::WorkingDaysAfter(20)),
            )
        },
        ClockDef {
            amber_within: 3,
            reminders: vec![step(Role::Spa, -5), step(Role::Spa, -2), step(Role::Spa, 0)],
            escalations: vec![step(Role::Icsc, 1), repeating(Role::Slt, 2, 5)],
            completed_by: completed(&["COPY-SENT"]),
            ..base(
                ClockId::C8,
                "Final report sent to the Panel and the Secretary of State before publication",
                "Working Together",
                Owner::Partnership,
                StartEvent::PlannedPublication,
                DueRule::WorkingDaysBefore(7),
            )
        },
    ]
}
