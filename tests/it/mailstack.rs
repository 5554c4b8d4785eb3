//! The real mail stack for tests: `scripts/mailstack` brings up Dovecot and Postfix on
//! loopback (once per test run); tests get TLS settings for any test user, and their
//! own folder so that they can run side by side.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cspr::config::{ImapSettings, TlsMode};
use cspr::sources::imap::{Session, connect};
use futures::TryStreamExt;
use secrecy::SecretString;

#[path = "../shared/daemon_config.rs"]
mod daemon_config;
pub use daemon_config::daemon_config;

/// Tests that restart a server hold this for writing; every other mail test for reading.
pub static SERVERS: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/mailstack")
}

/// The stack's settings (`CSPR_TEST_*`), starting it if it is not running.
pub fn stack() -> &'static HashMap<String, String> {
    static STACK: OnceLock<HashMap<String, String>> = OnceLock::new();
    STACK.get_or_init(|| {
        let started = server_script(&script()).arg("start").output().expect("scripts/mailstack runs");
        assert!(started.status.success(), "mail stack did not start: {}", String::from_utf8_lossy(&started.stderr));
        let env = server_script(&script()).arg("env").output().expect("scripts/mailstack env runs");
        String::from_utf8_lossy(&env.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').trim_matches('"').to_owned()))
            .collect()
    })
}

fn port(name: &str) -> u16 {
    stack()[name].parse().expect("a port number")
}

/// Settings for `user` (password `<user>-pass`) watching `folder`.
pub fn imap(user: &str, folder: &str, tls: TlsMode) -> ImapSettings {
    let stack = stack();
    ImapSettings {
        host: "localhost".into(),
        port: match tls {
            TlsMode::Implicit => port("CSPR_TEST_IMAPS_PORT"),
            _ => port("CSPR_TEST_IMAP_PORT"),
        },
        tls,
        username: user.into(),
        credential: cspr::config::Credential::Password(SecretString::from(format!("{user}-pass"))),
        ca_file: Some(PathBuf::from(&stack["CSPR_TEST_CA"])),
        folder: folder.into(),
        idle: true,
        idle_reissue: Duration::from_secs(25 * 60),
        poll_interval: Duration::from_secs(3600),
        processed_folder: None,
        unreachable_alert_after: Duration::from_secs(30 * 60),
        command_timeout: Duration::from_secs(120),
        alert_roles: vec![cspr::domain::Role::Spa],
    }
}

/// A folder name no other test uses.
pub fn unique_folder(prefix: &str) -> String {
    format!("{prefix}{}{}", std::process::id(), fastrand::u32(..))
}

/// A logged-in session for test set-up (create, append, inspect flags).
pub async fn session(user: &str) -> Session {
    connect(&imap(user, "INBOX", TlsMode::Implicit)).await.expect("test user logs in")
}

pub async fn create_folder(session: &mut Session, folder: &str) {
    session.create(folder).await.expect("folder created");
}

pub async fn append(session: &mut Session, folder: &str, raw: &[u8]) {
    session.append(folder, None, None, raw).await.expect("message appended");
}

/// The flags of every message in `folder`.
pub async fn flags(session: &mut Session, folder: &str) -> Vec<Vec<String>> {
    session.select(folder).await.expect("folder selected");
    let fetches: Vec<_> =
        session.fetch("1:*", "FLAGS").await.expect("flags fetched").try_collect().await.expect("flags read");
    fetches.iter().map(|f| f.flags().map(|flag| format!("{flag:?}")).collect()).collect()
}

/// A small, distinct message.
pub fn message(n: usize, tag: &str) -> Vec<u8> {
    format!(
        "From: Social Worker <sw{n}@hackney.gov.uk>\r\nTo: chscp@test.local\r\nSubject: Test {tag} {n}\r\n\
         Date: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{tag}-{n}@hackney.gov.uk>\r\n\r\nMessage {n} of {tag}.\r\n"
    )
    .into_bytes()
}

/// Waits for `check` to hold, looking every 20 ms, for at most `limit`.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < limit {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// A command for the real servers' scripts. A suite run at a chosen moment fakes the
/// clock of the test binaries (`scripts/test --at`); the servers keep the real one.
pub fn server_script(path: &Path) -> Command {
    let mut command = Command::new(path);
    command.env_remove("LD_PRELOAD").env_remove("FAKETIME").env_remove("FAKETIME_DONT_FAKE_MONOTONIC");
    command
}

/// Runs a `scripts/mailstack` command (e.g. `restart-dovecot`).
pub fn mailstack(command: &str) {
    let output = server_script(&script()).arg(command).output().expect("scripts/mailstack runs");
    assert!(output.status.success(), "mailstack {command}: {}", String::from_utf8_lossy(&output.stderr));
}

/// After a Dovecot restart, Postfix's smtpd processes hold a dead link to Dovecot's
/// auth service (their next SMTP login fails with 454 "Connection lost to authentication
/// server"): a test that restarts Dovecot restarts Postfix too, holding the servers for
/// writing, so that the stack is left as healthy as it was found.
pub fn heal_postfix() {
    mailstack("stop-postfix");
    mailstack("start-postfix");
}

/// A `[mailbox]` body: `user` reading `folder` over IMAPS, trusting the test CA.
pub fn imaps_mailbox(user: &str, folder: &str) -> String {
    let stack = stack();
    format!(
        "source = \"imap\"\nhost = \"localhost\"\nport = {}\ntls = \"implicit\"\nusername = \"{user}\"\nfolder = \"{folder}\"\nca_file = \"{}\"",
        stack["CSPR_TEST_IMAPS_PORT"], stack["CSPR_TEST_CA"]
    )
}

/// An `[outbound]` body: SMTP submission with STARTTLS as `user`, Sent copies kept.
pub fn submission_outbound(user: &str) -> String {
    let stack = stack();
    format!(
        "transport = \"smtp\"\nhost = \"localhost\"\nport = {}\ntls = \"starttls\"\nusername = \"{user}\"\nca_file = \"{}\"\nsent_folder = \"Sent\"",
        stack["CSPR_TEST_SUBMISSION_PORT"], stack["CSPR_TEST_CA"]
    )
}
