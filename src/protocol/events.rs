//! What each kind of message does (protocol.md, "What happens on each event").

use super::{Builder, Context, Incoming, Outcome, Purpose, Recipient, Target};
use super::{commands, notifications};
use crate::domain::case::{CaseKind, CaseRef, CaseState};
use crate::domain::clock::ClockId;
use crate::domain::command::Command;
use crate::domain::duty::DutyKind;
use crate::domain::message::{Kind, PanelOutcome, Trust};
use crate::domain::{Role, format_long, london_date};

/// Whether the sender's mail may change a case.
fn authenticated(incoming: &Incoming<'_>, ctx: &Context<'_>) -> bool {
    ctx.released_by.is_some() || incoming.understood.trust == Trust::Trusted || !ctx.rules.require_authentication
}

pub(super) fn decide_message(target: Target, incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    let kind = incoming.understood.kind;
    // Anyone may misdirect a referral: it reaches a person at once, whoever sent it.
    if kind == Kind::Referral {
        return referral(incoming, ctx);
    }
    if matches!(kind, Kind::AutoReply | Kind::Bounce) {
        return automatic(target, incoming, ctx);
    }
    if kind == Kind::Unknown {
        return Outcome::triage(match incoming.understood.problems.first() {
            Some(problem) => format!("not understood: {problem}"),
            None => "not recognised as any kind of protocol mail".to_owned(),
        });
    }
    if kind == Kind::ConsiderationRequest && !authenticated(incoming, ctx) {
        return super::partners::request(target, incoming, ctx);
    }
    if !authenticated(incoming, ctx) {
        // A forged approval is refused and recorded on the case it names; the case is not changed.
        let approval = incoming
            .understood
            .command
            .as_ref()
            .is_some_and(|c| matches!(c.command, Command::Approve | Command::Decline));
        if let (true, Target::Existing(state)) = (approval, &target) {
            let mut b = Builder::new(incoming, ctx);
            b.audit(
                "approval_rejected",
                Some(crate::domain::clock::ClockId::C6),
                format!("sender not authenticated (trust {})", incoming.understood.trust.as_str()),
            );
            b.out.case = Some((**state).clone());
            b.out.triage = Some("an approval from a sender who is not authenticated".into());
            return b.out;
        }
        return Outcome::triage(format!("sender not authenticated (trust {})", incoming.understood.trust.as_str()));
    }
    if super::by_hand::names_no_case(incoming) {
        return match target {
            Target::New(reference) => super::by_hand::open_case(reference, incoming, ctx),
            _ => super::by_hand::triage_order(incoming, ctx),
        };
    }
    if let Target::Merge { duplicate, into } = target {
        return super::merge::merge(*duplicate, into.map(|c| *c), incoming, ctx);
    }
    match (kind, target) {
        (Kind::Notification, Target::New(reference)) => notifications::new_notification(reference, incoming, ctx),
        (Kind::Notification, Target::Existing(state)) => notifications::for_existing(*state, incoming, ctx),
        (Kind::Notification, Target::Beside { reference, closed }) => {
            notifications::beside_closed(reference, &closed, incoming, ctx)
        }
        (_, Target::Beside { closed, .. }) => {
            Outcome::triage(format!("{} is closed; a person must decide what this message means", closed.reference))
        }
        (Kind::ConsiderationRequest, Target::New(reference)) => consideration(reference, incoming, ctx),
        // A closed case takes only REOPEN; anything else is for a person.
        (Kind::StaffCommand, Target::Existing(state))
            if state.is_closed()
                && incoming.understood.command.as_ref().is_some_and(|c| c.command == Command::Reopen) =>
        {
            commands::command(*state, incoming, ctx)
        }
        (_, Target::Existing(state)) if state.is_closed() => {
            Outcome::triage(format!("{} is closed; a person must decide what this message means", state.reference))
        }
        (Kind::PanelResponse, Target::Existing(state)) => panel_response(*state, incoming, ctx),
        (Kind::StaffCommand, Target::Existing(state)) => commands::command(*state, incoming, ctx),
        (Kind::CaseReply | Kind::ConsiderationRequest, Target::Existing(state)) => {
            super::replies::reply(*state, incoming, ctx)
        }
        (_, _) => Outcome::triage(format!("a {} that matches no case", kind.as_str())),
    }
}

fn panel_response(mut state: CaseState, incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    let outcome = incoming.understood.panel_outcome.unwrap_or(PanelOutcome::Unclear);
    // An unclear response is never guessed at: a person reads it, and releases it to the
    // case (then recorded as unclear, the SPA told to act on what it says).
    if outcome == PanelOutcome::Unclear && ctx.released_by.is_none() {
        return Outcome {
            candidates: vec![state.reference.clone()],
            evidence: incoming.understood.panel_sentence.clone(),
            ..Outcome::triage(format!(
                "a Panel response for {} that neither agrees, disagrees nor asks for more: read it, then release it \
                 to the case",
                state.reference
            ))
        };
    }
    let on = incoming.written_on();
    let mut b = Builder::new(incoming, ctx);
    state.panel_outcome = Some(outcome);
    state.panel_response_on = Some(on);
    b.audit("panel_response", None, format!("the Panel's response: {outcome:?}"));
    let reference = state.reference.clone();
    // 3.3, 5.1: every Panel response is reported to the safeguarding partners, and the
    // Rapid Review report shared with them and the Case Review sub-group.
    let said = match outcome {
        PanelOutcome::Agree => "agrees with the Rapid Review",
        PanelOutcome::Disagree => "does not agree with the Rapid Review",
        PanelOutcome::MoreInformation => "asks for more information before it takes a view",
        PanelOutcome::Unclear => "has responded; a person has read it",
    };
    b.intent(
        Purpose::Escalation,
        vec![Recipient::Role(Role::Slt)],
        Some(&reference),
        "panel_response_reported",
        &[("outcome", said.to_owned())],
        false,
    );
    super::duties::open(&mut state, &mut b, DutyKind::ReportShared, on);
    match outcome {
        PanelOutcome::Disagree => {
            b.start_clock(&mut state, ClockId::C4, on);
            let due = state.running(ClockId::C4).map(|c| format_long(c.due_in_force())).unwrap_or_default();
            b.intent(
                Purpose::Escalation,
                vec![Recipient::Role(Role::Spa), Recipient::Role(Role::Icsc)],
                Some(&reference),
                "panel_disagrees",
                &[("meeting_due", due)],
                true,
            );
        }
        PanelOutcome::Agree | PanelOutcome::MoreInformation | PanelOutcome::Unclear => {
            let template = match outcome {
                PanelOutcome::Agree => "panel_agrees",
                PanelOutcome::MoreInformation => "panel_more_information",
                _ => "panel_unclear",
            };
            b.intent(Purpose::Escalation, vec![Recipient::Role(Role::Spa)], Some(&reference), template, &[], false);
        }
    }
    b.out.case = Some(state);
    b.out
}

fn consideration(reference: CaseRef, incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    let today = london_date(&ctx.now);
    let mut state = CaseState::new(reference.clone(), CaseKind::Consideration, today);
    let mut b = Builder::new(incoming, ctx);
    b.audit("case_opened", None, "request for consideration by the Case Review sub-group (11.1)");
    let meeting = super::consideration::consider(&mut state, &mut b, london_date(&incoming.arrived_at));
    b.intent(
        Purpose::Acknowledgement,
        b.reply_to_sender(),
        Some(&reference),
        "consideration_received",
        &[("meeting", meeting)],
        true,
    );
    super::criteria::alert(&mut b, &reference, incoming);
    b.out.case = Some(state);
    b.out
}

fn referral(incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    let mut b = Builder::new(incoming, ctx);
    b.intent(
        Purpose::ReferralAlert,
        vec![Recipient::Role(Role::Spa), Recipient::Role(Role::Duty)],
        None,
        "referral_alert",
        &[],
        true,
    );
    // The reply goes only to a sender our server authenticated (else it could be
    // backscatter on a forged address), once a day per address.
    if incoming.understood.reply_allowed
        && let Some(address) = incoming.understood.from.address.as_deref()
    {
        b.intent(Purpose::CommandReply, b.reply_to_sender(), None, "referral_reply", &[], true);
        b.rekey_last(format!("referral_reply:{}:{}", address.to_ascii_lowercase(), london_date(&ctx.now)), None);
    }
    b.out
}

/// Bounces for a case gather into one alert per ten minutes, sent when the ten minutes
/// end, with how many there were.
const BOUNCE_WINDOW_SECONDS: i64 = 600;

fn automatic(target: Target, incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    let kind = incoming.understood.kind;
    match target {
        Target::Existing(state) => {
            let mut b = Builder::new(incoming, ctx);
            b.audit(kind.as_str(), None, format!("{} recorded; not acted on", kind.as_str()));
            if kind == Kind::Bounce {
                b.intent(
                    Purpose::TriageAlert,
                    vec![Recipient::Role(Role::Spa)],
                    Some(&state.reference),
                    "bounce_alert",
                    &[],
                    true,
                );
                let bucket = ctx.now.timestamp().div_euclid(BOUNCE_WINDOW_SECONDS);
                b.rekey_last(
                    format!("{}bounce_alert:{}:{bucket}", super::COALESCE, state.reference),
                    chrono::DateTime::from_timestamp((bucket + 1) * BOUNCE_WINDOW_SECONDS, 0),
                );
            }
            b.out.case = Some(*state);
            b.out
        }
        _ => Outcome::triage(format!("a {} that matches no case", kind.as_str())),
    }
}
