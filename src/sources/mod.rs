//! Where mail comes from: an IMAP mailbox watched with IDLE, or a local Maildir.
//! Each source hands every message (and its checkpoint) to a `Sink` — the job that
//! keeps them — before anything acts on it, then wakes the workers. Sources know
//! nothing of the store.

pub mod imap;
pub mod maildir;

use std::future::Future;

use crate::domain::mailbox::{Checkpoint, FilingProblem, NewMessage, Outage, Stored};

/// Why a sink could not keep what it was given (the sink's own error, boxed).
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Where a source hands over what it reads.
pub trait Sink: Sync {
    /// Where `source` was read up to.
    fn checkpoint(&self, source: &str) -> impl Future<Output = Result<Option<Checkpoint>, SinkError>> + Send;

    /// Starts `source` again from its first message (its UIDVALIDITY changed).
    fn reset_checkpoint(&self, source: &str, uidvalidity: u32) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// Keeps a batch durably, all or nothing, the checkpoint advanced past the last
    /// message: each one new, or a copy of one already kept.
    fn keep(&self, batch: &[NewMessage<'_>]) -> impl Future<Output = Result<Vec<Stored>, SinkError>> + Send;

    /// The mailbox has been out of reach longer than allowed: true once someone will be
    /// told (else it is reported again on the next failure).
    fn unreachable(&self, outage: &Outage) -> impl Future<Output = bool> + Send {
        let _ = outage;
        async { false }
    }

    /// Kept messages could not be moved to the processed folder: true once someone will
    /// be told.
    fn filing_failed(&self, problem: &FilingProblem) -> impl Future<Output = bool> + Send {
        let _ = problem;
        async { false }
    }

    /// The mailbox answers again after an outage that was reported: true once someone
    /// will be told.
    fn reachable_again(&self, outage: &Outage) -> impl Future<Output = bool> + Send {
        let _ = outage;
        async { true }
    }
}
