//! Commands that name no case: `OPEN`, a case opened by hand from the facts a person
//! gives (a notification that came by phone, a scan nobody can read), and `TRIAGE`, a
//! held message resolved by reply. The decision here is who may; `jobs` carries out a
//! TRIAGE order with the held message at hand, and `triage_answer` words the reply.

use super::commands::{answer_refused, may_give, refuse};
use super::{Builder, Context, Incoming, Outcome, Purpose};
use crate::domain::case::{CaseKind, CaseRef, CaseState};
use crate::domain::command::Command;
use crate::domain::facts::{OpenKind, read_facts, read_triage};
use crate::domain::london_date;
use crate::domain::message::{Kind, NotificationFields, Understood};

/// `OPEN NOTIFICATION|CONSIDERATION <authority> [facts]`: a new case as the person says.
pub(super) fn open_case(reference: CaseRef, incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    opened(reference, incoming, ctx, false)
}

/// `cspr open …`: the same, by a person at the host (`ctx.released_by` names them), who
/// holds no role by email and needs none: whoever can run the command can change the
/// database. The answer is for the console, not an email.
pub fn open_at_console(reference: CaseRef, incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    let mut out = opened(reference, incoming, ctx, true);
    out.intents.retain(|i| i.purpose != Purpose::CommandReply);
    out
}

fn opened(reference: CaseRef, incoming: &Incoming<'_>, ctx: &Context<'_>, at_console: bool) -> Outcome {
    let rest = incoming.understood.command.as_ref().map_or("", |c| c.rest.as_str());
    let (roles, allowed) = may_give(incoming, ctx, Command::Open, rest);
    if !at_console && !allowed.iter().any(|r| roles.contains(r)) {
        let mut b = Builder::new(incoming, ctx);
        refuse(&mut b, None, Command::Open.word(), &allowed);
        return b.out;
    }
    let facts = match read_facts(rest, true) {
        Ok(facts) => facts,
        Err(reason) => {
            let mut b = Builder::new(incoming, ctx);
            answer_refused(&mut b, None, "OPEN", reason);
            return b.out;
        }
    };
    let fields = NotificationFields {
        local_authority: facts.authority.as_deref().map(|a| ctx.rules.directory.canonical_authority(a)),
        incident_type: facts.incident_type,
        aware_date: facts.aware,
        notified_date: facts.notified,
        panel_reference: facts.panel_reference.clone(),
        ..NotificationFields::default()
    };
    let on = incoming.written_on();
    let mut outcome = match facts.kind {
        OpenKind::Notification => {
            let understood = Understood { notification: Some(fields), ..incoming.understood.clone() };
            let by_hand = Incoming { understood: &understood, ..incoming.clone() };
            super::notifications::opened_by_hand(reference.clone(), &by_hand, ctx)
        }
        OpenKind::Consideration => {
            let mut state = CaseState::new(reference.clone(), CaseKind::Consideration, london_date(&ctx.now));
            state.notification = fields;
            let mut b = Builder::new(incoming, ctx);
            b.audit(
                "case_opened",
                None,
                "opened by hand: a request for consideration by the Case Review sub-group (11.1)",
            );
            super::consideration::consider(&mut state, &mut b, on);
            b.out.case = Some(state);
            b.out
        }
    };
    let done = match &outcome.case {
        Some(state) => format!("case {} opened. {}", state.reference, super::corrections::due_dates(state)),
        None => format!("case {reference} opened"),
    };
    let mut b = Builder::new(incoming, ctx);
    let to = b.reply_to_sender();
    b.intent(
        Purpose::CommandReply,
        to,
        Some(&reference),
        "command_done",
        &[("command", "OPEN".into()), ("done", done)],
        false,
    );
    outcome.intents.append(&mut b.out.intents);
    outcome
}

/// `TRIAGE <number> …`: from someone who may resolve triage, the order to carry out;
/// else the refusal.
pub(super) fn triage_order(incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    let rest = incoming.understood.command.as_ref().map_or("", |c| c.rest.as_str());
    let (roles, allowed) = may_give(incoming, ctx, Command::Triage, rest);
    let mut b = Builder::new(incoming, ctx);
    if !allowed.iter().any(|r| roles.contains(r)) {
        refuse(&mut b, None, Command::Triage.word(), &allowed);
        return b.out;
    }
    match read_triage(rest) {
        Ok(order) => b.out.order = Some(order),
        Err(reason) => {
            answer_refused(&mut b, None, "TRIAGE", reason);
        }
    }
    b.out
}

/// The reply to a TRIAGE order once carried out (`Ok` with what it did) or not.
pub fn triage_answer(
    incoming: &Incoming<'_>,
    ctx: &Context<'_>,
    id: i64,
    result: Result<Option<Box<CaseState>>, String>,
) -> Outcome {
    let mut b = Builder::new(incoming, ctx);
    let to = b.reply_to_sender();
    let case = result.as_ref().ok().and_then(|s| s.as_ref()).map(|s| s.reference.clone());
    match &result {
        Ok(touched) => {
            let done = match touched {
                Some(state) => {
                    format!("item {id} resolved: {}. {}", state.reference, super::corrections::due_dates(state))
                }
                None => format!("item {id} set aside"),
            };
            b.intent(
                Purpose::CommandReply,
                to,
                case.as_ref(),
                "command_done",
                &[("command", "TRIAGE".into()), ("done", done)],
                false,
            );
        }
        Err(reason) => {
            let line = incoming.understood.command.as_ref().map_or(String::new(), |c| c.rest.clone());
            answer_refused(&mut b, None, "TRIAGE", format!("{reason} (you sent: TRIAGE {line})"));
        }
    }
    if let Ok(Some(state)) = &result {
        super::help::add_footers(state, &mut b.out.intents, ctx);
    }
    b.out
}

/// Whether a staff command names no case (and so is decided here).
pub(super) fn names_no_case(incoming: &Incoming<'_>) -> bool {
    incoming.understood.kind == Kind::StaffCommand
        && incoming.understood.command.as_ref().is_some_and(|c| !c.command.on_a_case())
}
