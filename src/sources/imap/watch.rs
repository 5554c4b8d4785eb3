//! Watching one IMAP folder: fetch what is new since the checkpoint, then wait with
//! IDLE (or poll), and reconnect with backoff when anything fails.

use std::sync::Arc;
use std::time::Duration;

use async_imap::types::UnsolicitedResponse;
use chrono::Utc;
use tokio::sync::{Notify, watch};

use crate::backoff::Backoff;
use crate::config::ImapSettings;
use crate::domain::mailbox::{FilingProblem, NewMessage, Stored};
use crate::imap::{ImapError, Session, connect, protocol, within};
use crate::sources::{Sink, SinkError};

use super::fetch::{Fetch, OVERSIZED_KEEP, SIZE_CHUNK, fetch, plan};
use super::outage::Outage;

/// What one synchronisation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sync {
    pub stored: usize,
    pub duplicates: usize,
}

/// Where the watcher stands, for health checks and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceState {
    Disconnected,
    /// Connected and fetching what is new.
    Syncing,
    /// Up to date, waiting in IDLE (or until the next poll).
    Waiting,
}

/// An IMAP folder to take mail from.
#[derive(Debug, Clone)]
pub struct ImapSource {
    settings: ImapSettings,
    name: String,
    /// Messages larger than this are not downloaded whole.
    max_message_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error(transparent)]
    Imap(#[from] ImapError),
    #[error("cannot keep what was read: {0}")]
    Sink(SinkError),
}

impl ImapSource {
    pub fn new(settings: ImapSettings) -> Self {
        let name = format!("imap:{}@{}:{}/{}", settings.username, settings.host, settings.port, settings.folder);
        Self { settings, name, max_message_bytes: 25 * 1024 * 1024 }
    }

    /// Messages larger than `bytes` are not downloaded whole: only their start is kept.
    pub fn max_message_bytes(mut self, bytes: u64) -> Self {
        self.max_message_bytes = bytes;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Opens the folder read-only and stores everything newer than the checkpoint;
    /// a changed UIDVALIDITY starts the folder again (the store skips what it has).
    pub async fn sync(&self, session: &mut Session, sink: &impl Sink) -> Result<Sync, WatchError> {
        self.sync_notifying(session, sink, None).await
    }

    /// `sync`, telling `stored` after each chunk is committed (processing need not wait
    /// for the whole backlog to be fetched).
    async fn sync_notifying(
        &self,
        session: &mut Session,
        sink: &impl Sink,
        stored: Option<&Notify>,
    ) -> Result<Sync, WatchError> {
        let folder = &self.settings.folder;
        let no_folder = |e| match e {
            async_imap::error::Error::No(_) => ImapError::NoFolder(folder.clone()),
            other => protocol("SELECT")(other),
        };
        // Read-only unless stored messages are to be moved.
        let mailbox = match &self.settings.processed_folder {
            None => {
                within(self.settings.command_timeout, "EXAMINE", async {
                    session.examine(folder).await.map_err(no_folder)
                })
                .await?
            }
            Some(_) => {
                within(self.settings.command_timeout, "SELECT", async {
                    session.select(folder).await.map_err(no_folder)
                })
                .await?
            }
        };
        let uidvalidity = mailbox.uid_validity.unwrap_or(0);
        let last_uid = match sink.checkpoint(&self.name).await.map_err(WatchError::Sink)? {
            Some(cp) if cp.uidvalidity == uidvalidity => cp.last_uid,
            Some(cp) => {
                tracing::warn!(source = %self.name, old = cp.uidvalidity, new = uidvalidity, "UIDVALIDITY changed: rescanning the folder");
                sink.reset_checkpoint(&self.name, uidvalidity).await.map_err(WatchError::Sink)?;
                0
            }
            None => 0,
        };
        let mut sync = Sync::default();
        if mailbox.exists == 0 {
            return Ok(sync);
        }
        if last_uid > 0 {
            // Stored before a crash but not yet moved.
            let left: Vec<u32> = within(self.settings.command_timeout, "UID SEARCH", async {
                session.uid_search(format!("UID 1:{last_uid}")).await.map_err(protocol("UID SEARCH"))
            })
            .await?
            .into_iter()
            .filter(|u| *u <= last_uid)
            .collect();
            self.file(session, sink, &left).await?;
        }
        let mut uids: Vec<u32> = within(self.settings.command_timeout, "UID SEARCH", async {
            session.uid_search(format!("UID {}:*", last_uid.saturating_add(1))).await.map_err(protocol("UID SEARCH"))
        })
        .await?
        .into_iter()
        .filter(|uid| *uid > last_uid)
        .collect();
        uids.sort_unstable();
        // Sizes first: nothing is downloaded before it is known to fit.
        let mut sized: Vec<(u32, u64)> = Vec::with_capacity(uids.len());
        for chunk in uids.chunks(SIZE_CHUNK) {
            let set: Vec<String> = chunk.iter().map(u32::to_string).collect();
            let fetches = fetch(session, self.settings.command_timeout, set.join(","), "(UID RFC822.SIZE)").await?;
            sized.extend(fetches.iter().filter_map(|f| Some((f.uid?, u64::from(f.size.unwrap_or(0))))));
        }
        sized.retain(|(uid, _)| *uid > last_uid);
        sized.sort_unstable();
        sized.dedup_by_key(|(uid, _)| *uid);
        for trip in plan(&sized, self.max_message_bytes) {
            let (uids, fetches) = match &trip {
                Fetch::Whole(uids) => {
                    let set: Vec<String> = uids.iter().map(u32::to_string).collect();
                    (
                        uids.clone(),
                        fetch(session, self.settings.command_timeout, set.join(","), "(UID INTERNALDATE BODY.PEEK[])")
                            .await?,
                    )
                }
                Fetch::Start(uid, size) => {
                    tracing::warn!(source = %self.name, uid, size, limit = self.max_message_bytes, "message over the size limit: only its start is downloaded");
                    let items = format!(
                        "(UID INTERNALDATE BODY.PEEK[HEADER]<0.{OVERSIZED_KEEP}> BODY.PEEK[TEXT]<0.{OVERSIZED_KEEP}>)"
                    );
                    (vec![*uid], fetch(session, self.settings.command_timeout, uid.to_string(), &items).await?)
                }
            };
            let mut fetches: Vec<_> = fetches.into_iter().filter(|f| f.uid.is_some_and(|u| u > last_uid)).collect();
            fetches.sort_by_key(|f| f.uid);
            // One transaction for the round trip: stored together, the checkpoint past the last.
            let received: Vec<(u32, std::borrow::Cow<'_, [u8]>, chrono::DateTime<Utc>)> = fetches
                .iter()
                .filter_map(|fetch| {
                    let arrived_at = fetch.internal_date().map(|d| d.with_timezone(&Utc)).unwrap_or_else(Utc::now);
                    let raw = match &trip {
                        Fetch::Whole(_) => std::borrow::Cow::Borrowed(fetch.body()?),
                        Fetch::Start(..) => {
                            let mut start = fetch.header()?.to_vec();
                            start.extend_from_slice(fetch.text().unwrap_or_default());
                            std::borrow::Cow::Owned(start)
                        }
                    };
                    Some((fetch.uid?, raw, arrived_at))
                })
                .collect();
            let truncated_from = match &trip {
                Fetch::Start(_, size) => Some(*size),
                Fetch::Whole(_) => None,
            };
            let messages: Vec<NewMessage<'_>> = received
                .iter()
                .map(|(uid, raw, arrived_at)| NewMessage {
                    source: &self.name,
                    uidvalidity: Some(uidvalidity),
                    uid: Some(*uid),
                    raw,
                    arrived_at: *arrived_at,
                    truncated_from,
                })
                .collect();
            for (message, outcome) in messages.iter().zip(sink.keep(&messages).await.map_err(WatchError::Sink)?) {
                let uid = message.uid.unwrap_or(0);
                match outcome {
                    Stored::New(id) => {
                        tracing::info!(source = %self.name, uid, stored_id = id, "message stored");
                        sync.stored += 1;
                    }
                    Stored::Duplicate(id) => {
                        tracing::debug!(source = %self.name, uid, stored_id = id, "message already stored");
                        sync.duplicates += 1;
                    }
                }
            }
            if sync.stored > 0
                && let Some(stored) = stored
            {
                stored.notify_one();
            }
            self.file(session, sink, &uids).await?;
        }
        Ok(sync)
    }

    /// Files kept messages in the processed folder. A move the server refuses (the folder
    /// is missing, say) stops nothing: the messages are kept and processed, the problem
    /// is logged and reported, and the move is tried again at the next sync. A broken
    /// connection is an error like any other.
    async fn file(&self, session: &mut Session, sink: &impl Sink, uids: &[u32]) -> Result<(), ImapError> {
        match self.move_processed(session, uids).await {
            Ok(()) => Ok(()),
            Err(
                error @ ImapError::Protocol {
                    cause: async_imap::error::Error::No(_) | async_imap::error::Error::Bad(_),
                    ..
                },
            ) => {
                let folder = self.settings.processed_folder.clone().unwrap_or_default();
                let problem =
                    FilingProblem { mailbox: self.name.clone(), folder, error: error.to_string(), now: Utc::now() };
                let alerted = sink.filing_failed(&problem).await;
                tracing::warn!(source = %self.name, folder = %problem.folder, %error, alerted, "messages kept and processed but not moved to mailbox.processed_folder; the move is tried again at the next sync");
                Ok(())
            }
            Err(other) => Err(other),
        }
    }

    /// Moves stored messages to the processed folder, if one is configured (flags kept,
    /// so nothing becomes `\Seen`).
    async fn move_processed(&self, session: &mut Session, uids: &[u32]) -> Result<(), ImapError> {
        let Some(target) = &self.settings.processed_folder else { return Ok(()) };
        if uids.is_empty() {
            return Ok(());
        }
        let set: Vec<String> = uids.iter().map(u32::to_string).collect();
        within(self.settings.command_timeout, "UID MOVE", async {
            session.uid_mv(set.join(","), target).await.map_err(protocol("UID MOVE"))
        })
        .await
    }

    /// Watches the folder until `shutdown` turns true: sync, then IDLE or poll, and
    /// reconnect with backoff after any error. `stored` is notified after each commit;
    /// `state` tells where the watcher stands.
    pub async fn run(
        &self,
        sink: &impl Sink,
        stored: Arc<Notify>,
        state: watch::Sender<SourceState>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(300));
        let mut outage = Outage::default();
        while !*shutdown.borrow() {
            let result = self.session(sink, &stored, &state, &mut backoff, &mut shutdown, &mut outage).await;
            state.send_replace(SourceState::Disconnected);
            if let Err(error) = result {
                outage.failed(&self.name, self.settings.unreachable_alert_after, sink, &error.to_string()).await;
                let wait = if matches!(&error, WatchError::Imap(e) if e.is_permanent()) {
                    Duration::from_secs(300).max(backoff.next_delay())
                } else {
                    backoff.next_delay()
                };
                tracing::warn!(source = %self.name, %error, retry_in = ?wait, "mailbox unavailable");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }

    async fn session(
        &self,
        sink: &impl Sink,
        stored: &Notify,
        state: &watch::Sender<SourceState>,
        backoff: &mut Backoff,
        shutdown: &mut watch::Receiver<bool>,
        outage: &mut Outage,
    ) -> Result<(), WatchError> {
        let mut session = connect(&self.settings).await?;
        let capabilities = within(self.settings.command_timeout, "CAPABILITY", async {
            session.capabilities().await.map_err(protocol("CAPABILITY"))
        })
        .await?;
        let can_idle = self.settings.idle && capabilities.has_str("IDLE");
        tracing::info!(source = %self.name, idle = can_idle, "mailbox open");
        loop {
            state.send_replace(SourceState::Syncing);
            let sync = self.sync_notifying(&mut session, sink, Some(stored)).await?;
            if sync.stored > 0 {
                stored.notify_one();
            }
            backoff.reset();
            outage.ended(&self.name, sink).await;
            // Mail that arrived while syncing was announced alongside the replies: if
            // any was, sync again rather than wait for an announcement already made.
            let announced = std::iter::from_fn(|| session.unsolicited_responses.try_recv().ok())
                .filter(|r| matches!(r, UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)))
                .count();
            if announced > 0 && !*shutdown.borrow() {
                continue;
            }
            if *shutdown.borrow() {
                let _ = tokio::time::timeout(self.settings.command_timeout, session.logout()).await;
                return Ok(());
            }
            if can_idle {
                // What the server says while IDLE starts (mail that arrived since the
                // sync) reaches this channel rather than the wait: look at it first.
                let unsolicited = session.unsolicited_responses.clone();
                let mut idle = session.idle();
                within(self.settings.command_timeout, "IDLE", async { idle.init().await.map_err(protocol("IDLE")) })
                    .await?;
                state.send_replace(SourceState::Waiting);
                let arrived_meanwhile = std::iter::from_fn(|| unsolicited.try_recv().ok())
                    .any(|r| matches!(r, UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)));
                let stop_requested = if arrived_meanwhile {
                    false
                } else {
                    let (wait, _stop) = idle.wait_with_timeout(self.settings.idle_reissue);
                    tokio::select! {
                        result = wait => { result.map_err(protocol("IDLE"))?; false }
                        _ = shutdown.changed() => true,
                    }
                };
                session = within(self.settings.command_timeout, "DONE", async {
                    idle.done().await.map_err(protocol("DONE"))
                })
                .await?;
                if stop_requested {
                    let _ = tokio::time::timeout(self.settings.command_timeout, session.logout()).await;
                    return Ok(());
                }
            } else {
                state.send_replace(SourceState::Waiting);
                tokio::select! {
                    _ = tokio::time::sleep(self.settings.poll_interval) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
}
