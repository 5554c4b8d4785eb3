//! OAuth2 for the mail servers: access tokens from Microsoft's identity platform, Google
//! or any token endpoint, cached and refreshed before they expire, and the SASL messages
//! that carry them. No token or secret is ever logged.

mod assertion;
pub mod sasl;
mod token;

pub use assertion::client_assertion;
pub use sasl::Mechanism;
pub use token::{AccessToken, TokenError, TokenSource, metrics};
