//! Staff commands given by reply: who may give each, and what it does. Every command
//! gets a reply saying what was done, or why not.

use chrono::NaiveDate;

use super::args::{date_or, split_first};
use super::delays::{answer_delay, request_approval};
use super::duties;
use super::{Builder, Context, Incoming, Outcome, Purpose, Recipient};
use crate::domain::case::{CaseState, ClockStatus};
use crate::domain::clock::ClockId;
use crate::domain::command::{Command, NOTICES, SUBGROUP_DECISIONS, choice};
use crate::domain::duty::DutyKind;
use crate::domain::message::CommandLine;
use crate::domain::parse_uk_date;
use crate::domain::{Role, format_long};

pub fn command(mut state: CaseState, incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    let mut b = Builder::new(incoming, ctx);
    let Some(CommandLine { command, rest }) = incoming.understood.command.clone() else {
        return Outcome::triage("a command that could not be read");
    };
    let word = command.word().to_owned();
    let (roles, allowed) = may_give(incoming, ctx, command, &rest);
    let reference = state.reference.clone();
    let to = b.reply_to_sender();
    let may_propose = command.proposed_by().iter().any(|r| roles.contains(r));
    if !allowed.iter().any(|r| roles.contains(r)) && may_propose {
        propose(&mut b, &state, &roles, &word, &rest);
        b.out.case = Some(state);
        return b.out;
    }
    if !allowed.iter().any(|r| roles.contains(r)) {
        refuse(&mut b, Some(&reference), &word, &allowed);
        b.out.case = Some(state);
        return b.out;
    }
    // HELP and STATUS change nothing: they are answered with what the sender asked for.
    if matches!(command, Command::Help | Command::Status) {
        let answer = if command == Command::Help {
            super::help::help(&state, &roles, ctx.rules.commands)
        } else {
            super::help::status(&state)
        };
        b.intent(
            Purpose::CommandReply,
            to,
            Some(&reference),
            "command_answer",
            &[("command", word.clone()), ("answer", answer)],
            false,
        );
        b.out.case = Some(state);
        return b.out;
    }
    let on = incoming.written_on();
    let result = apply(&mut state, &mut b, command, &rest, on);
    match result {
        Ok(done) => {
            b.intent(
                Purpose::CommandReply,
                to,
                Some(&reference),
                "command_done",
                &[("command", word.clone()), ("done", done)],
                false,
            );
        }
        Err(reason) => {
            b.audit("command_refused", None, format!("{word}: {reason}"));
            answer_refused(&mut b, Some(&reference), &word, reason);
        }
    }
    b.out.case = Some(state);
    b.out
}

/// The roles the sender holds, and whether they may give `command` with `rest`.
pub(super) fn may_give(
    incoming: &Incoming<'_>,
    ctx: &Context<'_>,
    command: Command,
    rest: &str,
) -> (Vec<Role>, Vec<Role>) {
    let roles = incoming.sender().map(|a| ctx.rules.directory.roles_of(&a)).unwrap_or_default();
    (roles, ctx.rules.commands.roles_for(command, rest))
}

/// Refuses a command from a sender who holds none of the `allowed` roles, saying who may.
pub(super) fn refuse(b: &mut Builder<'_>, case: Option<&crate::domain::case::CaseRef>, word: &str, allowed: &[Role]) {
    b.audit("command_refused", None, format!("{word}: the sender does not hold a role that may give it"));
    let who: Vec<&str> = allowed.iter().map(|r| r.short_name()).collect();
    answer_refused(b, case, word, format!("{word} may be given only by {}", who.join(" or ")));
}

/// Tells the sender their command was not carried out, and why.
pub(super) fn answer_refused(
    b: &mut Builder<'_>,
    case: Option<&crate::domain::case::CaseRef>,
    word: &str,
    reason: String,
) {
    let to = b.reply_to_sender();
    b.intent(
        Purpose::CommandReply,
        to,
        case,
        "command_refused",
        &[("command", word.to_owned()), ("reason", reason)],
        false,
    );
}

/// A correction from someone who may only propose it (business support, the forwarding
/// local authority): nothing changes; the SPA gets the line to send to accept it.
fn propose(b: &mut Builder<'_>, state: &CaseState, roles: &[Role], word: &str, rest: &str) {
    let line = format!("{word} {}", rest.trim()).trim().to_owned();
    let who = if roles.contains(&Role::LocalAuthority) { "The local authority" } else { "Business support" };
    b.audit("correction_proposed", None, format!("proposed, not applied: {line}"));
    let reference = state.reference.clone();
    b.intent(
        Purpose::Escalation,
        vec![Recipient::Role(Role::Spa)],
        Some(&reference),
        "correction_proposed",
        &[("line", line.clone()), ("proposer", who.to_owned())],
        false,
    );
    let to = b.reply_to_sender();
    b.intent(
        Purpose::CommandReply,
        to,
        Some(&reference),
        "command_answer",
        &[
            ("command", word.to_owned()),
            ("answer", format!("Thank you. Your correction ({line}) has gone to the SPA, who will confirm it; nothing is changed until then.")),
        ],
        false,
    );
}

fn complete(
    state: &mut CaseState,
    b: &mut Builder<'_>,
    clock: ClockId,
    on: NaiveDate,
    what: &str,
) -> Result<String, String> {
    if b.complete_clock(state, clock, on) {
        Ok(format!("{what} recorded for {}", format_long(on)))
    } else {
        Err(format!("no {clock} clock is running on this case"))
    }
}

fn apply(
    state: &mut CaseState,
    b: &mut Builder<'_>,
    command: Command,
    rest: &str,
    on: NaiveDate,
) -> Result<String, String> {
    match command {
        Command::Submitted => {
            complete(state, b, ClockId::C3, date_or(rest, on)?, "Rapid Review submitted to the Panel")
        }
        Command::MeetingHeld => complete(state, b, ClockId::C4, date_or(rest, on)?, "meeting held"),
        Command::NotifiedOrgs => complete(state, b, ClockId::C5, date_or(rest, on)?, "organisations notified"),
        Command::CopySent => complete(
            state,
            b,
            ClockId::C8,
            date_or(rest, on)?,
            "final report sent to the Panel and the Secretary of State",
        ),
        Command::SubgroupDecision => {
            let (review, date) = match choice(rest, SUBGROUP_DECISIONS) {
                Some((picked, date)) => (picked == "REVIEW", date),
                None => return Err(format!("'{}' is not REVIEW or NO-REVIEW", split_first(rest).0)),
            };
            let date = date_or(date, on)?;
            state.subgroup_decision = Some((review, date));
            b.audit("subgroup_decision", Some(ClockId::C7), if review { "review" } else { "no review" });
            let _ = b.complete_clock(state, ClockId::C7, date);
            Ok(format!("sub-group decision ({}) recorded", if review { "review" } else { "no review" }))
        }
        Command::Decision => super::decisions::decision(state, b, rest, on),
        Command::National => super::decisions::national(state, b, rest, on),
        Command::FamilyContacted => {
            let date = date_or(rest, on)?;
            state.family_contacted = Some(date);
            state.complete_duty(DutyKind::FamilyContacted, date);
            b.audit("family_contacted", None, format!("family contacted {date} (7.1)"));
            Ok("family contact recorded".into())
        }
        Command::SosNotified => {
            let date = date_or(rest, on)?;
            state.secretary_of_state_notified = Some(date);
            state.complete_duty(DutyKind::SosNotified, date);
            b.audit("secretary_of_state_notified", None, format!("Secretary of State told {date} (2.3)"));
            Ok("Secretary of State notification recorded".into())
        }
        Command::ReportShared => duties::record(state, b, DutyKind::ReportShared, rest, on),
        Command::RequestedReports => duties::record(state, b, DutyKind::ReportsRequested, rest, on),
        Command::RepositorySent => duties::record(state, b, DutyKind::Repository, rest, on),
        Command::NoticeSent => match choice(rest, NOTICES) {
            Some(("DELAY", date)) => duties::record(state, b, DutyKind::DelayNotice, date, on),
            Some((_, date)) => duties::record(state, b, DutyKind::NonPublicationNotice, date, on),
            None => Err(format!("'{}' is not DELAY or NON-PUBLICATION", split_first(rest).0)),
        },
        Command::PublicationDate => {
            let date = parse_uk_date(rest).ok_or("PUBLICATION-DATE needs the planned date")?;
            if let Some(old) = state.running_mut(ClockId::C8) {
                old.status = ClockStatus::Stopped;
                old.closed_on = Some(on);
            }
            state.publication_planned = Some(date);
            b.start_clock(state, ClockId::C8, date);
            let due = state.running(ClockId::C8).map(|c| format_long(c.due_in_force())).unwrap_or_default();
            Ok(format!(
                "publication planned for {}; the final report must reach the Panel and the Secretary of State by {due}",
                format_long(date)
            ))
        }
        Command::Published => {
            let (link, date) = split_first(rest);
            if !(link.starts_with("https://") || link.starts_with("http://")) {
                return Err("PUBLISHED needs the link to the report".into());
            }
            // A link a mail gateway rewrote is recorded as the address it stands for.
            let url = match crate::domain::links::unwrap_link(link) {
                crate::domain::links::Link::Address(url) => url,
                crate::domain::links::Link::Opaque(gateway) => {
                    return Err(format!(
                        "the link was rewritten by {gateway} and no longer says where the report is: \
                         send the report's own address (copy it from the browser's address bar)"
                    ));
                }
            };
            let url = url.as_str();
            let date = date_or(date, on)?;
            state.published = Some((url.to_owned(), date));
            b.audit("published", Some(ClockId::C6), format!("published {date}: {url}"));
            let _ = b.complete_clock(state, ClockId::C6, date);
            duties::open(state, b, DutyKind::Repository, date);
            Ok("publication recorded".into())
        }
        Command::NotPublishing => {
            if rest.trim().is_empty() {
                return Err("NOT-PUBLISHING needs the reason".into());
            }
            state.not_publishing = Some(rest.trim().to_owned());
            b.audit("not_publishing", Some(ClockId::C6), "decision not to publish (9.1)");
            let _ = b.complete_clock(state, ClockId::C6, on);
            let reference = state.reference.clone();
            // 9.1: the justification is the ICSC's to send.
            b.intent(
                Purpose::NoticeDraft,
                vec![Recipient::Role(Role::Icsc)],
                Some(&reference),
                "not_publishing_notice_draft",
                &[],
                false,
            );
            duties::open(state, b, DutyKind::NonPublicationNotice, on);
            Ok("decision not to publish recorded; a draft justification for the Panel and the Secretary of State goes to the ICSC".into())
        }
        Command::Delay => {
            let (date, reason) = split_first(rest);
            let new_due = parse_uk_date(date).ok_or("DELAY needs the new date, then the reason")?;
            if reason.is_empty() {
                return Err("DELAY needs the reason after the new date".into());
            }
            let Some(c6) = state.running(ClockId::C6) else {
                return Err("no review (C6) is running on this case".into());
            };
            if new_due <= c6.due_in_force() {
                return Err(format!(
                    "the new date must be after the current due date, {}",
                    format_long(c6.due_in_force())
                ));
            }
            request_approval(state, b, new_due, reason, on)?;
            Ok(format!("the SLT has been asked to approve a delay to {}", format_long(new_due)))
        }
        Command::Approve | Command::Decline => answer_delay(state, b, command.word(), rest),
        Command::Aware
        | Command::PanelNotified
        | Command::Reference
        | Command::LaReference
        | Command::Type
        | Command::LookedAfter
        | Command::AbuseSuspected
        | Command::Children => super::corrections::correct(state, b, command, rest, on),
        Command::Confirm => super::corrections::confirm(state, b),
        Command::Merge => Err("MERGE is carried out with both cases at hand".into()),
        Command::Open | Command::Triage => Err(format!("{} names no case: send it as a new email", command.word())),
        Command::Help | Command::Status => Ok(String::new()),
        Command::Note => {
            if rest.trim().is_empty() {
                return Err("NOTE needs the text".into());
            }
            b.audit("note", None, rest.trim());
            Ok("note added".into())
        }
        Command::Close => {
            if rest.trim().is_empty() {
                return Err("CLOSE needs the reason".into());
            }
            let mut stopped = Vec::new();
            for clock in state.clocks.iter_mut().filter(|c| c.is_running()) {
                clock.status = ClockStatus::Stopped;
                clock.closed_on = Some(on);
                stopped.push(clock.clock);
            }
            state.closed = Some((rest.trim().to_owned(), on));
            state.stopped_by_close.clone_from(&stopped);
            let names: Vec<String> = stopped.iter().map(ToString::to_string).collect();
            b.audit("case_closed", None, format!("closed: {}; stopped: {}", rest.trim(), names.join(", ")));
            let stopped =
                if names.is_empty() { "no clock was running".to_owned() } else { names.join(", ") + " stopped" };
            Ok(format!("case closed ({stopped}). To undo it, the ICSC replies with: REOPEN <reason>"))
        }
        Command::Reopen => {
            let Some((why_closed, closed_on)) = state.closed.take() else {
                return Err("the case is not closed".into());
            };
            let mut restored = Vec::new();
            for id in std::mem::take(&mut state.stopped_by_close) {
                if let Some(clock) = state
                    .clocks
                    .iter_mut()
                    .rev()
                    .find(|c| c.clock == id && c.status == ClockStatus::Stopped && c.closed_on == Some(closed_on))
                {
                    clock.status = ClockStatus::Running;
                    clock.closed_on = None;
                    restored.push(format!("{id} due {}", format_long(clock.due_in_force())));
                }
            }
            b.audit(
                "case_reopened",
                None,
                format!(
                    "reopened: {} (closed {closed_on}: {why_closed}); running again: {}",
                    rest.trim(),
                    restored.join(", ")
                ),
            );
            Ok(if restored.is_empty() {
                "case reopened; no clock had been stopped by its closing".to_owned()
            } else {
                format!("case reopened; running again: {}", restored.join("; "))
            })
        }
    }
}
