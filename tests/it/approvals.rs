//! Delay approvals end to end (8.1): approve, decline, quorum; and every way an approval
//! must not count — wrong sender, spoofed sender, missing, altered, replayed, expired or
//! another approver's token — refused and audited, the due date unchanged.

use cspr::domain::clock::ClockId;

use crate::databases::{TestDb, both, sqlite};
use crate::scenarios::{World, mail, notification, reply};

const LA: &str = "social.worker@hackney.gov.uk";
const ICSC: &str = "icsc@hackney.gov.uk";
const CHAIR: &str = "slt.chair@hackney.gov.uk";
const MEMBER: &str = "slt.member@hackney.gov.uk";
const CASE: &str = "CHSCP-2026-001";

/// A case in review (C6 due 5 July 2027) with a delay to 30 September 2027 requested on
/// 1 June; returns the world and each approver's token.
async fn requested(quorum: &str) -> (World, String, String) {
    let env = [
        ("CSPR__APPROVALS__TOKEN_SECRET", "the partnership's approval secret"),
        ("CSPR__APPROVALS__QUORUM", quorum),
        ("CSPR__ROLES__SLT__ADDRESSES", "[\"slt.chair@hackney.gov.uk\", \"slt.member@hackney.gov.uk\"]"),
    ];
    let mut w = World::with_env(sqlite(), &env).await;
    w.deliver(
        notification(LA, "16/11/2026", "18/11/2026", "SIN-2026-03001", "", "Thu, 19 Nov 2026 10:00:00 +0000", true),
        "2026-11-19T10:05:00Z",
    )
    .await;
    w.deliver(reply(ICSC, CASE, "DECISION CSPR 05/01/2027", "Tue, 5 Jan 2027 12:00:00 +0000"), "2027-01-05T12:01:00Z")
        .await;
    w.deliver(
        reply(
            ICSC,
            CASE,
            "DELAY 30/09/2027 the police investigation is not complete",
            "Tue, 1 Jun 2027 09:00:00 +0100",
        ),
        "2027-06-01T08:01:00Z",
    )
    .await;
    let requests: Vec<_> =
        w.store.outbox(None).await.unwrap().into_iter().filter(|r| r.template == "approval_request").collect();
    assert_eq!(requests.len(), 2, "one request per SLT member");
    let token_for = |who: &str| {
        requests
            .iter()
            .find(|r| format!("{:?}", r.recipients).contains(who))
            .map(|r| r.facts["token"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let (chair, member) = (token_for(CHAIR), token_for(MEMBER));
    assert_ne!(chair, member);
    (w, chair, member)
}

async fn outbox_count(w: &World, template: &str) -> usize {
    w.store.outbox(None).await.unwrap().into_iter().filter(|r| r.template == template).count()
}

async fn c6_due(w: &World) -> String {
    w.case(CASE).await.clocks.iter().find(|c| c.clock == ClockId::C6).unwrap().due_in_force().to_string()
}

async fn rejected(w: &World) -> usize {
    w.events(CASE).await.iter().filter(|e| *e == "approval_rejected").count()
}

#[tokio::test]
async fn one_valid_approval_moves_the_due_date_and_drafts_the_notice() {
    let (mut w, chair, _) = requested("1").await;
    assert_eq!(c6_due(&w).await, "2027-07-05");
    w.deliver(
        reply(CHAIR, CASE, &format!("APPROVE {chair}"), "Wed, 2 Jun 2027 09:00:00 +0100"),
        "2027-06-02T08:01:00Z",
    )
    .await;
    assert_eq!(c6_due(&w).await, "2027-09-30");
    assert!(w.events(CASE).await.contains(&"clock_extended".to_owned()));
    assert!(w.templates().await.contains(&"delay_notice_draft".to_owned()));
}

#[tokio::test]
async fn a_decline_leaves_the_due_date_and_tells_the_spa_and_icsc() {
    let (mut w, chair, _) = requested("1").await;
    w.deliver(
        reply(
            CHAIR,
            CASE,
            &format!("DECLINE {chair} the reasons are not sufficient"),
            "Wed, 2 Jun 2027 09:00:00 +0100",
        ),
        "2027-06-02T08:01:00Z",
    )
    .await;
    assert_eq!(c6_due(&w).await, "2027-07-05");
    assert!(w.case(CASE).await.delay.is_none());
    assert!(w.events(CASE).await.contains(&"delay_declined".to_owned()));
    assert!(w.templates().await.contains(&"delay_declined".to_owned()));
}

#[tokio::test]
async fn with_a_quorum_of_two_one_approval_is_not_enough_and_a_replay_does_not_count_twice() {
    let (mut w, chair, member) = requested("2").await;
    w.deliver(
        reply(CHAIR, CASE, &format!("APPROVE {chair}"), "Wed, 2 Jun 2027 09:00:00 +0100"),
        "2027-06-02T08:01:00Z",
    )
    .await;
    assert_eq!(c6_due(&w).await, "2027-07-05", "one of two");
    // The same approval again: replayed token.
    w.deliver(
        reply(CHAIR, CASE, &format!("APPROVE {chair}"), "Wed, 2 Jun 2027 10:00:00 +0100"),
        "2027-06-02T09:01:00Z",
    )
    .await;
    assert_eq!(c6_due(&w).await, "2027-07-05", "a replay is not a second approval");
    assert_eq!(rejected(&w).await, 1);
    w.deliver(
        reply(MEMBER, CASE, &format!("APPROVE {member}"), "Thu, 3 Jun 2027 09:00:00 +0100"),
        "2027-06-03T08:01:00Z",
    )
    .await;
    assert_eq!(c6_due(&w).await, "2027-09-30", "two of two");
}

#[tokio::test]
async fn approvals_that_must_not_count_are_refused_and_audited() {
    let (mut w, chair, member) = requested("1").await;
    let altered = format!("{}{}", &chair[..chair.len() - 1], if chair.ends_with('0') { '1' } else { '0' });
    let attempts: Vec<(String, &str)> = vec![
        // Not an SLT member, with a real token.
        (reply(ICSC, CASE, &format!("APPROVE {chair}"), "Wed, 2 Jun 2027 09:00:00 +0100"), "wrong sender"),
        // The chair's address, but our server saw no DMARC pass.
        (
            mail(
                CHAIR,
                &format!("Re: [{CASE}] Approval needed"),
                "Wed, 2 Jun 2027 09:05:00 +0100",
                &format!("APPROVE {chair}"),
                false,
            ),
            "spoofed",
        ),
        (reply(CHAIR, CASE, "APPROVE", "Wed, 2 Jun 2027 09:10:00 +0100"), "missing token"),
        (reply(CHAIR, CASE, &format!("APPROVE {altered}"), "Wed, 2 Jun 2027 09:15:00 +0100"), "altered token"),
        (
            reply(CHAIR, CASE, &format!("APPROVE {member}"), "Wed, 2 Jun 2027 09:20:00 +0100"),
            "another approver's token",
        ),
    ];
    for (n, (raw, what)) in attempts.into_iter().enumerate() {
        let before = w.events(CASE).await.len();
        w.deliver(raw, &format!("2027-06-02T08:{:02}:00Z", 10 + n)).await;
        assert_eq!(c6_due(&w).await, "2027-07-05", "{what} must not count");
        let events = w.events(CASE).await;
        assert!(
            events.len() > before
                && events[before..].iter().any(|e| e == "approval_rejected" || e == "command_refused"),
            "{what} audited: {events:?}"
        );
    }
    // The spoofed one is also held for a person.
    assert_eq!(w.store.triage(true).await.unwrap().len(), 1);
    // Past its expiry (ten days from 1 June) the chair's own token no longer counts.
    w.deliver(
        reply(CHAIR, CASE, &format!("APPROVE {chair}"), "Mon, 14 Jun 2027 09:00:00 +0100"),
        "2027-06-14T08:01:00Z",
    )
    .await;
    assert_eq!(c6_due(&w).await, "2027-07-05", "expired");
    // Within it, it still does: nothing above used it up.
    let (mut fresh, chair, _) = requested("1").await;
    fresh
        .deliver(
            reply(CHAIR, CASE, &format!("APPROVE {chair}"), "Fri, 11 Jun 2027 09:00:00 +0100"),
            "2027-06-11T08:01:00Z",
        )
        .await;
    assert_eq!(c6_due(&fresh).await, "2027-09-30");
}

#[tokio::test]
async fn twenty_working_days_before_the_review_is_due_the_icsc_is_asked_and_the_slt_only_when_it_recommends() {
    for db in both().await {
        delay_governance(db).await;
    }
}

/// 8.1 on one database: the ICSC asked, its recommendation to the SLT, a final decline,
/// a fresh request, approval, and the notice chased until recorded.
async fn delay_governance(db: TestDb) {
    let env = [
        ("CSPR__APPROVALS__TOKEN_SECRET", "the partnership's approval secret"),
        ("CSPR__ROLES__SLT__ADDRESSES", "[\"slt.chair@hackney.gov.uk\", \"slt.member@hackney.gov.uk\"]"),
    ];
    let mut w = World::with_env(db, &env).await;
    w.deliver(
        notification(LA, "16/11/2026", "18/11/2026", "SIN-2026-03002", "", "Thu, 19 Nov 2026 10:00:00 +0000", true),
        "2026-11-19T10:05:00Z",
    )
    .await;
    w.deliver(reply(ICSC, CASE, "DECISION CSPR 05/01/2027", "Tue, 5 Jan 2027 12:00:00 +0000"), "2027-01-05T12:01:00Z")
        .await;
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc);
    // C6 is due Monday 5 July 2027; twenty working days before is Monday 7 June.
    cspr::jobs::tick::run(&w.store, &w.config, at("2027-06-04T09:00:00Z")).await.unwrap();
    assert_eq!(outbox_count(&w, "delay_question").await, 0, "not yet");
    cspr::jobs::tick::run(&w.store, &w.config, at("2027-06-07T09:00:00Z")).await.unwrap();
    assert_eq!(outbox_count(&w, "delay_question").await, 1, "the ICSC is asked");
    assert_eq!(outbox_count(&w, "approval_request").await, 0, "the SLT is not asked by the scheduler");
    assert!(w.case(CASE).await.delay.is_none());
    cspr::jobs::tick::run(&w.store, &w.config, at("2027-06-08T09:05:00Z")).await.unwrap();
    assert_eq!(outbox_count(&w, "delay_question").await, 1, "asked once for that due date");

    // The SPA may not recommend a delay; the ICSC does, and the SLT sees the reason.
    w.deliver(
        reply("spa@hackney.gov.uk", CASE, "DELAY 30/09/2027 the trial", "Tue, 8 Jun 2027 10:00:00 +0100"),
        "2027-06-08T09:01:00Z",
    )
    .await;
    assert_eq!(outbox_count(&w, "approval_request").await, 0, "DELAY is the ICSC's");
    w.deliver(
        reply(ICSC, CASE, "DELAY 30/09/2027 the criminal trial is listed for August", "Tue, 8 Jun 2027 11:00:00 +0100"),
        "2027-06-08T10:01:00Z",
    )
    .await;
    let requests: Vec<_> =
        w.store.outbox(None).await.unwrap().into_iter().filter(|r| r.template == "approval_request").collect();
    assert_eq!(requests.len(), 2, "one per SLT member");
    assert_eq!(requests[0].facts["reason"], "the criminal trial is listed for August");
    assert_eq!(requests[0].facts["current_due"], "Monday 5 July 2027");
    let token = requests.iter().find(|r| format!("{:?}", r.recipients).contains(CHAIR)).unwrap().facts["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let member = requests.iter().find(|r| format!("{:?}", r.recipients).contains(MEMBER)).unwrap().facts["token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Declined: final for that request, across ticks; the ICSC is told.
    w.deliver(
        reply(CHAIR, CASE, &format!("DECLINE {token} finish it"), "Wed, 9 Jun 2027 09:00:00 +0100"),
        "2027-06-09T08:01:00Z",
    )
    .await;
    assert!(w.case(CASE).await.delay.is_none());
    assert_eq!(outbox_count(&w, "delay_declined").await, 1);
    for day in ["2027-06-10T09:00:00Z", "2027-06-14T09:00:00Z", "2027-07-01T09:00:00Z"] {
        cspr::jobs::tick::run(&w.store, &w.config, at(day)).await.unwrap();
    }
    assert_eq!(outbox_count(&w, "approval_request").await, 2, "never re-requested by the scheduler");
    assert_eq!(outbox_count(&w, "delay_question").await, 1);
    w.deliver(
        reply(MEMBER, CASE, &format!("APPROVE {member}"), "Thu, 10 Jun 2027 09:00:00 +0100"),
        "2027-06-10T08:01:00Z",
    )
    .await;
    assert_eq!(c6_due(&w).await, "2027-07-05", "the declined request's other tokens are refused");

    // A fresh recommendation is a new request with new tokens, showing the history.
    w.deliver(
        reply(ICSC, CASE, "DELAY 31/08/2027 the trial date is now fixed", "Fri, 11 Jun 2027 09:00:00 +0100"),
        "2027-06-11T08:01:00Z",
    )
    .await;
    let fresh: Vec<_> = w
        .store
        .outbox(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.template == "approval_request" && r.facts["token"].as_str().unwrap().starts_with("2-"))
        .collect();
    assert_eq!(fresh.len(), 2);
    assert!(fresh[0].facts["history"].as_str().unwrap().contains("declined"), "{:?}", fresh[0].facts);
    let token = fresh.iter().find(|r| format!("{:?}", r.recipients).contains(CHAIR)).unwrap().facts["token"]
        .as_str()
        .unwrap()
        .to_owned();
    w.deliver(
        reply(CHAIR, CASE, &format!("APPROVE {token}"), "Fri, 11 Jun 2027 10:00:00 +0100"),
        "2027-06-11T09:01:00Z",
    )
    .await;
    assert_eq!(c6_due(&w).await, "2027-08-31");

    // The notice of reasons is chased until it is recorded.
    let case = w.case(CASE).await;
    assert!(case.open_duties().any(|d| d.kind == cspr::domain::duty::DutyKind::DelayNotice));
    cspr::jobs::tick::run(&w.store, &w.config, at("2027-06-18T09:00:00Z")).await.unwrap();
    let notice_reminders = |w: &World| {
        let store = w.store.clone();
        async move {
            let rows = store.outbox(None).await.unwrap();
            rows.iter()
                .filter(|r| {
                    r.template == "duty_reminder" && r.facts["line"].as_str().unwrap().starts_with("NOTICE-SENT DELAY")
                })
                .count()
        }
    };
    assert_eq!(notice_reminders(&w).await, 1, "five working days on");
    w.deliver(
        reply(ICSC, CASE, "NOTICE-SENT DELAY 21/06/2027", "Mon, 21 Jun 2027 09:00:00 +0100"),
        "2027-06-21T08:01:00Z",
    )
    .await;
    cspr::jobs::tick::run(&w.store, &w.config, at("2027-06-25T09:00:00Z")).await.unwrap();
    assert_eq!(notice_reminders(&w).await, 1, "no more once recorded");
    assert!(!w.case(CASE).await.open_duties().any(|d| d.kind == cspr::domain::duty::DutyKind::DelayNotice));
}

#[tokio::test]
async fn a_superseded_token_and_a_spent_token_are_refused() {
    let (mut w, old_chair, _) = requested("1").await;
    // The ICSC asks again, for a later date: request 2 replaces request 1.
    w.deliver(
        reply(ICSC, CASE, "DELAY 29/10/2027 the inquest has been adjourned", "Thu, 3 Jun 2027 09:00:00 +0100"),
        "2027-06-03T08:01:00Z",
    )
    .await;
    let delay = w.case(CASE).await.delay.unwrap();
    assert_eq!((delay.number, delay.new_due.to_string()), (2, "2027-10-29".to_owned()));
    assert!(w.events(CASE).await.contains(&"delay_request_replaced".to_owned()));
    let new_chair = w
        .store
        .outbox(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.template == "approval_request" && format!("{:?}", r.recipients).contains(CHAIR))
        .map(|r| r.facts["token"].as_str().unwrap().to_owned())
        .find(|t| t.starts_with("2-"))
        .expect("a token for request 2");

    // The chair answers the first request's email: superseded, not counted.
    w.deliver(
        reply(CHAIR, CASE, &format!("APPROVE {old_chair}"), "Thu, 3 Jun 2027 10:00:00 +0100"),
        "2027-06-03T09:01:00Z",
    )
    .await;
    assert_eq!(c6_due(&w).await, "2027-07-05", "a superseded token does not count");
    let audit = w.store.audit(CASE).await.unwrap();
    let last_rejection = audit.iter().rev().find(|a| a.event == "approval_rejected").expect("audited");
    assert!(last_rejection.detail.contains("replaced by request 2"), "{}", last_rejection.detail);

    // The current token counts once…
    w.deliver(
        reply(CHAIR, CASE, &format!("APPROVE {new_chair}"), "Thu, 3 Jun 2027 11:00:00 +0100"),
        "2027-06-03T10:01:00Z",
    )
    .await;
    assert_eq!(c6_due(&w).await, "2027-10-29");
    // …and, spent, moves nothing again: not after the request is decided, nor for a
    // later request on the same case.
    w.deliver(
        reply(CHAIR, CASE, &format!("APPROVE {new_chair}"), "Thu, 3 Jun 2027 12:00:00 +0100"),
        "2027-06-03T11:01:00Z",
    )
    .await;
    assert_eq!(c6_due(&w).await, "2027-10-29");
    assert!(w.templates().await.contains(&"command_refused".to_owned()));
    w.deliver(
        reply(ICSC, CASE, "DELAY 30/11/2027 the family asked for more time", "Fri, 4 Jun 2027 09:00:00 +0100"),
        "2027-06-04T08:01:00Z",
    )
    .await;
    w.deliver(
        reply(CHAIR, CASE, &format!("APPROVE {new_chair}"), "Fri, 4 Jun 2027 10:00:00 +0100"),
        "2027-06-04T09:01:00Z",
    )
    .await;
    assert_eq!(c6_due(&w).await, "2027-10-29", "a spent token does not count for a later request");
    let audit = w.store.audit(CASE).await.unwrap();
    let last_rejection = audit.iter().rev().find(|a| a.event == "approval_rejected").expect("audited");
    assert!(last_rejection.detail.contains("request 2, since replaced by request 3"), "{}", last_rejection.detail);
}
