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
    /// The server refused the login: kept and tried again (someone may mend the
    /// password meanwhile), never dropped for this.
    #[error("refused login: {0}")]
    LoginRefused(String),
}

impl SendError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Permanent(_) | SendError::Setup(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_class_has_one_word() {
        let refused = SendError::LoginRefused(crate::wording::plain(
            "the SMTP server refused the login for chscp: permanent error (535): 5.7.8 Error: authentication failed",
        ));
        let text = refused.to_string();
        assert!(
            text.starts_with("refused login: ") && !text.contains("permanent") && !text.contains("temporary"),
            "{text}"
        );
        assert!(!refused.is_permanent(), "a refused login is kept and tried again");
        assert!(SendError::Transient("x".into()).to_string().starts_with("temporary failure: "));
        assert!(SendError::Permanent("x".into()).to_string().starts_with("permanent failure: "));
    }
}
