//! A full disk is a pause, not a crash: the workers that hit it wait (backing off) and
//! try again; it is logged once when it begins and once when it ends, and when space
//! returns those told of storage alerts (the SPA) hear of it (the alert is the first write that proves it has returned).

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::protocol::alerts::{self, AlertRecipients};
use crate::store::{Store, StoreError};

/// The longest wait between attempts while the disk is full.
const MAX_WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
struct Episode {
    since: Option<DateTime<Utc>>,
    /// Attempts that found the disk still full.
    attempts: u32,
}

/// Whether the store's disk is full, shared by the workers.
#[derive(Debug, Default)]
pub struct Space {
    episode: Mutex<Episode>,
}

impl Space {
    /// A write failed for want of space (`who` tried it): logged if it is the first,
    /// and how long to wait before trying again.
    pub fn full(&self, who: &str, error: &StoreError) -> Duration {
        let mut episode = self.episode.lock().unwrap_or_else(|e| e.into_inner());
        if episode.since.is_none() {
            episode.since = Some(Utc::now());
            tracing::error!(
                worker = who,
                %error,
                "the disk holding the store is full: intake, processing and sending are paused until space is made; nothing is lost"
            );
        }
        episode.attempts = episode.attempts.saturating_add(1);
        let wait = Duration::from_secs(1u64 << episode.attempts.min(6));
        wait.min(MAX_WAIT)
    }

    /// Since when the disk has been full, if it is.
    pub fn full_since(&self) -> Option<DateTime<Utc>> {
        self.episode.lock().unwrap_or_else(|e| e.into_inner()).since
    }

    /// A worker's step succeeded: if the disk was full, try to tell the SPA that space
    /// has returned (that write is the proof); the episode ends once it is queued.
    pub async fn check_returned(&self, store: &Store, recipients: &AlertRecipients) {
        let Some(since) = self.full_since() else { return };
        let now = Utc::now();
        let intent = alerts::storage_recovered(recipients, since, now);
        match store.add_intent(&intent, None, now).await {
            Ok(_) => {
                let mut episode = self.episode.lock().unwrap_or_else(|e| e.into_inner());
                if episode.since == Some(since) {
                    *episode = Episode::default();
                    tracing::info!(since = %since, "the disk holding the store has space again; work resumes");
                }
            }
            Err(error) if error.is_disk_full() => {}
            Err(error) => tracing::warn!(%error, "cannot queue the alert that space has returned"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_to_a_minute_and_the_episode_begins_once() {
        let space = Space::default();
        let error = StoreError::Conflict("full".into());
        let waits: Vec<u64> = (0..8).map(|_| space.full("test", &error).as_secs()).collect();
        assert_eq!(waits, vec![2, 4, 8, 16, 32, 60, 60, 60]);
        let since = space.full_since().expect("full");
        space.full("test", &error);
        assert_eq!(space.full_since(), Some(since), "the first failure dates the episode");
    }
}
