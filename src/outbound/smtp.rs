//! One SMTP conversation per email with lettre's connection: implicit TLS or STARTTLS
//! (plain only to loopback), then AUTH — PLAIN/LOGIN with a password, or OAUTHBEARER /
//! XOAUTH2 with an access token (a refused token is replaced once and tried again).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism as PasswordMechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::Ehlo;
use lettre::transport::smtp::extension::ClientId;
use secrecy::ExposeSecret;

use super::error::SendError;
use crate::config::{Credential, SmtpSettings, TlsMode};
use crate::oauth::{AccessToken, Mechanism, TokenSource, sasl};

const TIMEOUT: Duration = Duration::from_secs(60);

/// An SMTP server to hand emails to.
pub struct SmtpClient {
    settings: SmtpSettings,
    tls: Option<TlsParameters>,
}

/// What an open, logged-in connection used (for `send-test-email`).
#[derive(Debug, Clone)]
pub struct Opened {
    pub encrypted: bool,
    pub mechanism: Option<&'static str>,
}

fn smtp_error(context: &str, e: lettre::transport::smtp::Error) -> SendError {
    let text = format!("{context}: {}", describe(&e));
    if e.is_permanent() { SendError::Permanent(text) } else { SendError::Transient(text) }
}

/// lettre's error and its causes (TLS errors name the certificate problem there).
pub fn describe(e: &lettre::transport::smtp::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    crate::wording::plain(&text)
}

impl SmtpClient {
    pub fn new(settings: &SmtpSettings) -> Result<Self, SendError> {
        let setup = |e: lettre::transport::smtp::Error| SendError::Setup(e.to_string());
        let tls = if settings.tls == TlsMode::Plain {
            None
        } else {
            let mut params = TlsParameters::builder(settings.host.clone());
            if let Some(ca) = &settings.ca_file {
                let pem = std::fs::read(ca)
                    .map_err(|e| SendError::Setup(format!("cannot read CA file {}: {e}", ca.display())))?;
                params = params.add_root_certificate(Certificate::from_pem(&pem).map_err(setup)?);
            }
            Some(params.build_rustls().map_err(setup)?)
        };
        Ok(Self { settings: settings.clone(), tls })
    }

    /// Connects, secures and logs in.
    pub async fn open(&self) -> Result<(AsyncSmtpConnection, Opened), SendError> {
        let s = &self.settings;
        let hello = ClientId::default();
        let implicit = if s.tls == TlsMode::Implicit { self.tls.clone() } else { None };
        // The banner within `GREETING_WAIT`: a port that speaks implicit TLS stays silent to
        // a client that waits for it; one that speaks plain text answers a TLS handshake in
        // plain text. Either is said at once, with the setting to change.
        let connecting =
            AsyncSmtpConnection::connect_tokio1((s.host.as_str(), s.port), Some(TIMEOUT), &hello, implicit, None);
        let mut conn = match tokio::time::timeout(crate::tls_mode::GREETING_WAIT, connecting).await {
            Err(_) if s.tls != TlsMode::Implicit => {
                return Err(SendError::Transient(crate::tls_mode::silent("outbound.tls", &s.host, s.port)));
            }
            Err(_) => {
                return Err(SendError::Transient(format!(
                    "cannot connect to {}:{}: no answer within {} s",
                    s.host,
                    s.port,
                    crate::tls_mode::GREETING_WAIT.as_secs()
                )));
            }
            Ok(Err(e)) if s.tls == TlsMode::Implicit && crate::tls_mode::answered_in_plain_text(&describe(&e)) => {
                return Err(SendError::Transient(crate::tls_mode::plain("outbound.tls", &s.host, s.port)));
            }
            Ok(Err(e)) => {
                return Err(SendError::Transient(format!("cannot connect to {}:{}: {}", s.host, s.port, describe(&e))));
            }
            Ok(Ok(conn)) => conn,
        };
        if s.tls == TlsMode::StartTls {
            let Some(tls) = self.tls.clone() else { return Err(SendError::Setup("no TLS parameters".into())) };
            conn.starttls(tls, &hello).await.map_err(|e| smtp_error("STARTTLS failed", e))?;
        }
        let mechanism = match &s.credential {
            None => None,
            Some(Credential::Password(password)) => {
                let credentials = Credentials::new(s.username.clone(), password.expose_secret().to_owned());
                conn.auth(&[PasswordMechanism::Plain, PasswordMechanism::Login], &credentials)
                    .await
                    .map_err(|e| login_refused(&s.username, describe(&e)))?;
                Some("PLAIN")
            }
            Some(Credential::OAuth2(oauth)) => {
                let offered = offered_mechanisms(&mut conn, &hello).await?;
                let mechanism = sasl::choose(oauth.mechanism, offered.iter().map(String::as_str)).ok_or_else(|| {
                    SendError::Transient(format!(
                        "the SMTP server offers no OAuth2 login that is configured (it offers: {})",
                        offered.join(" ")
                    ))
                })?;
                let source = TokenSource::for_settings(oauth);
                let refused = |reason: String| {
                    SendError::Transient(format!(
                        "the SMTP server refused the access token for {} ({}): {reason}",
                        s.username,
                        mechanism.name()
                    ))
                };
                let mut token = source.token().await.map_err(|e| SendError::Transient(e.to_string()))?;
                let mut replaced = false;
                let mut unavailable = 0;
                loop {
                    match self.bearer(&mut conn, mechanism, &token).await {
                        Ok(()) => break,
                        // The server could not check the token just now (its authentication
                        // service restarting): the token may be fine; ask once more.
                        Err(Refusal::Unavailable(reason)) => {
                            unavailable += 1;
                            if unavailable > 1 {
                                return Err(SendError::Transient(format!(
                                    "the SMTP server cannot check logins now: {reason}"
                                )));
                            }
                        }
                        Err(Refusal::Token(reason)) if replaced => {
                            source.rejected(&token).await;
                            return Err(refused(reason));
                        }
                        Err(Refusal::Token(reason)) => {
                            tracing::debug!(%reason, "SMTP server refused the access token; fetching a new one");
                            source.rejected(&token).await;
                            token = source.token().await.map_err(|e| SendError::Transient(e.to_string()))?;
                            replaced = true;
                        }
                    }
                }
                Some(mechanism.name())
            }
        };
        let encrypted = conn.is_encrypted();
        Ok((conn, Opened { encrypted, mechanism }))
    }

    /// One AUTH exchange with a bearer token; the server's reason when it says no.
    async fn bearer(
        &self,
        conn: &mut AsyncSmtpConnection,
        mechanism: Mechanism,
        token: &AccessToken,
    ) -> Result<(), Refusal> {
        let s = &self.settings;
        let initial = STANDARD.encode(mechanism.initial_response(&s.username, &s.host, s.port, token.expose()));
        let response = match conn.command(format!("AUTH {} {initial}\r\n", mechanism.name())).await {
            Ok(response) => response,
            Err(e) if e.is_transient() => return Err(Refusal::Unavailable(describe(&e))),
            Err(e) => return Err(Refusal::Token(describe(&e))),
        };
        if !response.has_code(334) {
            return Ok(());
        }
        // A challenge after the token is the server's description of its refusal.
        let challenge = response.message().collect::<String>();
        let detail =
            STANDARD.decode(challenge.trim()).map(|bytes| sasl::describe_error_challenge(&bytes)).unwrap_or(challenge);
        let ack = STANDARD.encode(mechanism.error_acknowledgement());
        let end = conn.command(format!("{ack}\r\n")).await;
        Err(Refusal::Token(match end {
            Err(e) => format!("{detail} ({})", describe(&e)),
            Ok(_) => detail,
        }))
    }

    /// Sends one email in its own conversation.
    pub async fn send(&self, envelope: &Envelope, raw: &[u8]) -> Result<(), SendError> {
        let (mut conn, _) = self.open().await?;
        let result =
            conn.send(envelope, raw).await.map(drop).map_err(|e| smtp_error("the server refused the email", e));
        let _ = conn.quit().await;
        result
    }
}

/// Why an AUTH with a token did not succeed.
enum Refusal {
    /// The token itself was refused.
    Token(String),
    /// The server could not check it now (a 4xx reply).
    Unavailable(String),
}

fn login_refused(user: &str, reason: String) -> SendError {
    // A refused login does not mend by itself, but the email is kept and tried again
    // (someone may fix the password meanwhile); it is never dropped for this.
    SendError::LoginRefused(format!("the SMTP server refused the login for {user}: {reason}"))
}

/// The AUTH mechanisms in the server's EHLO reply (lettre keeps only those it knows).
async fn offered_mechanisms(conn: &mut AsyncSmtpConnection, hello: &ClientId) -> Result<Vec<String>, SendError> {
    let response = conn.command(Ehlo::new(hello.clone())).await.map_err(|e| smtp_error("EHLO failed", e))?;
    Ok(response
        .message()
        .filter_map(|line| {
            let upper = line.trim().to_ascii_uppercase();
            upper.strip_prefix("AUTH").filter(|rest| rest.starts_with([' ', '='])).map(|rest| rest[1..].to_owned())
        })
        .flat_map(|rest| rest.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .collect())
}
