//! Getting an email out: SMTP (see `smtp`), or a folder with one `.eml` per message. A copy of each
//! sent email goes to the mailbox's Sent folder, which is also where a send interrupted
//! by a crash is looked for before it is tried again.

use std::path::PathBuf;

use lettre::Address;
use lettre::address::Envelope;

use super::error::SendError;
use super::smtp::SmtpClient;
use crate::config::{ImapSettings, Transport as TransportSettings};
use crate::imap::{ImapError, connect};

enum Kind {
    Smtp(SmtpClient),
    File(PathBuf),
}

/// The configured way out, plus where sent copies are kept.
pub struct Transport {
    kind: Kind,
    sent: Option<(ImapSettings, String)>,
}

fn file_name(message_id: &str) -> String {
    let safe: String =
        message_id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect();
    format!("{safe}.eml")
}

impl Transport {
    /// Whether emails are written to files rather than sent.
    pub fn writes_files(&self) -> bool {
        matches!(self.kind, Kind::File(_))
    }

    /// The transport configured; `sent` is the mailbox and folder for sent copies.
    pub fn new(settings: &TransportSettings, sent: Option<(ImapSettings, String)>) -> Result<Self, SendError> {
        let kind = match settings {
            TransportSettings::File(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| SendError::Setup(format!("cannot create {}: {e}", dir.display())))?;
                Kind::File(dir.clone())
            }
            TransportSettings::Smtp(settings) => Kind::Smtp(SmtpClient::new(settings)?),
        };
        Ok(Self { kind, sent })
    }

    /// Hands the email to the server (or writes its file).
    pub async fn send(&self, from: &str, to: &[String], message_id: &str, raw: &[u8]) -> Result<(), SendError> {
        match &self.kind {
            Kind::File(dir) => {
                let path = dir.join(file_name(message_id));
                let partial = dir.join(format!(".{}.tmp", file_name(message_id)));
                tokio::fs::write(&partial, raw)
                    .await
                    .map_err(|e| SendError::Transient(format!("cannot write {}: {e}", partial.display())))?;
                tokio::fs::rename(&partial, &path)
                    .await
                    .map_err(|e| SendError::Transient(format!("cannot write {}: {e}", path.display())))
            }
            Kind::Smtp(transport) => {
                let address = |a: &str| {
                    a.parse::<Address>().map_err(|_| SendError::Permanent(format!("'{a}' is not an address")))
                };
                let recipients = to.iter().map(|a| address(a)).collect::<Result<Vec<_>, _>>()?;
                let envelope =
                    Envelope::new(Some(address(from)?), recipients).map_err(|e| SendError::Permanent(e.to_string()))?;
                transport.send(&envelope, raw).await
            }
        }
    }

    /// Appends a copy to the Sent folder, marked read.
    pub async fn keep_copy(&self, raw: &[u8]) -> Result<(), SendError> {
        let Some((settings, folder)) = &self.sent else { return Ok(()) };
        let mut session = connect(settings).await.map_err(imap_error)?;
        let result = session.append(folder, Some("(\\Seen)"), None, raw).await;
        let _ = session.logout().await;
        result.map_err(|e| SendError::Transient(format!("cannot append to {folder}: {e}")))
    }

    /// Whether an email with this Message-ID already went out: its copy is in the Sent
    /// folder (or its file exists). `None` when there is nowhere to look.
    pub async fn was_sent(&self, message_id: &str) -> Result<Option<bool>, SendError> {
        if let Kind::File(dir) = &self.kind {
            return Ok(Some(dir.join(file_name(message_id)).exists()));
        }
        let Some((settings, folder)) = &self.sent else { return Ok(None) };
        let mut session = connect(settings).await.map_err(imap_error)?;
        session.examine(folder).await.map_err(|e| SendError::Transient(format!("cannot open {folder}: {e}")))?;
        let found = session
            .uid_search(format!("HEADER Message-ID \"{}\"", message_id.replace('"', "")))
            .await
            .map_err(|e| SendError::Transient(format!("cannot search {folder}: {e}")))?;
        let _ = session.logout().await;
        Ok(Some(!found.is_empty()))
    }
}

fn imap_error(e: ImapError) -> SendError {
    SendError::Transient(e.to_string())
}
