//! Delays (protocol 8.1): the ICSC recommends a delay (`DELAY <date> <reason>`, asked
//! by the scheduler 20 working days before the review is due); approval is asked of
//! every SLT member, each with a token of their own, showing the reason, the dates and
//! the case's earlier delays; answers count against the quorum. A decline is final for
//! that request (its other tokens are refused) and the ICSC is told; an approved delay
//! moves C6, drafts the notice of reasons and chases it until `NOTICE-SENT DELAY`.

use chrono::NaiveDate;
use secrecy::ExposeSecret;

use super::approvals;
use super::args::split_first;
use super::{Builder, Purpose, Recipient};
use crate::domain::case::{CaseState, DelayRecord, DelayRequest};
use crate::domain::clock::ClockId;
use crate::domain::{Role, format_long};

/// Asks every SLT member to approve a delay, each with a token of their own.
pub(super) fn request_approval(
    state: &mut CaseState,
    b: &mut Builder<'_>,
    new_due: NaiveDate,
    reason: &str,
    on: NaiveDate,
) -> Result<(), String> {
    let rules = b.ctx.rules;
    let Some(secret) = rules.approvals.token_secret.as_ref() else {
        return Err("delay approvals are not configured (approvals.token_secret_file)".into());
    };
    let approvers: Vec<String> = rules.directory.addresses(Role::Slt);
    if approvers.is_empty() {
        return Err("no SLT member is configured to approve it".into());
    }
    let expires = on + chrono::Duration::days(i64::from(rules.approvals.token_valid_days));
    if let Some(replaced) = state.delay.take() {
        b.audit(
            "delay_request_replaced",
            Some(ClockId::C6),
            format!("request {} (delay to {}) replaced: its tokens no longer count", replaced.number, replaced.new_due),
        );
        state.delay_history.push(ended(&replaced, "replaced", on));
    }
    let current_due = state.running(ClockId::C6).map(|c| c.due_in_force());
    let history: Vec<String> = state
        .delay_history
        .iter()
        .map(|d| {
            format!("request {}: to {}, {} on {} ({})", d.number, format_long(d.new_due), d.outcome, d.on, d.reason)
        })
        .collect();
    state.delay_requests += 1;
    let number = state.delay_requests;
    state.delay = Some(DelayRequest {
        number,
        new_due,
        reason: reason.to_owned(),
        requested_on: on,
        approvals: Vec::new(),
        used_tokens: Vec::new(),
        current_due,
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
            &[
                ("new_due", format_long(new_due)),
                ("current_due", current_due.map(format_long).unwrap_or_default()),
                ("reason", reason.to_owned()),
                ("history", history.join("; ")),
                ("token", token),
                ("expires", format_long(expires)),
            ],
            false,
        );
    }
    Ok(())
}

/// An SLT member's APPROVE or DECLINE, counted only with a valid, unused token of theirs.
pub(super) fn answer_delay(
    state: &mut CaseState,
    b: &mut Builder<'_>,
    word: &str,
    rest: &str,
) -> Result<String, String> {
    let Some(mut delay) = state.delay.clone() else { return Err("no delay is waiting for approval".into()) };
    let approver = b.actor.clone().unwrap_or_default().to_lowercase();
    let (token, reason) = split_first(rest);
    let secret = b.ctx.rules.approvals.token_secret.as_ref().map(|s| s.expose_secret().as_bytes().to_vec());
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
        state.delay_history.push(ended(&delay, "declined", today));
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
    if (delay.approvals.len() as u32) < b.ctx.rules.approvals.quorum {
        state.delay = Some(delay);
        return Ok("approval counted; waiting for more approvals".into());
    }
    let Some(c6) = state.running_mut(ClockId::C6) else { return Err("no review (C6) is running on this case".into()) };
    c6.extensions.push(delay.new_due);
    state.delay = None;
    state.delay_history.push(ended(&delay, "approved", today));
    b.audit("clock_extended", Some(ClockId::C6), format!("C6 due date moved to {} (8.1)", delay.new_due));
    super::duties::open(state, b, crate::domain::duty::DutyKind::DelayNotice, today);
    let facts = [("new_due", format_long(delay.new_due)), ("reason", delay.reason.clone())];
    b.intent(
        Purpose::NoticeDraft,
        vec![Recipient::Role(Role::Spa), Recipient::Role(Role::Icsc)],
        Some(&reference),
        "delay_notice_draft",
        &facts,
        false,
    );
    if b.ctx.rules.approvals.send_statutory_notices {
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

fn ended(request: &DelayRequest, outcome: &str, on: NaiveDate) -> DelayRecord {
    DelayRecord {
        number: request.number,
        from_due: request.current_due,
        new_due: request.new_due,
        reason: request.reason.clone(),
        outcome: outcome.to_owned(),
        on,
    }
}
