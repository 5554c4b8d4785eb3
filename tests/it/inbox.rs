//! Staff run cspr from their inbox: every command here is written as a person writes it,
//! arrives as a stored message, goes through the daemon's own ingest step, and its answer
//! goes through the daemon's own delivery step, real Postfix and real Dovecot, to the
//! mailbox where the test reads it.

use chrono::{DateTime, Utc};
use cspr::config::{Config, MailboxSource};
use cspr::domain::Role;
use cspr::domain::RoleMembers;
use cspr::domain::case::{CaseRef, CaseState};
use cspr::domain::clock::ClockId;
use cspr::jobs::deliver::{Delivery, Outbox};
use cspr::outbound::{Templates, Transport};
use cspr::store::Store;

use crate::databases::{TestDb, sqlite};
use crate::mailstack::SERVERS;
use crate::outbound::{arrive, la_notification, outbound_config, whole};
use crate::scenarios::mail;

const SPA: &str = "spa@test.local";
const ICSC: &str = "icsc@test.local";
const LA: &str = "la@test.local";
/// Business support, in these tests (a mailbox the stack has).
const SUPPORT: &str = "duty@test.local";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A partnership of its own (its prefix and short name mark its mail in the shared
/// mailboxes), with business support on `duty@test.local`.
struct Desk {
    store: Store,
    config: Config,
    transport: Transport,
    templates: Templates,
    prefix: String,
    uid: std::sync::atomic::AtomicU32,
    _db: TestDb,
    dir: tempfile::TempDir,
}

impl Desk {
    async fn new() -> Self {
        let prefix = format!("I{}", fastrand::u32(10_000..99_999));
        let db = sqlite();
        let dir = tempfile::tempdir().unwrap();
        let mut config = outbound_config(&prefix, &db.url, dir.path());
        config.partnership.short_name = prefix.clone();
        config.directory.roles.insert(
            Role::BusinessSupport,
            RoleMembers { addresses: vec![cspr::domain::EmailAddress::parse(SUPPORT).unwrap()], domains: Vec::new() },
        );
        config.intake.partner_domains = vec!["nhs.test".into()];
        let store = Store::open(&db.url).await.unwrap();
        let MailboxSource::Imap(imap) = &config.mailbox else { unreachable!() };
        let transport = Transport::new(&config.outbound.transport, Some(((**imap).clone(), "Sent".into()))).unwrap();
        let templates = Templates::load(None).unwrap();
        Self { store, config, transport, templates, prefix, uid: 1.into(), _db: db, dir }
    }

    fn case(&self, n: u32) -> String {
        format!("{}-2026-{n:03}", self.prefix)
    }

    /// `raw` arrives at `when`, is processed, and everything it queued is delivered.
    async fn send(&self, raw: &str, when: &str) {
        let uid = self.uid.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        arrive(&self.store, &self.config, uid, raw, when).await;
        self.deliver(when).await;
    }

    async fn deliver(&self, when: &str) {
        let outbox =
            Outbox { store: &self.store, config: &self.config, transport: &self.transport, templates: &self.templates };
        loop {
            match outbox.try_step(at(when)).await.unwrap() {
                Delivery::Idle => break,
                Delivery::Sent(_) | Delivery::Deferred(_) => {}
                other => panic!("{other:?}"),
            }
        }
    }

    async fn load(&self, n: u32) -> CaseState {
        self.store.load_case(&CaseRef::parse(&self.case(n)).unwrap()).await.unwrap().expect("the case")
    }

    /// A reply from `from` on case `n`'s thread (its tag in the subject), `line` first.
    fn reply(&self, from: &str, n: u32, line: &str, date: &str) -> String {
        let body = format!("{line}\r\n\r\nKind regards\r\n\r\nFrom: cspr\r\nSent: earlier\r\n> an earlier email");
        mail(from, &format!("RE: [{}] Rapid Review", self.case(n)), date, &body, true)
    }

    /// A new email from `from` with `line` first.
    fn new_mail(&self, from: &str, subject: &str, line: &str, date: &str) -> String {
        mail(from, subject, date, &format!("{line}\r\n\r\nThanks\r\n"), true)
    }
}

/// The `(subject, text)` of the emails in `user`'s INBOX holding `needle`, oldest first.
async fn inbox(address: &str, needle: &str) -> Vec<(String, String)> {
    let user = address.split('@').next().unwrap_or(address);
    whole(user, needle)
        .await
        .iter()
        .map(|raw| {
            let parsed = mail_parser::MessageParser::default().parse(raw).unwrap();
            let subject = parsed.subject().unwrap_or_default().to_owned();
            (subject, parsed.body_text(0).unwrap_or_default().replace("\r\n", "\n"))
        })
        .collect()
}

/// The one email in `user`'s INBOX holding `needle` whose subject holds `subject`.
async fn one(user: &str, needle: &str, subject: &str) -> String {
    let found: Vec<_> = inbox(user, needle).await.into_iter().filter(|(s, _)| s.contains(subject)).collect();
    assert_eq!(found.len(), 1, "one '{subject}' for {user} holding {needle}: {found:#?}");
    found[0].1.clone()
}

fn unreadable_scan() -> String {
    let garbage =
        "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0KeJzLSM3JyVcozy/KSQEAGgQEvQplbmRzdHJlYW0=";
    format!(
        "Authentication-Results: mx.chscp.test; dkim=pass header.d=test.local; dmarc=pass header.from=test.local\r\n\
         From: {LA}\r\nTo: chscp@test.local\r\nSubject: FW: notification\r\nDate: Thu, 10 Dec 2026 10:00:00 +0000\r\n\
         Message-ID: <{}@test.local>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease see attached.\r\n\
         --b1\r\nContent-Type: application/pdf; name=\"notification.pdf\"\r\nContent-Disposition: attachment; filename=\"notification.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{garbage}\r\n--b1--\r\n",
        fastrand::u64(..)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_scan_is_alerted_at_once_and_a_triage_reply_opens_the_case_from_the_dates_given() {
    let _shared = SERVERS.read().await;
    let desk = Desk::new().await;
    desk.send(&unreadable_scan(), "2026-12-10T10:00:00Z").await;
    let items = desk.store.triage(true).await.unwrap();
    assert_eq!(items.len(), 1, "held for a person");
    let id = items[0].id;
    // Told at once (not in tomorrow's digest), with the lines to reply with.
    let alert = one(SPA, &desk.prefix, &format!("{} mailbox (item {id})", desk.prefix)).await;
    assert!(alert.contains(&format!("TRIAGE {id} NEW-CASE NOTIFICATION aware <date>")), "{alert}");

    let line = format!("TRIAGE {id} NEW-CASE NOTIFICATION aware 08/12/2026 notified 10/12/2026 la Hackney");
    desk.send(
        &desk.new_mail(
            SPA,
            &format!("RE: A message is held for triage in the {} mailbox", desk.prefix),
            &line,
            "Thu, 10 Dec 2026 11:00:00 +0000",
        ),
        "2026-12-10T11:00:00Z",
    )
    .await;
    let case = desk.load(1).await;
    assert_eq!(case.notification.aware_date, chrono::NaiveDate::from_ymd_opt(2026, 12, 8));
    assert_eq!(case.notification.local_authority.as_deref(), Some("London Borough of Hackney"));
    let c3 = case.running(ClockId::C3).expect("C3 runs");
    assert_eq!(c3.started.to_string(), "2026-12-10", "from the date the person gave");
    assert_eq!(c3.due_in_force().to_string(), "2027-01-05");
    assert!(desk.store.triage(true).await.unwrap().is_empty(), "resolved");
    // The local authority is acknowledged, the SPA told what was done.
    let ack = one(LA, &desk.case(1), "Notification received").await;
    assert!(ack.contains("Tuesday 5 January 2027"), "{ack}");
    let done = one(SPA, &desk.case(1), "Done: TRIAGE").await;
    assert!(done.contains(&format!("item {id} resolved: {}", desk.case(1))), "{done}");
    let chronology = desk.store.audit(&desk.case(1)).await.unwrap();
    assert!(chronology.iter().any(|a| a.event == "released_from_triage" && a.actor.as_deref() == Some(SPA)));

    // The same order again: the item is no longer open, and the sender is told so.
    let again = format!("TRIAGE {id} IGNORE a copy of {}", desk.case(1));
    desk.send(&desk.new_mail(SPA, "triage", &again, "Thu, 10 Dec 2026 11:30:00 +0000"), "2026-12-10T11:30:00Z").await;
    let refused = inbox(SPA, &again).await;
    assert_eq!(refused.len(), 1, "{refused:#?}");
    assert!(refused[0].0.contains("Not done: TRIAGE") && refused[0].1.contains(&format!("no open triage item {id}")));
}

#[tokio::test(flavor = "multi_thread")]
async fn panel_notified_moves_c3_and_its_reminders_and_the_reply_lists_the_new_due_date() {
    let _shared = SERVERS.read().await;
    let desk = Desk::new().await;
    desk.send(&la_notification(&format!("SIN-2026-{}", fastrand::u32(10_000..99_999))), "2026-12-10T10:00:00Z").await;
    assert_eq!(desk.load(1).await.running(ClockId::C3).unwrap().due_in_force().to_string(), "2027-01-05");
    // The new-case email to the SPA ends with what applies now.
    let new_case = one(SPA, &desk.case(1), "New notification").await;
    assert!(new_case.contains("Reply with one of these") && new_case.contains("SUBMITTED [date]"), "{new_case}");

    desk.send(
        &desk.reply(SPA, 1, "PANEL-NOTIFIED 14/12/2026", "Fri, 11 Dec 2026 09:00:00 +0000"),
        "2026-12-11T09:00:00Z",
    )
    .await;
    let case = desk.load(1).await;
    assert_eq!(case.notification.notified_date.unwrap().to_string(), "2026-12-14");
    assert_eq!(case.running(ClockId::C3).unwrap().due_in_force().to_string(), "2027-01-07");
    let done = one(SPA, &desk.case(1), "Done: PANEL-NOTIFIED").await;
    assert!(done.contains("was Thursday 10 December 2026, now Monday 14 December 2026"), "{done}");
    assert!(done.contains("C3 due Thursday 7 January 2027"), "{done}");
    let chronology = desk.store.audit(&desk.case(1)).await.unwrap();
    let entry = chronology.iter().find(|a| a.event == "fact_corrected").expect("recorded");
    assert_eq!(entry.actor.as_deref(), Some(SPA));
    assert!(chronology.iter().any(|a| a.event == "clock_moved"));

    // The reminders follow the new due date: two working days before it, the SPA is
    // reminded of 7 January, never of 5 January.
    cspr::jobs::tick::run(&desk.store, &desk.config, at("2027-01-05T08:30:00Z")).await.unwrap();
    desk.deliver("2027-01-05T08:31:00Z").await;
    let reminders: Vec<_> =
        inbox(SPA, &desk.case(1)).await.into_iter().filter(|(s, _)| s.contains("Reminder")).collect();
    assert!(!reminders.is_empty(), "a reminder went");
    assert!(reminders.iter().all(|(s, _)| s.contains("Thursday 7 January 2027")), "{reminders:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_authoritys_correction_is_a_proposal_the_spa_accepts_with_one_line() {
    let _shared = SERVERS.read().await;
    let desk = Desk::new().await;
    desk.send(&la_notification(&format!("SIN-2026-{}", fastrand::u32(10_000..99_999))), "2026-12-10T10:00:00Z").await;
    desk.send(&desk.reply(LA, 1, "AWARE 07/12/2026", "Thu, 10 Dec 2026 12:00:00 +0000"), "2026-12-10T12:00:00Z").await;
    assert_eq!(desk.load(1).await.notification.aware_date.unwrap().to_string(), "2026-12-08", "not changed yet");
    let proposal = one(SPA, &desk.case(1), "Correction proposed: AWARE 07/12/2026").await;
    assert!(
        proposal.contains("The local authority proposes") && proposal.contains("    AWARE 07/12/2026"),
        "{proposal}"
    );
    let thanks = one(LA, &desk.case(1), "AWARE").await;
    assert!(thanks.contains("has gone to the SPA"), "{thanks}");

    desk.send(&desk.reply(SPA, 1, "AWARE 07/12/2026", "Thu, 10 Dec 2026 13:00:00 +0000"), "2026-12-10T13:00:00Z").await;
    assert_eq!(desk.load(1).await.notification.aware_date.unwrap().to_string(), "2026-12-07");
    let chronology = desk.store.audit(&desk.case(1)).await.unwrap();
    let proposed = chronology.iter().find(|a| a.event == "correction_proposed").unwrap();
    assert_eq!(proposed.actor.as_deref(), Some(LA));
    let corrected = chronology.iter().find(|a| a.event == "fact_corrected").unwrap();
    assert_eq!(corrected.actor.as_deref(), Some(SPA));
    assert!(corrected.detail.contains("Tuesday 8 December 2026, now Monday 7 December 2026"), "{}", corrected.detail);
}

#[tokio::test(flavor = "multi_thread")]
async fn business_support_opens_a_case_by_hand_and_may_not_decide() {
    let _shared = SERVERS.read().await;
    let desk = Desk::new().await;
    let line = format!(
        "OPEN NOTIFICATION Hackney aware 08/12/2026 notified 10/12/2026 ref SIN-2026-{} type serious harm",
        fastrand::u32(10_000..99_999)
    );
    desk.send(
        &desk.new_mail(SUPPORT, "Notification by phone", &line, "Thu, 10 Dec 2026 10:00:00 +0000"),
        "2026-12-10T10:00:00Z",
    )
    .await;
    let case = desk.load(1).await;
    assert_eq!(case.running(ClockId::C3).unwrap().due_in_force().to_string(), "2027-01-05");
    let done = one(SUPPORT, &desk.case(1), "Done: OPEN").await;
    assert!(
        done.contains(&format!("case {} opened", desk.case(1))) && done.contains("C3 due Tuesday 5 January 2027"),
        "{done}"
    );
    assert!(
        inbox(SUPPORT, &desk.case(1)).await.iter().all(|(s, _)| !s.contains("Notification received")),
        "no acknowledgement to staff"
    );

    desk.send(&desk.reply(SUPPORT, 1, "DECISION CSPR", "Thu, 10 Dec 2026 11:00:00 +0000"), "2026-12-10T11:00:00Z")
        .await;
    let refused = one(SUPPORT, &desk.case(1), "Not done: DECISION").await;
    assert!(refused.contains("DECISION may be given only by ICSC or SPA"), "{refused}");
    assert!(desk.load(1).await.decision.is_none());
    // A correction from business support is a proposal.
    desk.send(&desk.reply(SUPPORT, 1, "CHILDREN 2", "Thu, 10 Dec 2026 11:30:00 +0000"), "2026-12-10T11:30:00Z").await;
    one(SPA, &desk.case(1), "Correction proposed: CHILDREN 2").await;
    assert_eq!(desk.load(1).await.notification.children, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn confirm_starts_c7_on_a_partner_agencys_provisional_request() {
    let _shared = SERVERS.read().await;
    let desk = Desk::new().await;
    let request = mail(
        "safeguarding.lead@nhs.test",
        "Request for consideration of a local child safeguarding practice review",
        "Thu, 10 Dec 2026 10:00:00 +0000",
        "We would like to request that the Case Review sub-group consider whether a local child safeguarding practice review should be undertaken for a child known to our services in Hackney.",
        true,
    );
    desk.send(&request, "2026-12-10T10:00:00Z").await;
    let case = desk.load(1).await;
    assert!(case.provisional && case.running(ClockId::C7).is_none(), "{case:?}");
    desk.send(&desk.reply(SPA, 1, "CONFIRM", "Thu, 10 Dec 2026 12:00:00 +0000"), "2026-12-10T12:00:00Z").await;
    let case = desk.load(1).await;
    assert!(!case.provisional);
    let c7 = case.running(ClockId::C7).expect("C7 runs");
    assert_eq!(c7.started.to_string(), "2026-12-10", "from the request's receipt");
    let done = one(SPA, &desk.case(1), "Done: CONFIRM").await;
    assert!(done.contains("request confirmed") && done.contains("(C7)"), "{done}");
}

#[tokio::test(flavor = "multi_thread")]
async fn merge_joins_a_duplicate_into_the_case_it_names_from_the_earliest_facts() {
    let _shared = SERVERS.read().await;
    let desk = Desk::new().await;
    desk.send(&la_notification(&format!("SIN-2026-{}", fastrand::u32(10_000..99_999))), "2026-12-10T10:00:00Z").await;
    // The same incident, forwarded again without the Panel reference and with an
    // earlier awareness date: a second case.
    let copy = mail(
        LA,
        "Fwd: serious incident",
        "Thu, 10 Dec 2026 12:00:00 +0000",
        "Forwarding our notification.\r\n\r\nLocal authority: Hackney\r\nIncident type: Serious harm\r\n\
         Date LA became aware: 07/12/2026\r\nDate notified to the Panel: 10/12/2026\r\n",
        true,
    );
    desk.send(&copy, "2026-12-10T12:00:00Z").await;
    assert_eq!(desk.load(2).await.reference.to_string(), desk.case(2));

    let line = format!("MERGE {}", desk.case(1));
    desk.send(&desk.reply(ICSC, 2, &line, "Fri, 11 Dec 2026 09:00:00 +0000"), "2026-12-11T09:00:00Z").await;
    let (kept, duplicate) = (desk.load(1).await, desk.load(2).await);
    assert!(duplicate.is_closed() && duplicate.merged_into.as_ref().map(ToString::to_string) == Some(desk.case(1)));
    assert_eq!(kept.notification.aware_date.unwrap().to_string(), "2026-12-07", "the earliest");
    assert!(kept.related.iter().any(|r| r.to_string() == desk.case(2)));
    // Its messages and chronology moved.
    assert!(desk.store.case_messages(&desk.case(2)).await.unwrap().is_empty());
    assert!(desk.store.case_messages(&desk.case(1)).await.unwrap().len() >= 3);
    let chronology = desk.store.audit(&desk.case(1)).await.unwrap();
    assert_eq!(chronology.iter().filter(|a| a.event == "case_opened").count(), 2, "both openings, now here");
    let left = desk.store.audit(&desk.case(2)).await.unwrap();
    assert!(left.iter().any(|a| a.event == "case_merged_into"), "{left:?}");
    let done = one(ICSC, &desk.case(1), "Done: MERGE").await;
    assert!(done.contains(&format!("{} joined into {}", desk.case(2), desk.case(1))), "{done}");
}

#[tokio::test(flavor = "multi_thread")]
async fn close_says_what_it_stopped_and_reopen_runs_it_again() {
    let _shared = SERVERS.read().await;
    let desk = Desk::new().await;
    desk.send(&la_notification(&format!("SIN-2026-{}", fastrand::u32(10_000..99_999))), "2026-12-10T10:00:00Z").await;
    desk.send(&desk.reply(ICSC, 1, "CLOSE opened in error", "Thu, 10 Dec 2026 11:00:00 +0000"), "2026-12-10T11:00:00Z")
        .await;
    assert!(desk.load(1).await.is_closed());
    let closed = one(ICSC, &desk.case(1), "Done: CLOSE").await;
    assert!(closed.contains("C3 stopped") && closed.contains("REOPEN <reason>"), "{closed}");
    desk.send(
        &desk.reply(ICSC, 1, "REOPEN closed by mistake", "Thu, 10 Dec 2026 12:00:00 +0000"),
        "2026-12-10T12:00:00Z",
    )
    .await;
    let case = desk.load(1).await;
    assert!(!case.is_closed());
    assert_eq!(case.running(ClockId::C3).unwrap().due_in_force().to_string(), "2027-01-05");
    let reopened = one(ICSC, &desk.case(1), "Done: REOPEN").await;
    assert!(reopened.contains("C3 due Tuesday 5 January 2027"), "{reopened}");
}

#[tokio::test(flavor = "multi_thread")]
async fn help_and_status_answer_and_a_reply_without_a_command_is_answered_once() {
    let _shared = SERVERS.read().await;
    let desk = Desk::new().await;
    desk.send(&la_notification(&format!("SIN-2026-{}", fastrand::u32(10_000..99_999))), "2026-12-10T10:00:00Z").await;
    desk.send(&desk.reply(SPA, 1, "HELP", "Thu, 10 Dec 2026 11:00:00 +0000"), "2026-12-10T11:00:00Z").await;
    let help = one(SPA, &desk.case(1), "] HELP").await;
    assert!(help.contains("SUBMITTED [date]") && help.contains("PANEL-NOTIFIED <date>"), "{help}");
    assert!(!help.contains("APPROVE"), "only what the SPA may send now: {help}");
    desk.send(&desk.reply(SPA, 1, "STATUS", "Thu, 10 Dec 2026 11:10:00 +0000"), "2026-12-10T11:10:00Z").await;
    let status = one(SPA, &desk.case(1), "] STATUS").await;
    assert!(status.contains("C3  due Tuesday 5 January 2027"), "{status}");

    for (n, minute) in [(1, "20"), (2, "30")] {
        let text = format!("Thanks — we will get the panel pack together ({n}).");
        desk.send(
            &desk.reply(ICSC, 1, &text, &format!("Thu, 10 Dec 2026 11:{minute}:00 +0000")),
            &format!("2026-12-10T11:{minute}:00Z"),
        )
        .await;
    }
    let filed = inbox(ICSC, &desk.case(1)).await.into_iter().filter(|(s, _)| s.contains("Your reply is filed")).count();
    assert_eq!(filed, 1, "answered once on the case");
    // A local authority's reply with no command goes to the SPA, without its words.
    desk.send(
        &desk.reply(
            LA,
            1,
            "Many thanks for confirming. The family have moved to Essex.",
            "Thu, 10 Dec 2026 11:40:00 +0000",
        ),
        "2026-12-10T11:40:00Z",
    )
    .await;
    let passed = one(SPA, &desk.case(1), "The local authority replied").await;
    assert!(!passed.contains("Essex"), "{passed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cspr_open_at_the_console_opens_the_case_as_the_open_command_does() {
    let _shared = SERVERS.read().await;
    let desk = Desk::new().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cspr"))
        .args(["open", "notification", "City", "of", "London", "aware", "08/12/2026", "notified", "10/12/2026"])
        .args(["--by", "Ann Officer", "--config"])
        .arg(desk.dir.path().join("cspr.toml"))
        .env("CSPR__MAILBOX__PASSWORD", "chscp-pass")
        .env("CSPR__OUTBOUND__PASSWORD", "chscp-pass")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{printed} {}", String::from_utf8_lossy(&output.stderr));
    let reference = printed.lines().next().and_then(|l| l.strip_prefix("opened ")).expect("the reference").to_owned();
    assert!(printed.contains("C3 due Tuesday 5 January 2027"), "{printed}");
    let case = desk.store.load_case(&CaseRef::parse(&reference).unwrap()).await.unwrap().unwrap();
    assert_eq!(case.notification.local_authority.as_deref(), Some("City of London Corporation"));
    let chronology = desk.store.audit(&reference).await.unwrap();
    assert!(
        chronology.iter().any(|a| a.event == "case_opened" && a.actor.as_deref() == Some("Ann Officer (cspr open)"))
    );
    // The SPA and ICSC are told, as for any new case; nobody is acknowledged.
    desk.deliver(&Utc::now().to_rfc3339()).await;
    let told = one(ICSC, &reference, "New notification").await;
    assert!(told.contains("Tuesday 5 January 2027"), "{told}");

    // Words that do not read are refused before anything is written.
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_cspr"))
        .args(["open", "notification", "Hackney", "aware", "last", "week", "--config"])
        .arg(desk.dir.path().join("cspr.toml"))
        .env("CSPR__MAILBOX__PASSWORD", "chscp-pass")
        .env("CSPR__OUTBOUND__PASSWORD", "chscp-pass")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("'last week' is not a date"));
}
