//! OAuth2 against the real stack: Dovecot's oauth2 passdb and Postfix's SASL through
//! Dovecot check tokens with the test token server. Logins with XOAUTH2 and OAUTHBEARER,
//! the daemon reading and answering with tokens, an expired token replaced without a
//! message lost, a revoked client credential alerting and recovering, and the
//! installer's connectivity commands with their error messages.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use cspr::config::{Credential, OAuth2Settings, OAuthGrant, SaslChoice, SmtpSettings, TlsMode};
use cspr::outbound::SmtpClient;
use cspr::sources::imap::connect_with_details;
use cspr::store::Store;
use lettre::address::Envelope;
use secrecy::SecretString;

use crate::databases::sqlite;
use crate::delivery_faults::notification;
use crate::mailstack::{SERVERS, append, create_folder, eventually, imap, mailstack, session, stack, unique_folder};
use crate::outbound::received;
use crate::support::{stderr, stdout};
use crate::token_server::{Registered, token_server};

fn oauth(client: &Registered, mechanism: SaslChoice) -> Arc<OAuth2Settings> {
    Arc::new(OAuth2Settings {
        provider: "microsoft".into(),
        token_url: token_server().token_url(),
        client_id: client.id.clone(),
        grant: OAuthGrant::ClientCredentials,
        client_secret: Some(SecretString::from(client.secret.clone())),
        client_certificate: None,
        refresh_token: None,
        scope: Some("https://outlook.office365.com/.default".into()),
        mechanism,
        ca_file: None,
    })
}

fn smtp(credential: Credential) -> SmtpSettings {
    let stack = stack();
    SmtpSettings {
        host: "localhost".into(),
        port: stack["CSPR_TEST_SUBMISSION_PORT"].parse().unwrap(),
        tls: TlsMode::StartTls,
        username: "chscp@test.local".into(),
        credential: Some(credential),
        ca_file: Some(stack["CSPR_TEST_CA"].clone().into()),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn imap_and_smtp_log_in_with_xoauth2_and_with_oauthbearer() {
    let _servers = SERVERS.read().await;
    for (choice, expected) in [(SaslChoice::XOAuth2, "XOAUTH2"), (SaslChoice::OAuthBearer, "OAUTHBEARER")] {
        let client = token_server().register("chscp", 3600);
        let mut settings = imap("chscp@test.local", "INBOX", TlsMode::Implicit);
        settings.credential = Credential::OAuth2(oauth(&client, choice));
        let (mut session, used) = connect_with_details(&settings).await.expect("IMAP login with a token");
        assert_eq!(used, expected);
        session.examine("INBOX").await.expect("INBOX opens");
        let _ = session.logout().await;

        let tag = format!("[OAUTH-{expected}-{}]", fastrand::u32(..));
        let smtp = SmtpClient::new(&smtp(Credential::OAuth2(oauth(&client, choice)))).unwrap();
        let (mut conn, opened) = smtp.open().await.expect("SMTP login with a token");
        assert_eq!(opened.mechanism, Some(expected));
        assert!(opened.encrypted);
        let _ = conn.quit().await;
        let raw = format!(
            "From: chscp@test.local\r\nTo: la@test.local\r\nSubject: Test {tag}\r\nMessage-ID: <{}@cspr.test>\r\n\r\nHello.\r\n",
            fastrand::u64(..)
        );
        let envelope =
            Envelope::new(Some("chscp@test.local".parse().unwrap()), vec!["la@test.local".parse().unwrap()]).unwrap();
        smtp.send(&envelope, raw.as_bytes()).await.expect("sent with a token");
        assert!(
            eventually(Duration::from_secs(20), || async { !received("la", "INBOX", &tag).await.is_empty() }).await,
            "{expected}: the email arrived"
        );
        // one token served both logins
        assert_eq!(token_server().issued(&client.id), 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_the_server_refuses_is_replaced_once_and_a_wrong_one_is_reported() {
    let _servers = SERVERS.read().await;
    let client = token_server().register("chscp", 3600);
    let mut settings = imap("chscp@test.local", "INBOX", TlsMode::Implicit);
    settings.credential = Credential::OAuth2(oauth(&client, SaslChoice::Auto));
    let (session, _) = connect_with_details(&settings).await.expect("first login");
    drop(session);
    token_server().expire_tokens(&client.id);
    let (session, used) = connect_with_details(&settings).await.expect("a new token after the old one expired");
    assert_eq!(used, "OAUTHBEARER");
    drop(session);
    assert_eq!(token_server().issued(&client.id), 2);

    // A token for another user is refused, even fresh: the error says so.
    let other = token_server().register("la", 3600);
    settings.credential = Credential::OAuth2(oauth(&other, SaslChoice::XOAuth2));
    let error = connect_with_details(&settings).await.expect_err("refused");
    let text = error.to_string();
    assert!(text.contains("refused the access token for chscp@test.local (XOAUTH2)"), "{text}");
    assert!(text.contains("status 401"), "{text}");
    assert_eq!(token_server().issued(&other.id), 2, "one refresh and retry, no more");
}

/// `cspr.toml` for a daemon reading `folder` as chscp with OAuth2, short name `prefix`.
fn daemon_config(dir: &std::path::Path, prefix: &str, db: &str, folder: &str, client: &Registered, outbound: &str) {
    let mailbox = format!(
        "{}\nauth = \"oauth2\"\nunreachable_alert_seconds = 2\nalert_roles = [\"spa\"]\n[mailbox.oauth2]\nprovider = \"microsoft\"\ntenant = \"test-tenant\"\ntoken_url = \"{}\"\nclient_id = \"{}\"",
        crate::mailstack::imaps_mailbox("chscp@test.local", folder),
        token_server().token_url(),
        client.id
    );
    let outbound = format!(
        "transport = \"smtp\"\nhost = \"localhost\"\nca_file = \"{}\"\nsent_folder = \"Sent\"\n{outbound}",
        stack()["CSPR_TEST_CA"]
    );
    std::fs::write(dir.join("cspr.toml"), crate::mailstack::daemon_config(prefix, db, &mailbox, &outbound)).unwrap();
}

fn run_daemon(dir: &std::path::Path, client: &Registered) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_cspr"))
        .args(["run", "--config", &dir.join("cspr.toml").display().to_string()])
        .env("CSPR__MAILBOX__OAUTH2__CLIENT_SECRET", &client.secret)
        .env("CSPR_LOG", "warn")
        .stderr(Stdio::null())
        .spawn()
        .expect("cspr run starts")
}

fn stop(mut daemon: std::process::Child) {
    let _ = Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status();
    assert_eq!(daemon.wait().unwrap().code(), Some(0), "the daemon stops cleanly");
}

async fn arrived(user: &str, tag: &str, limit: Duration) -> bool {
    eventually(limit, || async { !received(user, "INBOX", tag).await.is_empty() }).await
}

async fn daemon_reads_and_sends(mechanism: &str) {
    let _servers = SERVERS.read().await;
    let prefix = format!("O{}", fastrand::u32(10_000..99_999));
    let db = sqlite();
    let dir = tempfile::tempdir().unwrap();
    let folder = unique_folder("oauth");
    let client = token_server().register("chscp", 3600);
    let outbound = format!(
        "port = {}\ntls = \"starttls\"\nusername = \"chscp@test.local\"\nauth = \"oauth2\"\n[outbound.oauth2]\nprovider = \"microsoft\"\ntenant = \"t\"\ntoken_url = \"{}\"\nclient_id = \"{}\"\nmechanism = \"{mechanism}\"",
        stack()["CSPR_TEST_SUBMISSION_PORT"],
        token_server().token_url(),
        client.id
    );
    daemon_config(dir.path(), &prefix, &db.url, &folder, &client, &outbound);
    let mut setup = session("chscp").await;
    create_folder(&mut setup, &folder).await;
    append(&mut setup, &folder, notification(&format!("{prefix}1")).as_bytes()).await;
    let daemon = Command::new(env!("CARGO_BIN_EXE_cspr"))
        .args(["run", "--config", &dir.path().join("cspr.toml").display().to_string()])
        .env("CSPR__MAILBOX__OAUTH2__CLIENT_SECRET", &client.secret)
        .env("CSPR__OUTBOUND__OAUTH2__CLIENT_SECRET", &client.secret)
        .env("CSPR_LOG", "warn")
        .stderr(Stdio::null())
        .spawn()
        .expect("cspr run starts");
    let first = crate::support::case_tag(&prefix, 1);
    assert!(arrived("la", &first, Duration::from_secs(30)).await, "{mechanism}: the first acknowledgement");

    // Every token expires at the server while the daemon still holds one: the next
    // send is refused once, a new token is fetched, and nothing is lost.
    let issued = token_server().issued(&client.id);
    token_server().expire_tokens(&client.id);
    append(&mut setup, &folder, notification(&format!("{prefix}2")).as_bytes()).await;
    let second = crate::support::case_tag(&prefix, 2);
    assert!(arrived("la", &second, Duration::from_secs(30)).await, "{mechanism}: the second acknowledgement");
    assert!(token_server().issued(&client.id) > issued, "a new token was fetched");
    // The SPA's and ICSC's alerts go after the acknowledgement; a stop does not wait
    // for the outbox, so the test does.
    let store = Store::open(&db.url).await.unwrap();
    let all_sent = eventually(Duration::from_secs(30), || async {
        store.outbox(None).await.unwrap().iter().all(|r| r.status == "sent")
    })
    .await;
    stop(daemon);
    let rows = store.outbox(None).await.unwrap();
    assert!(all_sent, "every email sent: {rows:?}");
    assert_eq!(received("la", "INBOX", &first).await.len(), 1, "no acknowledgement twice");
    assert_eq!(received("la", "INBOX", &second).await.len(), 1, "no acknowledgement twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_reads_and_sends_with_xoauth2_across_an_expired_token() {
    daemon_reads_and_sends("xoauth2").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_reads_and_sends_with_oauthbearer_across_an_expired_token() {
    daemon_reads_and_sends("oauthbearer").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_client_credential_raises_one_alert_and_the_mailbox_recovers_when_restored() {
    let prefix = format!("R{}", fastrand::u32(10_000..99_999));
    let db = sqlite();
    let dir = tempfile::tempdir().unwrap();
    let folder = unique_folder("revoked");
    let client = token_server().register("chscp", 3600);
    // Alerts leave by plain SMTP on loopback, so that they do not depend on the token.
    let outbound = format!("port = {}\ntls = \"plain\"\nauth = \"none\"", stack()["CSPR_TEST_SMTP_PORT"]);
    daemon_config(dir.path(), &prefix, &db.url, &folder, &client, &outbound);
    let daemon;
    {
        let _servers = SERVERS.read().await;
        let mut setup = session("chscp").await;
        create_folder(&mut setup, &folder).await;
        append(&mut setup, &folder, notification(&format!("{prefix}1")).as_bytes()).await;
        daemon = run_daemon(dir.path(), &client);
        assert!(
            arrived("la", &crate::support::case_tag(&prefix, 1), Duration::from_secs(30)).await,
            "working at first"
        );
    }
    {
        // The credential is revoked and the connection drops: the daemon cannot log in again.
        let _servers = SERVERS.write().await;
        token_server().revoke(&client.id);
        mailstack("restart-dovecot");
        crate::mailstack::heal_postfix();
    }
    let _servers = SERVERS.read().await;
    let mut setup = session("chscp").await;
    append(&mut setup, &folder, notification(&format!("{prefix}2")).as_bytes()).await;
    let subject_tag = format!("The {prefix} mailbox cannot be read");
    assert!(arrived("spa", &subject_tag, Duration::from_secs(40)).await, "the unreachable alert");
    assert!(
        received("la", "INBOX", &crate::support::case_tag(&prefix, 2)).await.is_empty(),
        "nothing read while the credential is revoked"
    );

    token_server().restore(&client.id);
    assert!(
        arrived("la", &crate::support::case_tag(&prefix, 2), Duration::from_secs(60)).await,
        "the message that arrived meanwhile is read after the credential is restored"
    );
    let recovered = format!("The {prefix} mailbox can be read again");
    assert!(arrived("spa", &recovered, Duration::from_secs(30)).await, "the recovery notice");
    stop(daemon);
    assert_eq!(received("spa", "INBOX", &subject_tag).await.len(), 1, "one alert for the outage");
}

/// A configuration for the connectivity commands: `mailbox` and `outbound` tables.
fn cli_config(dir: &std::path::Path, mailbox: &str, outbound: &str) -> String {
    let path = dir.join("cspr.toml");
    std::fs::write(
        &path,
        format!(
            "[partnership]\nmailbox = \"chscp@test.local\"\n[store]\nurl = \"sqlite://{}/cspr.db\"\n[mailbox]\n{mailbox}\n[outbound]\n{outbound}\n",
            dir.display()
        ),
    )
    .unwrap();
    path.display().to_string()
}

fn cspr(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cspr"));
    command.args(args).env_remove("CSPR_CONFIG").env("CSPR_LOG", "error");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("cspr runs")
}

fn imap_table(extra: &str) -> String {
    let stack = stack();
    format!(
        "source = \"imap\"\nhost = \"localhost\"\nport = {}\ntls = \"implicit\"\nusername = \"chscp@test.local\"\n{extra}",
        stack["CSPR_TEST_IMAPS_PORT"]
    )
}

fn smtp_table(extra: &str) -> String {
    let stack = stack();
    format!(
        "transport = \"smtp\"\nhost = \"localhost\"\nport = {}\ntls = \"starttls\"\nusername = \"chscp@test.local\"\n{extra}",
        stack["CSPR_TEST_SUBMISSION_PORT"]
    )
}

fn oauth_table(section: &str, client: &Registered) -> String {
    format!(
        "auth = \"oauth2\"\n[{section}.oauth2]\nprovider = \"microsoft\"\ntenant = \"t\"\ntoken_url = \"{}\"\nclient_id = \"{}\"\n",
        token_server().token_url(),
        client.id
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn check_mailbox_reports_what_works_and_says_what_is_wrong() {
    let _servers = SERVERS.read().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = format!("ca_file = \"{}\"\n", stack()["CSPR_TEST_CA"]);
    let password = [("CSPR__MAILBOX__PASSWORD", "chscp-pass")];

    let config = cli_config(dir.path(), &imap_table(&ca), "");
    let ok = cspr(&["check-mailbox", "--config", &config], &password);
    let text = stdout(&ok);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(text.contains("logged in: chscp@test.local (LOGIN)"), "{text}");
    assert!(text.contains("folder: INBOX ("), "{text}");
    assert!(text.contains("idle: supported"), "{text}");

    let client = token_server().register("chscp", 3600);
    let secret = [("CSPR__MAILBOX__OAUTH2__CLIENT_SECRET", client.secret.as_str())];
    let config = cli_config(dir.path(), &imap_table(&format!("{ca}{}", oauth_table("mailbox", &client))), "");
    let ok = cspr(&["check-mailbox", "--config", &config], &secret);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("(OAUTHBEARER)"), "{}", stdout(&ok));

    token_server().revoke(&client.id);
    let refused = cspr(&["check-mailbox", "--config", &config], &secret);
    assert_eq!(refused.status.code(), Some(1));
    let text = stderr(&refused);
    assert!(
        text.contains(
            "the microsoft token endpoint refused the credentials (HTTP 401): invalid_client — AADSTS7000215"
        ),
        "{text}"
    );
    assert!(text.contains("Check the client ID and the client secret"), "{text}");

    let config = cli_config(dir.path(), &imap_table(&ca), "");
    let wrong = cspr(&["check-mailbox", "--config", &config], &[("CSPR__MAILBOX__PASSWORD", "not-the-password")]);
    assert_eq!(wrong.status.code(), Some(1));
    let text = stderr(&wrong);
    assert!(text.contains("the server refused the login for chscp@test.local"), "{text}");
    assert!(text.contains("Wrong user name or password"), "{text}");

    let config = cli_config(dir.path(), &imap_table(""), "");
    let untrusted = cspr(&["check-mailbox", "--config", &config], &password);
    assert_eq!(untrusted.status.code(), Some(1));
    let text = stderr(&untrusted);
    assert!(text.contains("certificate is not trusted"), "{text}");
    assert!(text.contains("mailbox.ca_file"), "{text}");

    let config = cli_config(dir.path(), &imap_table(&format!("{ca}folder = \"NoSuchFolder\"\n")), "");
    let missing = cspr(&["check-mailbox", "--config", &config], &password);
    assert_eq!(missing.status.code(), Some(1));
    let text = stderr(&missing);
    assert!(text.contains("the folder 'NoSuchFolder' does not exist"), "{text}");
    assert!(text.contains("INBOX"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn send_test_email_sends_or_says_what_is_wrong() {
    let _servers = SERVERS.read().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = format!("ca_file = \"{}\"\n", stack()["CSPR_TEST_CA"]);
    let password = [("CSPR__OUTBOUND__PASSWORD", "chscp-pass")];

    let config = cli_config(dir.path(), "", &smtp_table(&ca));
    let sent = cspr(&["send-test-email", "--config", &config, "--to", "la@test.local"], &password);
    assert!(sent.status.success(), "{}", stderr(&sent));
    let text = stdout(&sent);
    assert!(text.contains("to la@test.local via localhost:"), "{text}");
    assert!(text.contains("logged in as chscp@test.local with PLAIN"), "{text}");
    let id = text.split('<').nth(1).and_then(|s| s.split('>').next()).expect("a Message-ID").to_owned();
    assert!(
        eventually(Duration::from_secs(20), || async {
            crate::outbound::message_ids("la", "INBOX", "cspr test email").await.iter().any(|m| m.contains(&id))
        })
        .await,
        "the test email arrived"
    );

    let client = token_server().register("chscp", 3600);
    let secret = [("CSPR__OUTBOUND__OAUTH2__CLIENT_SECRET", client.secret.as_str())];
    let config = cli_config(dir.path(), "", &smtp_table(&format!("{ca}{}", oauth_table("outbound", &client))));
    let sent = cspr(&["send-test-email", "--config", &config, "--to", "la@test.local"], &secret);
    assert!(sent.status.success(), "{}", stderr(&sent));
    assert!(stdout(&sent).contains("with OAUTHBEARER"), "{}", stdout(&sent));

    token_server().revoke(&client.id);
    let refused = cspr(&["send-test-email", "--config", &config, "--to", "la@test.local"], &secret);
    assert_eq!(refused.status.code(), Some(1));
    let text = stderr(&refused);
    assert!(text.contains("token endpoint refused the credentials (HTTP 401): invalid_client"), "{text}");

    let config = cli_config(dir.path(), "", &smtp_table(&ca));
    let wrong = cspr(
        &["send-test-email", "--config", &config, "--to", "la@test.local"],
        &[("CSPR__OUTBOUND__PASSWORD", "nope")],
    );
    assert_eq!(wrong.status.code(), Some(1));
    let text = stderr(&wrong);
    assert!(text.contains("refused the login for chscp@test.local"), "{text}");
    assert!(text.contains("Wrong user name or password"), "{text}");

    let config = cli_config(dir.path(), "", &smtp_table(""));
    let untrusted = cspr(&["send-test-email", "--config", &config, "--to", "la@test.local"], &password);
    assert_eq!(untrusted.status.code(), Some(1));
    let text = stderr(&untrusted);
    assert!(text.contains("certificate is not trusted"), "{text}");
    assert!(text.contains("outbound.ca_file"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refresh_token_grant_is_cached_and_a_revoked_refresh_token_is_refused_in_the_providers_words() {
    use cspr::oauth::{TokenError, TokenSource};
    let client = token_server().register("chscp", 3600);
    let google = |refresh: &str| {
        Arc::new(OAuth2Settings {
            provider: "google".into(),
            token_url: token_server().token_url(),
            client_id: client.id.clone(),
            grant: OAuthGrant::RefreshToken,
            client_secret: Some(SecretString::from(client.secret.clone())),
            client_certificate: None,
            refresh_token: Some(SecretString::from(refresh.to_owned())),
            scope: None,
            mechanism: SaslChoice::Auto,
            ca_file: None,
        })
    };
    let source = TokenSource::for_settings(&google(&client.refresh_token));
    let first = source.token().await.expect("a token for the refresh token");
    let again = source.token().await.expect("the cached token");
    assert_eq!(first.expose(), again.expose());
    assert_eq!(token_server().issued(&client.id), 1);

    let wrong = TokenSource::for_settings(&google("refresh-revoked"));
    match wrong.token().await {
        Err(TokenError::Refused { status, error, description, .. }) => {
            assert_eq!((status, error.as_str()), (400, "invalid_grant"));
            assert_eq!(description.as_deref(), Some("Token has been expired or revoked."));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}
