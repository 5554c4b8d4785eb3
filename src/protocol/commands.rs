//! Staff commands given by reply: who may give each, and what it does. Every command
//! gets a reply saying what was done, or why not.

use chrono::NaiveDate;

use secrecy::ExposeSecret;

use super::approvals;
use super::{Builder, Context, Incoming, Outcome, Purpose, Recipient};
use crate::domain::case::{CaseState, ClockStatus, DelayRequest, ReviewDecision};
use crate::domain::clock::ClockId;
use crate::domain::message::CommandLine;
use crate::domain::{Role, format_long};
use crate::understand::parse_uk_date;

/// The default table: each command and the roles that may give it.
pub const COMMAND_ROLES: &[(&str, &[Role])] = &[
    ("SUBMITTED", &[Role::Spa, Role::Icsc]),
    ("DECISION", &[Role::Icsc, Role::Spa]),
    ("MEETING-HELD", &[Role::Spa]),
    ("NOTIFIED-ORGS", &[Role::Spa]),
    ("FAMILY-CONTACTED", &[Role::Spa]),
    ("SOS-NOTIFIED", &[Role::Spa]),
    ("SUBGROUP-DECISION", &[Role::Spa]),
    ("PUBLICATION-DATE", &[Role::Spa, Role::Icsc]),
    ("COPY-SENT", &[Role::Spa]),
    ("PUBLISHED", &[Role::Spa, Role::Icsc]),
    ("NOT-PUBLISHING", &[Role::Icsc]),
    ("DELAY", &[Role::Icsc, Role::Spa]),
    ("NOTE", &[Role::Spa, Role::Icsc, Role::Slt]),
    ("CLOSE", &[Role::Icsc]),
    ("APPROVE", &[Role::Slt]),
    ("DECLINE", &[Role::Slt]),
];

pub fn allowed_roles(word: &str) -> &'static [Role] {
    COMMAND_ROLES.iter().find(|(w, _)| *w == word).map(|(_, roles)| *roles).unwrap_or(&[])
}

/// The date a command names, else the date of the sender's message.
fn date_or(rest: &str, default: NaiveDate) -> Result<NaiveDate, String> {
    let rest = rest.trim();
    if rest.is_empty() {
        return Ok(default);
    }
    parse_uk_date(rest).ok_or_else(|| format!("'{rest}' is not a date (for example 24/11/2026 or 24 November 2026)"))
}

fn split_first(rest: &str) -> (&str, &str) {
    let rest = rest.trim();
    match rest.find(char::is_whitespace) {
        Some(i) => (&rest[..i], rest[i..].trim()),
        None => (rest, ""),
    }
}

pub fn command(mut state: CaseState, incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    let mut b = Builder::new(incoming, ctx);
    let Some(CommandLine { word, rest }) = incoming.understood.command.clone() else {
        return Outcome::triage("a command that could not be read");
    };
    let roles = incoming.sender().map(|a| ctx.config.roles_of(&a)).unwrap_or_default();
    let reference = state.reference.clone();
    let to = b.reply_to_sender();
    if !allowed_roles(&word).iter().any(|r| roles.contains(r)) {
        b.audit("command_refused", None, format!("{word}: the sender does not hold a role that may give it"));
        b.intent(
            Purpose::CommandReply,
            to,
            Some(&reference),
            "command_refused",
            &[
                ("command", word.clone()),
                (
                    "reason",
                    format!(
                        "{word} may be given only by {}",
                        allowed_roles(&word).iter().map(|r| r.short_name()).collect::<Vec<_>>().join(" or ")
                    ),
                ),
            ],
            false,
        );
        b.out.case = Some(state);
        return b.out;
    }
    let on = incoming.written_on();
    let result = apply(&mut state, &mut b, &word, &rest, on);
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
            b.intent(
                Purpose::CommandReply,
                to,
                Some(&reference),
                "command_refused",
                &[("command", word.clone()), ("reason", reason)],
                false,
            );
        }
    }
    b.out.case = Some(state);
    b.out
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

fn apply(state: &mut CaseState, b: &mut Builder<'_>, word: &str, rest: &str, on: NaiveDate) -> Result<String, String> {
    match word {
        "SUBMITTED" => complete(state, b, ClockId::C3, date_or(rest, on)?, "Rapid Review submitted to the Panel"),
        "MEETING-HELD" => complete(state, b, ClockId::C4, date_or(rest, on)?, "meeting held"),
        "NOTIFIED-ORGS" => complete(state, b, ClockId::C5, date_or(rest, on)?, "organisations notified"),
        "COPY-SENT" => complete(
            state,
            b,
            ClockId::C8,
            date_or(rest, on)?,
            "final report sent to the Panel and the Secretary of State",
        ),
        "SUBGROUP-DECISION" => {
            let (choice, date) = split_first(rest);
            let review = match choice.to_ascii_uppercase().as_str() {
                "REVIEW" => true,
                "NO-REVIEW" => false,
                other => return Err(format!("'{other}' is not REVIEW or NO-REVIEW")),
            };
            let date = date_or(date, on)?;
            state.subgroup_decision = Some((review, date));
            b.audit("subgroup_decision", Some(ClockId::C7), if review { "review" } else { "no review" });
            let _ = b.complete_clock(state, ClockId::C7, date);
            Ok(format!("sub-group decision ({}) recorded", if review { "review" } else { "no review" }))
        }
        "DECISION" => {
            let (choice, date) = split_first(rest);
            let decision = match choice.to_ascii_uppercase().as_str() {
                "CSPR" => ReviewDecision::Cspr,
                "NO-CSPR" => ReviewDecision::NoCspr,
                "NATIONAL" => ReviewDecision::National,
                other => return Err(format!("'{other}' is not CSPR, NO-CSPR or NATIONAL")),
            };
            if state.decision.is_some() {
                return Err("a decision is already recorded on this case".into());
            }
            let date = date_or(date, on)?;
            state.decision = Some((decision, date));
            b.audit("decision", None, format!("{decision:?} decided {date} (4.1)"));
            if decision == ReviewDecision::Cspr {
                b.start_clock(state, ClockId::C5, date);
                b.start_clock(state, ClockId::C6, date);
            }
            Ok(format!("decision {decision:?} recorded for {}", format_long(date)))
        }
        "FAMILY-CONTACTED" => {
            let date = date_or(rest, on)?;
            state.family_contacted = Some(date);
            b.audit("family_contacted", None, format!("family contacted {date} (7.1)"));
            Ok("family contact recorded".into())
        }
        "SOS-NOTIFIED" => {
            let date = date_or(rest, on)?;
            state.secretary_of_state_notified = Some(date);
            b.audit("secretary_of_state_notified", None, format!("Secretary of State told {date} (2.3)"));
            Ok("Secretary of State notification recorded".into())
        }
        "PUBLICATION-DATE" => {
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
        "PUBLISHED" => {
            let (url, date) = split_first(rest);
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err("PUBLISHED needs the link to the report".into());
            }
            let date = date_or(date, on)?;
            state.published = Some((url.to_owned(), date));
            b.audit("published", Some(ClockId::C6), format!("published {date}: {url}"));
            let _ = b.complete_clock(state, ClockId::C6, date);
            Ok("publication recorded".into())
        }
        "NOT-PUBLISHING" => {
            if rest.trim().is_empty() {
                return Err("NOT-PUBLISHING needs the reason".into());
            }
            state.not_publishing = Some(rest.trim().to_owned());
            b.audit("not_publishing", Some(ClockId::C6), "decision not to publish (9.1)");
            let _ = b.complete_clock(state, ClockId::C6, on);
            let reference = state.reference.clone();
            b.intent(
                Purpose::NoticeDraft,
                vec![Recipient::Role(Role::Spa)],
                Some(&reference),
                "not_publishing_notice_draft",
                &[],
                false,
            );
            Ok("decision not to publish recorded; a draft justification for the Panel and the Secretary of State goes to the SPA".into())
        }
        "DELAY" => {
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
        "APPROVE" | "DECLINE" => answer_delay(state, b, word, rest),
        "NOTE" => {
            if rest.trim().is_empty() {
                return Err("NOTE needs the text".into());
            }
            b.audit("note", None, rest.trim());
            Ok("note added".into())
        }
        "CLOSE" => {
            if rest.trim().is_empty() {
                return Err("CLOSE needs the reason".into());
            }
            for clock in state.clocks.iter_mut().filter(|c| c.is_running()) {
                clock.status = ClockStatus::Stopped;
                clock.closed_on = Some(on);
            }
            state.closed = Some((rest.trim().to_owned(), on));
            b.audit("case_closed", None, format!("closed: {}", rest.trim()));
            Ok("case closed; its open clocks are stopped".into())
        }
        other => Err(format!("'{other}' is not a command")),
    }
}

/// Asks every SLT member to approve a delay, each with a token of their own.
pub(crate) fn request_approval(
    state: &mut CaseState,
    b: &mut Builder<'_>,
    new_due: NaiveDate,
    reason: &str,
    on: NaiveDate,
) -> Result<(), String> {
    let config = b.ctx.config;
    let Some(secret) = config.approvals.token_secret.as_ref() else {
        return Err("delay approvals are not configured (approvals.token_secret_file)".into());
    };
    let approvers: Vec<String> =
        config.members(Role::Slt).map(|m| m.addresses.iter().map(|a| a.to_string()).collect()).unwrap_or_default();
    if approvers.is_empty() {
        return Err("no SLT member is configured to approve it".into());
    }
    let expires = on + chrono::Duration::days(i64::from(config.approvals.token_valid_days));
    if let Some(replaced) = &state.delay {
        b.audit(
            "delay_request_replaced",
            Some(ClockId::C6),
            format!("request {} (delay to {}) replaced: its tokens no longer count", replaced.number, replaced.new_due),
        );
    }
    state.delay_requests += 1;
    let number = state.delay_requests;
    state.delay = Some(DelayRequest {
        number,
        new_due,
        reason: reason.to_owned(),
        requested_on: on,
        approvals: Vec::new(),
        used_tokens: Vec::new(),
    });
    b.audit(
        "delay_requested",
        Some(ClockId::C6),
        format!("delay to {new_due} requested (request {number}); approval asked of {} SLT member(s)", approvers.len()),
    );
    let reference = state.reference.clone();
    for approver in approvers {
        let request = approvals::Request { case: reference.as_str(), number, new_due };
        let token = approvals::issue(secret.expose_secret().as_bytes(), &request, &approver, expires);
        b.intent(
            Purpose::ApprovalRequest,
            vec![Recipient::Address(approver)],
            Some(&reference),
            "approval_request",
            &[("new_due", format_long(new_due)), ("token", token), ("expires", format_long(expires))],
            false,
        );
    }
    Ok(())
}

/// An SLT member's APPROVE or DECLINE, counted only with a valid, unused token of theirs.
fn answer_delay(state: &mut CaseState, b: &mut Builder<'_>, word: &str, rest: &str) -> Result<String, String> {
    let Some(mut delay) = state.delay.clone() else { return Err("no delay is waiting for approval".into()) };
    let approver = b.actor.clone().unwrap_or_default().to_lowercase();
    let (token, reason) = split_first(rest);
    let secret = b.ctx.config.approvals.token_secret.as_ref().map(|s| s.expose_secret().as_bytes().to_vec());
    let today = crate::domain::london_date(&b.ctx.now);
    let request = approvals::Request { case: state.reference.as_str(), number: delay.number, new_due: delay.new_due };
    let checked = approvals::verify(secret.as_deref(), &request, &approver, Some(token), today, &delay.used_tokens);
    let token = match checked {
        Ok(token) => token,
        Err(e) => {
            b.audit("approval_rejected", Some(ClockId::C6), format!("{word} from {approver} not counted: {e}"));
            return Err(e.to_string());
        }
    };
    delay.used_tokens.push(token);
    let reference = state.reference.clone();
    if word == "DECLINE" {
        state.delay = None;
        b.audit("delay_declined", Some(ClockId::C6), format!("declined by {approver}: {}", reason.trim()));
        b.intent(
            Purpose::Escalation,
            vec![Recipient::Role(Role::Spa), Recipient::Role(Role::Icsc)],
            Some(&reference),
            "delay_declined",
            &[("reason", reason.trim().to_owned())],
            false,
        );
        return Ok("the delay was declined".into());
    }
    if !delay.approvals.contains(&approver) {
        delay.approvals.push(approver.clone());
    }
    b.audit("delay_approval", Some(ClockId::C6), format!("approved by {approver}"));
    if (delay.approvals.len() as u32) < b.ctx.config.approvals.quorum {
        state.delay = Some(delay);
        return Ok("approval counted; waiting for more approvals".into());
    }
    let Some(c6) = state.running_mut(ClockId::C6) else { return Err("no review (C6) is running on this case".into()) };
    c6.extensions.push(delay.new_due);
    state.delay = None;
    b.audit("clock_extended", Some(ClockId::C6), format!("C6 due date moved to {} (8.1)", delay.new_due));
    let facts = [("new_due", format_long(delay.new_due)), ("reason", delay.reason.clone())];
    b.intent(
        Purpose::NoticeDraft,
        vec![Recipient::Role(Role::Spa), Recipient::Role(Role::Icsc)],
        Some(&reference),
        "delay_notice_draft",
        &facts,
        false,
    );
    if b.ctx.config.approvals.send_statutory_notices {
        b.intent(
            Purpose::NoticeDraft,
            vec![Recipient::Role(Role::Panel), Recipient::Role(Role::SecretaryOfState)],
            Some(&reference),
            "delay_notice",
            &facts,
            false,
        );
    }
    Ok(format!("delay approved: the review is now due {}", format_long(delay.new_due)))
}
