//! Outbound mail: templates, composing, transports. The delivery worker in `jobs`
//! drives them one outbox row at a time.

pub mod compose;
mod error;
pub mod smtp;
pub mod templates;
pub mod transport;

pub use compose::{Envelope, compose, message_id, thread_root};
pub use error::SendError;
pub use smtp::SmtpClient;
pub use templates::{Rendered, Templates};
pub use transport::Transport;
