//! No child's name leaves the pipeline except to where it belongs: an end-to-end run at
//! TRACE level (our crates and the IMAP, SMTP and SQL libraries) over notifications that
//! name children — in the body, in an attached message, in a PDF and in a Word document —
//! writes none of the names to its log, to the outbox's rows or to any email it sends.

use std::process::{Command, Stdio};
use std::time::Duration;

use futures::TryStreamExt;
use sqlx::Row;

use crate::databases::sqlite;
use crate::delivery_faults::notification;
use crate::mailstack::{
    SERVERS, append, create_folder, daemon_config, eventually, imaps_mailbox, session, submission_outbound,
    unique_folder,
};

const NAMES: [&str; 7] = [
    "Alex Example",
    "Ava Marchetti-Danso",
    "Leo Marchetti-Danso",
    "Ellis Mwangi-Hart",
    "Mason Adeyemi-Clarke",
    "Robin Achterberg",
    "Sky Oyelaran-Price",
];

const FIXTURES: [&str; 5] = [
    "apple_mail_forward.eml",
    "attached_rfc822_forward.eml",
    "gmail_forward.eml",
    "pdf_attachment_notification.eml",
    "docx_attachment_notification.eml",
];

fn leaks(text: &str) -> Vec<&'static str> {
    let lower = text.to_lowercase();
    NAMES.iter().copied().filter(|n| lower.contains(&n.to_lowercase())).collect()
}

/// Every message in `user`'s INBOX whose headers mention `tag`, whole.
async fn emails(user: &str, tag: &str) -> Vec<String> {
    let mut s = session(user).await;
    s.examine("INBOX").await.unwrap();
    let fetches: Vec<_> = s.fetch("1:*", "BODY.PEEK[]").await.unwrap().try_collect().await.unwrap_or_default();
    let _ = s.logout().await;
    fetches
        .iter()
        .filter_map(|f| f.body().map(|b| String::from_utf8_lossy(b).into_owned()))
        .filter(|m| crate::support::tagged(m, tag))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trace_level_run_names_no_child_in_its_log_its_outbox_or_its_emails() {
    let _servers = SERVERS.read().await;
    let prefix = format!("T{}", fastrand::u32(10_000..99_999));
    let db = sqlite();
    let dir = tempfile::tempdir().unwrap();
    let folder = unique_folder("trace");
    std::fs::write(
        dir.path().join("cspr.toml"),
        daemon_config(&prefix, &db.url, &imaps_mailbox("chscp", &folder), &submission_outbound("chscp")),
    )
    .unwrap();
    let mut setup = session("chscp").await;
    create_folder(&mut setup, &folder).await;
    append(&mut setup, &folder, notification(&format!("{prefix}1")).as_bytes()).await;
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inspect");
    for name in FIXTURES {
        append(&mut setup, &folder, &std::fs::read(fixtures.join(name)).unwrap()).await;
    }
    let expected = FIXTURES.len() + 1;

    let log_path = dir.path().join("trace.log");
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_cspr"))
        .args(["run", "--config", &dir.path().join("cspr.toml").display().to_string()])
        .env("CSPR__MAILBOX__PASSWORD", "chscp-pass")
        .env("CSPR__OUTBOUND__PASSWORD", "chscp-pass")
        .env("CSPR_LOG", "trace")
        // The fixtures come from LA domains and carry no verdict of ours.
        .env("CSPR__INTAKE__REQUIRE_AUTHENTICATION", "false")
        .env(
            "CSPR__ROLES__LOCAL_AUTHORITY__DOMAINS",
            r#"["test.local", "hackney.gov.uk", "cityoflondon.gov.uk", "islington.gov.uk"]"#,
        )
        .stderr(Stdio::from(std::fs::File::create(&log_path).unwrap()))
        .spawn()
        .expect("cspr run starts");
    let pool = loop {
        if let Ok(pool) = sqlx::SqlitePool::connect(&db.url).await
            && sqlx::query("SELECT 1 FROM intents LIMIT 1").fetch_optional(&pool).await.is_ok()
        {
            break pool;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let done = eventually(Duration::from_secs(60), || async {
        let processed: i64 = sqlx::query("SELECT COUNT(*) FROM messages WHERE state = 'processed'")
            .fetch_one(&pool)
            .await
            .map(|r| r.get(0))
            .unwrap_or(0);
        let unsent: i64 = sqlx::query("SELECT COUNT(*) FROM intents WHERE status IN ('pending', 'sending')")
            .fetch_one(&pool)
            .await
            .map(|r| r.get(0))
            .unwrap_or(1);
        processed as usize == expected && unsent == 0
    })
    .await;
    let _ = Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status();
    daemon.wait().unwrap();
    assert!(done, "every message processed and every email sent");

    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("TRACE"), "the run logged at TRACE level");
    assert!(log.contains("db.statement"), "the SQL library logged its statements");
    assert!(log.contains("message stored"), "our own lines are there");
    assert_eq!(leaks(&log), Vec::<&str>::new(), "names in the log");
    assert!(!log.contains("chscp-pass"), "a password in the log");

    let facts: Vec<String> = sqlx::query("SELECT facts || recipients || template FROM intents")
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(facts.len() >= expected, "the outbox holds the emails: {}", facts.len());
    assert_eq!(leaks(&facts.join("\n")), Vec::<&str>::new(), "names in the outbox");

    let mut sent = Vec::new();
    for user in ["la", "spa", "icsc"] {
        sent.extend(emails(user, &format!("[{prefix}-")).await);
    }
    assert!(sent.len() >= expected, "emails were sent: {}", sent.len());
    assert_eq!(leaks(&sent.join("\n")), Vec::<&str>::new(), "names in the emails sent");
}
