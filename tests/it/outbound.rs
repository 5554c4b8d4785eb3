//! Outbound end to end: real Postfix (submission with STARTTLS and AUTH) delivering
//! into real Dovecot mailboxes of the LA, SPA, ICSC and SLT, with copies in Sent; a
//! scripted case crossing Christmas, a weekend and bank holidays, driven step by step
//! with an injected clock.

use chrono::{DateTime, Utc};
use cspr::config::{Config, MailboxSource, Sources, load};
use cspr::jobs::deliver::{Delivery, Outbox};
use cspr::jobs::ingest::try_step;
use cspr::jobs::tick;
use cspr::outbound::{Templates, Transport};
use cspr::store::{NewMessage, Store};
use futures::TryStreamExt;

use crate::databases::sqlite;
use crate::mailstack::{SERVERS, session, stack};
use crate::scenarios::mail;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// The stack's configuration for tests that drive time themselves: the protocol's
/// sending window (08:00–18:00 London, working days).
pub fn outbound_config(prefix: &str, db: &str, dir: &std::path::Path) -> Config {
    write_config(prefix, db, dir, "INBOX", "")
}

/// The same for a daemon watching `folder` (the file is `dir/cspr.toml`): the daemon
/// reads the real clock, so mail goes at any hour of any day and the test passes at
/// night, at weekends and on bank holidays.
pub fn outbound_config_in(prefix: &str, db: &str, dir: &std::path::Path, folder: &str) -> Config {
    write_config(
        prefix,
        db,
        dir,
        folder,
        "[sending_window]\nstart = \"00:00\"\nend = \"24:00\"\nworking_days_only = false\n",
    )
}

fn write_config(prefix: &str, db: &str, dir: &std::path::Path, folder: &str, window: &str) -> Config {
    let stack = stack();
    let path = dir.join("cspr.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[partnership]
mailbox = "chscp@test.local"
[cases]
reference_prefix = "{prefix}"
[store]
url = "{db}"
[intake]
authserv_id = "mx.chscp.test"
own_message_id_domain = "cspr.chscp.test"
[roles.local_authority]
domains = ["test.local"]
[roles.spa]
addresses = ["spa@test.local"]
[roles.icsc]
addresses = ["icsc@test.local"]
[roles.slt]
addresses = ["slt@test.local", "slt2@test.local"]
[roles.duty]
addresses = ["duty@test.local"]
[roles.case_review_subgroup]
addresses = ["duty@test.local"]
[mailbox]
source = "imap"
host = "localhost"
port = {imaps}
tls = "implicit"
username = "chscp"
folder = "{folder}"
ca_file = "{ca}"
[outbound]
transport = "smtp"
host = "localhost"
port = {submission}
tls = "starttls"
username = "chscp"
ca_file = "{ca}"
sent_folder = "Sent"
[scheduler]
digest_roles = []
weekly_roles = []
{window}"#,
            imaps = stack["CSPR_TEST_IMAPS_PORT"],
            submission = stack["CSPR_TEST_SUBMISSION_PORT"],
            ca = stack["CSPR_TEST_CA"],
        ),
    )
    .unwrap();
    let env = vec![
        ("CSPR__MAILBOX__PASSWORD".to_owned(), "chscp-pass".to_owned()),
        ("CSPR__OUTBOUND__PASSWORD".to_owned(), "chscp-pass".to_owned()),
    ];
    load(&Sources { file: Some(path), env, credentials_dir: None }).unwrap()
}

/// Stores `raw` as arriving at `when` (IMAP UID `uid`) and processes it with the
/// daemon's own ingest step.
pub async fn arrive(store: &Store, config: &Config, uid: u32, raw: &str, when: &str) {
    let message = NewMessage {
        truncated_from: None,
        source: "test",
        uidvalidity: Some(1),
        uid: Some(uid),
        raw: raw.as_bytes(),
        arrived_at: at(when),
    };
    store.store_message(&message).await.unwrap();
    try_step(store, config, at(when)).await.unwrap();
}

/// A local authority's forwarded notification (aware 8, notified 10 December 2026) in
/// the test domain.
pub fn la_notification(panel_ref: &str) -> String {
    let body = format!(
        "________________________________\r\nFrom: Duty <duty.manager@test.local>\r\nSent: Thursday, December 10, 2026 9:00 AM\r\n\
         Subject: Serious incident notification\r\n\r\nLocal authority: Hackney\r\nIncident type: Serious harm\r\n\
         Date LA became aware: 08/12/2026\r\nDate notified to the Panel: 10/12/2026\r\nPanel reference: {panel_ref}\r\n"
    );
    mail("la@test.local", "FW: Serious incident notification", "Thu, 10 Dec 2026 10:00:00 +0000", &body, true)
}

/// The Message-IDs of the messages in `user`'s `folder` tagged with `tag`.
pub async fn message_ids(user: &str, folder: &str, tag: &str) -> Vec<String> {
    let mut s = session(user).await;
    s.examine(folder).await.unwrap();
    let fetches: Vec<_> = s
        .fetch("1:*", "BODY.PEEK[HEADER.FIELDS (SUBJECT MESSAGE-ID)]")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap_or_default();
    let _ = s.logout().await;
    fetches
        .iter()
        .filter_map(|f| f.header().map(|h| String::from_utf8_lossy(h).replace("\r\n ", " ")))
        .filter(|h| crate::support::tagged(h, tag))
        .filter_map(|h| h.lines().find_map(|l| l.strip_prefix("Message-ID:").map(|v| v.trim().to_owned())))
        .collect()
}

/// The subject tag `[PREFIX-YEAR-NNN]` that a message in `user`'s `folder` matching
/// `tag` carries (its year filled in), for writing a reply to it.
pub async fn tag_received(user: &str, folder: &str, tag: &str) -> String {
    let subjects = received(user, folder, tag).await;
    let subject = &subjects.first().expect("a message with the tag").0;
    let (_, rest) = subject.split_once('[').expect("a tag in the subject");
    format!("[{}]", rest.split_once(']').expect("a closed tag").0)
}

/// `(subject, references)` of the messages in `user`'s `folder` tagged with `tag`.
pub async fn received(user: &str, folder: &str, tag: &str) -> Vec<(String, String)> {
    let mut s = session(user).await;
    s.examine(folder).await.unwrap();
    let fetches: Vec<_> = s
        .fetch("1:*", "BODY.PEEK[HEADER.FIELDS (SUBJECT REFERENCES)]")
        .await
        .map(|stream| stream.try_collect::<Vec<_>>())
        .unwrap()
        .await
        .unwrap_or_default();
    let _ = s.logout().await;
    fetches
        .iter()
        .filter_map(|f| f.header().map(|h| String::from_utf8_lossy(h).into_owned()))
        .filter(|h| crate::support::tagged(h, tag))
        .map(|h| {
            let unfolded = h.replace("\r\n ", " ").replace("\r\n\t", " ");
            let field = |name: &str| {
                unfolded.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_owned()).unwrap_or_default()
            };
            (field("Subject:"), field("References:"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scripted_case_reaches_each_mailbox_exactly_as_expected_inside_the_sending_window() {
    let _shared = SERVERS.read().await;
    let prefix = format!("T{}", fastrand::u32(10_000..99_999));
    let tag = format!("[{prefix}-2026-001]");
    let db = sqlite();
    let dir = tempfile::tempdir().unwrap();
    let config = outbound_config(&prefix, &db.url, dir.path());
    let store = Store::open(&db.url).await.unwrap();
    let MailboxSource::Imap(imap) = &config.mailbox else { unreachable!() };
    let transport = Transport::new(&config.outbound.transport, Some(((**imap).clone(), "Sent".into()))).unwrap();
    let templates = Templates::load(None).unwrap();
    let outbox = Outbox { store: &store, config: &config, transport: &transport, templates: &templates };
    let drain = |when: &'static str| {
        let outbox = &outbox;
        async move {
            let mut sent = 0;
            loop {
                match outbox.try_step(at(when)).await.unwrap() {
                    Delivery::Idle => return sent,
                    Delivery::Sent(_) => sent += 1,
                    Delivery::Deferred(_) => {}
                    other => {
                        let errors: Vec<_> =
                            outbox.store.outbox(None).await.unwrap().into_iter().filter_map(|r| r.last_error).collect();
                        panic!("{when}: {other:?}: {errors:?}")
                    }
                }
            }
        }
    };

    // Thursday 10 December: the notification arrives; acknowledgement and new-case alert go at once.
    let body = "________________________________\r\nFrom: Duty <duty.manager@test.local>\r\nSent: Thursday, December 10, 2026 9:00 AM\r\n\
                Subject: Serious incident notification\r\n\r\nLocal authority: Hackney\r\nIncident type: Serious harm\r\n\
                Date LA became aware: 08/12/2026\r\nDate notified to the Panel: 10/12/2026\r\nPanel reference: SIN-2026-09001\r\n";
    let raw = mail("la@test.local", "FW: Serious incident notification", "Thu, 10 Dec 2026 10:00:00 +0000", body, true);
    let message = NewMessage {
        truncated_from: None,
        source: "test",
        uidvalidity: None,
        uid: None,
        raw: raw.as_bytes(),
        arrived_at: at("2026-12-10T10:00:00Z"),
    };
    store.store_message(&message).await.unwrap();
    try_step(&store, &config, at("2026-12-10T10:00:00Z")).await.unwrap();
    assert_eq!(drain("2026-12-10T10:00:01Z").await, 2);

    // C3 is due Tuesday 5 January 2027. SPA −10: Thursday 17 December.
    tick::run(&store, &config, at("2026-12-17T07:00:00Z")).await.unwrap();
    assert_eq!(drain("2026-12-17T07:00:00Z").await, 0, "before 08:00 nothing goes");
    assert_eq!(drain("2026-12-17T08:00:05Z").await, 1);
    // SPA −5 falls on Christmas Eve; the tick runs after 18:00, so it waits for Tuesday
    // 29 December: Christmas Day, the weekend and the Boxing Day substitute pass first.
    tick::run(&store, &config, at("2026-12-24T19:00:00Z")).await.unwrap();
    assert_eq!(drain("2026-12-24T19:00:00Z").await, 0);
    assert_eq!(drain("2026-12-26T10:00:00Z").await, 0, "Saturday");
    assert_eq!(drain("2026-12-28T10:00:00Z").await, 0, "the Boxing Day substitute");
    assert_eq!(drain("2026-12-29T08:00:05Z").await, 1);
    // Down from then until Wednesday 6 January: only the latest step (SLT, the day after
    // the due date) goes; the missed ones are not sent as a burst.
    let t = tick::run(&store, &config, at("2027-01-06T10:00:00Z")).await.unwrap();
    assert_eq!(t.queued, 1);
    assert_eq!(drain("2027-01-06T10:00:05Z").await, 1);
    // Ticking again queues nothing twice.
    assert_eq!(tick::run(&store, &config, at("2027-01-06T10:05:00Z")).await.unwrap().queued, 0);

    let expect = [("la", 1), ("spa", 3), ("icsc", 1), ("slt", 1), ("slt2", 1), ("duty", 0)];
    let root = format!("<{prefix}-2026-001.thread@cspr.chscp.test>");
    for (user, count) in expect {
        let got = received(user, "INBOX", &tag).await;
        assert_eq!(got.len(), count, "{user}: {got:?}");
        for (subject, references) in &got {
            assert!(subject.contains(&tag), "{user}: {subject}");
            assert_eq!(references, &root, "{user}: one thread per case");
        }
    }
    assert_eq!(received("chscp", "Sent", &tag).await.len(), 5, "a copy of each email in Sent");
}

/// The whole messages in `user`'s INBOX whose text holds `needle`.
pub async fn whole(user: &str, needle: &str) -> Vec<Vec<u8>> {
    let mut s = session(user).await;
    s.examine("INBOX").await.unwrap();
    let fetches: Vec<_> = s.fetch("1:*", "BODY.PEEK[]").await.unwrap().try_collect().await.unwrap_or_default();
    let _ = s.logout().await;
    fetches
        .iter()
        .filter_map(|f| f.body().map(<[u8]>::to_vec))
        .filter(|m| String::from_utf8_lossy(m).contains(needle))
        .collect()
}

/// The daily digest as the daemon sends it — queued by its own digest step, rendered and
/// sent by its own delivery step through real Postfix into real Dovecot — lists the open
/// case with its clock, due date and RAG, and the triage count; its HTML part uses inline
/// styles only, as Outlook needs.
#[tokio::test(flavor = "multi_thread")]
async fn the_daily_digest_sent_through_the_real_path_lists_the_open_case_and_the_triage_count() {
    let _shared = SERVERS.read().await;
    let prefix = format!("D{}", fastrand::u32(10_000..99_999));
    let reference = format!("{prefix}-2026-001");
    let db = sqlite();
    let dir = tempfile::tempdir().unwrap();
    let mut config = outbound_config(&prefix, &db.url, dir.path());
    // The daily digest to the SPA (the other tests keep it off).
    config.digests.retain(|d| d.name != "digest");
    config.digests.push(cspr::config::Digest {
        name: "digest",
        schedule: cspr::domain::clock::CronSchedule::parse("0 0 8 * * Mon-Fri").unwrap(),
        roles: vec![cspr::domain::Role::Spa],
    });
    let store = Store::open(&db.url).await.unwrap();
    let MailboxSource::Imap(imap) = &config.mailbox else { unreachable!() };
    let transport = Transport::new(&config.outbound.transport, Some(((**imap).clone(), "Sent".into()))).unwrap();
    let templates = Templates::load(None).unwrap();
    let outbox = Outbox { store: &store, config: &config, transport: &transport, templates: &templates };
    // One open case (C3 due Tuesday 5 January 2027), and one message held for triage.
    arrive(&store, &config, 1, &la_notification("SIN-2026-09101"), "2026-12-10T10:00:00Z").await;
    let forged = mail(
        "icsc@test.local",
        &format!("Re: [{reference}] x"),
        "Thu, 10 Dec 2026 11:00:00 +0000",
        "CLOSE done",
        false,
    );
    arrive(&store, &config, 2, &forged, "2026-12-10T11:00:00Z").await;
    assert_eq!(store.triage(true).await.unwrap().len(), 1);

    // Friday 11 December, 08:00 London: the digest's schedule comes round.
    let queued = cspr::jobs::tick::digests(&store, &config, at("2026-12-11T08:01:00Z")).await.unwrap();
    assert!(queued >= 1, "{queued}");
    loop {
        match outbox.try_step(at("2026-12-11T08:02:00Z")).await.unwrap() {
            Delivery::Idle => break,
            Delivery::Sent(_) | Delivery::Deferred(_) => {}
            other => panic!("{other:?}"),
        }
    }
    let digests = whole("spa", &reference).await;
    let digest = digests
        .iter()
        .map(|raw| mail_parser::MessageParser::default().parse(raw).unwrap())
        .find(|m| m.subject().is_some_and(|s| s.contains("daily digest")))
        .expect("the SPA's digest, delivered");
    let text = digest.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(text.contains("Open cases: 1\n"), "{text}");
    let row = text.lines().find(|l| l.contains(&reference)).unwrap_or_else(|| panic!("{text}"));
    assert!(row.starts_with("GREEN") && row.contains("C3 due Tuesday 5 January 2027"), "{row}");
    assert!(text.contains("Held for triage (1)"), "{text}");
    assert!(text.lines().filter(|l| l.trim().is_empty()).count() < 10, "no blank rows: {text}");
    let html = digest.body_html(0).unwrap();
    assert!(html.contains(&reference) && html.contains("Held for triage: 1"), "{html}");
    assert!(!html.contains("class=") && !html.contains("<style"), "inline styles only: {html}");
}

/// The daemon itself — `cspr run`, its own scheduler, its own delivery — sends the daily
/// digest to the SPA and the weekly summary to the SLT through real Postfix into real
/// Dovecot, with the open case's row (RAG, case, clock, due) and the triage count. The
/// messages are processed first, so that the daemon's first tick sees them; the
/// schedules fall at midnight, so both are due whenever the suite runs.
#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_sends_the_digest_and_the_weekly_summary_with_their_rows_and_triage_count() {
    let _shared = SERVERS.read().await;
    let prefix = format!("W{}", fastrand::u32(10_000..99_999));
    let db = sqlite();
    let dir = tempfile::tempdir().unwrap();
    let folder = crate::mailstack::unique_folder("digest");
    let config = outbound_config_in(&prefix, &db.url, dir.path(), &folder);
    let path = dir.path().join("cspr.toml");
    let toml = std::fs::read_to_string(&path).unwrap();
    let toml = toml
        .replace(
            "digest_roles = []\nweekly_roles = []",
            "digest = \"0 0 0 * * *\"\ndigest_roles = [\"spa\"]\nweekly = \"0 0 0 * * *\"\nweekly_roles = [\"slt\"]",
        )
        .replace(
            "mailbox = \"chscp@test.local\"",
            &format!("mailbox = \"chscp@test.local\"\nshort_name = \"{prefix}\""),
        );
    std::fs::write(&path, toml).unwrap();
    let mut setup = session("chscp").await;
    crate::mailstack::create_folder(&mut setup, &folder).await;
    let _ = setup.logout().await;

    let store = Store::open(&db.url).await.unwrap();
    let now = Utc::now().to_rfc3339();
    arrive(&store, &config, 1, &crate::delivery_faults::notification(&prefix), &now).await;
    let reference = format!("{prefix}-{}-001", cspr::domain::london_date(&Utc::now()).format("%Y"));
    let forged =
        mail("icsc@test.local", &format!("Re: [{reference}] x"), &Utc::now().to_rfc2822(), "CLOSE done", false);
    arrive(&store, &config, 2, &forged, &now).await;
    let case = store.load_case(&cspr::domain::case::CaseRef::parse(&reference).unwrap()).await.unwrap().unwrap();
    let due = cspr::domain::format_long(case.running(cspr::domain::clock::ClockId::C3).unwrap().due_in_force());

    let mut daemon = std::process::Command::new(env!("CARGO_BIN_EXE_cspr"))
        .args(["run", "--config", &path.display().to_string()])
        .env("CSPR__MAILBOX__PASSWORD", "chscp-pass")
        .env("CSPR__OUTBOUND__PASSWORD", "chscp-pass")
        .env("CSPR_LOG", "warn")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (digest_subject, weekly_subject) = (format!("{prefix} daily digest"), format!("{prefix} weekly summary"));
    let arrived = crate::mailstack::eventually(std::time::Duration::from_secs(60), || async {
        !whole("spa", &digest_subject).await.is_empty() && !whole("slt", &weekly_subject).await.is_empty()
    })
    .await;
    let _ = std::process::Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status();
    assert_eq!(daemon.wait().unwrap().code(), Some(0), "stopped cleanly");
    assert!(arrived, "the digest and the weekly summary arrived");

    let parse = |raw: &[u8]| {
        let m = mail_parser::MessageParser::default().parse(raw).unwrap();
        (m.body_text(0).unwrap().replace("\r\n", "\n"), m.body_html(0).map(|h| h.into_owned()).unwrap_or_default())
    };
    let (digest, html) = parse(&whole("spa", &digest_subject).await[0]);
    assert!(digest.contains("Open cases: 1\n"), "{digest}");
    let row = digest.lines().find(|l| l.contains(&reference)).unwrap_or_else(|| panic!("{digest}"));
    assert!(row.starts_with("GREEN") && row.contains(&format!("C3 due {due}")), "{row}");
    assert!(digest.contains("Held for triage (1)"), "{digest}");
    assert!(html.contains(&reference) && html.contains("Held for triage: 1"), "{html}");
    assert!(!html.contains("class=") && !html.contains("<style"), "inline styles only: {html}");

    let (weekly, weekly_html) = parse(&whole("slt", &weekly_subject).await[0]);
    assert!(weekly.contains("Open cases: 1 (red 0, amber 0, green 1)"), "{weekly}");
    let row = weekly.lines().find(|l| l.contains(&reference)).unwrap_or_else(|| panic!("{weekly}"));
    assert!(row.starts_with("GREEN") && row.contains(&format!("C3 due {due}")), "{row}");
    assert!(weekly.contains("Held for triage: 1."), "{weekly}");
    assert!(!weekly_html.contains("class=") && !weekly_html.contains("<style"), "{weekly_html}");
}
