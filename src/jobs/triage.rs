//! Resolving a triage item: a person ties the message to a case, opens a new case with
//! it (with the facts they give, whatever the message seemed to be), or sets it aside
//! — from the command line or by a `TRIAGE` reply. The decision is the same pure one, in
//! that person's name: a release is not the claimed sender's signature, so released
//! commands are not run.

use chrono::{DateTime, Datelike, Utc};

use crate::config::Config;
use crate::domain::case::CaseRef;
use crate::domain::facts::{CaseFacts, OpenKind, TriageOrder};
use crate::domain::london_date;
use crate::domain::message::{Kind, Understood};
use crate::protocol::{Context, Incoming, Outcome, Target, decide};
use crate::store::{Batch, Processed, Store, StoreError};
use crate::understand::to_json;

/// What the person decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Case(CaseRef),
    /// A new case: as the message reads, or — with facts — as the person says.
    NewCase(Option<CaseFacts>),
    Ignore(Option<String>),
}

impl From<TriageOrder> for Resolution {
    fn from(order: TriageOrder) -> Self {
        match order {
            TriageOrder::Attach(case) => Resolution::Case(case),
            TriageOrder::NewCase(facts) => Resolution::NewCase(Some(facts)),
            TriageOrder::Ignore(reason) => Resolution::Ignore(Some(reason)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("no open triage item {0}")]
    NoItem(i64),
    #[error("no case {0}")]
    NoCase(String),
    #[error("this message cannot be applied that way: {0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a resolution did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The case it touched, if any.
    pub case: Option<String>,
    /// The staff command attached to that case without being run.
    pub command_not_run: Option<String>,
    /// The case as it became.
    pub state: Option<Box<crate::domain::case::CaseState>>,
}

/// Applies a person's resolution of triage item `id` in the name of `released_by`, in
/// a transaction of its own.
pub async fn resolve(
    store: &Store,
    config: &Config,
    id: i64,
    resolution: Resolution,
    released_by: &str,
    now: DateTime<Utc>,
) -> Result<Resolved, ResolveError> {
    let mut batch = store.batch().await?;
    let resolved = resolve_in(&mut batch, config, id, resolution, released_by, now).await?;
    batch.commit().await?;
    Ok(resolved)
}

/// The message read as the person says it is: the kind they name, their facts before
/// the ones it gave.
fn as_the_person_says(mut understood: Understood, facts: &CaseFacts, config: &Config) -> Understood {
    understood.kind = match facts.kind {
        OpenKind::Notification => Kind::Notification,
        OpenKind::Consideration => Kind::ConsiderationRequest,
    };
    understood.command = None;
    let mut fields = understood.notification.take().unwrap_or_default();
    let authority = facts.authority.as_deref().map(|a| config.directory.canonical_authority(a));
    fields.local_authority = authority.or(fields.local_authority);
    for (name, given, field) in [
        ("aware_date", facts.aware, &mut fields.aware_date),
        ("notified_date", facts.notified, &mut fields.notified_date),
    ] {
        if given.is_some() {
            *field = given;
            fields.provisional.retain(|p| p != name);
        }
    }
    fields.panel_reference = facts.panel_reference.clone().or(fields.panel_reference);
    fields.incident_type = facts.incident_type.or(fields.incident_type);
    understood.notification = Some(fields);
    understood
}

/// `resolve` within `batch` (a `TRIAGE` reply is carried out in its own message's batch).
pub async fn resolve_in(
    batch: &mut Batch,
    config: &Config,
    id: i64,
    resolution: Resolution,
    released_by: &str,
    now: DateTime<Utc>,
) -> Result<Resolved, ResolveError> {
    let message = batch.open_triage_message(id).await?.ok_or(ResolveError::NoItem(id))?;
    let (raw, arrived_at) = batch.message_raw(message).await?.ok_or(ResolveError::NoItem(id))?;
    let ignore = matches!(resolution, Resolution::Ignore(_));
    // A message given up on (it panicked or overran) can still be set aside, or opened
    // as a case from a person's facts.
    let understood = match (super::reading::understand_bounded(message, &raw, config), &resolution) {
        (Ok(understood), _) => understood,
        (Err(failure), Resolution::Ignore(_) | Resolution::NewCase(Some(_))) => {
            Understood::empty(vec![failure.reason()])
        }
        (Err(failure), _) => return Err(ResolveError::Refused(failure.reason())),
    };
    let understood = match &resolution {
        Resolution::NewCase(Some(facts)) => as_the_person_says(understood, facts, config),
        _ => understood,
    };
    let ctx = Context { now, rules: config.protocol_rules(), released_by: Some(released_by.to_owned()) };
    let incoming = Incoming { stored_id: message, understood: &understood, arrived_at, cause: None };
    let mut new_year = None;
    let (outcome, label) = match &resolution {
        Resolution::Ignore(reason) => {
            (Outcome::default(), reason.as_ref().map_or_else(|| "ignored".to_owned(), |r| format!("ignored: {r}")))
        }
        Resolution::Case(reference) => {
            let state = batch.load_case(reference).await?.ok_or_else(|| ResolveError::NoCase(reference.to_string()))?;
            (decide(Target::Existing(Box::new(state)), &incoming, &ctx), format!("applied to {reference}"))
        }
        Resolution::NewCase(_) => {
            let year = london_date(&now).year();
            new_year = Some(year);
            let reference = batch.next_reference(&config.cases.prefix, year, config.cases.digits).await?;
            (decide(Target::New(reference.clone()), &incoming, &ctx), format!("opened {reference}"))
        }
    };
    if let Some(reason) = &outcome.triage {
        return Err(ResolveError::Refused(reason.clone()));
    }
    if !ignore && outcome.case.is_none() {
        return Err(ResolveError::Refused("it does not open or change a case".into()));
    }
    let summary = to_json(&understood).to_string();
    let processed = Processed {
        stored_id: message,
        kind: understood.kind.as_str(),
        trust: understood.trust.as_str(),
        summary: &summary,
        new_case_year: new_year,
        failure: None,
        resolves_triage: Some((id, label)),
    };
    batch.record(&processed, &outcome, now).await?;
    let command_not_run = outcome
        .audit
        .iter()
        .any(|a| a.event == "command_not_run")
        .then(|| understood.command.as_ref().map_or_else(String::new, |c| c.command.word().to_owned()));
    Ok(Resolved {
        case: outcome.case.as_ref().map(|c| c.reference.to_string()),
        command_not_run,
        state: outcome.case.map(Box::new),
    })
}
