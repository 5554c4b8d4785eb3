//! `cspr demo` and `cspr simulate`, from outside: the demo needs no servers and tells
//! the whole story; the simulation of the bundled mailbox matches its golden file
//! (`CSPR_BLESS=1` rewrites it after a deliberate change, to be read before committing).

use std::path::Path;

use crate::support::{cspr_with_env, stderr, stdout};

#[test]
fn the_demo_runs_with_no_servers_and_prints_the_whole_story() {
    let output = cspr_with_env(&["demo"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    for expected in [
        "case_opened",
        "Notification received",
        "triaged          sender not authenticated",
        "Reminder: Rapid Review report submitted to the Panel",
        "The Panel disagrees with the Rapid Review",
        "C6 CSPR completed and published started 2027-01-18, due 2027-07-18",
        "Approval needed: delay to the review",
        "C6 due date moved to 2027-09-30",
        "Done: PUBLISHED",
        "emails written to",
        "database:",
        "The SPA's daily digest, as it was written:",
        "Open cases: 1",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!text.contains("Sam Demo"), "the child's name is never shown");
    // Each email is dated when it would really go: what waits for the sending window goes
    // when it opens (08:00 London on a working day), not at the next simulated step.
    let outbox = text.lines().find_map(|l| l.split_once("emails written to ")).map(|(_, p)| p.trim()).unwrap();
    let mut dated = Vec::new();
    for entry in std::fs::read_dir(outbox).unwrap() {
        let raw = std::fs::read(entry.unwrap().path()).unwrap();
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        let date = chrono::DateTime::parse_from_rfc2822(&parsed.date().unwrap().to_rfc822()).unwrap();
        dated.push((parsed.subject().unwrap_or_default().to_owned(), date.with_timezone(&chrono_tz::Europe::London)));
    }
    let calendar = cspr::domain::Calendar::england_and_wales();
    for (subject, at) in &dated {
        let held = ["Reminder:", "Still to record", "daily digest", "Due soon"].iter().any(|s| subject.contains(s));
        let inside = calendar.is_working_day(at.date_naive()) && (8..18).contains(&chrono::Timelike::hour(at));
        assert!(!held || inside, "{subject} dated {at}, outside the sending window");
    }
    for day in ["2026-11-25", "2026-12-02", "2026-12-07"] {
        let reminder = dated
            .iter()
            .find(|(s, at)| s.contains("Reminder: Rapid Review") && at.date_naive().to_string() == day)
            .unwrap_or_else(|| panic!("the reminder of {day}"));
        assert_eq!(reminder.1.format("%H:%M").to_string(), "08:00", "{reminder:?}");
    }
    let queued = text.lines().filter(|l| l.contains("mail_queued") && l.contains("daily digest")).count();
    assert_eq!(queued, 1, "one digest, shown in full below the timeline: {text}");
}

#[test]
fn the_simulation_of_the_bundled_mailbox_matches_its_golden_file() {
    let outbox = tempfile::tempdir().unwrap();
    let text = simulate("demo/mail", "2026-11-19", "2027-09-30", outbox.path());
    let ats: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["at"].as_str().unwrap().to_owned())
        .collect();
    assert!(ats.windows(2).all(|p| p[0] <= p[1]), "ordered by time");
    matches_golden("demo", &text);
    assert!(std::fs::read_dir(outbox.path()).unwrap().count() >= 20, "emails written as files");
}

/// Staff commands by email, simulated: a correction moves C3 (`clock_started` with the new
/// due date), a scan nobody can read is held and alerted at once, a TRIAGE reply opens
/// it as a case from the dates given (`case_opened`, `clock_started`), and every command
/// is answered (`mail_queued`).
#[test]
fn the_simulation_shows_staff_commands_by_email_as_the_daemon_runs_them() {
    let outbox = tempfile::tempdir().unwrap();
    let text = simulate("tests/fixtures/simulate/inbox", "2026-11-30", "2026-12-04", outbox.path());
    let events: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let find = |kind: &str, case: &str| {
        events.iter().filter(|e| e["kind"] == kind && e["case"] == case).cloned().collect::<Vec<_>>()
    };
    let c3: Vec<String> =
        find("clock_started", "CHSCP-2026-001").iter().map(|e| e["due"].as_str().unwrap().to_owned()).collect();
    assert_eq!(c3, ["2026-12-18", "2026-12-17"], "C3 from 27 November, then from the corrected 26th");
    assert_eq!(find("case_opened", "CHSCP-2026-002").len(), 1);
    let opened = find("clock_started", "CHSCP-2026-002");
    assert_eq!(opened[0]["due"], "2026-12-22", "C3 from 1 December, the date the SPA gave");
    let subjects: Vec<String> = events
        .iter()
        .filter(|e| e["kind"] == "mail_queued")
        .filter_map(|e| e["subject"].as_str().map(str::to_owned))
        .collect();
    for expected in [
        "[CHSCP-2026-001] Done: PANEL-NOTIFIED",
        "A message is held for triage in the CHSCP mailbox (item 1)",
        "[CHSCP-2026-002] Notification received — CHSCP",
        "[CHSCP-2026-002] Done: TRIAGE",
        "[CHSCP-2026-002] STATUS",
    ] {
        assert!(subjects.iter().any(|s| s == expected), "no {expected:?} in {subjects:#?}");
    }
    matches_golden("inbox", &text);
}

/// `cspr simulate --json` on `maildir` (under the repository) with the demo's configuration.
fn simulate(maildir: &str, from: &str, until: &str, outbox: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = root.join("demo/cspr.toml").display().to_string();
    let maildir = root.join(maildir).display().to_string();
    let outbox = outbox.display().to_string();
    let args = ["simulate", "--config", &config, "--maildir", &maildir, "--from", from, "--until", until];
    let mut args = args.to_vec();
    args.extend(["--outbox", &outbox, "--json"]);
    let output = cspr_with_env(&args, &[("CSPR__APPROVALS__TOKEN_SECRET", "demo only: never use this secret")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stdout(&output)
}

/// `text` is `tests/fixtures/simulate/NAME.jsonl` (`CSPR_BLESS=1` rewrites it; a mismatch
/// writes `NAME.failed` beside it).
fn matches_golden(name: &str, text: &str) {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/simulate/{name}.jsonl"));
    if std::env::var("CSPR_BLESS").is_ok() {
        std::fs::write(&golden, text).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_default();
    if expected != text {
        std::fs::write(golden.with_extension("failed"), text).unwrap();
        panic!("the simulation differs from {}; see the .failed file beside it", golden.display());
    }
}
