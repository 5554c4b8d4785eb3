//! Intake against a real Dovecot over TLS, and from a Maildir: every message stored
//! exactly once, nothing marked `\Seen`, across IDLE, UIDVALIDITY changes, server
//! restarts and a SIGKILLed daemon.

use std::sync::Arc;
use std::time::Duration;

use cspr::config::TlsMode;
use cspr::sources::imap::{ImapSource, SourceState, connect};
use cspr::sources::maildir::MaildirSource;
use cspr::store::Store;
use tokio::sync::{Notify, watch};

use crate::mailstack::{
    SERVERS, append, create_folder, eventually, flags, imap, mailstack, message, session, stack, unique_folder,
};

async fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("cspr.db").display())).await.unwrap();
    (dir, store)
}

async fn count(store: &Store) -> usize {
    store.message_list().await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_wakes_on_a_new_message_and_stores_it_once_without_marking_it_seen() {
    let _shared = SERVERS.read().await;
    let folder = unique_folder("idle");
    let mut setup = session("chscp").await;
    create_folder(&mut setup, &folder).await;
    let (_dir, store) = temp_store().await;
    // Polling every hour: only IDLE can bring the message in time.
    let source = ImapSource::new(imap("chscp", &folder, TlsMode::Implicit));
    let stored = Arc::new(Notify::new());
    let (state_tx, mut state) = watch::channel(SourceState::Disconnected);
    let (stop, shutdown) = watch::channel(false);
    let task = {
        let (store, stored) = (store.clone(), stored.clone());
        tokio::spawn(async move { source.run(&store, stored, state_tx, shutdown).await })
    };
    // Up to date and in IDLE before the message arrives.
    tokio::time::timeout(Duration::from_secs(10), state.wait_for(|s| *s == SourceState::Waiting))
        .await
        .unwrap()
        .unwrap();
    append(&mut setup, &folder, &message(1, &folder)).await;
    tokio::time::timeout(Duration::from_secs(5), stored.notified()).await.expect("IDLE brought the message in");
    assert_eq!(count(&store).await, 1);
    assert!(flags(&mut setup, &folder).await.iter().all(|f| !f.iter().any(|x| x.contains("Seen"))));
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task).await.unwrap().unwrap();
    assert_eq!(count(&store).await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn starttls_sync_fetches_only_what_is_new_and_a_uidvalidity_change_rescans_without_duplicates() {
    let _shared = SERVERS.read().await;
    let folder = unique_folder("uidv");
    let mut setup = session("chscp").await;
    create_folder(&mut setup, &folder).await;
    for n in 1..=3 {
        append(&mut setup, &folder, &message(n, &folder)).await;
    }
    let (_dir, store) = temp_store().await;
    let settings = imap("chscp", &folder, TlsMode::StartTls);
    let source = ImapSource::new(settings.clone());
    let mut watcher = connect(&settings).await.unwrap();
    let first = source.sync(&mut watcher, &store).await.unwrap();
    assert_eq!((first.stored, first.duplicates), (3, 0));
    append(&mut setup, &folder, &message(4, &folder)).await;
    let second = source.sync(&mut watcher, &store).await.unwrap();
    assert_eq!((second.stored, second.duplicates), (1, 0), "only the new message is fetched");
    let before = store.checkpoint(source.name()).await.unwrap().unwrap();

    // Recreate the folder: a new UIDVALIDITY, the same messages and one more.
    watcher.close().await.ok();
    setup.delete(&folder).await.unwrap();
    // Dovecot derives UIDVALIDITY from the clock: let it tick so the new folder gets a new one.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    create_folder(&mut setup, &folder).await;
    for n in 1..=5 {
        append(&mut setup, &folder, &message(n, &folder)).await;
    }
    let third = source.sync(&mut watcher, &store).await.unwrap();
    let after = store.checkpoint(source.name()).await.unwrap().unwrap();
    assert_ne!(before.uidvalidity, after.uidvalidity, "the server gave the folder a new UIDVALIDITY");
    assert_eq!((third.stored, third.duplicates), (1, 4));
    assert_eq!(count(&store).await, 5);
    assert!(flags(&mut setup, &folder).await.iter().all(|f| !f.iter().any(|x| x.contains("Seen"))));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dovecot_restart_is_followed_by_a_reconnect_and_nothing_is_missed() {
    let _exclusive = SERVERS.write().await;
    let folder = unique_folder("restart");
    let mut setup = session("chscp").await;
    create_folder(&mut setup, &folder).await;
    append(&mut setup, &folder, &message(1, &folder)).await;
    let (_dir, store) = temp_store().await;
    let source = ImapSource::new(imap("chscp", &folder, TlsMode::Implicit));
    let stored = Arc::new(Notify::new());
    let (state_tx, mut state) = watch::channel(SourceState::Disconnected);
    let (stop, shutdown) = watch::channel(false);
    let task = {
        let (store, stored) = (store.clone(), stored.clone());
        tokio::spawn(async move { source.run(&store, stored, state_tx, shutdown).await })
    };
    tokio::time::timeout(Duration::from_secs(10), state.wait_for(|s| *s == SourceState::Waiting))
        .await
        .unwrap()
        .unwrap();
    assert!(eventually(Duration::from_secs(5), || async { count(&store).await == 1 }).await);

    mailstack("restart-dovecot");
    let started = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(10), state.wait_for(|s| *s == SourceState::Disconnected))
        .await
        .expect("the drop was noticed")
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), state.wait_for(|s| *s == SourceState::Waiting))
        .await
        .expect("reconnected")
        .unwrap();
    println!("reconnected {:?} after the restart began", started.elapsed());
    let mut setup = session("chscp").await;
    append(&mut setup, &folder, &message(2, &folder)).await;
    assert!(
        eventually(Duration::from_secs(10), || async { count(&store).await == 2 }).await,
        "message after restart stored"
    );
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task).await.unwrap().unwrap();
    assert_eq!(count(&store).await, 2);
    crate::mailstack::heal_postfix();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sigkilled_daemon_restarts_storing_nothing_twice_and_missing_nothing() {
    let _shared = SERVERS.read().await;
    const TOTAL: usize = 300;
    let folder = unique_folder("kill");
    let mut setup = session("chscp").await;
    create_folder(&mut setup, &folder).await;
    for n in 1..=TOTAL {
        append(&mut setup, &folder, &message(n, &folder)).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cspr.db");
    let config = dir.path().join("cspr.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = \"sqlite://{}\"\n[mailbox]\nsource = \"imap\"\nhost = \"localhost\"\nport = {}\ntls = \"implicit\"\n\
             username = \"chscp\"\nfolder = \"{folder}\"\nca_file = \"{}\"\n",
            db.display(),
            stack()["CSPR_TEST_IMAPS_PORT"],
            stack()["CSPR_TEST_CA"]
        ),
    )
    .unwrap();
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_cspr"))
            .args(["run", "--config", &config.display().to_string()])
            .env("CSPR__MAILBOX__PASSWORD", "chscp-pass")
            .env("CSPR__OUTBOUND__DIRECTORY", dir.path().join("outbox"))
            .env("CSPR_LOG", "warn")
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("cspr run starts")
    };
    let mut daemon = spawn();
    // Kill it as soon as the first messages are stored, mid-stream.
    assert!(
        eventually(Duration::from_secs(20), || async {
            match Store::open(&format!("sqlite://{}", db.display())).await {
                Ok(store) => {
                    let n = count(&store).await;
                    store.close().await;
                    n >= 5
                }
                Err(_) => false,
            }
        })
        .await
    );
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let store = Store::open(&format!("sqlite://{}", db.display())).await.unwrap();
    let at_kill = count(&store).await;
    println!("killed with {at_kill} of {TOTAL} stored");
    assert!(at_kill < TOTAL, "the kill came after everything was stored; nothing was tested");

    let mut daemon = spawn();
    let done = eventually(Duration::from_secs(60), || async {
        let list = store.message_list().await.unwrap();
        list.len() == TOTAL && list.iter().all(|m| m.3 == "processed")
    })
    .await;
    // SIGTERM stops it cleanly.
    let _ = std::process::Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status();
    let status = daemon.wait().unwrap();
    assert!(done, "every message stored and understood after the restart");
    assert_eq!(status.code(), Some(0), "SIGTERM exits 0");
    let list = store.message_list().await.unwrap();
    let mut uids: Vec<i64> = list.iter().filter_map(|m| m.1).collect();
    uids.sort_unstable();
    uids.dedup();
    assert_eq!(uids.len(), TOTAL, "each UID stored exactly once");
    let mut ids: Vec<String> = list.iter().filter_map(|m| m.2.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), TOTAL, "each Message-ID stored exactly once");
    assert!(flags(&mut setup, &folder).await.iter().all(|f| !f.iter().any(|x| x.contains("Seen"))));
}

#[tokio::test]
async fn a_maildir_message_is_stored_once_and_moved_to_cur_unread() {
    let (_dir, store) = temp_store().await;
    let maildir = tempfile::tempdir().unwrap();
    let source = MaildirSource::new(maildir.path());
    assert_eq!(source.scan_once(&store).await.unwrap().stored, 0);
    std::fs::write(maildir.path().join("new/1.eml"), message(1, "maildir")).unwrap();
    std::fs::write(maildir.path().join("new/2.eml"), message(2, "maildir")).unwrap();
    let scan = source.scan_once(&store).await.unwrap();
    assert_eq!((scan.stored, scan.duplicates), (2, 0));
    let cur: Vec<String> = std::fs::read_dir(maildir.path().join("cur"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(cur.len(), 2);
    assert!(cur.iter().all(|name| name.ends_with(":2,")), "no S flag: still unread");
    // A crash between storing and moving leaves the file in new/: it is not stored twice.
    std::fs::write(maildir.path().join("new/1.eml"), message(1, "maildir")).unwrap();
    let again = source.scan_once(&store).await.unwrap();
    assert_eq!((again.stored, again.duplicates), (0, 1));
    assert_eq!(count(&store).await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_idle_it_polls_and_moves_stored_mail_to_the_processed_folder_unread() {
    let _shared = SERVERS.read().await;
    let folder = unique_folder("poll");
    let processed = format!("{folder}done");
    let mut setup = session("chscp").await;
    create_folder(&mut setup, &folder).await;
    create_folder(&mut setup, &processed).await;
    append(&mut setup, &folder, &message(1, &folder)).await;
    let (_dir, store) = temp_store().await;
    let mut settings = imap("chscp", &folder, TlsMode::Implicit);
    settings.idle = false;
    settings.poll_interval = Duration::from_millis(200);
    settings.processed_folder = Some(processed.clone());
    let source = ImapSource::new(settings);
    let (state_tx, mut state) = watch::channel(SourceState::Disconnected);
    let (stop, shutdown) = watch::channel(false);
    let task = {
        let store = store.clone();
        tokio::spawn(async move { source.run(&store, Arc::new(Notify::new()), state_tx, shutdown).await })
    };
    tokio::time::timeout(Duration::from_secs(10), state.wait_for(|s| *s == SourceState::Waiting))
        .await
        .unwrap()
        .unwrap();
    append(&mut setup, &folder, &message(2, &folder)).await;
    assert!(eventually(Duration::from_secs(10), || async { count(&store).await == 2 }).await, "the poll found it");
    assert!(
        eventually(Duration::from_secs(10), || async {
            let mut check = session("chscp").await;
            flags(&mut check, &processed).await.len() == 2
        })
        .await,
        "both moved"
    );
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task).await.unwrap().unwrap();
    let moved = flags(&mut setup, &processed).await;
    assert!(moved.iter().all(|f| !f.iter().any(|x| x.contains("Seen"))), "still unread: {moved:?}");
    assert_eq!(count(&store).await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_over_the_size_limit_is_not_downloaded_whole_and_goes_to_triage_with_its_size() {
    let _shared = SERVERS.read().await;
    let folder = unique_folder("oversized");
    let mut setup = session("chscp").await;
    create_folder(&mut setup, &folder).await;
    // 3 MB of text after the header, against a limit of 1 MB; a small one after it.
    let mut big = String::from_utf8(message(1, &folder)).unwrap();
    let line = "The agencies involved have been asked to secure their records in full.\r\n";
    while big.len() < 3 * 1024 * 1024 {
        big.push_str(line);
    }
    append(&mut setup, &folder, big.as_bytes()).await;
    append(&mut setup, &folder, &message(2, &folder)).await;
    let (_dir, store) = temp_store().await;
    let settings = imap("chscp", &folder, TlsMode::Implicit);
    let source = ImapSource::new(settings.clone()).max_message_bytes(1024 * 1024);
    let mut watcher = connect(&settings).await.unwrap();
    let sync = source.sync(&mut watcher, &store).await.unwrap();
    assert_eq!((sync.stored, sync.duplicates), (2, 0));
    let pending = store.pending_messages(10).await.unwrap();
    let keep = cspr::sources::imap::OVERSIZED_KEEP as usize;
    assert!(pending[0].raw.len() <= 2 * keep, "only the start was downloaded: {} bytes", pending[0].raw.len());
    assert!(pending[0].raw.starts_with(b"From: Social Worker"), "its header first");
    assert_eq!(pending[0].truncated_from, Some(big.len() as i64), "its real size is kept");
    assert_eq!(pending[1].truncated_from, None);
    assert_eq!(pending[1].raw, message(2, &folder), "a message within the limit whole");

    let mut config = cspr::config::Config::defaults();
    config.intake.max_message_bytes = 1024 * 1024;
    let now = chrono::Utc::now();
    cspr::jobs::ingest::try_step(&store, &config, now).await.unwrap();
    let triage = store.triage(true).await.unwrap();
    assert_eq!(triage.len(), 1, "{triage:?}");
    assert_eq!(
        triage[0].reason,
        format!(
            "the message is {} bytes, over the limit of 1048576: only its headers and the start of its text were downloaded",
            big.len()
        )
    );
    let alerts: Vec<_> = store.intents().await.unwrap().into_iter().filter(|i| i.template == "triage_alert").collect();
    assert_eq!(alerts.len(), 1, "the SPA is told: {alerts:?}");
}
