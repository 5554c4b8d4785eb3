//! A message a person released from triage: decided in that person's name. A release
//! is not the claimed sender's signature, so a released staff command or approval is
//! attached to its case and not run; the chronology names the releaser and the claimed
//! sender as claimed only.

use super::{Builder, Context, Incoming, Outcome, Target, events};
use crate::domain::message::Kind;

/// Decides one message: as it came, or, released by a person, in that person's name.
pub fn decide(target: Target, incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    let Some(releaser) = &ctx.released_by else { return events::decide_message(target, incoming, ctx) };
    let mut out = if incoming.understood.kind == Kind::StaffCommand {
        released_command(target, incoming, ctx)
    } else {
        events::decide_message(target, incoming, ctx)
    };
    if out.case.is_some() {
        let u = incoming.understood;
        let claimed = u.from.address.as_deref().unwrap_or("no address");
        out.audit.insert(
            0,
            crate::protocol::AuditEntry {
                event: "released_from_triage".into(),
                clock: None,
                actor: Some(releaser.clone()),
                detail: format!(
                    "message {} released by {releaser}; claimed sender {claimed} (trust {}: {})",
                    incoming.stored_id,
                    u.trust.as_str(),
                    u.trust_reason
                ),
            },
        );
    }
    out
}

/// A staff command or approval released from triage: its sender was never shown to be
/// who it claims, so it is attached to the case and not run.
fn released_command(target: Target, incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    let Target::Existing(state) = target else {
        return Outcome::triage("a staff command opens no case");
    };
    let mut b = Builder::new(incoming, ctx);
    let word = incoming.understood.command.as_ref().map_or("a command", |c| c.command.word());
    b.audit(
        "command_not_run",
        None,
        format!("{word} attached, not run: a message released from triage is not its sender's signature"),
    );
    b.out.case = Some(*state);
    b.out
}
