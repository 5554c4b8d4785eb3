//! High availability on PostgreSQL: two daemons on one database; the leader is killed
//! with SIGKILL and the standby takes over within 10 seconds; no email is sent twice and
//! none is missing.

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::databases::postgres;
use crate::mailstack::{SERVERS, append, create_folder, session, unique_folder};
use crate::outbound::{message_ids, outbound_config_in, received, tag_received};
use crate::scenarios::mail;

fn start(dir: &std::path::Path, socket: &std::path::Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_cspr"))
        .args(["run", "--config", &dir.join("cspr.toml").display().to_string()])
        .env("CSPR__MAILBOX__PASSWORD", "chscp-pass")
        .env("CSPR__OUTBOUND__PASSWORD", "chscp-pass")
        .env("NOTIFY_SOCKET", socket)
        .env("CSPR_LOG", "warn")
        .stderr(Stdio::null())
        .spawn()
        .expect("cspr run starts")
}

fn wait_for(socket: &UnixDatagram, what: &str, limit: Duration) -> bool {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    while started.elapsed() < limit {
        if let Ok(n) = socket.recv(&mut buf)
            && String::from_utf8_lossy(&buf[..n]).contains(what)
        {
            return true;
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn the_standby_takes_over_within_ten_seconds_of_the_leader_being_killed() {
    let _shared = SERVERS.read().await;
    let prefix = format!("H{}", fastrand::u32(10_000..99_999));
    let tag = crate::support::case_tag(&prefix, 1);
    let db = postgres().await;
    let dir = tempfile::tempdir().unwrap();
    let folder = unique_folder("ha");
    outbound_config_in(&prefix, &db.url, dir.path(), &folder);
    let mut setup = session("chscp").await;
    create_folder(&mut setup, &folder).await;

    let (socket_a, socket_b) = (dir.path().join("a.sock"), dir.path().join("b.sock"));
    let (a, b) = (UnixDatagram::bind(&socket_a).unwrap(), UnixDatagram::bind(&socket_b).unwrap());
    let mut leader = start(dir.path(), &socket_a);
    assert!(wait_for(&a, "the mailbox is open", Duration::from_secs(20)), "the first instance leads");
    let mut standby = start(dir.path(), &socket_b);
    assert!(wait_for(&b, "STATUS=standby", Duration::from_secs(20)), "the second stands by");

    let notification = crate::delivery_faults::notification(&prefix);
    append(&mut setup, &folder, notification.as_bytes()).await;
    // Kill the leader once it has sent and recorded both emails (acknowledgement and
    // new-case alert: their copies are in Sent). Killed between a server's acceptance
    // and that record, a resend with the same Message-ID is the documented exception.
    let acknowledged = async {
        for _ in 0..200 {
            if received("chscp", "Sent", &tag).await.len() == 2 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    };
    assert!(acknowledged.await, "the leader acknowledged the notification");

    leader.kill().unwrap();
    leader.wait().unwrap();
    let killed = Instant::now();
    assert!(wait_for(&b, "the mailbox is open", Duration::from_secs(10)), "the standby took over");
    let takeover = killed.elapsed();
    println!("takeover after {takeover:?}");
    assert!(takeover <= Duration::from_secs(10));

    let reference = tag_received("chscp", "Sent", &tag).await;
    let note = mail(
        "spa@test.local",
        &format!("Re: {reference} New notification"),
        "Thu, 26 Nov 2026 11:00:00 +0000",
        "NOTE strategy discussion held",
        true,
    );
    append(&mut setup, &folder, note.as_bytes()).await;
    let replied = async {
        for _ in 0..200 {
            if received("spa", "INBOX", &tag).await.iter().any(|(s, _)| s.contains("Done: NOTE")) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    };
    assert!(replied.await, "the new leader processed and answered");
    Command::new("kill").args(["-TERM", &standby.id().to_string()]).status().unwrap();
    assert_eq!(standby.wait().unwrap().code(), Some(0));

    // Acknowledgement to the LA; new-case alert to SPA and ICSC; the reply to the SPA.
    assert_eq!(received("la", "INBOX", &tag).await.len(), 1);
    assert_eq!(received("icsc", "INBOX", &tag).await.len(), 1);
    assert_eq!(received("spa", "INBOX", &tag).await.len(), 2);
    let mut ids = Vec::new();
    for user in ["la", "spa", "icsc"] {
        ids.extend(message_ids(user, "INBOX", &tag).await);
    }
    let all = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "three distinct emails, {all} deliveries");
}

async fn end_to_end(url: &str) {
    let prefix = format!("E{}", fastrand::u32(10_000..99_999));
    let tag = crate::support::case_tag(&prefix, 1);
    let dir = tempfile::tempdir().unwrap();
    let folder = unique_folder("e2e");
    outbound_config_in(&prefix, url, dir.path(), &folder);
    let mut setup = session("chscp").await;
    create_folder(&mut setup, &folder).await;
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    let mut daemon = start(dir.path(), &socket_path);
    assert!(wait_for(&socket, "READY=1", Duration::from_secs(20)), "{url}: ready");
    let notification = crate::delivery_faults::notification(&prefix);
    append(&mut setup, &folder, notification.as_bytes()).await;
    let mut told = false;
    for _ in 0..200 {
        if received("la", "INBOX", &tag).await.len() == 1 && received("spa", "INBOX", &tag).await.len() == 1 {
            told = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(told, "{url}: the LA acknowledged and the SPA told");
    Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status().unwrap();
    assert_eq!(daemon.wait().unwrap().code(), Some(0), "{url}: SIGTERM exits 0");
    // Restarted, it resumes: a new message is answered, and by then anything fetched,
    // processed or sent twice would have shown.
    let mut again = start(dir.path(), &socket_path);
    assert!(wait_for(&socket, "READY=1", Duration::from_secs(20)));
    let reference = tag_received("la", "INBOX", &tag).await;
    let note = mail(
        "spa@test.local",
        &format!("Re: {reference} New notification"),
        "Thu, 26 Nov 2026 11:00:00 +0000",
        "NOTE resumed",
        true,
    );
    append(&mut setup, &folder, note.as_bytes()).await;
    let mut answered = false;
    for _ in 0..200 {
        if received("spa", "INBOX", &tag).await.iter().any(|(s, _)| s.contains("Done: NOTE")) {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Command::new("kill").args(["-TERM", &again.id().to_string()]).status().unwrap();
    assert_eq!(again.wait().unwrap().code(), Some(0));
    assert!(answered, "{url}: the restarted daemon answered the new message");
    assert_eq!(received("la", "INBOX", &tag).await.len(), 1, "{url}: no duplicate after the restart");
    assert_eq!(received("spa", "INBOX", &tag).await.len(), 2, "{url}: the new-case alert once, and the reply");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_real_binary_acknowledges_stops_on_sigterm_and_resumes_without_duplicates_on_sqlite() {
    let _shared = SERVERS.read().await;
    let db = crate::databases::sqlite();
    end_to_end(&db.url).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_real_binary_acknowledges_stops_on_sigterm_and_resumes_without_duplicates_on_postgres() {
    let _shared = SERVERS.read().await;
    let db = postgres().await;
    end_to_end(&db.url).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_reads_the_real_mailbox_changes_nothing_and_writes_its_emails_to_a_folder() {
    let _shared = SERVERS.read().await;
    let prefix = format!("R{}", fastrand::u32(10_000..99_999));
    let tag = crate::support::case_tag(&prefix, 1);
    let dir = tempfile::tempdir().unwrap();
    let production = dir.path().join("production.db");
    let folder = unique_folder("dry");
    let processed = format!("{folder}done");
    outbound_config_in(&prefix, &format!("sqlite://{}", production.display()), dir.path(), &folder);
    let mut text = std::fs::read_to_string(dir.path().join("cspr.toml")).unwrap();
    text = text.replace("\nfolder = \"", &format!("\nprocessed_folder = \"{processed}\"\nfolder = \""));
    // The live daemon holds the HTTP port: the dry run starts beside it all the same.
    let live = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    text.push_str(&format!("\n[http]\nenabled = true\nlisten = \"{}\"\n", live.local_addr().unwrap()));
    std::fs::write(dir.path().join("cspr.toml"), text).unwrap();
    let mut setup = session("chscp").await;
    create_folder(&mut setup, &folder).await;
    create_folder(&mut setup, &processed).await;
    let notification = crate::delivery_faults::notification(&prefix);
    append(&mut setup, &folder, notification.as_bytes()).await;
    let outbox = dir.path().join("would-send");
    let state = dir.path().join("rehearsal.db");
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_cspr"))
        .args(["run", "--dry-run", "--config", &dir.path().join("cspr.toml").display().to_string()])
        .args(["--state", &format!("sqlite://{}", state.display()), "--outbox", &outbox.display().to_string()])
        .env("CSPR__MAILBOX__PASSWORD", "chscp-pass")
        .env("CSPR__OUTBOUND__PASSWORD", "chscp-pass")
        .env("NOTIFY_SOCKET", &socket_path)
        .env("CSPR_LOG", "info")
        .stderr(Stdio::from(std::fs::File::create(dir.path().join("dry-run.log")).unwrap()))
        .spawn()
        .unwrap();
    assert!(wait_for(&socket, "READY=1", Duration::from_secs(20)));
    let mut written = 0;
    for _ in 0..200 {
        written = std::fs::read_dir(&outbox)
            .map(|d| d.filter(|e| e.as_ref().is_ok_and(|e| !e.file_name().to_string_lossy().starts_with('.'))).count())
            .unwrap_or(0);
        if written >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status().unwrap();
    assert_eq!(daemon.wait().unwrap().code(), Some(0));
    assert_eq!(written, 2, "the acknowledgement and the new-case alert, as files");
    assert!(!production.exists(), "the production database is never touched");
    assert!(state.exists());
    assert!(received("la", "INBOX", &tag).await.is_empty(), "nothing sent");
    let left = crate::mailstack::flags(&mut setup, &folder).await;
    assert_eq!(left.len(), 1, "the message is where it was");
    assert!(left.iter().all(|f| !f.iter().any(|x| x.contains("Seen"))), "and unread");
    assert!(crate::mailstack::flags(&mut setup, &processed).await.is_empty(), "nothing moved");
    let log = std::fs::read_to_string(dir.path().join("dry-run.log")).unwrap();
    assert_eq!(log.matches("email written to a file (not sent)").count(), 2, "{log}");
    assert!(!log.contains("email sent"), "a dry run never says it sent: {log}");
    drop(live);
}

/// Whether process `pid` is stopped (SIGSTOP).
fn stopped(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, rest)| rest.trim_start().starts_with('T')))
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_leader_that_lost_the_lead_cannot_write_after_the_standby_takes_over() {
    use sqlx::Connection;
    let _shared = SERVERS.read().await;
    let prefix = format!("P{}", fastrand::u32(10_000..99_999));
    let tag = crate::support::case_tag(&prefix, 1);
    let db = postgres().await;
    let dir = tempfile::tempdir().unwrap();
    let folder = unique_folder("fence");
    outbound_config_in(&prefix, &db.url, dir.path(), &folder);
    let mut setup = session("chscp").await;
    create_folder(&mut setup, &folder).await;

    let (socket_a, socket_b) = (dir.path().join("a.sock"), dir.path().join("b.sock"));
    let (a, b) = (UnixDatagram::bind(&socket_a).unwrap(), UnixDatagram::bind(&socket_b).unwrap());
    // The leader stops itself once it has read a waiting message, before it writes.
    let log = dir.path().join("a.log");
    let mut old = Command::new(env!("CARGO_BIN_EXE_cspr"))
        .args(["run", "--config", &dir.path().join("cspr.toml").display().to_string()])
        .env("CSPR__MAILBOX__PASSWORD", "chscp-pass")
        .env("CSPR__OUTBOUND__PASSWORD", "chscp-pass")
        .env("NOTIFY_SOCKET", &socket_a)
        .env("CSPR_LOG", "warn")
        .env("CSPR_PAUSE_AT", "processing:read")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    assert!(wait_for(&a, "the mailbox is open", Duration::from_secs(20)), "the first instance leads");
    let mut standby = start(dir.path(), &socket_b);
    assert!(wait_for(&b, "STATUS=standby", Duration::from_secs(20)), "the second stands by");

    append(&mut setup, &folder, crate::delivery_faults::notification(&prefix).as_bytes()).await;
    let paused = crate::mailstack::eventually(Duration::from_secs(30), || async { stopped(old.id()) }).await;
    assert!(paused, "the leader paused holding a message it read");

    // Its lock's session ends (a network partition, an idle timeout): the standby leads.
    let mut admin = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .execute(&mut admin)
    .await
    .unwrap();
    assert!(wait_for(&b, "the mailbox is open", Duration::from_secs(20)), "the standby took over");
    // It processes the message the old leader read and answers it.
    let answered = crate::mailstack::eventually(Duration::from_secs(30), || async {
        received("la", "INBOX", &tag).await.len() == 1
    })
    .await;
    assert!(answered, "the new leader acknowledged the notification");

    // The old leader wakes: its first write is refused, and it stops.
    Command::new("kill").args(["-CONT", &old.id().to_string()]).status().unwrap();
    let mut exited = None;
    for _ in 0..300 {
        if let Some(status) = old.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let Some(status) = exited else {
        old.kill().unwrap();
        panic!("the old leader did not stop");
    };
    assert!(!status.success(), "the old leader stops with an error");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("another instance leads now"), "{text}");

    Command::new("kill").args(["-TERM", &standby.id().to_string()]).status().unwrap();
    assert_eq!(standby.wait().unwrap().code(), Some(0));
    let epoch: i64 =
        sqlx::query_scalar("SELECT epoch FROM leader_epoch WHERE id = 1").fetch_one(&mut admin).await.unwrap();
    assert_eq!(epoch, 2, "two leaders, two epochs");
    let processed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE state = 'processed'")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(processed, 1);
    let opened: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit WHERE event = 'case_opened'")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(opened, 1, "the case opened once");
    assert_eq!(received("la", "INBOX", &tag).await.len(), 1, "acknowledged once");
}
