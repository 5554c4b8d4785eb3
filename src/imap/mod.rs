//! IMAP connections, for the mail source and for the copies of sent mail: TCP with a
//! deadline, TLS (implicit or STARTTLS, public roots plus a configured CA), the
//! greeting, and login by password or OAuth2 (XOAUTH2 / OAUTHBEARER).

mod connect;
mod stream;

pub use connect::{ImapError, Session, connect, connect_with_details, protocol, within};
