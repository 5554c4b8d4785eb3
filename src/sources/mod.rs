//! Where mail comes from: an IMAP mailbox watched with IDLE, or a local Maildir.
//! Each source stores every message (and its checkpoint) before anything acts on it,
//! then wakes the workers.

mod backoff;
pub mod imap;
pub mod maildir;

pub use backoff::Backoff;
