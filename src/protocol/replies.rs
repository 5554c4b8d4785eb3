//! A reply on a case that holds no command. Nothing about the case changes, but nobody
//! is left unheard: a line that was nearly a command is answered with the line to send;
//! a member of staff is told once on the case what they can send; a local authority's
//! reply is passed to the SPA (pointing to the stored message, never quoting it).

use super::{Builder, Context, Incoming, Outcome, Purpose, Recipient};
use crate::domain::Role;
use crate::domain::case::{CaseKind, CaseState};
use crate::domain::message::NearMiss;

pub(super) fn reply(mut state: CaseState, incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    let mut b = Builder::new(incoming, ctx);
    let roles = incoming.sender().map(|a| ctx.rules.directory.roles_of(&a)).unwrap_or_default();
    match near_miss(incoming, &roles, ctx) {
        Some(near) => {
            let word = near.command.word();
            b.audit("command_refused", None, format!("{word} not run: {}", near.problem));
            let reason = format!(
                "{}. Nothing was changed. To record it, reply with this as the first line: {}",
                near.problem, near.line
            );
            let to = b.reply_to_sender();
            b.intent(
                Purpose::CommandReply,
                to,
                Some(&state.reference),
                "command_refused",
                &[("command", word.to_owned()), ("reason", reason)],
                false,
            );
        }
        None => filed(&mut b, &mut state, incoming, &roles),
    }
    // 11.2, whenever a request under consideration gets news.
    if state.kind == CaseKind::Consideration {
        super::criteria::alert(&mut b, &state.reference, incoming);
    }
    b.out.case = Some(state);
    b.out
}

/// A line that was nearly a command, from someone who may give that command: they are
/// told what was not run and the line to send.
fn near_miss<'a>(incoming: &'a Incoming<'_>, roles: &[Role], ctx: &Context<'_>) -> Option<&'a NearMiss> {
    let near = incoming.understood.near_miss.as_ref()?;
    ctx.rules.commands.roles(near.command).iter().any(|r| roles.contains(r)).then_some(near)
}

/// A reply with no command, filed with the case; staff are told once on the case what
/// they can send, the SPA is told of every local authority's reply.
fn filed(b: &mut Builder<'_>, state: &mut CaseState, incoming: &Incoming<'_>, roles: &[Role]) {
    b.audit("reply_received", None, format!("{} received", incoming.understood.kind.as_str()));
    let staff = roles.iter().any(|r| matches!(r, Role::Spa | Role::Icsc | Role::Slt | Role::BusinessSupport));
    let reference = state.reference.clone();
    if staff {
        let Some(sender) = incoming.sender().map(|a| a.to_string().to_ascii_lowercase()) else { return };
        if state.told_commands.contains(&sender) {
            return;
        }
        state.told_commands.push(sender);
        let answer = super::help::help(state, roles, b.ctx.rules.commands);
        let to = b.reply_to_sender();
        b.intent(Purpose::CommandReply, to, Some(&reference), "reply_filed", &[("answer", answer)], false);
    } else if roles.contains(&Role::LocalAuthority) {
        b.intent(
            Purpose::Escalation,
            vec![Recipient::Role(Role::Spa)],
            Some(&reference),
            "la_reply",
            &[("message", incoming.stored_id.to_string())],
            false,
        );
    }
}
