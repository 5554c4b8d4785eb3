//! Requests for consideration from outside the partnership's roles (11.1): a partner
//! agency (an NHS trust, the police, a school) writing from a configured partner
//! domain, authenticated, opens a *provisional* consideration case and the SPA is told
//! at once; no clock runs until the SPA confirms it. Anyone else's request is held for
//! a person, who is told at once. Neither ever changes an existing case.

use super::{Builder, Context, Incoming, Outcome, Purpose, Recipient, Target};
use crate::domain::case::{CaseKind, CaseRef, CaseState};
use crate::domain::message::Trust;
use crate::domain::{EmailAddress, london_date};

/// Whether the sender writes from one of the configured partner domains (or a
/// subdomain of one) and its domain is authenticated.
fn from_partner(incoming: &Incoming<'_>, ctx: &Context<'_>) -> bool {
    let address = incoming.understood.from.address.as_deref().and_then(|a| EmailAddress::parse(a).ok());
    let Some(domain) = address.as_ref().map(EmailAddress::domain) else { return false };
    incoming.understood.trust == Trust::Authenticated
        && ctx.rules.partner_domains.iter().any(|p| domain == p || domain.ends_with(&format!(".{p}")))
}

/// A request for consideration from a sender who holds no role.
pub(super) fn request(target: Target, incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    match target {
        Target::New(reference) if from_partner(incoming, ctx) => provisional(reference, incoming, ctx),
        _ => {
            let reason = format!(
                "a request for consideration from a sender outside the partnership's roles and partner domains (trust {})",
                incoming.understood.trust.as_str()
            );
            let mut b = Builder::new(incoming, ctx);
            b.intent(
                Purpose::Escalation,
                ctx.rules.alerts.triage.iter().copied().map(Recipient::Role).collect(),
                None,
                "triage_alert",
                &[("reason", reason.clone())],
                true,
            );
            b.out.triage = Some(reason);
            b.out
        }
    }
}

/// A provisional consideration case: recorded and the SPA told at once; C7 waits for
/// the SPA's confirmation.
fn provisional(reference: CaseRef, incoming: &Incoming<'_>, ctx: &Context<'_>) -> Outcome {
    let mut state = CaseState::new(reference.clone(), CaseKind::Consideration, london_date(&ctx.now));
    state.provisional = true;
    let mut b = Builder::new(incoming, ctx);
    b.audit(
        "case_opened",
        None,
        "provisional: a partner agency's request for consideration (11.1); no clock runs until the SPA confirms it",
    );
    b.intent(
        Purpose::Escalation,
        vec![Recipient::Role(crate::domain::Role::Spa)],
        Some(&reference),
        "consideration_provisional",
        &[],
        true,
    );
    super::criteria::alert(&mut b, &reference, incoming);
    b.out.case = Some(state);
    b.out
}
