//! A local Maildir: every file in `new/` is stored, then moved to `cur/` (unread). A
//! crash between the two leaves the file in `new/`; the store recognises the copy.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::{Sink, SinkError};
use crate::domain::mailbox::{NewMessage, Stored};

#[derive(Debug, thiserror::Error)]
pub enum MaildirError {
    #[error("cannot read the Maildir {path}: {cause}")]
    Io { path: String, cause: std::io::Error },
    #[error("cannot keep what was read: {0}")]
    Sink(SinkError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MaildirError + '_ {
    move |source| MaildirError::Io { path: path.display().to_string(), cause: source }
}

/// A Maildir folder to take mail from.
#[derive(Debug, Clone)]
pub struct MaildirSource {
    dir: PathBuf,
    name: String,
    /// Leave the files where they are (a dry run changes nothing).
    read_only: bool,
    /// Files larger than this are not read whole: only their start is kept.
    max_message_bytes: u64,
}

/// What one scan did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scan {
    pub stored: usize,
    pub duplicates: usize,
}

impl MaildirSource {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        let name = format!("maildir:{}", dir.display());
        Self { dir, name, read_only: false, max_message_bytes: 25 * 1024 * 1024 }
    }

    /// Reads without moving anything (the store still skips what it has).
    /// Files larger than `bytes` are not read whole: only their first 512 KiB are kept.
    pub fn max_message_bytes(mut self, bytes: u64) -> Self {
        self.max_message_bytes = bytes;
        self
    }

    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Stores every message in `new/` and moves it to `cur/`; one step, driven by the
    /// caller's loop (or a test).
    pub async fn scan_once(&self, sink: &impl Sink) -> Result<Scan, MaildirError> {
        for sub in ["new", "cur", "tmp"] {
            let path = self.dir.join(sub);
            if !self.read_only {
                tokio::fs::create_dir_all(&path).await.map_err(io(&path))?;
            }
        }
        let new = self.dir.join("new");
        let mut entries = Vec::new();
        if self.read_only && !tokio::fs::try_exists(&new).await.unwrap_or(false) {
            return Ok(Scan::default());
        }
        let mut listing = tokio::fs::read_dir(&new).await.map_err(io(&new))?;
        while let Some(entry) = listing.next_entry().await.map_err(io(&new))? {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') {
                entries.push(entry.path());
            }
        }
        entries.sort();
        let mut scan = Scan::default();
        for path in entries {
            let (raw, truncated_from) = match read_start(&path, self.max_message_bytes).await {
                Ok(read) => read,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(&path)(e)),
            };
            let arrived_at: DateTime<Utc> = tokio::fs::metadata(&path)
                .await
                .and_then(|m| m.modified())
                .map(DateTime::from)
                .unwrap_or_else(|_| Utc::now());
            let message =
                NewMessage { truncated_from, source: &self.name, uidvalidity: None, uid: None, raw: &raw, arrived_at };
            match sink.keep(std::slice::from_ref(&message)).await.map_err(MaildirError::Sink)?.pop() {
                Some(Stored::New(_)) => scan.stored += 1,
                Some(Stored::Duplicate(_)) => scan.duplicates += 1,
                None => return Err(MaildirError::Sink("the message was not kept".into())),
            }
            let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            if self.read_only {
                continue;
            }
            let target = self.dir.join("cur").join(if file.contains(":2,") { file } else { format!("{file}:2,") });
            tokio::fs::rename(&path, &target).await.map_err(io(&path))?;
        }
        Ok(scan)
    }
}

/// The file's bytes, or only its first `2 × OVERSIZED_KEEP` bytes (header and the start of
/// the text) with its size when it is larger than `limit`.
async fn read_start(path: &std::path::Path, limit: u64) -> std::io::Result<(Vec<u8>, Option<u64>)> {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::open(path).await?;
    let size = file.metadata().await?.len();
    if size <= limit {
        let mut raw = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        file.take(limit + 1).read_to_end(&mut raw).await?;
        return Ok((raw, None));
    }
    let mut start = Vec::new();
    file.take(2 * crate::sources::imap::OVERSIZED_KEEP).read_to_end(&mut start).await?;
    Ok((start, Some(size)))
}
