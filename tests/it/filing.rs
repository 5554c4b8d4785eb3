//! A filing problem never stops intake: with `mailbox.processed_folder` naming a folder
//! the server does not have, the daemon keeps and processes every message (also those
//! that arrive while it runs), reports the problem once, and `check-mailbox` names the
//! missing folders before the daemon ever runs.

use std::process::{Command, Stdio};
use std::time::Duration;

use cspr::store::Store;

use crate::databases::sqlite;
use crate::mailstack::{SERVERS, append, create_folder, eventually, session, unique_folder};
use crate::outbound::{outbound_config_in, whole};
use crate::scenarios::mail;

fn with_missing_folder(path: &std::path::Path, folder: &str, prefix: &str, missing: &str) {
    let toml = std::fs::read_to_string(path).unwrap();
    let toml = toml
        .replace(
            &format!("folder = \"{folder}\"\n"),
            &format!("folder = \"{folder}\"\nprocessed_folder = \"{missing}\"\n"),
        )
        .replace(
            "mailbox = \"chscp@test.local\"",
            &format!("mailbox = \"chscp@test.local\"\nshort_name = \"{prefix}\""),
        );
    std::fs::write(path, toml).unwrap();
}

fn question(n: u32) -> String {
    mail(
        "la@test.local",
        &format!("Question {n} about training dates"),
        &chrono::Utc::now().to_rfc2822(),
        "When is the next multi-agency training session?",
        true,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_processed_folder_stops_no_message_and_is_reported_once() {
    let _shared = SERVERS.read().await;
    let prefix = format!("P{}", fastrand::u32(10_000..99_999));
    let db = sqlite();
    let dir = tempfile::tempdir().unwrap();
    let folder = unique_folder("filing");
    let config = outbound_config_in(&prefix, &db.url, dir.path(), &folder);
    let path = dir.path().join("cspr.toml");
    let missing = format!("Done{prefix}");
    with_missing_folder(&path, &folder, &prefix, &missing);
    let mut setup = session("chscp").await;
    create_folder(&mut setup, &folder).await;
    append(&mut setup, &folder, crate::delivery_faults::notification(&prefix).as_bytes()).await;
    append(&mut setup, &folder, question(1).as_bytes()).await;

    let mut daemon = Command::new(env!("CARGO_BIN_EXE_cspr"))
        .args(["run", "--config", &path.display().to_string()])
        .env("CSPR__MAILBOX__PASSWORD", "chscp-pass")
        .env("CSPR__OUTBOUND__PASSWORD", "chscp-pass")
        .env("CSPR_LOG", "warn")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let store = Store::open(&config.store_url).await.unwrap();
    let reference = format!("{prefix}-{}-001", cspr::domain::london_date(&chrono::Utc::now()).format("%Y"));
    // Every message kept and processed: the notification on its case, each question held
    // for a person (none of them is protocol mail).
    let taken_in = |n: usize| {
        let (store, reference) = (&store, &reference);
        move || async move {
            store.pending_messages(100).await.unwrap().is_empty()
                && store.case_messages(reference).await.unwrap().len() + store.triage(false).await.unwrap().len() == n
        }
    };
    assert!(eventually(Duration::from_secs(30), taken_in(2)).await, "both messages processed");
    // Mail that arrives while the move keeps failing is taken in too.
    append(&mut setup, &folder, question(2).as_bytes()).await;
    append(&mut setup, &folder, question(3).as_bytes()).await;
    let all_in = eventually(Duration::from_secs(30), taken_in(4)).await;
    let alert_subject = format!("Mail in the {prefix} mailbox is not being filed");
    let told = eventually(Duration::from_secs(30), || async { !whole("spa", &alert_subject).await.is_empty() }).await;
    let _ = Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status();
    assert_eq!(daemon.wait().unwrap().code(), Some(0), "stopped cleanly, never stuck");
    assert!(all_in, "every message kept and processed although none could be filed");
    assert!(told, "the SPA is told");
    let alerts = whole("spa", &alert_subject).await;
    assert_eq!(alerts.len(), 1, "told once, not at every sync");
    let text = String::from_utf8_lossy(&alerts[0]).replace("=\r\n", "");
    assert!(text.contains(&missing) && text.contains("mailbox.processed_folder"), "{text}");
    let _ = setup.logout().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn check_mailbox_names_each_missing_folder_and_lists_the_ones_that_exist() {
    let _shared = SERVERS.read().await;
    let prefix = format!("Q{}", fastrand::u32(10_000..99_999));
    let db = sqlite();
    let dir = tempfile::tempdir().unwrap();
    let _ = outbound_config_in(&prefix, &db.url, dir.path(), "INBOX");
    let path = dir.path().join("cspr.toml");
    let check = || {
        Command::new(env!("CARGO_BIN_EXE_cspr"))
            .args(["check-mailbox", "--config", &path.display().to_string()])
            .env("CSPR__MAILBOX__PASSWORD", "chscp-pass")
            .env("CSPR__OUTBOUND__PASSWORD", "chscp-pass")
            .env("CSPR_LOG", "error")
            .output()
            .unwrap()
    };
    let ok = check();
    let text = String::from_utf8_lossy(&ok.stdout).into_owned();
    assert!(ok.status.success(), "{text}{}", String::from_utf8_lossy(&ok.stderr));
    assert!(text.contains("outbound.sent_folder: Sent (exists)"), "{text}");

    let toml =
        std::fs::read_to_string(&path).unwrap().replace("sent_folder = \"Sent\"", "sent_folder = \"Sent Items\"");
    std::fs::write(&path, toml).unwrap();
    with_missing_folder(&path, "INBOX", &prefix, "Done");
    let failed = check();
    assert_eq!(failed.status.code(), Some(1));
    let said = String::from_utf8_lossy(&failed.stderr).into_owned();
    assert!(said.contains("mailbox.processed_folder names 'Done', which does not exist"), "{said}");
    assert!(said.contains("outbound.sent_folder names 'Sent Items', which does not exist"), "{said}");
    assert!(said.contains("INBOX") && said.contains("Sent"), "the folders that exist are listed: {said}");
}

/// A TLS mode that is not what the port speaks is named within seconds, with the key and
/// the value to set — against real Dovecot and Postfix, both ways round.
#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_tls_mode_is_named_within_seconds_with_the_setting_to_change() {
    let _shared = SERVERS.read().await;
    let prefix = format!("T{}", fastrand::u32(10_000..99_999));
    let db = sqlite();
    let dir = tempfile::tempdir().unwrap();
    let _ = outbound_config_in(&prefix, &db.url, dir.path(), "INBOX");
    let path = dir.path().join("cspr.toml");
    let original = std::fs::read_to_string(&path).unwrap();
    let stack = crate::mailstack::stack();
    let run = |args: &[&str], toml: String| {
        std::fs::write(&path, toml).unwrap();
        let started = std::time::Instant::now();
        let output = Command::new(env!("CARGO_BIN_EXE_cspr"))
            .args(args)
            .args(["--config", &path.display().to_string()])
            .env("CSPR__MAILBOX__PASSWORD", "chscp-pass")
            .env("CSPR__OUTBOUND__PASSWORD", "chscp-pass")
            .env("CSPR_LOG", "error")
            .output()
            .unwrap();
        (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned(), started.elapsed())
    };
    let imaps = format!("port = {}\ntls = \"implicit\"", stack["CSPR_TEST_IMAPS_PORT"]);
    let submission = format!("port = {}\ntls = \"starttls\"", stack["CSPR_TEST_SUBMISSION_PORT"]);
    for (args, from, to, expected) in [
        (
            vec!["check-mailbox"],
            imaps.clone(),
            format!("port = {}\ntls = \"starttls\"", stack["CSPR_TEST_IMAPS_PORT"]),
            "set mailbox.tls = \"implicit\"",
        ),
        (
            vec!["check-mailbox"],
            imaps.clone(),
            format!("port = {}\ntls = \"implicit\"", stack["CSPR_TEST_IMAP_PORT"]),
            "set mailbox.tls = \"starttls\"",
        ),
        (
            vec!["send-test-email", "--to", "spa@test.local"],
            submission.clone(),
            format!("port = {}\ntls = \"starttls\"", stack["CSPR_TEST_SMTPS_PORT"]),
            "set outbound.tls = \"implicit\"",
        ),
        (
            vec!["send-test-email", "--to", "spa@test.local"],
            submission.clone(),
            format!("port = {}\ntls = \"implicit\"", stack["CSPR_TEST_SUBMISSION_PORT"]),
            "set outbound.tls = \"starttls\"",
        ),
    ] {
        assert!(original.contains(&from), "{from} in {original}");
        let (ok, said, took) = run(&args, original.replace(&from, &to));
        assert!(!ok, "{args:?} with {to}: should fail");
        assert!(said.contains(expected), "{args:?} with {to}: {said}");
        assert!(took < Duration::from_secs(15), "{args:?} with {to}: named after {took:?}");
        for debug in ["Some(", "None", "DnsName("] {
            assert!(!said.contains(debug), "no debug text: {said}");
        }
    }
}
