//! The store's contract, the same on SQLite and PostgreSQL.

use chrono::Utc;
use cspr::store::{NewMessage, Store, Stored};

use crate::databases::both;
use crate::mailstack::message;

#[tokio::test]
async fn a_message_and_its_checkpoint_are_stored_once_on_both_engines() {
    for db in both().await {
        let store = Store::open(&db.url).await.unwrap_or_else(|e| panic!("{}: {e}", db.name));
        let raw = message(1, "contract");
        let new = |uid| NewMessage {
            truncated_from: None,
            source: "imap:test",
            uidvalidity: Some(7),
            uid: Some(uid),
            raw: &raw,
            arrived_at: Utc::now(),
        };
        let first = store.store_message(&new(3)).await.unwrap();
        assert!(matches!(first, Stored::New(_)), "{}", db.name);
        assert!(matches!(store.store_message(&new(4)).await.unwrap(), Stored::Duplicate(_)), "{}", db.name);
        let cp = store.checkpoint("imap:test").await.unwrap().unwrap();
        assert_eq!((cp.uidvalidity, cp.last_uid), (7, 4), "{}", db.name);
        // A lower UID never moves the checkpoint back.
        let other = message(2, "contract");
        store
            .store_message(&NewMessage {
                truncated_from: None,
                source: "imap:test",
                uidvalidity: Some(7),
                uid: Some(2),
                raw: &other,
                arrived_at: Utc::now(),
            })
            .await
            .unwrap();
        assert_eq!(store.checkpoint("imap:test").await.unwrap().unwrap().last_uid, 4, "{}", db.name);
        store.reset_checkpoint("imap:test", 8).await.unwrap();
        let cp = store.checkpoint("imap:test").await.unwrap().unwrap();
        assert_eq!((cp.uidvalidity, cp.last_uid), (8, 0), "{}", db.name);

        let pending = store.pending_messages(10).await.unwrap();
        assert_eq!(pending.len(), 2, "{}", db.name);
        assert_eq!(pending[0].raw, raw, "{}", db.name);
        let processed = cspr::store::Processed {
            stored_id: pending[0].id,
            kind: "unknown",
            trust: "untrusted",
            summary: "{}",
            new_case_year: None,
            failure: None,
            resolves_triage: None,
        };
        let outcome = cspr::protocol::Outcome::triage("not recognised");
        assert!(store.commit_processing(&processed, &outcome, Utc::now()).await.unwrap(), "{}", db.name);
        assert!(
            !store.commit_processing(&processed, &outcome, Utc::now()).await.unwrap(),
            "replay is a no-op: {}",
            db.name
        );
        assert_eq!(store.pending_messages(10).await.unwrap().len(), 1, "{}", db.name);
        assert_eq!(store.triage(true).await.unwrap().len(), 1, "{}", db.name);
        store.close().await;
    }
}

#[tokio::test]
async fn the_sqlite_file_is_private_and_in_wal_mode() {
    use std::os::unix::fs::PermissionsExt;
    let db = crate::databases::sqlite();
    let store = Store::open(&db.url).await.unwrap();
    store.close().await;
    let path = db.url.trim_start_matches("sqlite://");
    assert_eq!(std::fs::metadata(path).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(std::path::Path::new(&format!("{path}-wal")).exists() || journal_mode(path).await == "wal");
}

async fn journal_mode(path: &str) -> String {
    use sqlx::Connection;
    let mut conn = sqlx::sqlite::SqliteConnection::connect(&format!("sqlite://{path}")).await.unwrap();
    sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut conn).await.unwrap()
}

#[tokio::test]
async fn a_fetched_batch_with_copies_stores_each_message_once_on_both_engines() {
    for db in both().await {
        let store = Store::open(&db.url).await.unwrap_or_else(|e| panic!("{}: {e}", db.name));
        let (a, b, c) = (message(1, "batch"), message(2, "batch"), message(3, "batch"));
        let (a, b, c) = (a.as_slice(), b.as_slice(), c.as_slice());
        fn new(raw: &[u8], uidvalidity: u32, uid: u32) -> NewMessage<'_> {
            NewMessage {
                truncated_from: None,
                source: "imap:batch",
                uidvalidity: Some(uidvalidity),
                uid: Some(uid),
                raw,
                arrived_at: Utc::now(),
            }
        }
        store.store_message(&new(c, 7, 1)).await.unwrap();
        // `a` twice in one fetch, `c` stored before, the UIDVALIDITY changing half way.
        let stored = store.store_messages(&[new(a, 7, 5), new(b, 7, 9), new(a, 7, 6), new(c, 8, 2)]).await.unwrap();
        let ids: Vec<String> = stored.iter().map(|s| format!("{s:?}")).collect();
        let (Stored::New(first), Stored::New(second)) = (&stored[0], &stored[1]) else {
            panic!("{}: the first two are new: {ids:?}", db.name)
        };
        assert_ne!(first, second, "{}", db.name);
        assert!(matches!(&stored[2], Stored::Duplicate(id) if id == first), "{}: {ids:?}", db.name);
        assert!(matches!(&stored[3], Stored::Duplicate(id) if id != first && id != second), "{}: {ids:?}", db.name);
        let pending = store.pending_messages(10).await.unwrap();
        let texts: Vec<&[u8]> = pending.iter().map(|p| p.raw.as_slice()).collect();
        assert_eq!(texts, vec![c, a, b], "{}: each text stored once, in order", db.name);
        let cp = store.checkpoint("imap:batch").await.unwrap().unwrap();
        assert_eq!((cp.uidvalidity, cp.last_uid), (8, 2), "{}: the checkpoint as after the last", db.name);
    }
}
