//! The daemon's logs: JSON lines under the journal or when asked — every line parses and
//! carries the case and stored message's id where it names them — and plain text with no
//! escape sequence when stderr is not a terminal. The start-up line names the version,
//! the configuration file, the database, the mailbox and how many roles are set.

use std::process::{Command, Stdio};
use std::time::Duration;

use cspr::store::Store;

use crate::mailstack::eventually;
use crate::scenarios::{notification, reply};

/// The fixture configuration, a folder for the database (`sqlite` URL) and a Maildir
/// holding a local authority's notification with Panel reference `panel_ref`.
fn with_notification(panel_ref: &str) -> (String, tempfile::TempDir, String, std::path::PathBuf) {
    let config =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inspect/cspr.toml").display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("cspr.db").display());
    let maildir = dir.path().join("maildir");
    std::fs::create_dir_all(maildir.join("new")).unwrap();
    let la = "social.worker@hackney.gov.uk";
    let first = notification(la, "16/11/2026", "18/11/2026", panel_ref, "", "Thu, 19 Nov 2026 10:00:00 +0000", true);
    std::fs::write(maildir.join("new/1.eml"), first).unwrap();
    (config, dir, db, maildir)
}

/// Runs the daemon on a Maildir holding a notification and a note until both are
/// processed; returns what it wrote to stderr.
async fn daemon_logs(env: &[(&str, &str)]) -> String {
    let (config, dir, db, maildir) = with_notification("SIN-2026-03001");
    let reference = format!("CHSCP-{}-001", crate::support::this_year());
    let note = reply("spa@hackney.gov.uk", &reference, "NOTE strategy meeting held", "Fri, 20 Nov 2026 10:00:00 +0000");
    std::fs::write(maildir.join("new/2.eml"), note).unwrap();
    let log = dir.path().join("stderr.log");
    let mut command = Command::new(env!("CARGO_BIN_EXE_cspr"));
    command
        .args(["run", "--config", &config])
        .env("CSPR__OUTBOUND__DIRECTORY", dir.path().join("outbox"))
        .env("CSPR__STORE__URL", &db)
        .env("CSPR__MAILBOX__SOURCE", "maildir")
        .env("CSPR__MAILBOX__MAILDIR", &maildir)
        .env("CSPR__MAILBOX__POLL_INTERVAL_SECONDS", "1")
        .env("CSPR_LOG", "info")
        .env_remove("CSPR_LOG_FORMAT")
        .env_remove("JOURNAL_STREAM")
        .stderr(Stdio::from(std::fs::File::create(&log).unwrap()));
    for (k, v) in env {
        command.env(k, v);
    }
    let mut daemon = command.spawn().unwrap();
    let store = Store::open(&db).await.unwrap();
    let done = eventually(Duration::from_secs(30), || async {
        store.case_messages(&reference).await.map(|m| m.len() == 2).unwrap_or(false)
            && store.pending_messages(10).await.map(|p| p.is_empty()).unwrap_or(false)
    })
    .await;
    let _ = Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status();
    assert_eq!(daemon.wait().unwrap().code(), Some(0));
    assert!(done, "both messages processed");
    std::fs::read_to_string(&log).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn under_the_journal_every_line_is_json_and_names_the_case_and_message() {
    for env in [&[("CSPR_LOG_FORMAT", "json")][..], &[("JOURNAL_STREAM", "8:12345")][..]] {
        let text = daemon_logs(env).await;
        let lines: Vec<serde_json::Value> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{env:?}: not JSON ({e}): {l}")))
            .collect();
        let start = lines.iter().find(|l| l["message"] == "cspr starting").unwrap_or_else(|| panic!("{text}"));
        assert_eq!(start["version"], env!("CARGO_PKG_VERSION"));
        assert!(start["config"].as_str().unwrap().ends_with("cspr.toml"), "{start}");
        assert!(start["database"].as_str().unwrap().starts_with("sqlite://"), "{start}");
        assert!(start["mailbox"].as_str().unwrap().starts_with("maildir:"), "{start}");
        assert!(start["roles"].as_u64().unwrap() >= 3, "{start}");
        let processed: Vec<_> = lines.iter().filter(|l| l["message"] == "message processed").collect();
        assert_eq!(processed.len(), 2, "{text}");
        for line in processed {
            assert!(line["stored_id"].is_number(), "{line}");
            assert!(line["case"].as_str().is_some_and(|c| c.starts_with("CHSCP-")), "{line}");
        }
        assert!(!text.contains("Alex Example"), "no child's name in the logs");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn text_logs_to_a_file_carry_no_escape_sequences() {
    let text = daemon_logs(&[]).await;
    assert!(text.contains("message processed"), "{text}");
    assert!(text.contains("cspr starting"), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour codes outside a terminal: {text:?}");
}

/// `cspr status`, from another process while the daemon runs and after it stops.
#[tokio::test(flavor = "multi_thread")]
async fn status_says_whether_the_daemon_runs_and_what_it_last_did() {
    let (config, dir, db, maildir) = with_notification("SIN-2026-03002");
    let env = [
        ("CSPR__STORE__URL", db.clone()),
        ("CSPR__MAILBOX__SOURCE", "maildir".to_owned()),
        ("CSPR__MAILBOX__MAILDIR", maildir.display().to_string()),
        ("CSPR__MAILBOX__POLL_INTERVAL_SECONDS", "1".to_owned()),
        ("CSPR__OUTBOUND__DIRECTORY", dir.path().join("outbox").display().to_string()),
    ];
    let status = || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let output = crate::support::cspr_with_env(&["status", "--config", &config], &env);
        assert!(output.status.success(), "{}", crate::support::stderr(&output));
        crate::support::stdout(&output)
    };
    let mut command = Command::new(env!("CARGO_BIN_EXE_cspr"));
    command.args(["run", "--config", &config]).env("CSPR_LOG", "warn").stderr(Stdio::null());
    for (k, v) in &env {
        command.env(k, v);
    }
    let mut daemon = command.spawn().unwrap();
    let store = Store::open(&db).await.unwrap();
    let settled = eventually(Duration::from_secs(30), || async {
        let noted = store.service_state().await.unwrap_or_default();
        ["last_sync", "last_tick"].iter().all(|k| noted.iter().any(|(key, _, _)| key == k))
            && store.outbox_counts().await.map(|c| c.iter().any(|(s, _)| s == "sent")).unwrap_or(false)
    })
    .await;
    let running = status();
    let _ = Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status();
    assert_eq!(daemon.wait().unwrap().code(), Some(0));
    assert!(settled, "the daemon noted its sync and tick and sent its emails");
    assert!(running.contains("daemon: running\n"), "{running}");
    assert!(running.contains("last start: leading since"), "{running}");
    assert!(running.contains("mailbox: waiting (since "), "{running}");
    assert!(running.contains("last sync: 20") && running.contains("last tick: 20"), "{running}");
    let sent: usize = running
        .lines()
        .find_map(|l| l.strip_prefix("outbox: "))
        .and_then(|counts| counts.split(", ").find_map(|c| c.strip_prefix("sent ")))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{running}"));
    assert!(sent >= 2, "at least the acknowledgement and the new-case alert: {running}");
    assert!(running.contains("triage: 0 open"), "{running}");
    let stopped = status();
    assert!(stopped.contains("daemon: not running\n"), "{stopped}");
}
