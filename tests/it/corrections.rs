//! Corrections, merges and triage by reply on both databases: the facts change, the
//! clocks follow, the chronology records who did what, and the store moves what a merge
//! moves — on SQLite and on PostgreSQL alike.

use cspr::domain::clock::ClockId;

use crate::databases::both;
use crate::scenarios::{World, colleague_copy, mail, notification, reply};

const LA: &str = "social.worker@hackney.gov.uk";
const SPA: &str = "spa@hackney.gov.uk";
const ICSC: &str = "icsc@hackney.gov.uk";

fn c3_due(case: &cspr::domain::case::CaseState) -> Option<String> {
    case.running(ClockId::C3).map(|c| c.due_in_force().to_string())
}

#[tokio::test]
async fn abuse_suspected_no_on_a_looked_after_childs_death_is_the_icscs_and_stops_c3() {
    for db in both().await {
        let mut w = World::new(db).await;
        let raw = notification(
            LA,
            "16/11/2026",
            "18/11/2026",
            "SIN-2026-07001",
            "Looked after child: Yes\r\n",
            "Thu, 19 Nov 2026 10:00:00 +0000",
            true,
        );
        w.deliver(raw, "2026-11-19T10:05:00Z").await;
        let reference = "CHSCP-2026-001";
        assert!(w.case(reference).await.secretary_of_state_duty, "{}", w.db.name);
        assert!(c3_due(&w.case(reference).await).is_some());
        // The SPA may correct most facts, but not this one.
        w.deliver(
            reply(SPA, reference, "ABUSE-SUSPECTED NO", "Fri, 20 Nov 2026 09:00:00 +0000"),
            "2026-11-20T09:00:00Z",
        )
        .await;
        assert!(c3_due(&w.case(reference).await).is_some(), "{}: refused", w.db.name);
        assert!(w.events(reference).await.contains(&"command_refused".to_owned()));
        w.deliver(
            reply(ICSC, reference, "ABUSE-SUSPECTED NO", "Fri, 20 Nov 2026 10:00:00 +0000"),
            "2026-11-20T10:00:00Z",
        )
        .await;
        let case = w.case(reference).await;
        assert!(case.dfe_ofsted_only && c3_due(&case).is_none(), "{}: footnote 1", w.db.name);
        // Said the other way again: the Rapid Review is needed after all.
        w.deliver(
            reply(ICSC, reference, "ABUSE-SUSPECTED UNKNOWN", "Mon, 23 Nov 2026 10:00:00 +0000"),
            "2026-11-23T10:00:00Z",
        )
        .await;
        let case = w.case(reference).await;
        assert!(!case.dfe_ofsted_only, "{}", w.db.name);
        assert_eq!(c3_due(&case).as_deref(), Some("2026-12-09"), "{}: from the date the Panel was notified", w.db.name);
    }
}

#[tokio::test]
async fn type_and_children_corrections_change_the_facts_and_what_follows_from_them() {
    for db in both().await {
        let mut w = World::new(db).await;
        let raw =
            notification(LA, "16/11/2026", "18/11/2026", "SIN-2026-07002", "", "Thu, 19 Nov 2026 10:00:00 +0000", true);
        w.deliver(raw, "2026-11-19T10:05:00Z").await;
        let reference = "CHSCP-2026-001";
        assert!(!w.case(reference).await.secretary_of_state_duty);
        w.deliver(
            reply(SPA, reference, "TYPE care leaver death", "Fri, 20 Nov 2026 09:00:00 +0000"),
            "2026-11-20T09:00:00Z",
        )
        .await;
        let case = w.case(reference).await;
        assert!(case.secretary_of_state_duty, "{}: 2.3 applies now", w.db.name);
        assert!(case.open_duties().any(|d| d.kind == cspr::domain::duty::DutyKind::SosNotified));
        w.deliver(reply(ICSC, reference, "CHILDREN 2", "Fri, 20 Nov 2026 09:30:00 +0000"), "2026-11-20T09:30:00Z")
            .await;
        assert_eq!(w.case(reference).await.notification.children, Some(2));
        // A correction that changes nothing is said so, and recorded as refused.
        w.deliver(reply(ICSC, reference, "CHILDREN 2", "Fri, 20 Nov 2026 09:40:00 +0000"), "2026-11-20T09:40:00Z")
            .await;
        let corrected =
            w.store.audit(reference).await.unwrap().into_iter().filter(|a| a.event == "fact_corrected").count();
        assert_eq!(corrected, 2, "{}", w.db.name);
    }
}

#[tokio::test]
async fn a_merge_moves_messages_and_chronology_and_a_triage_reply_opens_a_case_on_both_databases() {
    for db in both().await {
        let mut w = World::new(db).await;
        w.deliver(
            notification(LA, "16/11/2026", "18/11/2026", "SIN-2026-07003", "", "Thu, 19 Nov 2026 10:00:00 +0000", true),
            "2026-11-19T10:05:00Z",
        )
        .await;
        // The same incident from a colleague, without the Panel reference.
        let copy = colleague_copy();
        w.deliver(copy, "2026-11-19T12:00:00Z").await;
        w.deliver(
            reply(SPA, "CHSCP-2026-002", "MERGE CHSCP-2026-001", "Fri, 20 Nov 2026 09:00:00 +0000"),
            "2026-11-20T09:00:00Z",
        )
        .await;
        let (kept, duplicate) = (w.case("CHSCP-2026-001").await, w.case("CHSCP-2026-002").await);
        assert!(duplicate.is_closed(), "{}", w.db.name);
        assert_eq!(kept.notification.aware_date.unwrap().to_string(), "2026-11-13", "{}", w.db.name);
        assert_eq!(w.store.case_messages("CHSCP-2026-002").await.unwrap().len(), 0, "{}", w.db.name);
        assert!(w.store.case_messages("CHSCP-2026-001").await.unwrap().len() >= 3, "{}", w.db.name);
        assert_eq!(w.events("CHSCP-2026-002").await, vec!["case_merged_into".to_owned()], "{}", w.db.name);

        // A message nobody could place, opened as a case by a TRIAGE reply.
        let stray = mail(LA, "update", "Mon, 23 Nov 2026 09:00:00 +0000", "Please see the attached.", false);
        w.deliver(stray, "2026-11-23T09:00:00Z").await;
        let item = w.store.triage(true).await.unwrap().last().expect("held").id;
        let line = format!("TRIAGE {item} NEW-CASE NOTIFICATION aware 20/11/2026 notified 23/11/2026 la Hackney");
        w.deliver(
            mail(SPA, "RE: held for triage", "Mon, 23 Nov 2026 10:00:00 +0000", &line, true),
            "2026-11-23T10:00:00Z",
        )
        .await;
        let opened = w.case("CHSCP-2026-003").await;
        assert_eq!(c3_due(&opened).as_deref(), Some("2026-12-14"), "{}", w.db.name);
        assert!(w.store.triage(true).await.unwrap().iter().all(|t| t.id != item), "{}", w.db.name);
    }
}
