//! Reports from outside: the year's figures over a simulated year, checked against
//! counts worked out by hand; the deadlines feed; a case's export; retention.

use crate::databases::sqlite;
use crate::scenarios::{World, notification, reply};

const LA: &str = "social.worker@hackney.gov.uk";
const SPA: &str = "spa@hackney.gov.uk";

fn cli(w: &World, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cspr"));
    command.args(args).args(["--config", &w.config_path]).env("CSPR__STORE__URL", &w.db.url);
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// Three notifications in November 2026: one Rapid Review on time, one two working days
/// late, one still open.
async fn year() -> World {
    let mut w = World::new(sqlite()).await;
    let notify =
        |aware: &str, notified: &str, panel: &str, date: &str| notification(LA, aware, notified, panel, "", date, true);
    // Aware 16, 17, 18 November; notified 18, 19, 20: C1 and C2 (due 23, 24, 25 November) met.
    w.deliver(
        notify("16/11/2026", "18/11/2026", "SIN-2026-05001", "Thu, 19 Nov 2026 10:00:00 +0000"),
        "2026-11-19T10:05:00Z",
    )
    .await;
    w.deliver(
        notify("17/11/2026", "19/11/2026", "SIN-2026-05002", "Thu, 19 Nov 2026 11:00:00 +0000"),
        "2026-11-19T11:05:00Z",
    )
    .await;
    w.deliver(
        notify("18/11/2026", "20/11/2026", "SIN-2026-05003", "Fri, 20 Nov 2026 10:00:00 +0000"),
        "2026-11-20T10:05:00Z",
    )
    .await;
    // C3 due 9, 10 and 11 December.
    w.deliver(
        reply(SPA, "CHSCP-2026-001", "SUBMITTED 08/12/2026", "Tue, 8 Dec 2026 16:00:00 +0000"),
        "2026-12-08T16:01:00Z",
    )
    .await;
    // Due Thursday 10 December, submitted Monday 14th: Friday 11th and Monday 14th late.
    w.deliver(
        reply(SPA, "CHSCP-2026-002", "SUBMITTED 14/12/2026", "Mon, 14 Dec 2026 16:00:00 +0000"),
        "2026-12-14T16:01:00Z",
    )
    .await;
    w
}

#[tokio::test]
async fn the_years_figures_match_the_counts_worked_out_by_hand() {
    let w = year().await;
    let csv = cli(&w, &["report", "--year", "2026", "--format", "csv"], &[]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "clock,title,due,on_time,late,late_working_days,open,stopped");
    let row = |clock: &str| -> Vec<String> {
        let line = lines.iter().find(|l| l.starts_with(&format!("{clock},"))).unwrap();
        let mut fields: Vec<String> = line.rsplitn(7, ',').map(str::to_owned).collect();
        fields.reverse();
        fields[1..].to_vec()
    };
    // due, on time, late, working days late, open, stopped
    assert_eq!(row("C1"), ["3", "3", "0", "0", "0", "0"]);
    assert_eq!(row("C2"), ["3", "3", "0", "0", "0", "0"]);
    assert_eq!(row("C3"), ["3", "1", "1", "2", "1", "0"]);
    for clock in ["C4", "C5", "C6", "C7", "C8"] {
        assert_eq!(row(clock), ["0", "0", "0", "0", "0", "0"], "{clock}");
    }
    assert!(cli(&w, &["report", "--year", "2026"], &[]).contains("Clocks due in 2026"));
    assert!(cli(&w, &["report", "--year", "2026", "--format", "html"], &[]).contains("<table"));
    assert!(
        cli(&w, &["report", "--year", "2027", "--format", "csv"], &[])
            .contains("C3,\"Rapid Review report submitted to the Panel\",0,")
    );
}

#[tokio::test]
async fn the_deadlines_feed_lists_the_open_rapid_review_and_the_export_reads_as_a_document() {
    let w = year().await;
    let feed = cli(&w, &["deadlines", "--ics"], &[]);
    assert!(feed.starts_with("BEGIN:VCALENDAR\r\n") && feed.ends_with("END:VCALENDAR\r\n"));
    assert_eq!(feed.matches("BEGIN:VEVENT").count(), 1, "{feed}");
    assert!(feed.contains("DTSTART;VALUE=DATE:20261211"));
    assert!(feed.contains("SUMMARY:[CHSCP-2026-003] C3 Rapid Review report submitted to the Panel due"));
    let list = cli(&w, &["deadlines"], &[]);
    assert!(list.starts_with("2026-12-11  CHSCP-2026-003"));
    let export = cli(&w, &["case", "CHSCP-2026-002", "--export"], &[]);
    assert!(export.starts_with("# Case CHSCP-2026-002"));
    assert!(export.contains("| C3 | 2026-11-19 | 2026-12-10 | MetLate | 2026-12-14 |"));
    assert!(!export.contains("Alex Example"), "no child's name");
}

#[tokio::test]
async fn retention_removes_raw_text_of_closed_cases_and_keeps_their_chronology() {
    let mut w = World::new(sqlite()).await;
    w.deliver(
        notification(LA, "16/11/2026", "18/11/2026", "SIN-2026-06001", "", "Thu, 19 Nov 2026 10:00:00 +0000", true),
        "2026-11-19T10:05:00Z",
    )
    .await;
    w.deliver(
        reply("icsc@hackney.gov.uk", "CHSCP-2026-001", "CLOSE withdrawn", "Wed, 25 Nov 2026 10:00:00 +0000"),
        "2026-11-25T10:01:00Z",
    )
    .await;
    let env = [("CSPR__RETENTION__RAW_AFTER_DAYS", "0")];
    assert!(cli(&w, &["purge"], &[]).contains("removed the raw text of 0 message(s)"), "a year's retention by default");
    assert!(cli(&w, &["purge", "--dry-run"], &env).starts_with("would remove the raw text of 2 message(s)"));
    assert!(cli(&w, &["purge"], &env).starts_with("removed the raw text of 2 message(s)"));
    assert!(cli(&w, &["purge", "--dry-run"], &env).starts_with("would remove the raw text of 0 message(s)"));
    assert!(w.events("CHSCP-2026-001").await.contains(&"case_closed".to_owned()), "the chronology stays");
}
