//! Resolving a triage item: a person ties the message to a case, opens a new case with
//! it, or sets it aside. The decision is the same pure one, in that person's name: a
//! release is not the claimed sender's signature, so released commands are not run.

use chrono::{DateTime, Datelike, Utc};

use crate::config::Config;
use crate::domain::case::CaseRef;
use crate::domain::london_date;
use crate::domain::message::Understood;
use crate::protocol::{Context, Incoming, Outcome, Target, decide};
use crate::store::{Processed, Store, StoreError};
use crate::understand::to_json;

/// What the person decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Case(CaseRef),
    NewCase,
    Ignore,
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
}

/// Applies a person's resolution of triage item `id` in the name of `released_by`.
pub async fn resolve(
    store: &Store,
    config: &Config,
    id: i64,
    resolution: Resolution,
    released_by: &str,
    now: DateTime<Utc>,
) -> Result<Resolved, ResolveError> {
    let item = store.triage(true).await?.into_iter().find(|t| t.id == id).ok_or(ResolveError::NoItem(id))?;
    let (raw, arrived_at) = store.message_raw(item.message).await?.ok_or(ResolveError::NoItem(id))?;
    // A message given up on (it panicked or overran) can still be set aside.
    let understood = match super::ingest::understand_bounded(item.message, &raw, config) {
        Ok(understood) => understood,
        Err(failure) if resolution == Resolution::Ignore => Understood::empty(vec![failure.reason()]),
        Err(failure) => return Err(ResolveError::Refused(failure.reason())),
    };
    let ctx = Context { now, rules: config.protocol_rules(), released_by: Some(released_by.to_owned()) };
    let incoming = Incoming { stored_id: item.message, understood: &understood, arrived_at };
    let mut new_year = None;
    let (outcome, label) = match &resolution {
        Resolution::Ignore => (Outcome::default(), "ignored".to_owned()),
        Resolution::Case(reference) => {
            let state = store.load_case(reference).await?.ok_or_else(|| ResolveError::NoCase(reference.to_string()))?;
            (decide(Target::Existing(Box::new(state)), &incoming, &ctx), format!("applied to {reference}"))
        }
        Resolution::NewCase => {
            let year = london_date(&now).year();
            new_year = Some(year);
            let reference = store.next_reference(&config.cases.prefix, year, config.cases.digits).await?;
            (decide(Target::New(reference.clone()), &incoming, &ctx), format!("opened {reference}"))
        }
    };
    if let Some(reason) = &outcome.triage {
        return Err(ResolveError::Refused(reason.clone()));
    }
    if resolution != Resolution::Ignore && outcome.case.is_none() {
        return Err(ResolveError::Refused("it does not open or change a case".into()));
    }
    let summary = to_json(&understood).to_string();
    let processed = Processed {
        stored_id: item.message,
        kind: understood.kind.as_str(),
        trust: understood.trust.as_str(),
        summary: &summary,
        new_case_year: new_year,
        failure: None,
        resolves_triage: Some((id, label)),
    };
    store.commit_processing(&processed, &outcome, now).await?;
    let command_not_run = outcome
        .audit
        .iter()
        .any(|a| a.event == "command_not_run")
        .then(|| understood.command.as_ref().map_or_else(String::new, |c| c.command.word().to_owned()));
    Ok(Resolved { case: outcome.case.map(|c| c.reference.to_string()), command_not_run })
}
