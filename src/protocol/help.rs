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
        Command::Open | Command::Triage => false,
        Command::Confirm => case.kind == CaseKind::Consideration && case.provisional,
        Command::Merge => !case.is_closed(),
        Command::Aware
        | Command::PanelNotified
        | Command::Reference
        | Command::LaReference
        | Command::Type
        | Command::LookedAfter
        | Command::AbuseSuspected
        | Command::Children => incident && !case.is_closed(),
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

/// The few lines that apply now on `case` and that every one of `roles` may send, for
/// the foot of an email to staff: the case's next steps first, then HELP.
pub(super) fn footer(case: &CaseState, roles: &[Role], who_may: &CommandRoles) -> String {
    if roles.is_empty() {
        return String::new();
    }
    let every = |command: Command| roles.iter().all(|r| who_may.roles(command).contains(r));
    let generic = |command: Command| matches!(command, Command::Note | Command::Help | Command::Status);
    let mut lines: Vec<String> = COMMANDS
        .iter()
        .filter(|spec| !generic(spec.command) && !spec.command.is_correction() && spec.command != Command::Merge)
        .filter(|spec| every(spec.command) && applies(spec.command, case))
        .take(2)
        .map(|spec| spec.command.usage())
        .collect();
    if every(Command::Help) {
        lines.push(Command::Help.usage());
    }
    lines.join("\n")
}

/// Adds the footer to each intent about `case` that goes to staff (by role, or to an
/// address that holds a staff role): the commands that apply now.
pub fn add_footers(case: &CaseState, intents: &mut [super::Intent], ctx: &super::Context<'_>) {
    for intent in intents.iter_mut().filter(|i| i.case.as_ref() == Some(&case.reference)) {
        if intent.facts.contains_key("footer") {
            continue;
        }
        let mut roles: Vec<Role> = Vec::new();
        for to in &intent.to {
            let held = match to {
                super::Recipient::Role(role) => vec![*role],
                super::Recipient::Address(address) => crate::domain::EmailAddress::parse(address)
                    .map(|a| ctx.rules.directory.roles_of(&a))
                    .unwrap_or_default(),
            };
            let staff: Vec<Role> = held
                .into_iter()
                .filter(|r| matches!(r, Role::Spa | Role::Icsc | Role::Slt | Role::BusinessSupport))
                .collect();
            if staff.is_empty() {
                roles.clear();
                break;
            }
            // An address holding several roles may send what any of them may: its best.
            roles.push(staff[0]);
        }
        roles.sort();
        roles.dedup();
        let footer = footer(case, &roles, ctx.rules.commands);
        if !footer.is_empty() {
            intent.facts.insert("footer".into(), footer.into());
        }
    }
}
