//! `HELP` and `STATUS`, answered by email: the commands this sender may give on this case
//! now, and the case's clocks with their due dates. Pure: read from the case and the
//! command table.

use crate::domain::case::{CaseKind, CaseState};
use crate::domain::clock::ClockId;
use crate::domain::command::{COMMANDS, Command, CommandRoles};
use crate::domain::duty::DutyKind;
use crate::domain::{Role, format_long};

/// Whether `command` applies to `case` as it stands.
fn applies(command: Command, case: &CaseState) -> bool {
    let running = |id: ClockId| case.running(id).is_some();
    let duty = |kind: DutyKind| case.open_duties().any(|d| d.kind == kind);
    let incident = case.kind == CaseKind::Incident;
    match command {
        Command::Submitted => running(ClockId::C3),
        Command::MeetingHeld => running(ClockId::C4),
        Command::NotifiedOrgs => running(ClockId::C5),
        Command::Decision | Command::National => incident,
        Command::SubgroupDecision => running(ClockId::C7),
        Command::PublicationDate | Command::Published | Command::NotPublishing | Command::Delay => running(ClockId::C6),
        Command::CopySent => running(ClockId::C8),
        Command::SosNotified => duty(DutyKind::SosNotified) || case.secretary_of_state_duty,
        Command::FamilyContacted => duty(DutyKind::FamilyContacted) || running(ClockId::C6),
        Command::ReportShared => duty(DutyKind::ReportShared),
        Command::RequestedReports => duty(DutyKind::ReportsRequested),
        Command::NoticeSent => duty(DutyKind::DelayNotice) || duty(DutyKind::NonPublicationNotice),
        Command::RepositorySent => duty(DutyKind::Repository),
        Command::Approve | Command::Decline => case.delay.is_some(),
        Command::Close => !case.is_closed(),
        Command::Reopen => case.is_closed(),
        Command::Note | Command::Help | Command::Status => true,
    }
}

/// The lines `roles` may send on `case` now, one per line, with their arguments.
pub(super) fn help(case: &CaseState, roles: &[Role], who_may: &CommandRoles) -> String {
    let lines: Vec<String> = COMMANDS
        .iter()
        .filter(|spec| who_may.roles(spec.command).iter().any(|r| roles.contains(r)))
        .filter(|spec| applies(spec.command, case))
        .map(|spec| spec.command.usage())
        .collect();
    format!(
        "What you can send on case {} now, each as the first line of a reply:\n\n{}\n\nDates as 24/11/2026 or 24 November 2026; no date means the date of your reply.",
        case.reference,
        lines.join("\n")
    )
}

/// The case's stage and its clocks: running ones with their due dates, the rest as they ended.
pub(super) fn status(case: &CaseState) -> String {
    let mut out = format!("Case {}: {}\n", case.reference, case.stage().replace('_', " "));
    for c in &case.clocks {
        let state = match (c.is_running(), c.closed_on) {
            (true, _) => format!("due {}", format_long(c.due_in_force())),
            (false, Some(on)) => format!("{} on {}", format!("{:?}", c.status).to_lowercase(), format_long(on)),
            (false, None) => format!("{:?}", c.status).to_lowercase(),
        };
        let provisional = if c.basis.is_some() { " (provisional)" } else { "" };
        out.push_str(&format!("\n{}  {state}{provisional}", c.clock));
    }
    for d in case.open_duties() {
        out.push_str(&format!("\nstill to record: {} (since {})", d.kind.spec().short, format_long(d.since)));
    }
    out
}
