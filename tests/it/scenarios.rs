//! Whole cases walked with an injected clock, on SQLite and on PostgreSQL: each
//! message is stored, then one ingest step processes it at the given moment.

use chrono::{DateTime, Utc};
use cspr::config::{Config, Sources, load};
use cspr::domain::case::{CaseState, ClockStatus};
use cspr::domain::clock::ClockId;
use cspr::jobs::ingest::{Outcome, try_step};
use cspr::store::{NewMessage, Store};

use crate::databases::{TestDb, both};

pub struct World {
    pub store: Store,
    pub config: Config,
    pub db: TestDb,
    pub config_path: String,
    sent: usize,
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

impl World {
    pub async fn new(db: TestDb) -> Self {
        Self::with_env(db, &[]).await
    }

    /// With extra `CSPR__…` overrides.
    pub async fn with_env(db: TestDb, extra: &[(&str, &str)]) -> Self {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inspect/cspr.toml");
        let mut env = vec![("CSPR__STORE__URL".to_owned(), db.url.clone())];
        env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let sources = Sources { file: Some(dir.clone()), env, credentials_dir: None };
        let config = load(&sources).unwrap();
        let store = Store::open(&db.url).await.unwrap();
        Self { store, config, db, config_path: dir.display().to_string(), sent: 0 }
    }

    /// Stores `raw` as arriving at `when` and processes it then.
    pub async fn deliver(&mut self, raw: String, when: &str) {
        self.sent += 1;
        let now = at(when);
        let message = NewMessage {
            truncated_from: None,
            source: "scenario",
            uidvalidity: Some(1),
            uid: Some(self.sent as u32),
            raw: raw.as_bytes(),
            arrived_at: now,
        };
        self.store.store_message(&message).await.unwrap();
        assert!(matches!(try_step(&self.store, &self.config, now).await.unwrap(), Outcome::Processed(_)));
    }

    pub async fn case(&self, reference: &str) -> CaseState {
        self.store
            .load_case(&cspr::domain::case::CaseRef::parse(reference).unwrap())
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{}: no case {reference}", self.db.name))
    }

    pub async fn events(&self, reference: &str) -> Vec<String> {
        self.store.audit(reference).await.unwrap().into_iter().map(|a| a.event).collect()
    }

    pub async fn templates(&self) -> Vec<String> {
        self.store.intents().await.unwrap().into_iter().map(|i| i.template).collect()
    }
}

fn clock(state: &CaseState, id: ClockId) -> (String, String, ClockStatus) {
    let c =
        state.clocks.iter().rev().find(|c| c.clock == id).unwrap_or_else(|| panic!("no {id} on {}", state.reference));
    (c.started.to_string(), c.due_in_force().to_string(), c.status)
}

/// An authenticated message, as our receiving server would stamp it.
pub fn mail(from: &str, subject: &str, date: &str, body: &str, pass: bool) -> String {
    let domain = from.rsplit('@').next().unwrap();
    let verdict = if pass { "pass" } else { "fail" };
    format!(
        "Authentication-Results: mx.chscp.test; dkim={verdict} header.d={domain}; dmarc={verdict} header.from={domain}\r\n\
         From: {from}\r\nTo: chscp@hackney.gov.uk\r\nSubject: {subject}\r\nDate: {date}\r\n\
         Message-ID: <{}@{domain}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        fastrand::u64(..)
    )
}

pub fn notification(
    from: &str,
    aware: &str,
    notified: &str,
    panel_ref: &str,
    extra: &str,
    date: &str,
    pass: bool,
) -> String {
    let body = format!(
        "Please find our notification below.\r\n\r\n________________________________\r\n\
         From: Duty Manager <duty.manager@hackney.gov.uk>\r\nSent: {date}\r\nTo: Mailbox.NationalReviewPanel@education.gov.uk\r\n\
         Subject: Serious incident notification\r\n\r\nLocal authority: Hackney\r\nIncident type: {}\r\n\
         Date LA became aware: {aware}\r\nDate notified to the Panel: {notified}\r\nPanel reference: {panel_ref}\r\n\
         Child's name: Alex Example\r\nNumber of children: 1\r\n{extra}",
        if extra.contains("Looked after child: Yes") { "Death" } else { "Serious harm" }
    );
    mail(from, "FW: Serious incident notification", date, &body, pass)
}

/// The same incident forwarded by a colleague of the LA's, without the Panel reference
/// and with an earlier awareness date: a second case until someone merges it.
pub fn colleague_copy() -> String {
    mail(
        "duty.team@hackney.gov.uk",
        "Fwd: serious incident",
        "Thu, 19 Nov 2026 12:00:00 +0000",
        "Local authority: Hackney\r\nIncident type: Serious harm\r\nDate LA became aware: 13/11/2026\r\n\
         Date notified to the Panel: 18/11/2026\r\n",
        true,
    )
}

pub fn reply(from: &str, reference: &str, line: &str, date: &str) -> String {
    mail(
        from,
        &format!("Re: [{reference}] Rapid Review reminder"),
        date,
        &format!("{line}\r\n\r\nOn Mon, 7 Dec 2026 cspr wrote:\r\n> reminder"),
        true,
    )
}

const LA: &str = "social.worker@hackney.gov.uk";
const SPA: &str = "spa@hackney.gov.uk";
const ICSC: &str = "icsc@hackney.gov.uk";
const PANEL: &str = "Mailbox.NationalReviewPanel@education.gov.uk";

async fn opened(world: &mut World, panel_ref: &str) {
    world
        .deliver(
            notification(LA, "16/11/2026", "18 November 2026", panel_ref, "", "Thu, 19 Nov 2026 10:00:00 +0000", true),
            "2026-11-19T10:05:00Z",
        )
        .await;
}

#[tokio::test]
async fn a_notification_opens_a_case_and_an_on_time_rapid_review_meets_c3() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01001").await;
        let case = w.case("CHSCP-2026-001").await;
        assert_eq!(case.stage(), "rapid_review");
        // Aware Monday 16 November: due Monday 23rd; notified the 18th, copy the 19th.
        assert_eq!(clock(&case, ClockId::C1), ("2026-11-16".into(), "2026-11-23".into(), ClockStatus::Met));
        assert_eq!(clock(&case, ClockId::C2), ("2026-11-16".into(), "2026-11-23".into(), ClockStatus::Met));
        // 15 working days from Wednesday 18 November.
        assert_eq!(clock(&case, ClockId::C3), ("2026-11-18".into(), "2026-12-09".into(), ClockStatus::Running));
        w.deliver(
            reply(SPA, "CHSCP-2026-001", "SUBMITTED 08/12/2026", "Tue, 8 Dec 2026 16:00:00 +0000"),
            "2026-12-08T16:01:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert_eq!(clock(&case, ClockId::C3).2, ClockStatus::Met, "{}", w.db.name);
        assert_eq!(case.stage(), "awaiting_decision");
        assert_eq!(w.templates().await, ["acknowledgement", "new_case", "command_done"], "{}", w.db.name);
        let events = w.events("CHSCP-2026-001").await;
        assert!(
            events.starts_with(&["case_opened".to_owned()]) && events.contains(&"clock_met".to_owned()),
            "{events:?}"
        );
    }
}

#[tokio::test]
async fn a_late_rapid_review_is_recorded_as_met_late() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01002").await;
        w.deliver(reply(SPA, "CHSCP-2026-001", "SUBMITTED", "Thu, 10 Dec 2026 09:00:00 +0000"), "2026-12-10T09:01:00Z")
            .await;
        assert_eq!(clock(&w.case("CHSCP-2026-001").await, ClockId::C3).2, ClockStatus::MetLate, "{}", w.db.name);
    }
}

#[tokio::test]
async fn a_panel_disagreement_starts_c4_and_a_cspr_runs_to_publication() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01003").await;
        w.deliver(
            reply(SPA, "CHSCP-2026-001", "SUBMITTED 08/12/2026", "Tue, 8 Dec 2026 16:00:00 +0000"),
            "2026-12-08T16:01:00Z",
        )
        .await;
        let panel = mail(
            PANEL,
            "[CHSCP-2026-001] Rapid Review response",
            "Mon, 14 Dec 2026 11:00:00 +0000",
            "Dear colleagues,\r\n\r\nThe Panel has considered your Rapid Review and does not agree with the decision not to undertake a local child safeguarding practice review.",
            true,
        );
        w.deliver(panel, "2026-12-14T11:01:00Z").await;
        let case = w.case("CHSCP-2026-001").await;
        assert_eq!(case.stage(), "panel_disagreed", "{}", w.db.name);
        assert_eq!(clock(&case, ClockId::C4), ("2026-12-14".into(), "2026-12-21".into(), ClockStatus::Running));
        assert!(w.templates().await.contains(&"panel_disagrees".to_owned()));
        w.deliver(
            reply(SPA, "CHSCP-2026-001", "MEETING-HELD 18/12/2026", "Fri, 18 Dec 2026 15:00:00 +0000"),
            "2026-12-18T15:01:00Z",
        )
        .await;
        w.deliver(
            reply(ICSC, "CHSCP-2026-001", "DECISION CSPR 05/01/2027", "Tue, 5 Jan 2027 12:00:00 +0000"),
            "2027-01-05T12:01:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert_eq!(clock(&case, ClockId::C4).2, ClockStatus::Met);
        assert_eq!(case.stage(), "review");
        // Five working days from Tuesday 5 January; six calendar months.
        assert_eq!(clock(&case, ClockId::C5), ("2027-01-05".into(), "2027-01-12".into(), ClockStatus::Running));
        assert_eq!(clock(&case, ClockId::C6), ("2027-01-05".into(), "2027-07-05".into(), ClockStatus::Running));
        w.deliver(
            reply(SPA, "CHSCP-2026-001", "NOTIFIED-ORGS 11/01/2027", "Mon, 11 Jan 2027 12:00:00 +0000"),
            "2027-01-11T12:01:00Z",
        )
        .await;
        w.deliver(
            reply(
                SPA,
                "CHSCP-2026-001",
                "PUBLISHED https://chscp.org.uk/reviews/example 30/06/2027",
                "Wed, 30 Jun 2027 12:00:00 +0100",
            ),
            "2027-06-30T11:01:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert_eq!(clock(&case, ClockId::C5).2, ClockStatus::Met);
        assert_eq!(clock(&case, ClockId::C6).2, ClockStatus::Met);
        assert_eq!(case.stage(), "published", "{}", w.db.name);
    }
}

#[tokio::test]
async fn a_looked_after_childs_death_without_suspected_abuse_starts_no_rapid_review() {
    for db in both().await {
        let mut w = World::new(db).await;
        let extra = "Looked after child: Yes\r\nAbuse or neglect suspected: No\r\n";
        w.deliver(
            notification(
                LA,
                "16/11/2026",
                "18/11/2026",
                "SIN-2026-01004",
                extra,
                "Thu, 19 Nov 2026 10:00:00 +0000",
                true,
            ),
            "2026-11-19T10:05:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert!(case.dfe_ofsted_only && case.secretary_of_state_duty, "{}", w.db.name);
        assert!(case.clocks.iter().all(|c| c.clock != ClockId::C3), "no C3");
        assert_eq!(case.stage(), "dfe_ofsted");
        assert!(w.templates().await.contains(&"sos_notice_draft".to_owned()));
    }
}

#[tokio::test]
async fn a_request_for_consideration_waits_for_the_next_subgroup_meeting() {
    for db in both().await {
        let mut w = World::new(db).await;
        let body = "Dear Case Review sub-group,\r\n\r\nWe would like to request that the sub-group consider the case of a young person known to our service for a local child safeguarding practice review.";
        w.deliver(
            mail(
                "early.help@hackney.gov.uk",
                "Request for consideration",
                "Thu, 26 Nov 2026 09:00:00 +0000",
                body,
                true,
            ),
            "2026-11-26T09:01:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert_eq!(case.stage(), "for_consideration", "{}", w.db.name);
        // The first Tuesday after Thursday 26 November is 1 December.
        assert_eq!(clock(&case, ClockId::C7), ("2026-11-26".into(), "2026-12-01".into(), ClockStatus::Running));
    }
}

#[tokio::test]
async fn a_second_copy_of_a_notification_updates_the_case_and_opens_no_other() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01005").await;
        w.deliver(
            notification(
                "manager@hackney.gov.uk",
                "16/11/2026",
                "18/11/2026",
                "SIN-2026-01005",
                "LA reference: HK-77\r\n",
                "Fri, 20 Nov 2026 10:00:00 +0000",
                true,
            ),
            "2026-11-20T10:05:00Z",
        )
        .await;
        assert_eq!(w.store.cases(false).await.unwrap().len(), 1, "{}", w.db.name);
        let case = w.case("CHSCP-2026-001").await;
        assert_eq!(case.notification.la_reference.as_deref(), Some("HK-77"));
        assert!(w.events("CHSCP-2026-001").await.contains(&"notification_repeated".to_owned()));
        assert_eq!(w.templates().await.iter().filter(|t| *t == "acknowledgement").count(), 1);
    }
}

#[tokio::test]
async fn a_copy_that_carries_only_the_la_reference_finds_its_case() {
    for db in both().await {
        let mut w = World::new(db).await;
        let first = notification(
            LA,
            "16/11/2026",
            "18/11/2026",
            "SIN-2026-01015",
            "LA reference: HK-88\r\n",
            "Thu, 19 Nov 2026 10:00:00 +0000",
            true,
        );
        w.deliver(first, "2026-11-19T10:05:00Z").await;
        // A colleague's copy: no Panel reference yet, only the LA's own.
        let copy = notification(
            "manager@hackney.gov.uk",
            "16/11/2026",
            "18/11/2026",
            "",
            "LA reference: HK-88\r\n",
            "Fri, 20 Nov 2026 10:00:00 +0000",
            true,
        );
        w.deliver(copy, "2026-11-20T10:05:00Z").await;
        assert_eq!(w.store.cases(false).await.unwrap().len(), 1, "{}: found by the LA reference", w.db.name);
        assert_eq!(w.store.case_messages("CHSCP-2026-001").await.unwrap().len(), 2, "{}", w.db.name);
    }
}

#[tokio::test]
async fn an_unauthenticated_sender_changes_nothing_and_goes_to_triage() {
    for db in both().await {
        let mut w = World::new(db).await;
        w.deliver(
            notification(
                LA,
                "16/11/2026",
                "18/11/2026",
                "SIN-2026-01006",
                "",
                "Thu, 19 Nov 2026 10:00:00 +0000",
                false,
            ),
            "2026-11-19T10:05:00Z",
        )
        .await;
        assert!(w.store.cases(false).await.unwrap().is_empty(), "{}", w.db.name);
        let triage = w.store.triage(true).await.unwrap();
        assert_eq!(triage.len(), 1);
        assert!(triage[0].reason.contains("not authenticated"), "{}", triage[0].reason);
    }
}

#[tokio::test]
async fn a_command_from_a_sender_without_the_role_is_refused_with_a_reply() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01007").await;
        w.deliver(
            reply(LA, "CHSCP-2026-001", "SUBMITTED 08/12/2026", "Tue, 8 Dec 2026 16:00:00 +0000"),
            "2026-12-08T16:01:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert_eq!(clock(&case, ClockId::C3).2, ClockStatus::Running, "{}", w.db.name);
        assert!(w.templates().await.contains(&"command_refused".to_owned()));
        assert!(w.events("CHSCP-2026-001").await.contains(&"command_refused".to_owned()));
    }
}

#[tokio::test]
async fn an_ambiguous_message_is_triaged_with_its_candidates_and_resolved_from_the_command_line() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01008").await;
        w.deliver(
            notification(LA, "17/11/2026", "19/11/2026", "SIN-2026-01009", "", "Fri, 20 Nov 2026 10:00:00 +0000", true),
            "2026-11-20T10:05:00Z",
        )
        .await;
        let both_tags = mail(
            SPA,
            "Re: [CHSCP-2026-001] and [CHSCP-2026-002]",
            "Mon, 23 Nov 2026 10:00:00 +0000",
            "NOTE spoke to the police about both",
            true,
        );
        w.deliver(both_tags, "2026-11-23T10:01:00Z").await;
        let triage = w.store.triage(true).await.unwrap();
        assert_eq!(triage.len(), 1, "{}", w.db.name);
        assert_eq!(triage[0].candidates, ["CHSCP-2026-001", "CHSCP-2026-002"]);
        assert!(!w.events("CHSCP-2026-001").await.contains(&"note".to_owned()), "nothing merged silently");

        let id = triage[0].id.to_string();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_cspr"))
            .args(["triage", "resolve", &id, "--case", "CHSCP-2026-001", "--config", &w.config_path])
            .env("CSPR__STORE__URL", &w.db.url)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert!(String::from_utf8_lossy(&output.stdout).contains("NOTE command was attached to the case, not run"));
        assert!(w.store.triage(true).await.unwrap().is_empty());
        // Released, the message is attached to the case chosen; its command is not run.
        let events = w.events("CHSCP-2026-001").await;
        assert!(events.contains(&"released_from_triage".to_owned()), "{}: {events:?}", w.db.name);
        assert!(events.contains(&"command_not_run".to_owned()), "{}: {events:?}", w.db.name);
        assert!(!events.contains(&"note".to_owned()), "{}", w.db.name);
        assert!(!w.events("CHSCP-2026-002").await.contains(&"released_from_triage".to_owned()));
    }
}

#[tokio::test]
async fn a_command_for_a_closed_case_goes_to_triage() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01010").await;
        w.deliver(
            reply(
                ICSC,
                "CHSCP-2026-001",
                "CLOSE notification withdrawn by the local authority",
                "Mon, 23 Nov 2026 10:00:00 +0000",
            ),
            "2026-11-23T10:01:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert_eq!(case.stage(), "closed", "{}", w.db.name);
        assert!(case.clocks.iter().all(|c| !c.is_running()));
        w.deliver(reply(SPA, "CHSCP-2026-001", "SUBMITTED", "Tue, 24 Nov 2026 10:00:00 +0000"), "2026-11-24T10:01:00Z")
            .await;
        assert_eq!(w.store.triage(true).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn the_command_line_lists_cases_and_shows_an_ordered_chronology_without_the_childs_name() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01011").await;
        w.deliver(
            reply(SPA, "CHSCP-2026-001", "SUBMITTED 08/12/2026", "Tue, 8 Dec 2026 16:00:00 +0000"),
            "2026-12-08T16:01:00Z",
        )
        .await;
        let run = |args: &[&str]| {
            let mut full: Vec<&str> = args.to_vec();
            full.extend(["--config", w.config_path.as_str()]);
            let output = std::process::Command::new(env!("CARGO_BIN_EXE_cspr"))
                .args(&full)
                .env("CSPR__STORE__URL", &w.db.url)
                .output()
                .unwrap();
            assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
            String::from_utf8(output.stdout).unwrap()
        };
        let listed: serde_json::Value = serde_json::from_str(&run(&["cases", "--json"])).unwrap();
        assert_eq!(listed[0]["reference"], "CHSCP-2026-001", "{}", w.db.name);
        assert_eq!(listed[0]["type"], "incident");
        assert_eq!(listed[0]["stage"], "awaiting_decision");
        let shown = run(&["case", "CHSCP-2026-001", "--json"]);
        assert!(!shown.contains("Alex Example"), "the child's name is never shown");
        let case: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(case["messages"].as_array().unwrap().len(), 2, "both messages listed");
        let chronology = case["chronology"].as_array().unwrap();
        assert_eq!(chronology[0]["event"], "case_opened");
        let ats: Vec<&str> = chronology.iter().map(|e| e["at"].as_str().unwrap()).collect();
        assert!(ats.windows(2).all(|p| p[0] <= p[1]), "chronology in order: {ats:?}");
        let ids: Vec<i64> = w.store.audit("CHSCP-2026-001").await.unwrap().iter().map(|a| a.id).collect();
        assert!(ids.windows(2).all(|p| p[0] < p[1]), "audit strictly ordered");
        assert!(run(&["migrate"]).contains("up to date"));
        assert!(run(&["cases"]).contains("CHSCP-2026-001"));
        assert!(run(&["case", "CHSCP-2026-001"]).contains("chronology"));
    }
}

#[tokio::test]
async fn a_daily_digest_per_role_and_a_weekly_summary_go_once_on_their_days() {
    let mut w = World::new(crate::databases::sqlite()).await;
    opened(&mut w, "SIN-2026-01012").await;
    let digests = |when: &'static str| {
        let w = &w;
        async move { cspr::jobs::tick::digests(&w.store, &w.config, at(when)).await.unwrap() }
    };
    // Monday 23 November: before 08:00 London nothing; then SPA and ICSC dailies and the SLT's weekly.
    assert_eq!(digests("2026-11-23T07:59:00Z").await, 0);
    assert_eq!(digests("2026-11-23T08:00:30Z").await, 3);
    assert_eq!(digests("2026-11-23T15:00:00Z").await, 0, "once a day");
    assert_eq!(digests("2026-11-24T09:00:00Z").await, 2, "Tuesday: the dailies only");
    assert_eq!(digests("2026-11-28T09:00:00Z").await, 0, "Saturday: none");
    let digest = w.store.outbox(None).await.unwrap().into_iter().find(|r| r.template == "digest").unwrap();
    assert!(digest.facts["cases_list"].as_array().unwrap().iter().any(|c| c["reference"] == "CHSCP-2026-001"));
}

#[tokio::test]
async fn the_tick_reads_a_case_only_when_it_has_changed_or_its_next_step_has_come() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01013").await;
        let due = async |w: &World, day: &str| w.store.cases_with_steps_due(day).await.unwrap().len();
        let tick = async |w: &World, when: &str| cspr::jobs::tick::run(&w.store, &w.config, at(when)).await.unwrap();
        // Just opened: the next tick reads it, whatever its day.
        assert_eq!(due(&w, "2026-11-19").await, 1, "{}", w.db.name);
        let first = tick(&w, "2026-11-19T10:10:00Z").await;
        assert_eq!((first.cases, first.queued), (1, 0), "{}", w.db.name);
        // C3 is due 9 December; its first reminder is 10 working days before, 25 November.
        assert_eq!(due(&w, "2026-11-24").await, 0, "{}", w.db.name);
        assert_eq!(due(&w, "2026-11-25").await, 1, "{}", w.db.name);
        assert_eq!(tick(&w, "2026-11-24T09:00:00Z").await.cases, 0, "{}", w.db.name);
        let reminder = tick(&w, "2026-11-25T09:00:00Z").await;
        assert_eq!((reminder.cases, reminder.queued), (1, 1), "{}", w.db.name);
        assert_eq!(tick(&w, "2026-11-25T09:05:00Z").await.cases, 0, "{}: read once on its day", w.db.name);
        // The earliest step of any default clock is 40 working days before its due date.
        assert_eq!(w.config.longest_lead(), 40);
    }
}

fn document_fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inspect").join(name);
    std::fs::read_to_string(path).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_notification_sent_as_a_document_opens_a_case_and_a_hostile_document_goes_to_triage() {
    for db in both().await {
        let mut w = World::new(db).await;
        w.deliver(document_fixture("pdf_attachment_notification.eml"), "2026-11-19T09:20:00Z").await;
        let cases = w.store.cases(false).await.unwrap();
        assert_eq!(cases.len(), 1, "{}: the PDF's notification opened a case", w.db.name);
        assert!(w.templates().await.contains(&"acknowledgement".to_owned()), "{}", w.db.name);

        w.deliver(document_fixture("docx_zip_bomb.eml"), "2026-11-24T10:01:00Z").await;
        w.deliver(document_fixture("corrupt_pdf.eml"), "2026-11-24T10:06:00Z").await;
        let triage = w.store.triage(true).await.unwrap();
        assert_eq!(triage.len(), 2, "{}", w.db.name);
        assert!(triage.iter().any(|t| t.reason.contains("(a zip bomb?)")), "{triage:?}");
        assert!(triage.iter().any(|t| t.reason.contains("An attached PDF cannot be read")), "{triage:?}");
        assert!(triage.iter().all(|t| !t.reason.contains("notification.pdf")), "no file name: {triage:?}");
        assert_eq!(w.store.cases(false).await.unwrap().len(), 1, "{}: nothing else opened", w.db.name);
    }
}

#[tokio::test]
async fn who_may_give_a_command_comes_from_configuration() {
    for db in both().await {
        let mut w = World::new(db).await;
        w.config.commands.set(cspr::domain::command::Command::Submitted, vec![cspr::domain::Role::Icsc]);
        opened(&mut w, "SIN-2026-01008").await;
        w.deliver(
            reply(SPA, "CHSCP-2026-001", "SUBMITTED 08/12/2026", "Tue, 8 Dec 2026 16:00:00 +0000"),
            "2026-12-08T16:01:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert_eq!(clock(&case, ClockId::C3).2, ClockStatus::Running, "the SPA may no longer: {}", w.db.name);
        assert!(w.events("CHSCP-2026-001").await.contains(&"command_refused".to_owned()));
        w.deliver(
            reply(ICSC, "CHSCP-2026-001", "SUBMITTED 08/12/2026", "Tue, 8 Dec 2026 16:30:00 +0000"),
            "2026-12-08T16:31:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert_eq!(clock(&case, ClockId::C3).2, ClockStatus::Met, "the ICSC may: {}", w.db.name);
    }
}

/// Events recorded on the case after the first `before`.
async fn events_after(w: &World, reference: &str, before: usize) -> Vec<String> {
    w.events(reference).await.split_off(before)
}

#[tokio::test]
async fn a_submitted_whose_panel_reference_is_only_in_the_subject_meets_c3() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01011").await;
        let reply = mail(
            SPA,
            "RE: SIN-2026-01011 - Rapid Review",
            "Tue, 8 Dec 2026 16:00:00 +0000",
            "SUBMITTED 08/12/2026\r\n\r\nKind regards\r\nSPA",
            true,
        );
        w.deliver(reply, "2026-12-08T16:01:00Z").await;
        let case = w.case("CHSCP-2026-001").await;
        assert_eq!(clock(&case, ClockId::C3).2, ClockStatus::Met, "{}", w.db.name);
    }
}

#[tokio::test]
async fn sentences_that_begin_with_a_command_word_change_nothing() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01012").await;
        for (n, line) in [
            "Close to agreeing the terms of reference with the police; more next week.",
            "Note that the family have moved out of the borough.",
            "Submitted today, thanks",
        ]
        .into_iter()
        .enumerate()
        {
            let before = w.events("CHSCP-2026-001").await.len();
            w.deliver(
                reply(SPA, "CHSCP-2026-001", line, &format!("Tue, 8 Dec 2026 1{n}:00:00 +0000")),
                &format!("2026-12-08T1{n}:01:00Z"),
            )
            .await;
            let case = w.case("CHSCP-2026-001").await;
            assert!(!case.is_closed(), "{line}: {}", w.db.name);
            assert_eq!(clock(&case, ClockId::C3).2, ClockStatus::Running, "{line}");
            assert_eq!(events_after(&w, "CHSCP-2026-001", before).await, vec!["reply_received".to_owned()], "{line}");
        }
    }
}

#[tokio::test]
async fn a_lower_case_command_changes_nothing_and_is_answered_with_the_line_to_send() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01013").await;
        w.deliver(
            reply(SPA, "CHSCP-2026-001", "submitted 08/12/2026", "Tue, 8 Dec 2026 16:00:00 +0000"),
            "2026-12-08T16:01:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert_eq!(clock(&case, ClockId::C3).2, ClockStatus::Running, "{}", w.db.name);
        let outbox = w.store.outbox(None).await.unwrap();
        let answer = outbox.iter().find(|r| r.template == "command_refused").expect("an answer");
        assert!(
            answer.facts["reason"].as_str().unwrap().contains("SUBMITTED 08/12/2026"),
            "{}",
            answer.facts["reason"]
        );
        assert!(w.events("CHSCP-2026-001").await.contains(&"command_refused".to_owned()));
    }
}

#[tokio::test]
async fn a_looked_after_childs_death_with_abuse_not_known_starts_c3() {
    for db in both().await {
        let mut w = World::new(db).await;
        let extra = "Looked after child: Yes\r\nAbuse or neglect suspected: Not known\r\n";
        w.deliver(
            notification(
                LA,
                "16/11/2026",
                "18/11/2026",
                "SIN-2026-01014",
                extra,
                "Thu, 19 Nov 2026 10:00:00 +0000",
                true,
            ),
            "2026-11-19T10:05:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert!(!case.dfe_ofsted_only, "{}", w.db.name);
        assert_eq!(clock(&case, ClockId::C3).2, ClockStatus::Running);
    }
}

#[tokio::test]
async fn the_panel_has_not_agreed_starts_c4() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01015").await;
        let panel = mail(
            PANEL,
            "[CHSCP-2026-001] Rapid Review response",
            "Mon, 14 Dec 2026 11:00:00 +0000",
            "Dear colleagues,\r\n\r\nThe Panel has not agreed with the partnership's conclusion that a local child safeguarding practice review is not needed.",
            true,
        );
        w.deliver(panel, "2026-12-14T11:01:00Z").await;
        let case = w.case("CHSCP-2026-001").await;
        assert_eq!(case.stage(), "panel_disagreed", "{}", w.db.name);
        assert_eq!(clock(&case, ClockId::C4).2, ClockStatus::Running);
    }
}

#[tokio::test]
async fn an_nhs_trusts_request_from_a_partner_domain_opens_a_provisional_case_and_alerts_the_spa() {
    for db in both().await {
        let mut w = World::with_env(db, &[("CSPR__INTAKE__PARTNER_DOMAINS", "[\"nhs.net\", \"met.police.uk\"]")]).await;
        let body = "To the Case Review sub-group,\r\n\r\nI am the named nurse for safeguarding at the Homerton. \
                    I would like to request consideration of a local child safeguarding practice review for a \
                    baby seen three times in our emergency department with unexplained bruising.\r\n\r\nJo Adebayo";
        w.deliver(
            mail("jo.adebayo@nhs.net", "Request for a case review", "Thu, 26 Nov 2026 09:00:00 +0000", body, true),
            "2026-11-26T09:01:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert!(case.provisional, "{}: a provisional case", w.db.name);
        assert!(case.clocks.is_empty(), "{}: no clock runs until the SPA confirms it", w.db.name);
        let outbox = w.store.outbox(None).await.unwrap();
        let alert = outbox.iter().find(|r| r.template == "consideration_provisional").expect("the SPA is alerted");
        assert!(alert.urgent, "at once, not in a digest");
        assert_eq!(alert.recipients, vec![cspr::protocol::Recipient::Role(cspr::domain::Role::Spa)]);

        // The same request from a sender outside the partner domains changes nothing:
        // it is held for a person, who is told at once.
        w.deliver(
            mail("volunteer@example.org", "Request for a case review", "Thu, 26 Nov 2026 10:00:00 +0000", body, true),
            "2026-11-26T10:01:00Z",
        )
        .await;
        let second = cspr::domain::case::CaseRef::parse("CHSCP-2026-002").unwrap();
        assert!(w.store.load_case(&second).await.unwrap().is_none(), "{}: no case opened", w.db.name);
        let triage = w.store.triage(true).await.unwrap();
        assert_eq!(triage.len(), 1, "{}: held for a person", w.db.name);
        let outbox = w.store.outbox(None).await.unwrap();
        assert!(outbox.iter().any(|r| r.template == "triage_alert" && r.urgent), "told at once");
    }
}

#[tokio::test]
async fn a_published_link_rewritten_by_a_mail_gateway_is_recorded_as_the_original() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01031").await;
        w.deliver(
            reply(ICSC, "CHSCP-2026-001", "DECISION CSPR 05/01/2027", "Tue, 5 Jan 2027 12:00:00 +0000"),
            "2027-01-05T12:01:00Z",
        )
        .await;
        // Mimecast's rewriting keeps no trace of the address: refused, nothing recorded.
        w.deliver(
            reply(
                SPA,
                "CHSCP-2026-001",
                "PUBLISHED https://protect-eu.mimecast.com/s/AbCdEfGhIjKl?domain=chscp.org.uk 30/06/2027",
                "Wed, 30 Jun 2027 12:00:00 +0100",
            ),
            "2027-06-30T11:01:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert!(case.published.is_none(), "{}: an opaque link is not recorded", w.db.name);
        assert_eq!(clock(&case, ClockId::C6).2, ClockStatus::Running);
        assert!(w.templates().await.contains(&"command_refused".to_owned()));
        w.deliver(
            reply(
                SPA,
                "CHSCP-2026-001",
                "PUBLISHED https://eur02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fchscp.org.uk%2Freviews%2Fchild-t&data=05%7C02%7C&reserved=0 30/06/2027",
                "Wed, 30 Jun 2027 12:30:00 +0100",
            ),
            "2027-06-30T11:31:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        let (url, _) = case.published.clone().expect("recorded");
        assert_eq!(url, "https://chscp.org.uk/reviews/child-t", "{}", w.db.name);
        assert_eq!(clock(&case, ClockId::C6).2, ClockStatus::Met);
    }
}

#[tokio::test]
async fn an_unclear_panel_response_waits_in_triage_with_its_sentence_until_a_person_releases_it() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01016").await;
        let before = w.events("CHSCP-2026-001").await.len();
        let sentence = "The Panel has considered the rapid review at its meeting on Tuesday.";
        let panel = mail(
            PANEL,
            "[CHSCP-2026-001] Rapid Review",
            "Mon, 14 Dec 2026 11:00:00 +0000",
            &format!("Dear colleagues,\r\n\r\nThank you.\r\n{sentence}\r\n\r\nKind regards,\r\nPanel secretariat"),
            true,
        );
        w.deliver(panel, "2026-12-14T11:01:00Z").await;
        let triage = w.store.triage(true).await.unwrap();
        assert_eq!(triage.len(), 1, "{}", w.db.name);
        assert_eq!(triage[0].candidates, ["CHSCP-2026-001"]);
        assert_eq!(triage[0].evidence.as_deref(), Some(sentence), "{}", w.db.name);
        assert!(!triage[0].reason.contains("Tuesday"), "the reason names no words of the message");
        assert!(events_after(&w, "CHSCP-2026-001", before).await.is_empty(), "no guess recorded");
        assert!(w.case("CHSCP-2026-001").await.panel_outcome.is_none());

        let output = std::process::Command::new(env!("CARGO_BIN_EXE_cspr"))
            .args(["triage", "--json", "--config", &w.config_path])
            .env("CSPR__STORE__URL", &w.db.url)
            .output()
            .unwrap();
        let listed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(listed[0]["evidence"], sentence, "{}", w.db.name);

        let id = triage[0].id.to_string();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_cspr"))
            .args(["triage", "resolve", &id, "--case", "CHSCP-2026-001", "--config", &w.config_path])
            .env("CSPR__STORE__URL", &w.db.url)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let events = events_after(&w, "CHSCP-2026-001", before).await;
        assert!(events.contains(&"released_from_triage".to_owned()), "{}: {events:?}", w.db.name);
        assert!(events.contains(&"panel_response".to_owned()), "{}: {events:?}", w.db.name);
        assert!(w.templates().await.contains(&"panel_unclear".to_owned()), "{}", w.db.name);
    }
}

#[tokio::test]
async fn a_provisional_date_is_replaced_by_a_later_copy_that_gives_it_in_full_and_its_clock_moves() {
    for db in both().await {
        let mut w = World::new(db).await;
        // "Tuesday", written on Thursday 19 November: the 17th, provisional.
        w.deliver(
            notification(LA, "16/11/2026", "Tuesday", "SIN-2026-01017", "", "Thu, 19 Nov 2026 10:00:00 +0000", true),
            "2026-11-19T10:05:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert_eq!(case.notification.provisional, ["notified_date"], "{}", w.db.name);
        assert_eq!(clock(&case, ClockId::C3), ("2026-11-17".into(), "2026-12-08".into(), ClockStatus::Running));
        w.deliver(
            notification(LA, "16/11/2026", "18/11/2026", "SIN-2026-01017", "", "Fri, 20 Nov 2026 09:00:00 +0000", true),
            "2026-11-20T09:05:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert!(case.notification.provisional.is_empty(), "{}", w.db.name);
        assert_eq!(case.notification.notified_date, chrono::NaiveDate::from_ymd_opt(2026, 11, 18));
        assert_eq!(clock(&case, ClockId::C3), ("2026-11-18".into(), "2026-12-09".into(), ClockStatus::Running));
        let events = w.events("CHSCP-2026-001").await;
        assert!(events.contains(&"date_confirmed".to_owned()), "{}: {events:?}", w.db.name);
        assert!(events.contains(&"clock_moved".to_owned()), "{}: {events:?}", w.db.name);
        assert_eq!(w.store.cases(false).await.unwrap().len(), 1, "{}", w.db.name);
    }
}

#[tokio::test]
async fn no_cspr_then_the_panel_disagrees_then_cspr_starts_c5_and_c6_and_every_decision_is_kept() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01018").await;
        w.deliver(
            reply(SPA, "CHSCP-2026-001", "SUBMITTED 08/12/2026", "Tue, 8 Dec 2026 16:00:00 +0000"),
            "2026-12-08T16:01:00Z",
        )
        .await;
        w.deliver(
            reply(
                ICSC,
                "CHSCP-2026-001",
                "DECISION NO-CSPR 09/12/2026 criteria not met",
                "Wed, 9 Dec 2026 12:00:00 +0000",
            ),
            "2026-12-09T12:01:00Z",
        )
        .await;
        assert_eq!(w.case("CHSCP-2026-001").await.stage(), "decided", "{}", w.db.name);
        let panel = mail(
            PANEL,
            "[CHSCP-2026-001] Rapid Review response",
            "Mon, 14 Dec 2026 11:00:00 +0000",
            "Dear colleagues,\r\n\r\nThe Panel does not agree with the decision not to undertake a local review.",
            true,
        );
        w.deliver(panel, "2026-12-14T11:01:00Z").await;
        assert_eq!(w.case("CHSCP-2026-001").await.stage(), "panel_disagreed", "{}", w.db.name);
        w.deliver(
            reply(
                ICSC,
                "CHSCP-2026-001",
                "DECISION CSPR 05/01/2027 the Panel's view",
                "Tue, 5 Jan 2027 12:00:00 +0000",
            ),
            "2027-01-05T12:01:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert_eq!(case.stage(), "review", "{}", w.db.name);
        assert_eq!(clock(&case, ClockId::C5), ("2027-01-05".into(), "2027-01-12".into(), ClockStatus::Running));
        assert_eq!(clock(&case, ClockId::C6), ("2027-01-05".into(), "2027-07-05".into(), ClockStatus::Running));
        let decisions: Vec<String> = w
            .store
            .audit("CHSCP-2026-001")
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.event == "decision")
            .map(|a| a.detail)
            .collect();
        assert_eq!(decisions.len(), 2, "{}: {decisions:?}", w.db.name);
        assert!(decisions[0].starts_with("NO-CSPR decided 2026-12-09: criteria not met"), "{decisions:?}");
        assert!(decisions[1].starts_with("CSPR decided 2027-01-05 (was NO-CSPR from 2026-12-09): the Panel's view"));

        // Moving away from CSPR stops C5 and C6, and the SPA and ICSC are told.
        w.deliver(
            reply(ICSC, "CHSCP-2026-001", "DECISION NO-CSPR 06/01/2027", "Wed, 6 Jan 2027 12:00:00 +0000"),
            "2027-01-06T12:01:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert_eq!(clock(&case, ClockId::C5).2, ClockStatus::Stopped, "{}", w.db.name);
        assert_eq!(clock(&case, ClockId::C6).2, ClockStatus::Stopped, "{}", w.db.name);
        assert!(w.templates().await.contains(&"decision_revised".to_owned()), "{}", w.db.name);
    }
}

#[tokio::test]
async fn the_national_review_question_is_recorded_apart_from_the_decision() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01019").await;
        // Written as before: DECISION NATIONAL is NATIONAL YES, and decides nothing else.
        w.deliver(
            reply(ICSC, "CHSCP-2026-001", "DECISION NATIONAL 10/12/2026", "Thu, 10 Dec 2026 12:00:00 +0000"),
            "2026-12-10T12:01:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert_eq!(case.national, Some((true, chrono::NaiveDate::from_ymd_opt(2026, 12, 10).unwrap())));
        assert_eq!(case.decision, None, "{}", w.db.name);
        w.deliver(
            reply(ICSC, "CHSCP-2026-001", "DECISION CSPR 11/12/2026", "Fri, 11 Dec 2026 12:00:00 +0000"),
            "2026-12-11T12:01:00Z",
        )
        .await;
        w.deliver(
            reply(ICSC, "CHSCP-2026-001", "NATIONAL NO", "Mon, 14 Dec 2026 12:00:00 +0000"),
            "2026-12-14T12:01:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert_eq!(case.national, Some((false, chrono::NaiveDate::from_ymd_opt(2026, 12, 14).unwrap())));
        assert_eq!(case.stage(), "review", "{}", w.db.name);
        assert_eq!(clock(&case, ClockId::C6).2, ClockStatus::Running, "the local clocks run on");
    }
}

/// `notification(…)` sent as a reply in a case's thread, as a local authority writes one.
fn notification_titled(subject: &str, aware: &str, notified: &str, panel_ref: &str, date: &str) -> String {
    notification(LA, aware, notified, panel_ref, "", date, true)
        .replacen("Subject: FW: Serious incident notification", &format!("Subject: {subject}"), 1)
        .replacen(
            "Please find our notification below.",
            "Please find below the notification we sent the Panel today.",
            1,
        )
}

#[tokio::test]
async fn a_notification_for_a_closed_case_opens_a_new_case_beside_it_or_waits_for_a_person() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01020").await;
        w.deliver(
            reply(ICSC, "CHSCP-2026-001", "CLOSE no further action", "Mon, 30 Nov 2026 12:00:00 +0000"),
            "2026-11-30T12:01:00Z",
        )
        .await;
        // A new incident, notified in the old case's thread: a case of its own, linked.
        w.deliver(
            notification_titled(
                "Re: [CHSCP-2026-001] new incident",
                "01/12/2026",
                "02/12/2026",
                "SIN-2026-01021",
                "Wed, 2 Dec 2026 10:00:00 +0000",
            ),
            "2026-12-02T10:05:00Z",
        )
        .await;
        let new = w.case("CHSCP-2026-002").await;
        assert_eq!(new.related.iter().map(|r| r.as_str()).collect::<Vec<_>>(), ["CHSCP-2026-001"], "{}", w.db.name);
        assert_eq!(clock(&new, ClockId::C3).2, ClockStatus::Running);
        assert_eq!(w.templates().await.iter().filter(|t| *t == "acknowledgement").count(), 2, "{}", w.db.name);
        assert!(w.case("CHSCP-2026-001").await.is_closed());

        // The closed case's own notification again: a late copy or a new incident? A person decides, told at once.
        let before = w.templates().await.len();
        w.deliver(
            notification(LA, "16/11/2026", "18/11/2026", "SIN-2026-01020", "", "Thu, 3 Dec 2026 10:00:00 +0000", true),
            "2026-12-03T10:05:00Z",
        )
        .await;
        let triage = w.store.triage(true).await.unwrap();
        assert_eq!(triage.len(), 1, "{}", w.db.name);
        assert_eq!(triage[0].candidates, ["CHSCP-2026-001"]);
        assert_eq!(w.templates().await[before..], ["triage_alert"], "{}", w.db.name);
        assert_eq!(w.store.cases(false).await.unwrap().len(), 2, "{}", w.db.name);
    }
}

#[tokio::test]
async fn a_notification_for_a_request_under_consideration_makes_it_a_notification_case() {
    for db in both().await {
        let mut w = World::new(db).await;
        let body = "Dear Case Review sub-group,\r\n\r\nWe would like to request that the sub-group consider the case of \
                    a young person known to our service for a local child safeguarding practice review.";
        w.deliver(
            mail(
                "early.help@hackney.gov.uk",
                "Request for consideration",
                "Thu, 26 Nov 2026 09:00:00 +0000",
                body,
                true,
            ),
            "2026-11-26T09:01:00Z",
        )
        .await;
        w.deliver(
            notification_titled(
                "Re: [CHSCP-2026-001] Request for consideration",
                "27/11/2026",
                "30/11/2026",
                "SIN-2026-01022",
                "Mon, 30 Nov 2026 15:00:00 +0000",
            ),
            "2026-11-30T15:05:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert_eq!(case.kind, cspr::domain::case::CaseKind::Incident, "{}", w.db.name);
        assert_eq!(clock(&case, ClockId::C7).2, ClockStatus::Stopped);
        assert_eq!(clock(&case, ClockId::C3), ("2026-11-30".into(), "2026-12-21".into(), ClockStatus::Running));
        let templates = w.templates().await;
        assert!(templates.contains(&"acknowledgement".to_owned()), "{}: {templates:?}", w.db.name);
        assert!(templates.contains(&"new_case".to_owned()), "{}: {templates:?}", w.db.name);
        assert!(w.events("CHSCP-2026-001").await.contains(&"case_became_notification".to_owned()));
        assert_eq!(w.store.cases(false).await.unwrap().len(), 1, "{}", w.db.name);
    }
}

#[tokio::test]
async fn a_later_copy_moving_the_notified_date_recomputes_c3_and_tells_the_spa() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01023").await;
        // Corrected: the Panel was notified on the 17th, not the 18th.
        w.deliver(
            notification(LA, "16/11/2026", "17/11/2026", "SIN-2026-01023", "", "Fri, 20 Nov 2026 10:00:00 +0000", true),
            "2026-11-20T10:05:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert_eq!(case.notification.notified_date, chrono::NaiveDate::from_ymd_opt(2026, 11, 17));
        assert_eq!(clock(&case, ClockId::C3), ("2026-11-17".into(), "2026-12-08".into(), ClockStatus::Running));
        let events = w.events("CHSCP-2026-001").await;
        assert!(events.contains(&"date_corrected".to_owned()), "{}: {events:?}", w.db.name);
        assert!(events.contains(&"clock_moved".to_owned()), "{}: {events:?}", w.db.name);
        assert!(w.templates().await.contains(&"dates_changed".to_owned()), "{}", w.db.name);
        // The same copy again moves nothing and tells no one.
        let before = w.templates().await.len();
        w.deliver(
            notification(LA, "16/11/2026", "17/11/2026", "SIN-2026-01023", "", "Fri, 20 Nov 2026 11:00:00 +0000", true),
            "2026-11-20T11:05:00Z",
        )
        .await;
        assert_eq!(w.templates().await.len(), before, "{}", w.db.name);
    }
}

#[tokio::test]
async fn a_c3_counted_from_a_date_the_notification_did_not_give_is_said_to_be_provisional() {
    for db in both().await {
        let mut w = World::new(db).await;
        // Aware Monday 16 November; when the Panel was notified is not said.
        w.deliver(
            notification(LA, "16/11/2026", "", "SIN-2026-01024", "", "Thu, 19 Nov 2026 10:00:00 +0000", true),
            "2026-11-19T10:05:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        // The earliest date the message supports: the deadline is never later than the statute allows.
        assert_eq!(clock(&case, ClockId::C3), ("2026-11-16".into(), "2026-12-07".into(), ClockStatus::Running));
        let basis = case.running(ClockId::C3).and_then(|c| c.basis.clone()).unwrap_or_default();
        assert_eq!(
            basis,
            "counted from Monday 16 November 2026 because the notification did not say when the Panel was notified",
            "{}",
            w.db.name
        );
        let intents = w.store.intents().await.unwrap();
        for template in ["acknowledgement", "new_case"] {
            let facts = &intents.iter().find(|i| i.template == template).unwrap().facts;
            let facts: serde_json::Value = serde_json::from_str(facts).unwrap();
            assert_eq!(facts["rapid_review_basis"], basis.as_str(), "{template}");
        }
        // An unknown date is something to confirm, never a deadline missed.
        assert!(!intents.iter().any(|i| i.template == "late_notice"), "{}", w.db.name);
        let new_case = &intents.iter().find(|i| i.template == "new_case").unwrap().facts;
        assert!(new_case.contains("the date the Panel was notified"), "{new_case}");

        let output = std::process::Command::new(env!("CARGO_BIN_EXE_cspr"))
            .args(["case", "CHSCP-2026-001", "--config", &w.config_path])
            .env("CSPR__STORE__URL", &w.db.url)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains(&format!("provisional: {basis}")), "{}: {text}", w.db.name);

        // The reminder says so too.
        let reminders = cspr::jobs::tick::run(&w.store, &w.config, at("2026-12-03T09:00:00Z")).await;
        assert!(reminders.is_ok(), "{reminders:?}");
        let intents = w.store.intents().await.unwrap();
        let reminder = intents.iter().find(|i| i.template == "reminder" || i.template == "escalation");
        let reminder = reminder.unwrap_or_else(|| panic!("{}: a reminder or escalation", w.db.name));
        assert!(reminder.facts.contains(&basis), "{}", reminder.facts);
    }
}

#[tokio::test]
async fn a_request_for_consideration_that_tells_of_the_criteria_alerts_the_spa_at_once_then_or_later() {
    for db in both().await {
        let mut w = World::new(db).await;
        // Written directly, not forwarded: its own body tells of a death with neglect suspected.
        let body = "Dear Case Review sub-group,\r\n\r\nWe would like to request that the sub-group consider a local \
                    child safeguarding practice review. A 14-year-old boy known to Islington died last week and \
                    neglect is suspected.";
        w.deliver(
            mail(
                "early.help@hackney.gov.uk",
                "Request for consideration",
                "Thu, 26 Nov 2026 09:00:00 +0000",
                body,
                true,
            ),
            "2026-11-26T09:01:00Z",
        )
        .await;
        let intents = w.store.intents().await.unwrap();
        let alert = intents.iter().find(|i| i.template == "consideration_criteria");
        let alert = alert.unwrap_or_else(|| panic!("{}: an 11.2 alert on a direct request", w.db.name));
        assert!(alert.urgent, "sent at once");
        assert!(alert.facts.contains("London Borough of Islington"), "{}", alert.facts);

        // A second request, nothing of the criteria at first; later news on it tells of serious harm.
        let body = "Dear Case Review sub-group,\r\n\r\nWe would like to request that the sub-group consider a local \
                    child safeguarding practice review for a family we have worked with for some years.";
        w.deliver(
            mail(
                "early.help@hackney.gov.uk",
                "Request for consideration",
                "Fri, 27 Nov 2026 09:00:00 +0000",
                body,
                true,
            ),
            "2026-11-27T09:01:00Z",
        )
        .await;
        let count = |intents: &[cspr::store::IntentRow]| {
            intents.iter().filter(|i| i.template == "consideration_criteria").count()
        };
        assert_eq!(count(&w.store.intents().await.unwrap()), 1, "{}", w.db.name);
        let news = mail(
            "early.help@hackney.gov.uk",
            "Re: [CHSCP-2026-002] Request for consideration",
            "Mon, 30 Nov 2026 09:00:00 +0000",
            "An update: the younger child was seriously injured at home on Saturday and physical abuse is suspected.",
            true,
        );
        w.deliver(news, "2026-11-30T09:01:00Z").await;
        assert_eq!(count(&w.store.intents().await.unwrap()), 2, "{}", w.db.name);
        assert!(w.events("CHSCP-2026-002").await.contains(&"criteria_may_be_met".to_owned()), "{}", w.db.name);
    }
}

/// The open duties of a case, by name.
async fn open_duties(w: &World, reference: &str) -> Vec<&'static str> {
    w.case(reference).await.open_duties().map(|d| d.kind.name()).collect()
}

#[tokio::test]
async fn each_duty_without_a_deadline_is_chased_until_its_command_records_it() {
    for db in both().await {
        let mut w = World::new(db).await;
        let tick = async |w: &World, when: &str| cspr::jobs::tick::run(&w.store, &w.config, at(when)).await.unwrap();
        let reminders = async |w: &World, line: &str| {
            let intents = w.store.intents().await.unwrap();
            intents.iter().filter(|i| i.template == "duty_reminder" && i.facts.contains(line)).count()
        };
        // A looked-after child's death: the local authority tells the Secretary of State (2.3).
        let extra = "Looked after child: Yes\r\nAbuse or neglect suspected: Yes\r\n";
        w.deliver(
            notification(
                LA,
                "16/11/2026",
                "18/11/2026",
                "SIN-2026-01025",
                extra,
                "Thu, 19 Nov 2026 10:00:00 +0000",
                true,
            ),
            "2026-11-19T10:05:00Z",
        )
        .await;
        assert_eq!(open_duties(&w, "CHSCP-2026-001").await, ["sos_notified"], "{}", w.db.name);
        tick(&w, "2026-11-26T09:00:00Z").await;
        assert_eq!(reminders(&w, "SOS-NOTIFIED").await, 1, "{}: five working days on", w.db.name);
        tick(&w, "2026-11-26T10:00:00Z").await;
        assert_eq!(reminders(&w, "SOS-NOTIFIED").await, 1, "{}: once", w.db.name);
        w.deliver(
            reply(SPA, "CHSCP-2026-001", "SOS-NOTIFIED 27/11/2026", "Fri, 27 Nov 2026 10:00:00 +0000"),
            "2026-11-27T10:01:00Z",
        )
        .await;
        assert!(open_duties(&w, "CHSCP-2026-001").await.is_empty(), "{}", w.db.name);
        tick(&w, "2026-12-11T09:00:00Z").await;
        assert_eq!(reminders(&w, "SOS-NOTIFIED").await, 1, "{}: not chased once recorded", w.db.name);

        // Every Panel response is reported to the partners; the report is then shared (3.3, 5.1).
        w.deliver(
            reply(SPA, "CHSCP-2026-001", "SUBMITTED 08/12/2026", "Tue, 8 Dec 2026 16:00:00 +0000"),
            "2026-12-08T16:01:00Z",
        )
        .await;
        let panel = mail(
            PANEL,
            "[CHSCP-2026-001] Rapid Review response",
            "Mon, 14 Dec 2026 11:00:00 +0000",
            "Dear colleagues,\r\n\r\nThe Panel agrees with the partnership's decision to undertake a local review.",
            true,
        );
        w.deliver(panel, "2026-12-14T11:01:00Z").await;
        assert!(w.templates().await.contains(&"panel_response_reported".to_owned()), "{}", w.db.name);
        assert_eq!(open_duties(&w, "CHSCP-2026-001").await, ["report_shared"], "{}", w.db.name);
        w.deliver(
            reply(SPA, "CHSCP-2026-001", "REPORT-SHARED", "Tue, 15 Dec 2026 10:00:00 +0000"),
            "2026-12-15T10:01:00Z",
        )
        .await;

        // A CSPR: the sub-group is told (6.1); reports (6.2) and the family (7.1) are chased.
        w.deliver(
            reply(ICSC, "CHSCP-2026-001", "DECISION CSPR 05/01/2027", "Tue, 5 Jan 2027 12:00:00 +0000"),
            "2027-01-05T12:01:00Z",
        )
        .await;
        assert!(w.templates().await.contains(&"review_started".to_owned()), "{}", w.db.name);
        assert_eq!(open_duties(&w, "CHSCP-2026-001").await, ["reports_requested", "family_contacted"], "{}", w.db.name);
        for line in ["REQUESTED-REPORTS 11/01/2027", "FAMILY-CONTACTED 18/01/2027"] {
            w.deliver(reply(SPA, "CHSCP-2026-001", line, "Mon, 18 Jan 2027 10:00:00 +0000"), "2027-01-18T10:01:00Z")
                .await;
        }
        assert!(open_duties(&w, "CHSCP-2026-001").await.is_empty(), "{}", w.db.name);

        // Not publishing: the justification is the ICSC's (9.1), chased until sent.
        w.deliver(
            reply(ICSC, "CHSCP-2026-001", "NOT-PUBLISHING the family's safety", "Mon, 28 Jun 2027 10:00:00 +0100"),
            "2027-06-28T09:01:00Z",
        )
        .await;
        let intents = w.store.intents().await.unwrap();
        let draft = intents.iter().find(|i| i.template == "not_publishing_notice_draft").unwrap();
        assert!(draft.recipients.contains("icsc") && !draft.recipients.contains("spa"), "{}", draft.recipients);
        assert_eq!(open_duties(&w, "CHSCP-2026-001").await, ["non_publication_notice"], "{}", w.db.name);
        tick(&w, "2027-07-05T09:00:00Z").await;
        assert_eq!(reminders(&w, "NOTICE-SENT NON-PUBLICATION").await, 1, "{}", w.db.name);
        w.deliver(
            reply(ICSC, "CHSCP-2026-001", "NOTICE-SENT NON-PUBLICATION 06/07/2027", "Tue, 6 Jul 2027 10:00:00 +0100"),
            "2027-07-06T09:01:00Z",
        )
        .await;
        assert!(open_duties(&w, "CHSCP-2026-001").await.is_empty(), "{}", w.db.name);
    }
}

#[tokio::test]
async fn a_published_review_is_chased_to_the_national_repository() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01026").await;
        w.deliver(
            reply(ICSC, "CHSCP-2026-001", "DECISION CSPR 05/01/2027", "Tue, 5 Jan 2027 12:00:00 +0000"),
            "2027-01-05T12:01:00Z",
        )
        .await;
        w.deliver(
            reply(
                SPA,
                "CHSCP-2026-001",
                "PUBLISHED https://chscp.org.uk/reviews/r1 30/06/2027",
                "Wed, 30 Jun 2027 12:00:00 +0100",
            ),
            "2027-06-30T11:01:00Z",
        )
        .await;
        assert!(open_duties(&w, "CHSCP-2026-001").await.contains(&"repository"), "{}", w.db.name);
        w.deliver(
            reply(SPA, "CHSCP-2026-001", "REPOSITORY-SENT", "Thu, 1 Jul 2027 12:00:00 +0100"),
            "2027-07-01T11:01:00Z",
        )
        .await;
        assert!(!open_duties(&w, "CHSCP-2026-001").await.contains(&"repository"), "{}", w.db.name);
    }
}

#[tokio::test]
async fn close_says_what_it_stopped_and_how_to_undo_it_and_reopen_runs_those_clocks_again() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01027").await;
        w.deliver(
            reply(ICSC, "CHSCP-2026-001", "CLOSE opened in error", "Mon, 23 Nov 2026 10:00:00 +0000"),
            "2026-11-23T10:01:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert!(case.is_closed(), "{}", w.db.name);
        assert_eq!(clock(&case, ClockId::C3).2, ClockStatus::Stopped);
        let intents = w.store.intents().await.unwrap();
        let answer = intents.iter().rev().find(|i| i.template == "command_done").unwrap();
        assert!(answer.facts.contains("C3 stopped") && answer.facts.contains("REOPEN <reason>"), "{}", answer.facts);

        // The SPA may not reopen; the ICSC may.
        w.deliver(
            reply(SPA, "CHSCP-2026-001", "REOPEN closed by mistake", "Tue, 24 Nov 2026 10:00:00 +0000"),
            "2026-11-24T10:01:00Z",
        )
        .await;
        assert!(w.case("CHSCP-2026-001").await.is_closed(), "{}", w.db.name);
        w.deliver(
            reply(ICSC, "CHSCP-2026-001", "REOPEN closed by mistake", "Tue, 24 Nov 2026 11:00:00 +0000"),
            "2026-11-24T11:01:00Z",
        )
        .await;
        let case = w.case("CHSCP-2026-001").await;
        assert!(!case.is_closed(), "{}", w.db.name);
        assert_eq!(clock(&case, ClockId::C3), ("2026-11-18".into(), "2026-12-09".into(), ClockStatus::Running));
        assert!(w.events("CHSCP-2026-001").await.contains(&"case_reopened".to_owned()), "{}", w.db.name);
        let intents = w.store.intents().await.unwrap();
        let answer = intents.iter().rev().find(|i| i.template == "command_done").unwrap();
        assert!(answer.facts.contains("C3 due Wednesday 9 December 2026"), "{}", answer.facts);
    }
}

#[tokio::test]
async fn help_lists_what_the_sender_may_send_now_and_status_the_clocks() {
    for db in both().await {
        let mut w = World::new(db).await;
        opened(&mut w, "SIN-2026-01028").await;
        w.deliver(reply(SPA, "CHSCP-2026-001", "HELP", "Mon, 23 Nov 2026 10:00:00 +0000"), "2026-11-23T10:01:00Z")
            .await;
        w.deliver(reply(ICSC, "CHSCP-2026-001", "STATUS", "Mon, 23 Nov 2026 11:00:00 +0000"), "2026-11-23T11:01:00Z")
            .await;
        let intents = w.store.intents().await.unwrap();
        let answers: Vec<serde_json::Value> = intents
            .iter()
            .filter(|i| i.template == "command_answer")
            .map(|i| serde_json::from_str(&i.facts).unwrap())
            .collect();
        assert_eq!(answers.len(), 2, "{}", w.db.name);
        let help = answers[0]["answer"].as_str().unwrap();
        let lines: Vec<&str> = help.lines().collect();
        assert!(lines.contains(&"SUBMITTED [date]") && lines.contains(&"NOTE <text>"), "{help}");
        assert!(
            !lines.iter().any(|l| l.starts_with("CLOSE") || l.starts_with("DELAY") || l.starts_with("MEETING-HELD")),
            "{help}"
        );
        let status = answers[1]["answer"].as_str().unwrap();
        assert!(status.contains("C3  due Wednesday 9 December 2026"), "{status}");
        assert!(status.contains("C1  met on Wednesday 18 November 2026"), "{status}");
        assert!(!w.events("CHSCP-2026-001").await.iter().any(|e| e == "command_refused"), "{}", w.db.name);
    }
}
