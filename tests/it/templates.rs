//! Golden tests of every shipped template, rendered for a sample case: the subject and
//! text must match `tests/fixtures/templates/NAME.txt` (a mismatch writes `NAME.failed`;
//! `CSPR_BLESS=1` rewrites the files after a deliberate change, to be read before
//! committing). No rendering may name a child.

use std::path::Path;

use cspr::outbound::templates::SHIPPED;
use cspr::outbound::{Templates, compose, message_id};
use serde_json::json;

fn sample() -> serde_json::Value {
    let mut facts = json!({
        "case": "CHSCP-2026-004",
        "area": "London Borough of Hackney",
        "rapid_review_due": "Tuesday 15 December 2026",
        "meeting_due": "Monday 21 December 2026",
        "meeting": "Tuesday 1 December 2026",
        "late": "C2 (partnership copy received 2026-11-27; due Monday 23 November 2026)",
        "command": "SUBMITTED",
        "done": "Rapid Review submitted to the Panel recorded for Tuesday 8 December 2026",
        "reason": "no C3 clock is running on this case",
        "new_due": "Friday 30 July 2027",
        "token": "k7Q2x9",
        "clock": "C3",
        "clock_title": "Rapid Review report submitted to the Panel",
        "due": "Tuesday 15 December 2026",
        "overdue": "yes",
        "failed_template": "reminder",
        "mailbox": "imap:chscp@hackney.gov.uk@outlook.office365.com:993/INBOX",
        "since": "2026-11-23T08:00:00Z",
        "minutes": "45",
        "now": "2026-11-23T09:10:00Z",
        "failed_id": "42",
        "error": "permanent failure: 550 5.1.1 mailbox unavailable",
        "partnership": {"name": "City & Hackney Safeguarding Children Partnership", "short_name": "CHSCP", "mailbox": "chscp@hackney.gov.uk"},
        "referral_advice": "This mailbox is not the way to refer a child. If a child is in immediate danger, call 999.",
        "date": "Monday 23 November 2026",
        "cases_list": [
            {"rag": "RED", "reference": "CHSCP-2026-001", "stage": "rapid_review", "clock": "C3", "due": "Monday 23 November 2026", "status": "due_today"},
            {"rag": "GREEN", "reference": "CHSCP-2026-004", "stage": "review", "clock": "C6", "due": "Monday 5 July 2027", "status": "on_track"}
        ],
        "triage_list": [{"id": 7, "reason": "sender not authenticated (trust untrusted)"}],
        "red": "1", "amber": "0", "green": "1",
    });
    let more = json!({
        "decision": "NO-CSPR",
        "stopped": "C5 and C6",
        "rapid_review_basis": "counted from Monday 16 November 2026 because the notification did not say when the Panel was notified",
        "basis": "counted from Monday 16 November 2026 because the notification did not say when the Panel was notified",
        "what": "confirm that the local authority has told the Secretary of State of the death (2.3)",
        "line": "SOS-NOTIFIED [date]",
        "current_due": "Monday 5 July 2027",
        "suggested": "05/10/2027",
        "history": "request 1: to Thursday 30 September 2027, declined on 2027-06-10 (awaiting the criminal trial)",
        "arose_on": "Monday 1 March 2027",
        "short": "the Secretary of State told",
        "reminder_on": "Monday 8 March 2027",
        "outcome": "agrees with the Rapid Review",
        "decided_on": "Tuesday 5 January 2027",
        "answer": "Case CHSCP-2026-004: rapid review\n\nC3  due Tuesday 15 December 2026",
        "to_confirm": "the date the Panel was notified (C1 cannot be assessed)",
        "proposer": "The local authority",
        "item": "7",
        "folder": "Done",
        "message": "17",
        "changes": "Panel notified: Tuesday 17 November 2026, now Wednesday 18 November 2026; the Rapid Review (C3) is now due Wednesday 9 December 2026",
    });
    for (key, value) in more.as_object().unwrap() {
        facts[key] = value.clone();
    }
    facts
}

#[test]
fn every_template_renders_as_its_golden_file_and_names_no_child() {
    let templates = Templates::load(None).unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates");
    let bless = std::env::var("CSPR_BLESS").is_ok();
    let mut mismatches = Vec::new();
    for (name, _) in SHIPPED {
        let rendered = templates.render(name, &sample()).unwrap();
        let text = format!("Subject: {}\n\n{}", rendered.subject, rendered.text);
        assert!(!text.contains("Alex") && !rendered.html.contains("Alex"), "{name} names a child");
        assert!(!rendered.subject.is_empty() && !rendered.text.trim().is_empty(), "{name} is empty");
        let golden = dir.join(format!("{name}.txt"));
        if bless {
            std::fs::write(&golden, &text).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        if expected != text {
            std::fs::write(dir.join(format!("{name}.failed")), &text).unwrap();
            mismatches.push(name.to_string());
        }
    }
    assert!(!SHIPPED.is_empty());
    assert!(mismatches.is_empty(), "templates differ from their golden files: {mismatches:?}");
}

#[test]
fn acknowledgements_say_where_referrals_go_and_every_email_carries_the_case_tag() {
    let templates = Templates::load(None).unwrap();
    let ack = templates.render("acknowledgement", &sample()).unwrap();
    assert!(ack.text.contains("not the way to refer a child"));
    for (name, _) in SHIPPED {
        let rendered = templates.render(name, &sample()).unwrap();
        if !(name.starts_with("referral")
            || [
                "digest",
                "weekly",
                "triage_alert",
                "mailbox_unreachable",
                "mailbox_recovered",
                "storage_recovered",
                "filing_failed",
            ]
            .contains(name))
        {
            assert!(rendered.subject.contains("[CHSCP-2026-004]"), "{name}: {}", rendered.subject);
        }
    }
}

#[test]
fn a_composed_email_is_loop_protected_threaded_and_has_both_parts() {
    let templates = Templates::load(None).unwrap();
    let rendered = templates.render("reminder", &sample()).unwrap();
    let id =
        message_id(Some("CHSCP-2026-004"), "clock:CHSCP-2026-004:C3:reminder:0:0:2026-12-15", "cspr.hackney.gov.uk");
    assert!(id.starts_with("CHSCP-2026-004.") && id.ends_with("@cspr.hackney.gov.uk"));
    let to = vec!["spa@hackney.gov.uk".to_owned()];
    let envelope = compose::Envelope {
        from_name: "City & Hackney Safeguarding Children Partnership",
        from: "chscp@hackney.gov.uk",
        to: &to,
        message_id: &id,
        case: Some("CHSCP-2026-004"),
        domain: "cspr.hackney.gov.uk",
        date: std::time::SystemTime::UNIX_EPOCH,
    };
    let raw = String::from_utf8(compose(&envelope, &rendered).unwrap()).unwrap();
    for header in [
        "Auto-Submitted: auto-generated",
        "X-CSPR-Loop: 1",
        "References: <CHSCP-2026-004.thread@cspr.hackney.gov.uk>",
        "In-Reply-To: <CHSCP-2026-004.thread@cspr.hackney.gov.uk>",
    ] {
        assert!(raw.contains(header), "missing {header}");
    }
    assert!(raw.contains(&format!("Message-ID: <{id}>")));
    assert!(raw.contains("multipart/alternative") && raw.contains("text/html") && raw.contains("text/plain"));
    // Our own email, read back in, is never acted on: loop protection.
    let config = cspr::config::Config::defaults();
    let understood = cspr::understand::understand(raw.as_bytes(), &config.understanding());
    assert_eq!(understood.kind, cspr::domain::message::Kind::AutoReply);
}

#[test]
fn values_in_an_html_template_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("triage_alert.html"), "<p>Held: {{ reason }}</p>").unwrap();
    let templates = Templates::load(Some(dir.path())).unwrap();
    let mut context = sample();
    context["reason"] = json!("<script>alert('x')</script> & <a href=\"http://evil.example\">click</a>");
    let rendered = templates.render("triage_alert", &context).unwrap();
    assert!(!rendered.html.contains("<script>") && !rendered.html.contains("<a href"), "{}", rendered.html);
    assert!(rendered.html.contains("&lt;script&gt;"), "{}", rendered.html);
    // The text part is text: nothing to escape.
    assert!(rendered.text.contains("<script>alert('x')</script>"), "{}", rendered.text);
}
