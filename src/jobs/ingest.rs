//! Ingest: take the oldest stored messages, understand them (pure, on every core), and
//! for each in turn match it to a case, decide (pure), and record the case change,
//! audit, intents and the message's new state. A batch of messages shares one
//! transaction: each sees what the ones before it decided, all commit together (or none
//! after a crash), and the batch's writes go in a handful of statements at its end
//! (`store::deferred`); a message whose writes the database refuses has them undone
//! alone, under a savepoint. Never logs a body or a child's details.
//!
//! No message can stall the rest: each attempt is counted (committed) before it begins;
//! understanding runs within the configured budget and a panic in it is caught; a
//! message that panics, overruns or was interrupted `MAX_ATTEMPTS` times is given up on
//! — triaged with the reason and reported once — and a message whose earlier attempt
//! never finished is retried alone, so it cannot take the messages beside it down too.

use chrono::{DateTime, Datelike, Utc};

use super::reading::understand_bounded;
use crate::config::Config;
use crate::domain::case::CaseRef;
use crate::domain::command::Command;
use crate::domain::london_date;
use crate::domain::message::{Kind, Understood};
use crate::protocol::alerts::{self, AlertRecipients};
use crate::protocol::{
    Context, Failure, Incoming, MAX_ATTEMPTS, Match, Outcome as Decision, Target, decide, failed, match_message,
    opens_beside, triage_answer,
};
use crate::store::{Ahead, Batch, Processed, Store, StoreError, StoredMessage};
use crate::understand::to_json;

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A message was processed.
    Processed(i64),
    /// Nothing was waiting.
    Idle,
}

/// Messages committed together at most: a backlog is worked through in large
/// transactions, a single new message at once.
pub const BATCH: u32 = 100;

/// Processes one waiting message.
pub async fn try_step(store: &Store, config: &Config, now: DateTime<Utc>) -> Result<Outcome, StoreError> {
    Ok(match try_batch(store, config, now, 1, &|| {}).await?.first() {
        Some(id) => Outcome::Processed(*id),
        None => Outcome::Idle,
    })
}

/// Processes up to `limit` waiting messages, oldest first, in one transaction; returns
/// their ids. `progress` is called after each message (liveness for the watchdog).
pub async fn try_batch(
    store: &Store,
    config: &Config,
    now: DateTime<Utc>,
    limit: u32,
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<i64>, StoreError> {
    let mut messages = store.pending_messages(limit).await?;
    // A message whose earlier attempt never finished goes alone; the ones before it
    // still go together.
    match messages.iter().position(|m| m.attempts > 0) {
        Some(0) => messages.truncate(1),
        Some(first) => messages.truncate(first),
        None => {}
    }
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = messages.iter().map(|m| m.id).collect();
    store.count_attempts(&ids).await?;
    crate::fault::pause("processing:read");
    let understood = understand_all(&messages, config, progress);
    let ahead: Vec<Ahead<'_>> = messages
        .iter()
        .zip(&understood)
        .map(|(m, u)| Ahead { stored_id: m.id, message_id: m.message_id.as_deref(), understood: u.as_ref().ok() })
        .collect();
    // The batch goes first with its writes kept until it ends (a handful of statements
    // for all of it). If the database refuses one message's writes, the whole batch is
    // undone and goes again, a statement at a time with a savepoint a message: that
    // message's writes are undone alone, the others are kept, and it waits, its attempt
    // counted, to be retried alone.
    let mut guarded = false;
    let (batch, done) = loop {
        let mut batch = store.batch().await?;
        if !guarded {
            match batch.defer(&ahead, &config.intake.own_message_id_domain, now).await {
                Ok(()) => {}
                Err(error) if error.is_about_the_change() => {
                    tracing::warn!(error = %error, "batch's lookups refused; it goes a message at a time");
                    batch.roll_back().await?;
                    guarded = true;
                    continue;
                }
                Err(error) => return Err(error),
            }
        }
        let mut done = Vec::with_capacity(messages.len());
        let mut refused = false;
        for (message, understood) in messages.iter().zip(&understood) {
            if guarded {
                batch.savepoint().await?;
            }
            match process(&mut batch, config, now, message, understood).await {
                Ok(processed) => {
                    if guarded {
                        batch.release().await?;
                    }
                    if processed {
                        done.push(message.id);
                    }
                }
                Err(error) if error.is_about_the_change() && !guarded => {
                    tracing::warn!(stored_id = message.id, error = %error, "message not recorded; its batch goes again, a savepoint a message");
                    refused = true;
                    break;
                }
                Err(error) if error.is_about_the_change() => {
                    if batch.roll_back_to_savepoint().await.is_err() {
                        return Err(error);
                    }
                    tracing::warn!(stored_id = message.id, error = %error, "message not recorded; it will be retried alone");
                }
                Err(error) => return Err(error),
            }
            progress();
        }
        if !refused && !guarded {
            match batch.go_direct().await {
                Ok(()) => break (batch, done),
                Err(error) if error.is_about_the_change() => {
                    tracing::warn!(error = %error, "batch not recorded; it goes again, a savepoint a message");
                }
                Err(error) => return Err(error),
            }
        } else if !refused {
            break (batch, done);
        }
        batch.roll_back().await?;
        guarded = true;
    };
    crate::fault::point("processing:before-commit");
    batch.commit().await?;
    Ok(done)
}

/// Reads each message of a batch (the pure pipeline, within its budget), on as many
/// threads as there are cores; `progress` is called after each message (a batch of
/// large documents may take minutes, and the watchdog is told it goes on).
fn understand_all(
    messages: &[StoredMessage],
    config: &Config,
    progress: &(dyn Fn() + Sync),
) -> Vec<Result<Understood, Failure>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(messages.len());
    let one = |m: &StoredMessage| {
        let understood = understand_one(m, config);
        progress();
        understood
    };
    let read = || -> Vec<Result<Understood, Failure>> {
        if threads <= 1 {
            return messages.iter().map(one).collect();
        }
        let share = messages.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let readers: Vec<_> = messages
                .chunks(share)
                .map(|part| scope.spawn(move || part.iter().map(one).collect::<Vec<_>>()))
                .collect();
            // A reader's panic is caught per message; a thread that died anyway leaves
            // its messages to be given up on, not the batch.
            readers
                .into_iter()
                .zip(messages.chunks(share))
                .flat_map(|(reader, part)| reader.join().unwrap_or_else(|_| vec![Err(Failure::Panicked); part.len()]))
                .collect()
        })
    };
    if tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
    {
        // Reading attached documents may take CPU for a while: off the async workers.
        tokio::task::block_in_place(read)
    } else {
        read()
    }
}

fn understand_one(message: &StoredMessage, config: &Config) -> Result<Understood, Failure> {
    if let Some(bytes) = message.truncated_from {
        Err(Failure::Oversized { bytes, limit: config.intake.max_message_bytes })
    } else if message.attempts >= MAX_ATTEMPTS {
        Err(Failure::Interrupted { attempts: message.attempts })
    } else {
        understand_bounded(message.id, &message.raw, config)
    }
}

/// One message within a batch: matched, decided and recorded.
async fn process(
    batch: &mut Batch,
    config: &Config,
    now: DateTime<Utc>,
    message: &StoredMessage,
    understood: &Result<Understood, Failure>,
) -> Result<bool, StoreError> {
    let understood = match understood {
        Ok(understood) => understood,
        Err(failure) => return give_up(batch, now, message.id, *failure, &config.alerts).await,
    };
    crate::fault::point("processing:understood");
    let found = batch.lookups(understood, &config.intake.own_message_id_domain).await?;
    let ctx = Context { now, rules: config.protocol_rules(), released_by: None };
    let incoming = Incoming { stored_id: message.id, understood, arrived_at: message.arrived_at, cause: None };
    let mut new_year = None;
    let decision = match match_message(understood, &found) {
        // A referral reaches a person whatever it seems to match.
        Match::Triage { .. } if understood.kind == Kind::Referral => decide(Target::None, &incoming, &ctx),
        Match::Triage { reason, candidates } => Decision { candidates, ..Decision::triage(reason) },
        Match::Existing(reference) => match batch.load_case(&reference).await? {
            // A new incident for a closed case's child: a case of its own beside it.
            Some(state) if opens_beside(understood, &state) => {
                let year = london_date(&now).year();
                new_year = Some(year);
                let reference = batch.next_reference(&config.cases.prefix, year, config.cases.digits).await?;
                decide(Target::Beside { reference, closed: Box::new(state) }, &incoming, &ctx)
            }
            // MERGE on a duplicate's thread: with the case it names at hand.
            Some(state) if merging(understood).is_some() => {
                let into = match merging(understood) {
                    Some(named) => batch.load_case(&named).await?.map(Box::new),
                    None => None,
                };
                decide(Target::Merge { duplicate: Box::new(state), into }, &incoming, &ctx)
            }
            Some(state) => decide(Target::Existing(Box::new(state)), &incoming, &ctx),
            None => Decision::triage(format!("{reference} could not be loaded")),
        },
        Match::New => {
            let year = london_date(&now).year();
            new_year = Some(year);
            let reference = batch.next_reference(&config.cases.prefix, year, config.cases.digits).await?;
            decide(Target::New(reference), &incoming, &ctx)
        }
        Match::NoCase => decide(Target::None, &incoming, &ctx),
    };
    let mut decision = decision;
    let may_matter = alerts::may_matter(understood);
    let already_told = decision.intents.iter().any(|i| i.template == "triage_alert");
    if let Some(alert) =
        decision.triage.as_deref().and_then(|r| alerts::triaged(&config.alerts, message.id, r, may_matter))
        && !already_told
    {
        decision.intents.push(alert);
    }
    // A TRIAGE reply: carried out here, with the held message at hand, in this batch.
    if let Some((id, order)) = decision.order.take() {
        let by = understood.from.address.clone().unwrap_or_default();
        let result = match super::triage::resolve_in(batch, config, id, order.into(), &by, now).await {
            Ok(resolved) => Ok(resolved.state),
            Err(super::triage::ResolveError::Store(e)) => return Err(e),
            Err(other) => Err(other.to_string()),
        };
        decision.intents.extend(triage_answer(&incoming, &ctx, id, result).intents);
    }
    let opened = decision.case.as_ref().filter(|_| new_year.is_some()).is_some();
    let summary = to_json(understood).to_string();
    let processed = Processed {
        stored_id: message.id,
        kind: understood.kind.as_str(),
        trust: understood.trust.as_str(),
        summary: &summary,
        new_case_year: if opened { new_year } else { None },
        resolves_triage: None,
        failure: None,
    };
    if !batch.record(&processed, &decision, now).await? {
        return Ok(false);
    }
    tracing::info!(
        stored_id = message.id,
        message_id = understood.message_id.as_deref().unwrap_or(""),
        kind = understood.kind.as_str(),
        trust = understood.trust.as_str(),
        case = decision.case.as_ref().map(|c| c.reference.as_str()).unwrap_or(""),
        triaged = decision.triage.is_some(),
        intents = decision.intents.len(),
        "message processed"
    );
    Ok(true)
}

/// The case a MERGE command names.
fn merging(understood: &Understood) -> Option<CaseRef> {
    let line = understood.command.as_ref().filter(|c| c.command == Command::Merge)?;
    CaseRef::parse(line.rest.trim()).ok()
}

/// Records a message given up on: triaged with the reason, the SPA told once.
async fn give_up(
    batch: &mut Batch,
    now: DateTime<Utc>,
    id: i64,
    failure: Failure,
    recipients: &AlertRecipients,
) -> Result<bool, StoreError> {
    let reason = failure.reason();
    let summary = serde_json::json!({ "kind": "unknown", "failure": reason, "problems": [reason] }).to_string();
    let processed = Processed {
        stored_id: id,
        kind: Kind::Unknown.as_str(),
        trust: "unknown",
        summary: &summary,
        new_case_year: None,
        resolves_triage: None,
        failure: Some(&reason),
    };
    let recorded = batch.record(&processed, &failed(id, failure, recipients), now).await?;
    if recorded {
        tracing::warn!(stored_id = id, reason = %reason, "message given up on and held for triage");
    }
    Ok(recorded)
}

/// Steps until nothing is waiting; returns how many were processed. `progress` is
/// called after each message.
pub async fn drain(
    store: &Store,
    config: &Config,
    now: impl Fn() -> DateTime<Utc>,
    progress: &(dyn Fn() + Sync),
) -> Result<usize, StoreError> {
    let mut count = 0;
    loop {
        // Empty only when nothing was waiting (a message another process took meanwhile
        // is no longer waiting either).
        let done = try_batch(store, config, now(), BATCH, progress).await?;
        if done.is_empty() {
            return Ok(count);
        }
        count += done.len();
    }
}
