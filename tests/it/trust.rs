//! The trust boundary end to end, on SQLite and PostgreSQL: what a forged sender can and
//! cannot do, and what a person's release from triage does and does not vouch for.

use crate::databases::both;
use crate::scenarios::{World, mail, notification};

const LA: &str = "social.worker@hackney.gov.uk";
const ICSC: &str = "icsc@hackney.gov.uk";
const CASE: &str = "CHSCP-2026-001";

/// Releases triage item `id` to `case` from the command line as `by`.
fn release(w: &World, id: i64, case: &str, by: &str) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cspr"))
        .args(["triage", "resolve", &id.to_string(), "--case", case, "--by", by, "--config", &w.config_path])
        .env("CSPR__STORE__URL", &w.db.url)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn a_released_forged_close_changes_nothing_and_the_chronology_names_the_releaser() {
    for db in both().await {
        let mut w = World::new(db).await;
        w.deliver(
            notification(LA, "16/11/2026", "18/11/2026", "SIN-2026-07001", "", "Thu, 19 Nov 2026 10:00:00 +0000", true),
            "2026-11-19T10:05:00Z",
        )
        .await;
        // The ICSC's address, but our server found no DMARC pass: held for a person.
        let forged = mail(
            ICSC,
            &format!("Re: [{CASE}] Rapid Review reminder"),
            "Fri, 20 Nov 2026 10:00:00 +0000",
            "CLOSE no further action",
            false,
        );
        w.deliver(forged, "2026-11-20T10:01:00Z").await;
        let triage = w.store.triage(true).await.unwrap();
        assert_eq!(triage.len(), 1, "{}", w.db.name);
        assert!(triage[0].reason.contains("not authenticated"), "{}", triage[0].reason);
        let before = w.case(CASE).await;

        let printed = release(&w, triage[0].id, CASE, "duty.officer");
        assert!(printed.contains(CASE), "{printed}");

        let after = w.case(CASE).await;
        assert!(!after.is_closed(), "{}: a released CLOSE is not run", w.db.name);
        assert_eq!(after.clocks, before.clocks, "{}: no clock changed", w.db.name);
        assert!(w.store.triage(true).await.unwrap().is_empty(), "the item is resolved");
        let audit = w.store.audit(CASE).await.unwrap();
        let released: Vec<_> = audit.iter().filter(|a| a.event == "released_from_triage").collect();
        assert_eq!(released.len(), 1, "{}: {audit:?}", w.db.name);
        let releaser = Some("duty.officer (cspr triage resolve)");
        assert_eq!(released[0].actor.as_deref(), releaser);
        assert!(released[0].detail.contains(&format!("claimed sender {ICSC}")), "{}", released[0].detail);
        let not_run: Vec<_> = audit.iter().filter(|a| a.event == "command_not_run").collect();
        assert_eq!(not_run.len(), 1, "{audit:?}");
        assert_eq!(not_run[0].actor.as_deref(), releaser);
        assert!(!audit.iter().any(|a| a.event == "closed"), "{audit:?}");
        // Nothing in the chronology is in the claimed sender's name.
        assert!(!audit.iter().any(|a| a.actor.as_deref() == Some(ICSC)), "{audit:?}");
    }
}

/// Whole messages in `user`'s `folder` whose text holds `needle`.
async fn bodies(user: &str, folder: &str, needle: &str) -> Vec<String> {
    use futures::TryStreamExt;
    let mut s = crate::mailstack::session(user).await;
    s.examine(folder).await.unwrap();
    let fetches: Vec<_> = s.fetch("1:*", "BODY.PEEK[]").await.unwrap().try_collect().await.unwrap_or_default();
    let _ = s.logout().await;
    fetches
        .iter()
        .filter_map(|f| f.body().map(|b| String::from_utf8_lossy(b).replace("=\r\n", "")))
        .filter(|m| m.contains(needle))
        .collect()
}

/// What follows `APPROVE ` on its line in an email's text.
fn approve_line(email: &str) -> String {
    let line = email.lines().find_map(|l| l.trim().strip_prefix("APPROVE ")).expect("an APPROVE line");
    line.trim().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sent_copy_of_an_approval_request_carries_no_token_that_counts() {
    use chrono::{DateTime, Utc};
    use cspr::config::MailboxSource;
    use cspr::domain::clock::ClockId;
    use cspr::jobs::deliver::{Delivery, Outbox};
    use cspr::outbound::{Templates, Transport};
    use cspr::store::Store;

    let _shared = crate::mailstack::SERVERS.read().await;
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    let prefix = format!("A{}", fastrand::u32(10_000..99_999));
    let case = format!("{prefix}-2026-001");
    let db = crate::databases::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::outbound::outbound_config(&prefix, &db.url, dir.path());
    config.approvals.token_secret = Some(secrecy::SecretString::from("the partnership's approval secret, long enough"));
    let store = Store::open(&db.url).await.unwrap();
    let MailboxSource::Imap(imap) = &config.mailbox else { unreachable!() };
    let transport = Transport::new(&config.outbound.transport, Some(((**imap).clone(), "Sent".into()))).unwrap();
    let templates = Templates::load(None).unwrap();
    let outbox = Outbox { store: &store, config: &config, transport: &transport, templates: &templates };
    let mut uid = 0;
    let mut deliver = async |raw: String, when: &str| {
        uid += 1;
        crate::outbound::arrive(&store, &config, uid, &raw, when).await;
    };
    deliver(crate::outbound::la_notification("SIN-2026-08001"), "2026-12-10T10:00:00Z").await;
    let reply = |line: &str, date: &str| mail("icsc@test.local", &format!("Re: [{case}] Reminder"), date, line, true);
    deliver(reply("DECISION CSPR 05/01/2027", "Tue, 5 Jan 2027 12:00:00 +0000"), "2027-01-05T12:01:00Z").await;
    deliver(
        reply("DELAY 30/09/2027 the police investigation is not complete", "Tue, 1 Jun 2027 09:00:00 +0100"),
        "2027-06-01T08:01:00Z",
    )
    .await;
    // Everything goes, inside the sending window.
    loop {
        match outbox.try_step(at("2027-06-01T09:00:00Z")).await.unwrap() {
            Delivery::Idle => break,
            Delivery::Sent(_) | Delivery::Deferred(_) => {}
            other => {
                let why: Vec<_> = store.outbox(None).await.unwrap().into_iter().filter_map(|r| r.last_error).collect();
                panic!("{other:?}: {why:?}")
            }
        }
    }
    let c6 = |state: &cspr::domain::case::CaseState| {
        state.clocks.iter().find(|c| c.clock == ClockId::C6).unwrap().due_in_force().to_string()
    };
    let tag = format!("[{case}] Approval needed");
    let mine = bodies("slt", "INBOX", &tag).await;
    assert_eq!(mine.len(), 1, "the approver's own email");
    let token = approve_line(&mine[0]);
    assert!(token.starts_with("1-"), "{token}");
    let copies = bodies("chscp", "Sent", &tag).await;
    assert_eq!(copies.len(), 2, "a copy of each approver's request in Sent");
    for copy in &copies {
        assert!(!copy.contains(&token), "no token in the shared mailbox's copy");
        assert!(copy.contains("token withheld from this copy"), "{copy}");
    }

    // Whatever the Sent copy shows, sent back from the approver's own address, moves nothing.
    let lifted = approve_line(&copies[0]);
    deliver(
        mail(
            "slt@test.local",
            &format!("Re: {tag}"),
            "Wed, 2 Jun 2027 09:00:00 +0100",
            &format!("APPROVE {lifted}"),
            true,
        ),
        "2027-06-02T08:01:00Z",
    )
    .await;
    let state = store.load_case(&cspr::domain::case::CaseRef::parse(&case).unwrap()).await.unwrap().unwrap();
    assert_eq!(c6(&state), "2027-07-05", "a token lifted from Sent does not count");
    let audit = store.audit(&case).await.unwrap();
    assert!(audit.iter().any(|a| a.event == "approval_rejected"), "{audit:?}");
    // The approver's own token does.
    deliver(
        mail(
            "slt@test.local",
            &format!("Re: {tag}"),
            "Wed, 2 Jun 2027 09:05:00 +0100",
            &format!("APPROVE {token}"),
            true,
        ),
        "2027-06-02T08:06:00Z",
    )
    .await;
    let state = store.load_case(&cspr::domain::case::CaseRef::parse(&case).unwrap()).await.unwrap().unwrap();
    assert_eq!(c6(&state), "2027-09-30");
}

/// A delivery status notification for an email of `case`'s, as Postfix returns it.
fn bounce(case: &str, date: &str) -> String {
    format!(
        "Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.chscp.test>\r\nTo: chscp@hackney.gov.uk\r\n\
         Subject: Undelivered Mail Returned to Sender: [{case}] Rapid Review reminder\r\nDate: {date}\r\n\
         Message-ID: <{}@mx.chscp.test>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\
         --b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.chscp.test\r\n\r\n\
         Final-Recipient: rfc822; old.address@hackney.gov.uk\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b1--\r\n",
        fastrand::u64(..)
    )
}

#[tokio::test]
async fn bounces_gather_into_one_alert_per_ten_minutes_with_their_count() {
    for db in both().await {
        let mut w = World::new(db).await;
        w.deliver(
            notification(LA, "16/11/2026", "18/11/2026", "SIN-2026-07002", "", "Thu, 19 Nov 2026 10:00:00 +0000", true),
            "2026-11-19T10:05:00Z",
        )
        .await;
        for (date, when) in [
            ("Mon, 23 Nov 2026 10:01:00 +0000", "2026-11-23T10:01:00Z"),
            ("Mon, 23 Nov 2026 10:03:00 +0000", "2026-11-23T10:03:00Z"),
            ("Mon, 23 Nov 2026 10:09:59 +0000", "2026-11-23T10:09:59Z"),
            ("Mon, 23 Nov 2026 10:12:00 +0000", "2026-11-23T10:12:00Z"),
        ] {
            w.deliver(bounce(CASE, date), when).await;
        }
        let alerts: Vec<_> =
            w.store.outbox(None).await.unwrap().into_iter().filter(|r| r.template == "bounce_alert").collect();
        let seen: Vec<(u32, Option<String>)> =
            alerts.iter().map(|a| (a.coalesced, a.next_attempt_at.as_deref().map(|t| t[..16].to_owned()))).collect();
        assert_eq!(
            seen,
            [(3, Some("2026-11-23T10:10".to_owned())), (1, Some("2026-11-23T10:20".to_owned()))],
            "{}",
            w.db.name
        );
        // Each bounce is still in the case's chronology, in no sender's name.
        let audit = w.store.audit(CASE).await.unwrap();
        let bounces: Vec<_> = audit.iter().filter(|a| a.event == "bounce").collect();
        assert_eq!(bounces.len(), 4);
        assert!(bounces.iter().all(|a| a.actor.is_none()), "{bounces:?}");
        assert!(bounces[0].detail.contains("claimed sender MAILER-DAEMON@mx.chscp.test"), "{}", bounces[0].detail);
    }
}

/// A worried teacher's email, meant for the children's social care front door.
fn referral(from: &str, pass: bool, date: &str) -> String {
    mail(
        from,
        "Concern about a pupil - urgent",
        date,
        "I'm worried about a child in my class. She came in today with bruising and said she was scared to go home.",
        pass,
    )
}

#[tokio::test]
async fn a_referral_is_answered_only_at_an_authenticated_address_once_a_day_and_always_alerted() {
    for db in both().await {
        let mut w = World::new(db).await;
        let teacher = "s.whitfield@leabridgemeadows.sch.test";
        let forged = "head@innocent-school.sch.test";
        w.deliver(referral(teacher, true, "Mon, 23 Nov 2026 09:00:00 +0000"), "2026-11-23T09:00:10Z").await;
        w.deliver(referral(teacher, true, "Mon, 23 Nov 2026 15:00:00 +0000"), "2026-11-23T15:00:10Z").await;
        w.deliver(referral(forged, false, "Mon, 23 Nov 2026 16:00:00 +0000"), "2026-11-23T16:00:10Z").await;
        w.deliver(referral(teacher, true, "Tue, 24 Nov 2026 09:00:00 +0000"), "2026-11-24T09:00:10Z").await;
        let rows = w.store.outbox(None).await.unwrap();
        let to = |template: &str| -> Vec<String> {
            rows.iter().filter(|r| r.template == template).map(|r| format!("{:?}", r.recipients)).collect()
        };
        assert_eq!(to("referral_alert").len(), 4, "{}: every referral reaches a person at once, unmerged", w.db.name);
        assert!(
            rows.iter().filter(|r| r.template == "referral_alert").all(|r| r.urgent && r.next_attempt_at.is_none())
        );
        let replies = to("referral_reply");
        assert_eq!(replies.len(), 2, "{}: one a day to the teacher: {replies:?}", w.db.name);
        assert!(replies.iter().all(|r| r.contains(teacher)));
        assert!(!replies.iter().any(|r| r.contains(forged)), "no backscatter to a forged address");
    }
}
