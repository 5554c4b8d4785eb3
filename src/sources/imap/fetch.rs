//! Fetching in bounded round trips: sizes first, then whole messages grouped while
//! they fit, and only the start of a message over the size limit.

use std::time::Duration;

use futures::TryStreamExt;

use crate::imap::{ImapError, Session, protocol, within};

/// UIDs fetched per round trip at most.
const FETCH_CHUNK: usize = 50;
/// Bytes fetched per round trip at most (by the sizes the server reports; a message
/// larger than this, but within the size limit, is fetched alone).
const FETCH_BYTES: u64 = 8 * 1024 * 1024;
/// UIDs whose sizes are asked per round trip.
pub(super) const SIZE_CHUNK: usize = 1000;
/// Of a message over the size limit, this much of its header and of its text is kept.
pub const OVERSIZED_KEEP: u64 = 256 * 1024;

/// One round trip of fetching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Fetch {
    /// Whole messages, within `FETCH_CHUNK` and `FETCH_BYTES` together.
    Whole(Vec<u32>),
    /// A message over the size limit: only its start, with its real size.
    Start(u32, u64),
}

/// Round trips for `sized` (UID and size, in UID order): whole messages grouped while
/// they fit, oversized ones on their own.
pub(super) fn plan(sized: &[(u32, u64)], limit: u64) -> Vec<Fetch> {
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
pub(super) async fn fetch(
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
