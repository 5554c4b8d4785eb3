//! Delivery under faults, against real Postfix and Dovecot: the daemon aborted after the
//! Sent copy and after the server's acceptance; Postfix down then up; a recipient the
//! server refuses for good.

use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::{DateTime, Utc};
use cspr::config::MailboxSource;
use cspr::domain::case::CaseRef;
use cspr::jobs::deliver::{Delivery, Outbox};
use cspr::outbound::{Templates, Transport};
use cspr::protocol::{Intent, Purpose, Recipient};
use cspr::store::Store;

use crate::databases::sqlite;
use crate::mailstack::{SERVERS, append, create_folder, eventually, mailstack, session, unique_folder};
use crate::outbound::{message_ids, outbound_config, outbound_config_in, received};
use crate::scenarios::mail;

/// A forwarded notification from the LA, its Panel reference made unique by `prefix`:
/// the LA learnt of the incident today and notified the Panel today (by the clock the
/// daemon reads), so nothing about it is late on whatever day the suite runs.
pub fn notification(prefix: &str) -> String {
    let now = Utc::now();
    let today = cspr::domain::london_date(&now).format("%d/%m/%Y");
    let sent = now.with_timezone(&chrono_tz::Europe::London).format("%A, %B %-d, %Y %-I:%M %p");
    let body = format!(
        "________________________________\r\nFrom: Duty <duty.manager@test.local>\r\nSent: {sent}\r\n\
         Subject: Serious incident notification\r\n\r\nLocal authority: Hackney\r\nIncident type: Serious harm\r\n\
         Date LA became aware: {today}\r\nDate notified to the Panel: {today}\r\nPanel reference: SIN-2026-{prefix}\r\n\
         Child's name: Alex Example\r\n"
    );
    mail("la@test.local", "FW: Serious incident notification", &now.to_rfc2822(), &body, true)
}

/// Runs `cspr run` on `dir/cspr.toml` until it exits (aborting at `fault`) or, without
/// a fault, until `done` holds; then stops it with SIGTERM.
async fn run_daemon(dir: &std::path::Path, fault: Option<&str>) -> std::process::Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cspr"));
    command
        .args(["run", "--config", &dir.join("cspr.toml").display().to_string()])
        .env("CSPR__MAILBOX__PASSWORD", "chscp-pass")
        .env("CSPR__OUTBOUND__PASSWORD", "chscp-pass")
        .env("CSPR_LOG", "warn")
        .stderr(Stdio::null());
    if let Some(point) = fault {
        command.env("CSPR_FAULT_AT", point);
    }
    command.spawn().expect("cspr run starts")
}

async fn crash_at(point: &str) -> (usize, usize, usize) {
    let prefix = format!("F{}", fastrand::u32(10_000..99_999));
    let tag = crate::support::case_tag(&prefix, 1);
    let db = sqlite();
    let dir = tempfile::tempdir().unwrap();
    let folder = unique_folder("deliver");
    let config = outbound_config_in(&prefix, &db.url, dir.path(), &folder);
    let mut setup = session("chscp").await;
    create_folder(&mut setup, &folder).await;
    append(&mut setup, &folder, notification(&prefix).as_bytes()).await;

    let mut crashing = run_daemon(dir.path(), Some(point)).await;
    let mut aborted = false;
    for _ in 0..1000 {
        if let Some(status) = crashing.try_wait().unwrap() {
            aborted = !status.success();
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if !aborted {
        let _ = crashing.kill();
        panic!("{point}: the daemon did not abort");
    }
    let mut healthy = run_daemon(dir.path(), None).await;
    let store = Store::open(&config.store_url).await.unwrap();
    let all_sent = eventually(Duration::from_secs(30), || async {
        let rows = store.outbox(None).await.unwrap();
        !rows.is_empty() && rows.iter().all(|r| r.status == "sent")
    })
    .await;
    let _ = Command::new("kill").args(["-TERM", &healthy.id().to_string()]).status();
    assert_eq!(healthy.wait().unwrap().code(), Some(0));
    assert!(all_sent, "{point}: every email sent after the restart");
    // The acknowledgement to the LA and the new-case alert to the SPA and ICSC.
    let copies = received("la", "INBOX", &tag).await.len()
        + received("spa", "INBOX", &tag).await.len()
        + received("icsc", "INBOX", &tag).await.len();
    let mut ids = Vec::new();
    for user in ["la", "spa", "icsc"] {
        ids.extend(message_ids(user, "INBOX", &tag).await);
    }
    ids.sort();
    ids.dedup();
    (copies, store.outbox(None).await.unwrap().len(), ids.len())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_abort_after_the_sent_copy_sends_nothing_twice() {
    let _shared = SERVERS.read().await;
    let (copies, emails, distinct) = crash_at("delivery:copied").await;
    assert_eq!((emails, distinct), (2, 2));
    assert_eq!(copies, 3, "each recipient has each email once");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_abort_after_acceptance_but_before_the_copy_delivers_at_most_one_duplicate() {
    let _shared = SERVERS.read().await;
    let (copies, emails, distinct) = crash_at("delivery:accepted").await;
    assert_eq!(emails, 2);
    assert_eq!(distinct, 2, "a duplicate carries the same Message-ID");
    let duplicates = copies - 3;
    println!("abort between acceptance and the Sent copy: {duplicates} duplicate(s), same Message-ID");
    assert!(copies >= 3, "nothing lost");
    // The first email (the acknowledgement, one recipient) is the one interrupted.
    assert!(duplicates <= 1, "at most one duplicate: {copies} copies");
}

fn intent(prefix: &str, to: &str, key: &str) -> Intent {
    Intent {
        purpose: Purpose::CommandReply,
        to: vec![Recipient::Address(to.into())],
        case: CaseRef::parse(&format!("{prefix}-2026-001")).ok(),
        template: "command_done".into(),
        facts: [("command".to_owned(), "NOTE".into()), ("done".to_owned(), "note added".into())].into(),
        dedupe_key: format!("{prefix}:{key}"),
        urgent: true,
        not_before: None,
    }
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[tokio::test(flavor = "multi_thread")]
async fn with_postfix_down_mail_waits_and_is_delivered_once_when_it_returns() {
    let _exclusive = SERVERS.write().await;
    let prefix = format!("D{}", fastrand::u32(10_000..99_999));
    let db = sqlite();
    let dir = tempfile::tempdir().unwrap();
    let config = outbound_config(&prefix, &db.url, dir.path());
    let store = Store::open(&db.url).await.unwrap();
    let MailboxSource::Imap(imap) = &config.mailbox else { unreachable!() };
    let transport = Transport::new(&config.outbound.transport, Some(((**imap).clone(), "Sent".into()))).unwrap();
    let templates = Templates::load(None).unwrap();
    let outbox = Outbox { store: &store, config: &config, transport: &transport, templates: &templates };
    for n in 0..3 {
        store.add_intent(&intent(&prefix, "spa@test.local", &n.to_string()), None, Utc::now()).await.unwrap();
    }
    mailstack("stop-postfix");
    let first = outbox.try_step(at("2026-11-26T10:00:00Z")).await.unwrap();
    mailstack("start-postfix");
    assert!(matches!(first, Delivery::Retrying(_)), "{first:?}");
    // Later (after the backoff) everything goes, once.
    let mut sent = 0;
    while let Delivery::Sent(_) = outbox.try_step(at("2026-11-26T12:00:00Z")).await.unwrap() {
        sent += 1;
    }
    assert_eq!(sent, 3);
    assert_eq!(received("spa", "INBOX", &crate::support::case_tag(&prefix, 1)).await.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_permanent_refusal_is_a_dead_letter_shown_by_the_outbox_and_alerts_the_spa_once() {
    let _shared = SERVERS.read().await;
    let prefix = format!("P{}", fastrand::u32(10_000..99_999));
    let db = sqlite();
    let dir = tempfile::tempdir().unwrap();
    let config = outbound_config(&prefix, &db.url, dir.path());
    let store = Store::open(&db.url).await.unwrap();
    let MailboxSource::Imap(imap) = &config.mailbox else { unreachable!() };
    let transport = Transport::new(&config.outbound.transport, Some(((**imap).clone(), "Sent".into()))).unwrap();
    let templates = Templates::load(None).unwrap();
    let outbox = Outbox { store: &store, config: &config, transport: &transport, templates: &templates };
    store.add_intent(&intent(&prefix, "nobody@test.local", "dead"), None, Utc::now()).await.unwrap();
    let now = at("2026-11-26T10:00:00Z");
    assert!(matches!(outbox.try_step(now).await.unwrap(), Delivery::Dead(_)));
    assert!(matches!(outbox.try_step(now).await.unwrap(), Delivery::Sent(_)), "the SPA's alert goes");
    assert!(matches!(outbox.try_step(now).await.unwrap(), Delivery::Idle), "once");
    let output = Command::new(env!("CARGO_BIN_EXE_cspr"))
        .args(["outbox", "--status", "dead", "--json", "--config", &dir.path().join("cspr.toml").display().to_string()])
        .env("CSPR__MAILBOX__PASSWORD", "chscp-pass")
        .env("CSPR__OUTBOUND__PASSWORD", "chscp-pass")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let dead: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(dead.as_array().unwrap().len(), 1);
    assert!(dead[0]["last_error"].as_str().unwrap().contains("550"), "{}", dead[0]["last_error"]);
    let alerts = received("spa", "INBOX", &crate::support::case_tag(&prefix, 1)).await;
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].0.contains("could not be sent"), "{:?}", alerts[0]);
}
