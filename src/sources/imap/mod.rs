//! An IMAP mailbox: connect over TLS (implicit or STARTTLS), log in, fetch what is new
//! since the checkpoint with `BODY.PEEK` (nothing is marked `\Seen`), then IDLE —
//! re-issued before servers end it — or poll when the server has no IDLE. Any
//! connection error reconnects with capped backoff.

mod fetch;
mod outage;
mod watch;

pub use crate::imap::{ImapError, Session, connect, connect_with_details};
pub use fetch::OVERSIZED_KEEP;
pub use watch::{ImapSource, SourceState, Sync};
