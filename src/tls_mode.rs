//! What a mail server's port speaks, when the configured TLS mode is the wrong one: a
//! port that speaks implicit TLS stays silent for a client that waits for its greeting,
//! and a port that speaks plain text (then STARTTLS) answers a TLS handshake in plain
//! text. Both are told within `GREETING_WAIT`, naming the key to change and its value.

use std::time::Duration;

/// How long a server may take to greet before its silence is read as implicit TLS.
pub const GREETING_WAIT: Duration = Duration::from_secs(10);

/// A server silent past `GREETING_WAIT` on a connection that waits for its greeting.
pub fn silent(key: &str, host: &str, port: u16) -> String {
    format!(
        "{host}:{port} sent no greeting within {} s: this port probably speaks implicit TLS — set {key} = \"implicit\" \
         (or use the port that offers STARTTLS)",
        GREETING_WAIT.as_secs()
    )
}

/// A server that answered a TLS handshake in plain text.
pub fn plain(key: &str, host: &str, port: u16) -> String {
    format!(
        "{host}:{port} answered the TLS handshake in plain text: this port speaks STARTTLS — set {key} = \"starttls\" \
         (or use the port that speaks implicit TLS)"
    )
}

/// Whether a TLS error says the other side spoke plain text.
pub fn answered_in_plain_text(error: &str) -> bool {
    ["InvalidContentType", "corrupt message", "CorruptMessage", "wrong version number", "InvalidMessage"]
        .iter()
        .any(|sign| error.contains(sign))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mismatch_names_the_key_and_the_value_to_set() {
        assert!(silent("mailbox.tls", "mail.example.org", 993).contains("set mailbox.tls = \"implicit\""));
        assert!(plain("outbound.tls", "smtp.example.org", 587).contains("set outbound.tls = \"starttls\""));
        assert!(answered_in_plain_text("received corrupt message of type InvalidContentType"));
        assert!(!answered_in_plain_text("invalid peer certificate: UnknownIssuer"));
    }
}
