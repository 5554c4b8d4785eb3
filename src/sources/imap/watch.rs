//! Watching one IMAP folder: fetch what is new since the checkpoint, then wait with
//! IDLE (or poll), and reconnect with backoff when anything fails.

use std::sync::Arc;
use std::time::Duration;

use async_imap::types::UnsolicitedResponse;
use chrono::Utc;
use futures::TryStreamExt;
use tokio::sync::{Notify, watch};

use super::connect::{ImapError, Session, connect, protocol, within};
use crate::config::ImapSettings;
use crate::sources::Backoff;
use crate::store::{NewMessage, Store, Stored};

/// UIDs fetched per round trip at most.
const FETCH_CHUNK: usize = 50;
/// Bytes fetched per round trip at most (by the sizes the server reports; a message
/// larger than this, but within the size limit, is fetched alone).
const FETCH_BYTES: u64 = 8 * 1024 * 1024;
/// UIDs whose sizes are asked per round trip.
const SIZE_CHUNK: usize = 1000;
/// Of a message over the size limit, this much of its header and of its text is kept.
pub const OVERSIZED_KEEP: u64 = 256 * 1024;

/// One round trip of fetching.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fetch {
    /// Whole messages, within `FETCH_CHUNK` and `FETCH_BYTES` together.
    Whole(Vec<u32>),
    /// A message over the size limit: only its start, with its real size.
    Start(u32, u64),
}

/// Round trips for `sized` (UID and size, in UID order): whole messages grouped while
/// they fit, oversized ones on their own.
fn plan(sized: &[(u32, u64)], limit: u64) -> Vec<Fetch> {
    let mut trips = Vec::new();
    let mut group: Vec<u32> = Vec::new();
    let mut bytes = 0u64;
    for &(uid, size) in sized {
        if size > limit {
            if !group.is_empty() {
                trips.push(Fetch::Whole(std::mem::take(&mut group)));
                bytes = 0;
            }
            trips.push(Fetch::Start(uid, size));
            continue;
        }
        if !group.is_empty() && (group.len() == FETCH_CHUNK || bytes + size > FETCH_BYTES) {
            trips.push(Fetch::Whole(std::mem::take(&mut group)));
            bytes = 0;
        }
        group.push(uid);
        bytes += size;
    }
    if !group.is_empty() {
        trips.push(Fetch::Whole(group));
    }
    trips
}

/// `UID FETCH` of `set` with `items`, collected, within the command deadline.
async fn fetch(
    session: &mut Session,
    deadline: Duration,
    set: String,
    items: &str,
) -> Result<Vec<async_imap::types::Fetch>, ImapError> {
    within(deadline, "UID FETCH", async {
        session
            .uid_fetch(set, items)
            .await
            .map_err(protocol("UID FETCH"))?
            .try_collect()
            .await
            .map_err(protocol("UID FETCH"))
    })
    .await
}

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
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
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
    pub async fn sync(&self, session: &mut Session, store: &Store) -> Result<Sync, WatchError> {
        self.sync_notifying(session, store, None).await
    }

    /// `sync`, telling `stored` after each chunk is committed (processing need not wait
    /// for the whole backlog to be fetched).
    async fn sync_notifying(
        &self,
        session: &mut Session,
        store: &Store,
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
        let last_uid = match store.checkpoint(&self.name).await? {
            Some(cp) if cp.uidvalidity == uidvalidity => cp.last_uid,
            Some(cp) => {
                tracing::warn!(source = %self.name, old = cp.uidvalidity, new = uidvalidity, "UIDVALIDITY changed: rescanning the folder");
                store.reset_checkpoint(&self.name, uidvalidity).await?;
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
            self.move_processed(session, &left).await?;
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
            for (message, outcome) in messages.iter().zip(store.store_messages(&messages).await?) {
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
            self.move_processed(session, &uids).await?;
        }
        Ok(sync)
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
        store: &Store,
        stored: Arc<Notify>,
        state: watch::Sender<SourceState>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(300));
        let mut outage = Outage::default();
        while !*shutdown.borrow() {
            let result = self.session(store, &stored, &state, &mut backoff, &mut shutdown, &mut outage).await;
            state.send_replace(SourceState::Disconnected);
            if let Err(error) = result {
                outage.failed(self, store, &error).await;
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
        store: &Store,
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
            let sync = self.sync_notifying(&mut session, store, Some(stored)).await?;
            if sync.stored > 0 {
                stored.notify_one();
            }
            backoff.reset();
            outage.ended(self, store).await;
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

/// How long the mailbox has been out of reach, and whether anyone was told.
#[derive(Debug, Default)]
pub struct Outage {
    since: Option<chrono::DateTime<Utc>>,
    alerted: bool,
}

impl Outage {
    /// A connection or sync failed: past the configured time, one alert email.
    async fn failed(&mut self, source: &ImapSource, store: &Store, error: &WatchError) {
        let now = Utc::now();
        let since = *self.since.get_or_insert(now);
        let after =
            chrono::Duration::from_std(source.settings.unreachable_alert_after).unwrap_or(chrono::Duration::MAX);
        if self.alerted || now - since < after {
            return;
        }
        let minutes = (now - since).num_minutes().to_string();
        let facts = [
            ("mailbox", source.name.clone()),
            ("since", since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            ("minutes", minutes),
            ("error", error.to_string()),
        ];
        let key = format!("unreachable:{}:{}", source.name, since.timestamp());
        if self.alert(source, store, "mailbox_unreachable", &facts, key).await {
            tracing::error!(source = %source.name, %error, since = %since, "mailbox unreachable: alert queued");
            self.alerted = true;
        }
    }

    /// A sync worked: the outage, if any, is over (and is reported over, if alerted).
    async fn ended(&mut self, source: &ImapSource, store: &Store) {
        let Some(since) = self.since else { return };
        if self.alerted {
            let facts = [
                ("mailbox", source.name.clone()),
                ("since", since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                ("now", Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            ];
            let key = format!("recovered:{}:{}", source.name, since.timestamp());
            if !self.alert(source, store, "mailbox_recovered", &facts, key).await {
                return;
            }
            tracing::info!(source = %source.name, since = %since, "mailbox reachable again");
        }
        *self = Outage::default();
    }

    async fn alert(
        &self,
        source: &ImapSource,
        store: &Store,
        template: &str,
        facts: &[(&str, String)],
        dedupe_key: String,
    ) -> bool {
        use crate::protocol::{Intent, Purpose, Recipient};
        let intent = Intent {
            purpose: Purpose::TriageAlert,
            to: source.settings.alert_roles.iter().map(|r| Recipient::Role(*r)).collect(),
            case: None,
            template: template.to_owned(),
            facts: facts.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
            dedupe_key,
            urgent: true,
            not_before: None,
        };
        match store.add_intent(&intent, None, Utc::now()).await {
            Ok(_) => true,
            Err(error) => {
                tracing::warn!(source = %source.name, %error, "cannot queue the mailbox alert");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_are_bounded_in_count_and_bytes_and_oversized_messages_go_alone() {
        let mb = 1024 * 1024;
        let sized = [(1, 3 * mb), (2, 3 * mb), (3, 3 * mb), (4, 30 * mb), (5, 100), (6, 9 * mb)];
        assert_eq!(
            plan(&sized, 25 * mb),
            vec![
                Fetch::Whole(vec![1, 2]),
                Fetch::Whole(vec![3]),
                Fetch::Start(4, 30 * mb),
                Fetch::Whole(vec![5]),
                Fetch::Whole(vec![6]),
            ]
        );
        let many: Vec<(u32, u64)> = (1..=120).map(|uid| (uid, 1000)).collect();
        let trips = plan(&many, 25 * mb);
        assert_eq!(trips.len(), 3);
        assert!(matches!(&trips[0], Fetch::Whole(uids) if uids.len() == FETCH_CHUNK));
    }
}
