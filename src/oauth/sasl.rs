//! The SASL messages that carry an OAuth2 access token (pure): XOAUTH2 (Google's and
//! Microsoft's) and OAUTHBEARER (RFC 7628), the choice between them, and the error a
//! server sends back when it refuses a token.

use crate::config::SaslChoice;

/// A mechanism that carries a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    XOAuth2,
    OAuthBearer,
}

impl Mechanism {
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::XOAuth2 => "XOAUTH2",
            Mechanism::OAuthBearer => "OAUTHBEARER",
        }
    }

    /// The client's initial response.
    pub fn initial_response(self, user: &str, host: &str, port: u16, token: &str) -> Vec<u8> {
        match self {
            Mechanism::XOAuth2 => format!("user={user}\x01auth=Bearer {token}\x01\x01").into_bytes(),
            Mechanism::OAuthBearer => {
                format!("n,a={},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01", gs2_escape(user))
                    .into_bytes()
            }
        }
    }

    /// What the client answers to an error challenge, so that the server ends the
    /// exchange with its failure reply.
    pub fn error_acknowledgement(self) -> &'static [u8] {
        match self {
            Mechanism::XOAuth2 => b"",
            Mechanism::OAuthBearer => b"\x01",
        }
    }
}

/// RFC 5801: ',' and '=' in the authorisation identity are escaped.
fn gs2_escape(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

/// The mechanism to use, from what is configured and what the server offers (names as
/// the server lists them, any case). `None` when the server offers neither that fits.
pub fn choose<'a>(choice: SaslChoice, offered: impl IntoIterator<Item = &'a str>) -> Option<Mechanism> {
    let offered: Vec<String> = offered.into_iter().map(|m| m.trim().to_ascii_uppercase()).collect();
    let has = |m: Mechanism| offered.iter().any(|o| o == m.name());
    match choice {
        SaslChoice::XOAuth2 => has(Mechanism::XOAuth2).then_some(Mechanism::XOAuth2),
        SaslChoice::OAuthBearer => has(Mechanism::OAuthBearer).then_some(Mechanism::OAuthBearer),
        SaslChoice::Auto if has(Mechanism::OAuthBearer) => Some(Mechanism::OAuthBearer),
        SaslChoice::Auto => has(Mechanism::XOAuth2).then_some(Mechanism::XOAuth2),
    }
}

/// A server's error challenge (JSON such as `{"status":"invalid_token"}`) in a few
/// words; the raw text when it is not JSON. Never contains the token.
pub fn describe_error_challenge(challenge: &[u8]) -> String {
    let text = String::from_utf8_lossy(challenge);
    match serde_json::from_str::<serde_json::Value>(text.trim()) {
        Ok(serde_json::Value::Object(map)) => {
            let mut parts: Vec<String> = Vec::new();
            for key in ["status", "error", "scope", "schemes"] {
                if let Some(value) = map.get(key) {
                    let value = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
                    parts.push(format!("{key} {value}"));
                }
            }
            if parts.is_empty() { text.trim().chars().take(200).collect() } else { parts.join(", ") }
        }
        _ => text.trim().chars().take(200).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_responses_follow_the_specifications() {
        assert_eq!(
            Mechanism::XOAuth2.initial_response("chscp@test.local", "h", 1, "tok"),
            b"user=chscp@test.local\x01auth=Bearer tok\x01\x01"
        );
        assert_eq!(
            Mechanism::OAuthBearer.initial_response("a,b=c@x", "imap.example", 993, "tok"),
            b"n,a=a=2Cb=3Dc@x,\x01host=imap.example\x01port=993\x01auth=Bearer tok\x01\x01"
        );
    }

    #[test]
    fn chooses_from_what_the_server_offers() {
        assert_eq!(choose(SaslChoice::Auto, ["PLAIN", "xoauth2", "OAUTHBEARER"]), Some(Mechanism::OAuthBearer));
        assert_eq!(choose(SaslChoice::Auto, ["PLAIN", "XOAUTH2"]), Some(Mechanism::XOAuth2));
        assert_eq!(choose(SaslChoice::XOAuth2, ["OAUTHBEARER", "XOAUTH2"]), Some(Mechanism::XOAuth2));
        assert_eq!(choose(SaslChoice::OAuthBearer, ["XOAUTH2"]), None);
        assert_eq!(choose(SaslChoice::Auto, ["PLAIN", "LOGIN"]), None);
    }

    #[test]
    fn describes_error_challenges_without_echoing_much() {
        assert_eq!(
            describe_error_challenge(br#"{"status":"invalid_token","schemes":"bearer","scope":"mail"}"#),
            "status invalid_token, scope mail, schemes bearer"
        );
        assert_eq!(describe_error_challenge(b"nope"), "nope");
    }
}
