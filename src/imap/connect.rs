//! Connecting and logging in. TLS trusts the public roots plus any configured CA file;
//! the login is a password, or an OAuth2 access token by OAUTHBEARER or XOAUTH2
//! (whichever the server offers; a refused token is replaced once and tried again).

use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use secrecy::ExposeSecret;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::stream::Conn;
use crate::config::{Credential, ImapSettings, TlsMode};
use crate::oauth::{AccessToken, Mechanism, TokenError, TokenSource, sasl};

pub type Session = async_imap::Session<Conn>;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("cannot connect to {host}:{port}: {cause}")]
    Connect { host: String, port: u16, cause: std::io::Error },
    #[error("cannot set up TLS: {0}")]
    TlsSetup(String),
    #[error("TLS handshake with {host} failed: {}", crate::wording::plain(&cause.to_string()))]
    Handshake { host: String, cause: std::io::Error },
    #[error("the server refused the login for {user}: {reason}")]
    Login { user: String, reason: String },
    #[error("the server refused the access token for {user} ({mechanism}): {reason}")]
    TokenRefused { user: String, mechanism: &'static str, reason: String },
    #[error("the server offers no OAuth2 login that is configured (it offers: {offered})")]
    NoMechanism { offered: String },
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("the server cannot check logins now: {0}")]
    AuthUnavailable(String),
    #[error("IMAP {action} failed: {}", crate::wording::plain(&cause.to_string()))]
    Protocol { action: &'static str, cause: async_imap::error::Error },
    #[error("the server has no folder '{0}'")]
    NoFolder(String),
    /// The configured TLS mode is not what the port speaks (`tls_mode`).
    #[error("{0}")]
    TlsMode(String),
    #[error("the server closed the connection")]
    Closed,
    #[error("IMAP {action} had no answer within {} s", seconds)]
    Timeout { action: &'static str, seconds: u64 },
}

/// `command`, or `ImapError::Timeout` if it takes longer than `deadline` (the mailbox's
/// `command_timeout`): no command waits for ever on a server that stopped answering.
pub async fn within<T>(
    deadline: std::time::Duration,
    action: &'static str,
    command: impl std::future::Future<Output = Result<T, ImapError>>,
) -> Result<T, ImapError> {
    tokio::time::timeout(deadline, command)
        .await
        .unwrap_or(Err(ImapError::Timeout { action, seconds: deadline.as_secs() }))
}

impl ImapError {
    /// A refused login or a missing folder will not mend by reconnecting at once.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            ImapError::Login { .. }
                | ImapError::TokenRefused { .. }
                | ImapError::NoMechanism { .. }
                | ImapError::NoFolder(_)
                | ImapError::TlsSetup(_)
        )
    }
}

pub fn protocol(action: &'static str) -> impl FnOnce(async_imap::error::Error) -> ImapError {
    move |source| ImapError::Protocol { action, cause: source }
}

fn tls_connector(settings: &ImapSettings) -> Result<TlsConnector, ImapError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(ca) = &settings.ca_file {
        let certs = CertificateDer::pem_file_iter(ca)
            .map_err(|e| ImapError::TlsSetup(format!("cannot read CA file {}: {e}", ca.display())))?;
        for cert in certs {
            let cert = cert.map_err(|e| ImapError::TlsSetup(format!("bad certificate in {}: {e}", ca.display())))?;
            roots
                .add(cert)
                .map_err(|e| ImapError::TlsSetup(format!("unusable certificate in {}: {e}", ca.display())))?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| ImapError::TlsSetup(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

async fn handshake(settings: &ImapSettings, tcp: TcpStream) -> Result<Conn, ImapError> {
    let connector = tls_connector(settings)?;
    let name = ServerName::try_from(settings.host.clone())
        .map_err(|e| ImapError::TlsSetup(format!("'{}' is not a server name: {e}", settings.host)))?;
    let tls = connector
        .connect(name, tcp)
        .await
        .map_err(|source| ImapError::Handshake { host: settings.host.clone(), cause: source })?;
    Ok(Conn::Tls(Box::new(tls)))
}

async fn greeting(client: &mut async_imap::Client<Conn>) -> Result<(), ImapError> {
    match client.read_response().await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(ImapError::Closed),
        Err(e) => Err(ImapError::Protocol { action: "greeting", cause: e.into() }),
    }
}

/// The greeting on a connection not yet secured: a port that speaks implicit TLS stays
/// silent, which is said within `GREETING_WAIT` with the setting to change.
async fn greeted(client: &mut async_imap::Client<Conn>, host: &str, port: u16) -> Result<(), ImapError> {
    tokio::time::timeout(crate::tls_mode::GREETING_WAIT, greeting(client))
        .await
        .unwrap_or_else(|_| Err(ImapError::TlsMode(crate::tls_mode::silent("mailbox.tls", host, port))))
}

/// Connects, secures the connection as configured and logs in.
pub async fn connect(settings: &ImapSettings) -> Result<Session, ImapError> {
    within(settings.command_timeout, "login", connect_with_details(settings)).await.map(|(session, _)| session)
}

/// Connects and logs in; also says which login mechanism was used.
pub async fn connect_with_details(settings: &ImapSettings) -> Result<(Session, &'static str), ImapError> {
    let connect_error = |source| ImapError::Connect { host: settings.host.clone(), port: settings.port, cause: source };
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((settings.host.as_str(), settings.port)))
        .await
        .map_err(|_| connect_error(std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out")))?
        .map_err(connect_error)?;
    let (host, port) = (settings.host.as_str(), settings.port);
    let client = match settings.tls {
        TlsMode::Implicit => {
            // A port that speaks plain text answers the handshake in plain text.
            let tls = match handshake(settings, tcp).await {
                Err(ImapError::Handshake { cause, .. })
                    if crate::tls_mode::answered_in_plain_text(&format!("{cause} {cause:?}")) =>
                {
                    return Err(ImapError::TlsMode(crate::tls_mode::plain("mailbox.tls", host, port)));
                }
                other => other?,
            };
            let mut client = async_imap::Client::new(tls);
            greeting(&mut client).await?;
            client
        }
        TlsMode::StartTls => {
            let mut client = async_imap::Client::new(Conn::Plain(tcp));
            greeted(&mut client, host, port).await?;
            client.run_command_and_check_ok("STARTTLS", None).await.map_err(protocol("STARTTLS"))?;
            let Conn::Plain(tcp) = client.into_inner() else { return Err(ImapError::Closed) };
            async_imap::Client::new(handshake(settings, tcp).await?)
        }
        TlsMode::Plain => {
            let mut client = async_imap::Client::new(Conn::Plain(tcp));
            greeted(&mut client, host, port).await?;
            client
        }
    };
    login(client, settings).await
}

async fn login(
    mut client: async_imap::Client<Conn>,
    settings: &ImapSettings,
) -> Result<(Session, &'static str), ImapError> {
    let oauth = match &settings.credential {
        Credential::Password(password) => {
            return client
                .login(&settings.username, password.expose_secret())
                .await
                .map(|session| (session, "LOGIN"))
                .map_err(|(e, _)| ImapError::Login {
                    user: settings.username.clone(),
                    reason: crate::wording::plain(&e.to_string()),
                });
        }
        Credential::OAuth2(oauth) => oauth,
    };
    let offered = auth_mechanisms(&mut client).await?;
    let mechanism = sasl::choose(oauth.mechanism, offered.iter().map(String::as_str))
        .ok_or_else(|| ImapError::NoMechanism { offered: offered.join(" ") })?;
    let source = TokenSource::for_settings(oauth);
    let mut token = source.token().await?;
    let mut replaced = false;
    let mut unavailable = 0;
    loop {
        client = match authenticate(client, settings, mechanism, &token).await {
            Ok(session) => return Ok((session, mechanism.name())),
            // No error challenge: the server could not check the token now (its token
            // service down); the token may be fine, so it is kept. Once more, then give up.
            Err((Refusal::Unavailable(reason), _)) if unavailable > 0 => {
                return Err(ImapError::AuthUnavailable(reason));
            }
            Err((Refusal::Unavailable(_), client)) => {
                unavailable += 1;
                client
            }
            Err((Refusal::Token(reason), _)) if replaced => {
                source.rejected(&token).await;
                return Err(ImapError::TokenRefused {
                    user: settings.username.clone(),
                    mechanism: mechanism.name(),
                    reason,
                });
            }
            Err((Refusal::Token(_), client)) => {
                source.rejected(&token).await;
                token = source.token().await?;
                replaced = true;
                client
            }
        };
    }
}

/// Why an AUTHENTICATE did not succeed.
enum Refusal {
    /// The server described its refusal of the token (an error challenge).
    Token(String),
    /// A failure without one (a temporary failure of the server's token check).
    Unavailable(String),
}

/// The SASL mechanisms the server offers now (`AUTH=` capabilities).
async fn auth_mechanisms(client: &mut async_imap::Client<Conn>) -> Result<Vec<String>, ImapError> {
    use async_imap::imap_proto::{Capability, Response};
    use async_imap::types::UnsolicitedResponse;
    // The untagged CAPABILITY reply arrives on the channel given for unsolicited replies.
    let (sender, receiver) = async_channel::unbounded();
    client.run_command_and_check_ok("CAPABILITY", Some(sender)).await.map_err(protocol("CAPABILITY"))?;
    let mut offered = Vec::new();
    while let Ok(response) = receiver.try_recv() {
        if let UnsolicitedResponse::Other(data) = response
            && let Response::Capabilities(capabilities) = data.parsed()
        {
            offered.extend(capabilities.iter().filter_map(|c| match c {
                Capability::Auth(m) => Some(m.to_ascii_uppercase()),
                _ => None,
            }));
        }
    }
    Ok(offered)
}

/// Answers the server's SASL challenges: the token first, then an acknowledgement of
/// the error the server describes when it refuses it (which is kept).
struct Bearer {
    initial: Option<Vec<u8>>,
    mechanism: Mechanism,
    error: Arc<std::sync::Mutex<Option<String>>>,
}

impl async_imap::Authenticator for Bearer {
    type Response = Vec<u8>;

    fn process(&mut self, challenge: &[u8]) -> Vec<u8> {
        match self.initial.take() {
            Some(initial) => initial,
            None => {
                if let Ok(mut error) = self.error.lock() {
                    *error = Some(sasl::describe_error_challenge(challenge));
                }
                self.mechanism.error_acknowledgement().to_vec()
            }
        }
    }
}

async fn authenticate(
    client: async_imap::Client<Conn>,
    settings: &ImapSettings,
    mechanism: Mechanism,
    token: &AccessToken,
) -> Result<Session, (Refusal, async_imap::Client<Conn>)> {
    let error = Arc::new(std::sync::Mutex::new(None));
    let bearer = Bearer {
        initial: Some(mechanism.initial_response(&settings.username, &settings.host, settings.port, token.expose())),
        mechanism,
        error: error.clone(),
    };
    client.authenticate(mechanism.name(), bearer).await.map_err(|(e, client)| {
        let detail = error.lock().ok().and_then(|mut e| e.take());
        match detail {
            Some(detail) => (Refusal::Token(format!("{detail} ({e})")), client),
            None => (Refusal::Unavailable(e.to_string()), client),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant, with the causes servers and libraries really give, reads as words:
    /// no Rust debug text.
    #[test]
    fn every_imap_error_reads_without_debug_text() {
        let io = || {
            std::io::Error::other(
                "invalid peer certificate: NotValidForName { expected: DnsName(\"mail.example.org\"), presented: [] }",
            )
        };
        let no = "code: None, info: Some(\"[AUTHENTICATIONFAILED] Authentication failed.\")";
        let errors = [
            ImapError::Connect {
                host: "mail.example.org".into(),
                port: 993,
                cause: std::io::Error::other("connection refused"),
            },
            ImapError::TlsSetup("cannot read CA file /etc/cspr/ca.pem: No such file".into()),
            ImapError::Handshake { host: "mail.example.org".into(), cause: io() },
            ImapError::Login { user: "chscp".into(), reason: crate::wording::plain(&format!("no response: {no}")) },
            ImapError::TokenRefused { user: "chscp".into(), mechanism: "XOAUTH2", reason: "invalid token".into() },
            ImapError::NoMechanism { offered: "PLAIN LOGIN".into() },
            ImapError::AuthUnavailable("temporary failure".into()),
            ImapError::Protocol { action: "UID MOVE", cause: async_imap::error::Error::No(no.into()) },
            ImapError::Protocol { action: "SELECT", cause: async_imap::error::Error::Bad(no.into()) },
            ImapError::NoFolder("Done".into()),
            ImapError::TlsMode(crate::tls_mode::silent("mailbox.tls", "mail.example.org", 143)),
            ImapError::Closed,
            ImapError::Timeout { action: "IDLE", seconds: 120 },
        ];
        for error in errors {
            let text = error.to_string();
            for debug in ["Some(", "None", "DnsName("] {
                assert!(!text.contains(debug), "{text}");
            }
        }
    }
}
