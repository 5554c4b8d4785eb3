//! `check-mailbox` and `send-test-email`: an installer's first questions — can cspr
//! reach, log in to and read the mailbox, and can it send — answered in plain words,
//! with what to do about each failure.

use std::io::Write;

use anyhow::anyhow;

use super::{CliError, write_failed};
use crate::config::{Config, Credential, ImapSettings, MailboxSource, Transport as TransportSettings};
use crate::imap::{ImapError, connect_with_details};
use crate::oauth::TokenError;
use crate::outbound::SmtpClient;

/// What to do about a TLS failure, from the error's words (rustls names the problem).
fn tls_advice(text: &str, host: &str, key: &str) -> Option<String> {
    if text.contains("NotValidForName") || text.contains("not valid for name") {
        Some(format!(
            "TLS name mismatch: the server's certificate is not valid for '{host}'. Set {key}.host to a name the \
             certificate was issued for."
        ))
    } else if text.contains("UnknownIssuer") || text.contains("unknown issuer") {
        Some(format!(
            "the server's certificate is not trusted (issued by an unknown authority). If your organisation uses its \
             own certificate authority, put its certificate (PEM) in a file and set {key}.ca_file."
        ))
    } else if text.contains("Expired") || text.contains("expired") {
        Some("the server's certificate has expired (or this machine's clock is wrong).".to_owned())
    } else {
        None
    }
}

fn token_advice(error: &TokenError) -> String {
    match error {
        TokenError::Refused { error: code, .. } if code == "invalid_client" || code == "unauthorized_client" => {
            format!(
                "{error}. Check the client ID and the client secret (or certificate): secrets expire and can be \
                 revoked in the provider's console."
            )
        }
        TokenError::Refused { error: code, .. } if code == "invalid_grant" => {
            format!("{error}. The refresh token was revoked or has expired: authorise the mailbox again.")
        }
        TokenError::Unreachable { .. } => {
            format!("{error}. Check the token URL and that this machine may reach it (proxy, firewall).")
        }
        _ => error.to_string(),
    }
}

fn imap_advice(error: &ImapError, settings: &ImapSettings) -> String {
    match error {
        ImapError::Connect { cause: source, .. } => format!(
            "{error}. Check mailbox.host and mailbox.port{}.",
            if source.kind() == std::io::ErrorKind::ConnectionRefused {
                " (nothing listens there)"
            } else {
                ", and that a firewall lets this machine through"
            }
        ),
        ImapError::Handshake { cause: source, .. } => {
            let text = format!("{source:?} {source}");
            tls_advice(&text, &settings.host, "mailbox")
                .map(|advice| format!("{error}: {advice}"))
                .unwrap_or_else(|| format!("{error}. Check mailbox.tls (implicit for port 993, starttls for 143)."))
        }
        ImapError::Login { .. } => format!(
            "{error}. Wrong user name or password: check mailbox.username and the password file \
             (Exchange Online and Google refuse passwords for IMAP: use auth = \"oauth2\")."
        ),
        ImapError::TokenRefused { .. } => format!(
            "{error}. The token was issued but the mail server will not take it: for Exchange Online the app needs \
             the IMAP.AccessAsApp permission and a service principal with access to this mailbox; check that \
             mailbox.username is the mailbox's address."
        ),
        ImapError::Token(token) => token_advice(token),
        ImapError::NoMechanism { .. } => {
            format!("{error}. Set mailbox.oauth2.mechanism to one the server offers, or use a password.")
        }
        _ => error.to_string(),
    }
}

/// `cspr check-mailbox`.
pub async fn check_mailbox(config: &Config, out: &mut dyn Write) -> Result<(), CliError> {
    let settings = match &config.mailbox {
        MailboxSource::Maildir { path, .. } => {
            let count = ["new", "cur"]
                .iter()
                .filter_map(|sub| std::fs::read_dir(path.join(sub)).ok())
                .map(|dir| dir.filter_map(Result::ok).filter(|e| e.path().is_file()).count())
                .sum::<usize>();
            if !path.join("new").is_dir() {
                return Err(CliError::Failed(anyhow!(
                    "the Maildir {} has no 'new' folder: check mailbox.maildir",
                    path.display()
                )));
            }
            writeln!(out, "mailbox: Maildir {}", path.display()).map_err(write_failed)?;
            writeln!(out, "messages: {count}").map_err(write_failed)?;
            return Ok(());
        }
        MailboxSource::Imap(settings) => settings,
    };
    let (mut session, mechanism) =
        connect_with_details(settings).await.map_err(|e| CliError::Failed(anyhow!(imap_advice(&e, settings))))?;
    let tls = match settings.tls {
        crate::config::TlsMode::Implicit => "TLS",
        crate::config::TlsMode::StartTls => "STARTTLS",
        crate::config::TlsMode::Plain => "no TLS (loopback)",
    };
    writeln!(out, "connected: {}:{} ({tls}, certificate trusted)", settings.host, settings.port)
        .map_err(write_failed)?;
    writeln!(out, "logged in: {} ({mechanism})", settings.username).map_err(write_failed)?;
    let capabilities = session
        .capabilities()
        .await
        .map_err(|e| CliError::Failed(anyhow!("the server did not list its capabilities: {e}")))?;
    let mailbox = match session.examine(&settings.folder).await {
        Ok(mailbox) => mailbox,
        Err(_) => {
            let names = folder_names(&mut session).await;
            let _ = session.logout().await;
            return Err(CliError::Failed(anyhow!(
                "the folder '{}' does not exist: set mailbox.folder to one of: {}",
                settings.folder,
                names.join(", ")
            )));
        }
    };
    writeln!(out, "folder: {} ({} messages)", settings.folder, mailbox.exists).map_err(write_failed)?;
    // Every other folder the configuration names must exist too: a missing one would
    // fail only later, in the daemon.
    let named: Vec<(&str, &String)> = [
        ("mailbox.processed_folder", settings.processed_folder.as_ref()),
        ("outbound.sent_folder", config.outbound.sent_folder.as_ref()),
    ]
    .into_iter()
    .filter_map(|(key, folder)| folder.map(|f| (key, f)))
    .collect();
    if !named.is_empty() {
        let names = folder_names(&mut session).await;
        let missing: Vec<String> = named
            .iter()
            .filter(|(_, folder)| !names.iter().any(|n| n == *folder))
            .map(|(key, folder)| format!("{key} names '{folder}', which does not exist"))
            .collect();
        if !missing.is_empty() {
            let _ = session.logout().await;
            return Err(CliError::Failed(anyhow!(
                "{}: create it, or set the key to one of: {}",
                missing.join("; "),
                names.join(", ")
            )));
        }
        for (key, folder) in &named {
            writeln!(out, "{key}: {folder} (exists)").map_err(write_failed)?;
        }
    }
    writeln!(out, "idle: {}", if capabilities.has_str("IDLE") { "supported" } else { "not supported (polling)" })
        .map_err(write_failed)?;
    let _ = session.logout().await;
    writeln!(out, "ok").map_err(write_failed)?;
    Ok(())
}

/// `cspr send-test-email --to ADDRESS`.
pub async fn send_test_email(config: &Config, to: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let to = crate::domain::EmailAddress::parse(to).map_err(|e| CliError::Usage(format!("--to: {e}")))?;
    let from = config.partnership.mailbox.to_string();
    let message_id = format!(
        "test.{}.{}@{}",
        chrono::Utc::now().format("%Y%m%d%H%M%S"),
        fastrand::u32(..),
        config.intake.own_message_id_domain
    );
    let raw = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: cspr test email\r\nDate: {}\r\nMessage-ID: <{message_id}>\r\n\
         Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         This is a test email from cspr for {}: if you can read it, cspr can send mail.\r\n",
        chrono::Utc::now().to_rfc2822(),
        config.partnership.short_name
    );
    match &config.outbound.transport {
        TransportSettings::File(dir) => {
            let transport = crate::outbound::Transport::new(&config.outbound.transport, None)
                .map_err(|e| CliError::Failed(anyhow!(e)))?;
            transport
                .send(&from, &[to.to_string()], &message_id, raw.as_bytes())
                .await
                .map_err(|e| CliError::Failed(anyhow!(e)))?;
            writeln!(out, "written: <{message_id}> to {to} in {} (outbound.transport = file)", dir.display())
                .map_err(write_failed)?;
        }
        TransportSettings::Smtp(settings) => {
            let client = SmtpClient::new(settings).map_err(|e| CliError::Failed(anyhow!(e)))?;
            let advise = |text: String| {
                let advice = if let Some(advice) = tls_advice(&text, &settings.host, "outbound") {
                    advice
                } else if text.contains("refused the login") {
                    "Wrong user name or password: check outbound.username and the password file.".to_owned()
                } else if text.contains("refused the access token") {
                    "The token was issued but the SMTP server will not take it: for Exchange Online, SMTP AUTH must \
                     be enabled for the mailbox and the app needs SMTP.SendAsApp."
                        .to_owned()
                } else if text.contains("token endpoint") {
                    "Check the OAuth2 client ID, secret and token URL.".to_owned()
                } else if text.contains("cannot connect") {
                    "Check outbound.host and outbound.port, and that a firewall lets this machine through.".to_owned()
                } else {
                    String::new()
                };
                CliError::Failed(anyhow!("{text}{}{advice}", if advice.is_empty() { "" } else { ". " }))
            };
            let (mut conn, opened) = client.open().await.map_err(|e| advise(e.to_string()))?;
            let envelope = lettre::address::Envelope::new(
                Some(from.parse().map_err(|_| CliError::Usage(format!("'{from}' is not an address")))?),
                vec![to.to_string().parse().map_err(|_| CliError::Usage(format!("'{to}' is not an address")))?],
            )
            .map_err(|e| CliError::Failed(anyhow!(e)))?;
            let sent = conn.send(&envelope, raw.as_bytes()).await;
            let _ = conn.quit().await;
            sent.map_err(|e| advise(format!("the server refused the email: {}", crate::outbound::smtp::describe(&e))))?;
            let auth = match (&settings.credential, opened.mechanism) {
                (None, _) => "no login".to_owned(),
                (Some(Credential::Password(_)), m) | (Some(Credential::OAuth2(_)), m) => {
                    format!("logged in as {} with {}", settings.username, m.unwrap_or("?"))
                }
            };
            writeln!(
                out,
                "sent: <{message_id}> to {to} via {}:{} ({}, {auth})",
                settings.host,
                settings.port,
                if opened.encrypted { "TLS" } else { "no TLS (loopback)" }
            )
            .map_err(write_failed)?;
        }
    }
    Ok(())
}

/// The folders the account has, sorted.
async fn folder_names(session: &mut crate::imap::Session) -> Vec<String> {
    use futures::TryStreamExt;
    let mut names: Vec<String> = match session.list(Some(""), Some("*")).await {
        Ok(stream) => stream.try_collect::<Vec<_>>().await.unwrap_or_default(),
        Err(_) => Vec::new(),
    }
    .iter()
    .map(|n| n.name().to_owned())
    .collect();
    names.sort();
    names
}
