//! How sending an email failed: worth trying again, or not.

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later (connection, 4xx, timeout).
    #[error("temporary failure: {0}")]
    Transient(String),
    /// The server refused for good (5xx, a bad address).
    #[error("permanent failure: {0}")]
    Permanent(String),
    #[error("cannot set up the transport: {0}")]
    Setup(String),
}

impl SendError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Permanent(_) | SendError::Setup(_))
    }
}
