//! No message stalls the daemon and nothing grows without limit: a message that makes
//! processing panic or overrun its budget is given up on (triaged, reported once, never
//! retried) while the messages behind it flow; a full disk is waited out; a slow HTTP
//! client is cut off; messages tied to no case lose their raw text after the retention
//! period; what is printed and mailed cannot carry markup or control characters.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use cspr::store::Store;
use sqlx::{Connection, Row, SqliteConnection};

use crate::mailstack::eventually;
use crate::scenarios::mail;

fn fixture_config() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inspect/cspr.toml").display().to_string()
}

/// The daemon on a Maildir, a file outbox and SQLite `db`, the sending window open at
/// every hour (the emails checked here are not what the window is about).
fn daemon(dir: &Path, db: &str, extra: &[(&str, &str)]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cspr"));
    command
        .args(["run", "--config", &fixture_config()])
        .env("CSPR__OUTBOUND__DIRECTORY", dir.join("outbox"))
        .env("CSPR__STORE__URL", db)
        .env("CSPR__MAILBOX__SOURCE", "maildir")
        .env("CSPR__MAILBOX__MAILDIR", dir.join("maildir"))
        .env("CSPR__MAILBOX__POLL_INTERVAL_SECONDS", "1")
        .env("CSPR__SENDING_WINDOW__START", "00:00")
        .env("CSPR__SENDING_WINDOW__END", "24:00")
        .env("CSPR__SENDING_WINDOW__WORKING_DAYS_ONLY", "false")
        .env("CSPR_LOG", "warn")
        .env_remove("CSPR_FAULT_AT")
        .stderr(Stdio::piped());
    for (k, v) in extra {
        command.env(k, v);
    }
    command.spawn().expect("cspr run starts")
}

fn stop(child: Child) -> String {
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "SIGTERM exits 0");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// An ordinary question from outside, tied to no case.
fn question(n: usize) -> String {
    mail(
        "someone@example.org",
        &format!("Question {n} about the partnership's training"),
        "Tue, 01 Dec 2026 10:00:00 +0000",
        "Hello, when is the next multi-agency training session? Thanks",
        true,
    )
}

/// Emails in the outbox folder that contain `needle`.
fn outbox_with(dir: &Path, needle: &str) -> usize {
    std::fs::read_dir(dir.join("outbox"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .filter(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains(needle)))
                .count()
        })
        .unwrap_or(0)
}

/// A connection of the test's own to the SQLite database at `url`.
async fn sql(url: &str) -> SqliteConnection {
    SqliteConnection::connect(url).await.unwrap()
}

async fn attempts(db: &str, id: i64) -> (i64, Option<String>) {
    let mut conn = sql(db).await;
    let row = sqlx::query("SELECT attempts, failure FROM messages WHERE id = $1")
        .bind(id)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_that_panics_and_one_that_overruns_are_given_up_on_while_a_hundred_others_flow() {
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("maildir/new");
    std::fs::create_dir_all(&new).unwrap();
    // Stored in file-name order: the two bad ones are stored messages 1 and 2.
    for n in 0..102 {
        std::fs::write(new.join(format!("{n:04}.eml")), question(n)).unwrap();
    }
    let db = format!("sqlite://{}", dir.path().join("cspr.db").display());
    // Faults by stored id: 1 panics in processing; 2 is slowed so that it overruns a
    // budget of one second.
    let faults = [("CSPR_FAULT_AT", "panic:1,slow:2"), ("CSPR__INTAKE__PROCESSING_BUDGET_SECONDS", "1")];
    let mut first = daemon(dir.path(), &db, &faults);
    let store = Store::open(&db).await.unwrap();
    let all_processed = eventually(Duration::from_secs(90), || async {
        let list = store.message_list().await.unwrap();
        list.len() == 102 && list.iter().all(|m| m.3 == "processed")
    })
    .await;
    assert!(all_processed, "{:?}", store.message_list().await.unwrap());
    assert!(first.try_wait().unwrap().is_none(), "the daemon never stopped");

    let (tries, failure) = attempts(&db, 1).await;
    assert_eq!(tries, 1);
    assert_eq!(failure.as_deref(), Some("processing this message failed with an internal error"));
    let (tries, failure) = attempts(&db, 2).await;
    assert_eq!(tries, 1);
    assert_eq!(failure.as_deref(), Some("processing this message took longer than its budget of 1 s"));
    for id in 3..=102 {
        assert_eq!(attempts(&db, id).await, (1, None), "message {id} processed normally");
    }
    let triage = store.triage(true).await.unwrap();
    for id in [1, 2] {
        assert_eq!(triage.iter().filter(|t| t.message == id).count(), 1, "message {id} held once: {triage:?}");
    }
    let reported = eventually(Duration::from_secs(30), || async {
        outbox_with(dir.path(), "(stored message 1)") == 1 && outbox_with(dir.path(), "(stored message 2)") == 1
    })
    .await;
    assert!(reported, "each bad message reported to the SPA once");
    assert!(first.try_wait().unwrap().is_none(), "the daemon never stopped");
    let log = stop(first);
    assert!(!log.contains("Hello, when is"), "no body in the log");

    // After a restart neither is tried again: a new message goes through, they stay as they were.
    std::fs::write(new.join("0102.eml"), question(102)).unwrap();
    let second = daemon(dir.path(), &db, &faults);
    let processed = eventually(Duration::from_secs(30), || async {
        let list = store.message_list().await.unwrap();
        list.len() == 103 && list.iter().all(|m| m.3 == "processed")
    })
    .await;
    assert!(processed, "the new message is processed after the restart");
    stop(second);
    for id in [1, 2] {
        assert_eq!(attempts(&db, id).await.0, 1, "message {id} not retried");
    }
    assert_eq!(outbox_with(dir.path(), "(stored message 1)"), 1);
    assert_eq!(outbox_with(dir.path(), "(stored message 2)"), 1);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_that_keeps_killing_the_process_is_given_up_on_after_three_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("maildir/new");
    std::fs::create_dir_all(&new).unwrap();
    for n in 0..3 {
        std::fs::write(new.join(format!("{n:04}.eml")), question(n)).unwrap();
    }
    let db = format!("sqlite://{}", dir.path().join("cspr.db").display());
    // Each run aborts while processing (as a watchdog kill or an out-of-memory kill
    // would); the attempt was counted before it began.
    for run in 1..=3 {
        let mut crashing = daemon(dir.path(), &db, &[("CSPR_FAULT_AT", "processing:understood")]);
        let status = tokio::task::spawn_blocking(move || crashing.wait()).await.unwrap().unwrap();
        assert!(!status.success(), "run {run} aborted");
    }
    let store = Store::open(&db).await.unwrap();
    assert_eq!(attempts(&db, 1).await.0, 3, "three attempts at the first message, counted before each");
    assert_eq!(attempts(&db, 2).await.0, 1, "the others were tried with it once, then it went alone");
    let healthy = daemon(dir.path(), &db, &[]);
    let done = eventually(Duration::from_secs(30), || async {
        store.message_list().await.unwrap().iter().all(|m| m.3 == "processed")
    })
    .await;
    assert!(done);
    stop(healthy);
    let (tries, failure) = attempts(&db, 1).await;
    assert_eq!(tries, 4);
    assert_eq!(
        failure.as_deref(),
        Some("processing this message was interrupted 3 times (the service stopped while reading it)")
    );
    assert_eq!(attempts(&db, 2).await.1, None, "the others are processed as usual");
    assert_eq!(attempts(&db, 3).await.1, None);
    store.close().await;
}

/// A filesystem of `megabytes` mounted at `path` (needs root, as the test script runs).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: PathBuf, megabytes: u32) -> Self {
        std::fs::create_dir_all(&path).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&path)
            .status()
            .expect("mount runs");
        assert!(status.success(), "a tmpfs can be mounted (the test suite runs as root)");
        Self(path)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the filesystem holding `path` to the last block, with one file.
fn fill(path: &Path) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).unwrap();
    let block = vec![0u8; 64 * 1024];
    while file.write_all(&block).is_ok() {}
    let small = [0u8; 512];
    while file.write_all(&small).is_ok() {}
    let _ = file.sync_all();
}

/// A daemon's stderr, read as it is written.
struct Log {
    lines: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Log {
    fn follow(child: &mut Child) -> Self {
        use std::io::BufRead;
        let lines = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr piped");
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut text = sink.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        Self { lines }
    }

    fn text(&self) -> String {
        self.lines.lock().unwrap().clone()
    }

    fn contains(&self, needle: &str) -> bool {
        self.text().contains(needle)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_pauses_the_daemon_and_it_resumes_and_says_so_when_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let disk = Tmpfs::mount(dir.path().join("disk"), 8);
    let new = dir.path().join("maildir/new");
    std::fs::create_dir_all(&new).unwrap();
    let db = format!("sqlite://{}", disk.0.join("cspr.db").display());
    // Ready (store open and migrated, the empty Maildir read) before the disk fills.
    let socket_path = dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let child = daemon(dir.path(), &db, &[("NOTIFY_SOCKET", &socket_path.display().to_string())]);
    let mut datagram = [0u8; 512];
    let ready = loop {
        match socket.recv(&mut datagram) {
            Ok(n) if String::from_utf8_lossy(&datagram[..n]).contains("READY=1") => break true,
            Ok(_) => continue,
            Err(_) => break false,
        }
    };
    assert!(ready, "the daemon says it is ready");
    let store = Store::open(&db).await.unwrap();
    fill(&disk.0.join("filler"));
    // Mail arrives while there is no room to store it: padded so that it cannot fit.
    let padding = "All agencies are asked to secure their records. ".repeat(4000);
    for n in 0..5 {
        let raw = question(n).replace("Thanks", &format!("Thanks\r\n{padding}"));
        std::fs::write(new.join(format!("{n:04}.eml")), raw).unwrap();
    }
    // The daemon says the disk is full (once), and keeps trying.
    let mut child = child;
    let log = Log::follow(&mut child);
    let said =
        eventually(Duration::from_secs(30), || async { log.contains("the disk holding the store is full") }).await;
    assert!(said, "the full disk is reported: {}", log.text());
    assert_eq!(std::fs::read_dir(&new).unwrap().count(), 5, "the mail waits in the Maildir, not lost");
    assert!(child.try_wait().unwrap().is_none(), "a full disk does not stop the daemon");
    std::fs::remove_file(disk.0.join("filler")).unwrap();
    let resumed = eventually(Duration::from_secs(120), || async {
        let list = store.message_list().await.unwrap_or_default();
        list.len() == 5 && list.iter().all(|m| m.3 == "processed")
    })
    .await;
    assert!(
        resumed,
        "every message stored and processed once space returned (daemon exit: {:?}): {}",
        child.try_wait().unwrap(),
        log.text()
    );
    let told =
        eventually(Duration::from_secs(30), || async { outbox_with(dir.path(), "had run out of disk space") == 1 })
            .await;
    assert!(told, "the SPA is told once that space returned");
    assert!(child.try_wait().unwrap().is_none(), "the daemon never stopped");
    stop(child);
    let text = log.text();
    let full_lines = text.lines().filter(|l| l.contains("the disk holding the store is full")).count();
    assert_eq!(full_lines, 1, "one clear log line for the whole episode: {text}");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_tied_to_no_case_lose_their_raw_text_after_the_retention_period() {
    let mut w = crate::scenarios::World::new(crate::databases::sqlite()).await;
    let db = w.db.url.clone();
    let mut conn = sql(&db).await;
    w.deliver(question(1), "2026-12-01T10:00:00Z").await;
    let triaged = w.store.triage(true).await.unwrap();
    let cli = |args: &[&str], env: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cspr"));
        command.args(["--config", &fixture_config()]).args(args).env("CSPR__STORE__URL", &db);
        for (k, v) in env {
            command.env(k, v);
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    // Stored "now": within any retention period; and while it waits for a person, kept.
    let purge = cli(&["purge", "--dry-run"], &[]);
    assert!(purge.contains("would remove the raw text of 0 message(s), 0 bytes, tied to no case"), "{purge}");
    sqlx::query("UPDATE messages SET stored_at = $1")
        .bind((Utc::now() - chrono::Duration::days(91)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .execute(&mut conn)
        .await
        .unwrap();
    let purge = cli(&["purge", "--dry-run"], &[]);
    assert!(purge.contains("would remove the raw text of 0 message(s)"), "open triage keeps it: {purge}");
    if let Some(item) = triaged.first() {
        sqlx::query("UPDATE triage SET resolved_at = $2, resolution = 'ignored' WHERE id = $1")
            .bind(item.id)
            .bind(Utc::now().to_rfc3339())
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let purge = cli(&["purge", "--dry-run"], &[("CSPR__RETENTION__UNLINKED_AFTER_DAYS", "120")]);
    assert!(purge.contains("would remove the raw text of 0 message(s), 0 bytes, tied to no case"), "{purge}");
    let purge = cli(&["purge"], &[]);
    assert!(purge.contains("removed the raw text of 1 message(s)") && purge.contains("tied to no case"), "{purge}");
    let bodies: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM message_bodies").fetch_one(&mut conn).await.unwrap();
    assert_eq!(bodies, 0, "the raw text is gone");
    let summary: Option<String> =
        sqlx::query_scalar("SELECT summary FROM messages").fetch_one(&mut conn).await.unwrap();
    assert!(summary.is_some(), "the summary stays");
}

#[test]
fn a_slow_http_client_is_cut_off_and_others_are_still_served() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    std::fs::create_dir_all(dir.path().join("maildir/new")).unwrap();
    let db = format!("sqlite://{}", dir.path().join("cspr.db").display());
    let listen = format!("127.0.0.1:{port}");
    let child = daemon(dir.path(), &db, &[("CSPR__HTTP__ENABLED", "true"), ("CSPR__HTTP__LISTEN", &listen)]);
    let connect = || {
        for _ in 0..300 {
            if let Ok(stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                return stream;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the listener never opened");
    };
    // A client that sends half a request head and then nothing.
    let mut slow = connect();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: loc").unwrap();
    slow.set_read_timeout(Some(cspr::http::HEADER_TIMEOUT * 4)).unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let read = slow.read_to_end(&mut answer);
    assert!(read.is_ok(), "the server closed the connection rather than wait: {read:?}");
    assert!(started.elapsed() < cspr::http::HEADER_TIMEOUT * 3, "cut off after the header timeout");
    // Meanwhile and after, others are answered.
    let mut other = connect();
    other.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut text = String::new();
    other.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200") && text.ends_with("ok\n"), "{text}");
    stop(child);
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_cspr_prints_carries_control_characters() {
    let mut w = crate::scenarios::World::new(crate::databases::sqlite()).await;
    let hostile = "Question \u{1b}]0;owned\u{7}\u{1b}[2J\u{202e}fdp.exe";
    let raw = question(1).replace("Question 1 about the partnership's training", hostile);
    w.deliver(raw.clone(), "2026-12-01T10:00:00Z").await;
    let mut conn = sql(&w.db.url).await;
    sqlx::query("UPDATE triage SET reason = $1")
        .bind(format!("a reason that quotes a sender: {hostile}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &raw).unwrap();
    for args in [vec!["triage"], vec!["inspect", &file.path().display().to_string()]] {
        let output = Command::new(env!("CARGO_BIN_EXE_cspr"))
            .args(&args)
            .args(["--config", &fixture_config()])
            .env("CSPR__STORE__URL", &w.db.url)
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(text.contains("fdp.exe"), "{args:?} still prints the text: {text}");
        for c in ['\u{1b}', '\u{7}', '\u{202e}'] {
            assert!(!text.contains(c), "{args:?} printed {c:?}: {text:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn waiting_messages_are_read_into_memory_in_bounded_batches() {
    let db = crate::databases::sqlite();
    let store = Store::open(&db.url).await.unwrap();
    let big = "x".repeat(12 * 1024 * 1024);
    for n in 0..3 {
        let raw = question(n).replace("Thanks", &format!("Thanks\r\n{big}"));
        let message = cspr::store::NewMessage {
            source: "test",
            uidvalidity: None,
            uid: None,
            raw: raw.as_bytes(),
            arrived_at: Utc::now(),
            truncated_from: None,
        };
        store.store_message(&message).await.unwrap();
    }
    let first = store.pending_messages(100).await.unwrap();
    assert_eq!(first.len(), 2, "36 MiB waiting: the first two (24 MiB) are read, not all three");
    let one = store.pending_messages(1).await.unwrap();
    assert_eq!(one.len(), 1);
    store.close().await;
}

/// An IMAP server on loopback that answers the greeting, CAPABILITY and LOGIN, then
/// says nothing more to anything else; and one that never even greets.
fn stalling_imap_server(greets: bool) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                if !greets {
                    std::thread::sleep(Duration::from_secs(600));
                    return;
                }
                let _ = stream.write_all(b"* OK IMAP4rev1 ready\r\n");
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    let tag = line.split_whitespace().next().unwrap_or("*").to_owned();
                    let upper = line.to_ascii_uppercase();
                    if upper.contains("CAPABILITY") {
                        let _ =
                            stream.write_all(format!("* CAPABILITY IMAP4rev1 IDLE\r\n{tag} OK done\r\n").as_bytes());
                    } else if upper.contains("LOGIN") {
                        let _ = stream.write_all(format!("{tag} OK logged in\r\n").as_bytes());
                    }
                    // Anything else: no answer, ever.
                    line.clear();
                }
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread")]
async fn an_imap_server_that_stops_answering_is_given_up_within_the_command_timeout() {
    use cspr::config::{Credential, ImapSettings, TlsMode};
    use cspr::sources::imap::{ImapError, ImapSource, connect};
    let settings = |port| ImapSettings {
        host: "127.0.0.1".into(),
        port,
        tls: TlsMode::Plain,
        username: "chscp".into(),
        credential: Credential::Password(secrecy::SecretString::from("chscp-pass")),
        ca_file: None,
        folder: "INBOX".into(),
        idle: true,
        idle_reissue: Duration::from_secs(25 * 60),
        poll_interval: Duration::from_secs(3600),
        processed_folder: None,
        unreachable_alert_after: Duration::from_secs(1800),
        alert_roles: Vec::new(),
        command_timeout: Duration::from_secs(1),
    };
    let silent = settings(stalling_imap_server(false));
    let Err(error) = connect(&silent).await else { panic!("no session from a server that never greets") };
    assert!(matches!(error, ImapError::Timeout { action: "login", seconds: 1 }), "{error}");

    let stalls = settings(stalling_imap_server(true));
    let mut session = connect(&stalls).await.expect("greeted and logged in");
    let (_dir, store) = {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("cspr.db").display())).await.unwrap();
        (dir, store)
    };
    let error = ImapSource::new(stalls.clone()).sync(&mut session, &store).await.expect_err("the folder never opens");
    assert!(error.to_string().contains("IMAP EXAMINE had no answer within 1 s"), "{error}");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stop_asked_for_while_a_long_outbox_is_sent_ends_the_daemon_before_the_outbox_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("maildir/new")).unwrap();
    let db = format!("sqlite://{}", dir.path().join("cspr.db").display());
    // Three thousand alerts waiting, as after a backlog was processed.
    let config = cspr::config::load(&cspr::config::Sources {
        file: Some(fixture_config().into()),
        env: vec![("CSPR__STORE__URL".into(), db.clone())],
        credentials_dir: None,
    })
    .unwrap();
    let store = Store::open(&db).await.unwrap();
    let mut alert = cspr::protocol::alerts::triaged(&config.alerts, 1, "not recognised", true).expect("an alert");
    alert.urgent = true;
    let waiting: Vec<_> = (0..3000)
        .map(|n| {
            let mut one = alert.clone();
            one.dedupe_key = format!("waiting-{n}");
            (one, None)
        })
        .collect();
    let mut batch = store.batch().await.unwrap();
    assert_eq!(batch.add_intents(&waiting, Utc::now()).await.unwrap(), 3000);
    batch.commit().await.unwrap();
    let first = daemon(dir.path(), &db, &[]);
    let sending = eventually(Duration::from_secs(60), || async {
        store.outbox(None).await.unwrap().iter().any(|r| r.status == "sent")
    })
    .await;
    assert!(sending, "the daemon sends");
    stop(first);
    let left = store.outbox(None).await.unwrap().iter().filter(|r| r.status == "pending").count();
    assert!(left > 0, "the stop did not wait for the whole outbox to be sent");
    // Nothing is lost: the next start sends the rest.
    let again = daemon(dir.path(), &db, &[]);
    let drained = eventually(Duration::from_secs(120), || async {
        store.outbox(None).await.unwrap().iter().all(|r| r.status == "sent")
    })
    .await;
    stop(again);
    assert!(drained, "the rest sent after a restart");
}
