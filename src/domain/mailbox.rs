//! What a mail source hands over, and what becomes of it: a message as read from the
//! mailbox, whether keeping it added anything, where the mailbox was read up to, and an
//! outage of the mailbox.

use chrono::{DateTime, Utc};

/// A message as a source hands it over.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// Which mailbox it came from (`imap:user@host/INBOX`, `maildir:/path`).
    pub source: &'a str,
    pub uidvalidity: Option<u32>,
    pub uid: Option<u32>,
    pub raw: &'a [u8],
    /// IMAP INTERNALDATE or Maildir delivery time.
    pub arrived_at: DateTime<Utc>,
    /// The message was over the size limit: `raw` is only its start, and this its size.
    pub truncated_from: Option<u64>,
}

/// Whether storing added a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New(i64),
    /// Already stored (same Message-ID and content): nothing added.
    Duplicate(i64),
}

/// Where a mailbox was read up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub uidvalidity: u32,
    pub last_uid: u32,
}

/// Stored messages could not be filed in the processed folder: they were kept and are
/// processed all the same; the move is tried again at the next sync.
#[derive(Debug, Clone)]
pub struct FilingProblem {
    /// Which mailbox (`imap:user@host:port/INBOX`).
    pub mailbox: String,
    /// The folder they should have gone to.
    pub folder: String,
    pub error: String,
    pub now: DateTime<Utc>,
}

/// The mailbox has been out of reach since `since` (or, with no `error`, is reachable
/// again at `now`).
#[derive(Debug, Clone)]
pub struct Outage {
    /// Which mailbox (`imap:user@host:port/INBOX`).
    pub mailbox: String,
    pub since: DateTime<Utc>,
    pub now: DateTime<Utc>,
    /// What went wrong last; `None` once the mailbox answers again.
    pub error: Option<String>,
}
