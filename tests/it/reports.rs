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

/// The tags (with their `id` and `class`) and the text of an HTML page, read by html5ever.
mod page {
    use std::cell::RefCell;

    use html5ever::tendril::StrTendril;
    use html5ever::tokenizer::{BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts};

    #[derive(Default, Debug)]
    pub struct Page {
        /// Start tags in order: (name, id, class).
        pub tags: Vec<(String, String, String)>,
        /// The text of each `<tr>`'s cells, by the row's `id` (figures) or in order.
        pub rows: Vec<(String, Vec<String>)>,
    }

    #[derive(Default)]
    struct Reading {
        page: Page,
        row: Option<(String, Vec<String>)>,
        cell: Option<String>,
    }

    struct Sink(RefCell<Reading>);

    impl TokenSink for Sink {
        type Handle = ();

        fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
            let mut r = self.0.borrow_mut();
            match token {
                Token::TagToken(tag) => {
                    let attr = |name: &str| {
                        tag.attrs
                            .iter()
                            .find(|a| &*a.name.local == name)
                            .map(|a| a.value.to_string())
                            .unwrap_or_default()
                    };
                    let name = tag.name.to_string();
                    match (tag.kind, name.as_str()) {
                        (TagKind::StartTag, "tr") => r.row = Some((attr("id"), Vec::new())),
                        (TagKind::EndTag, "tr") => {
                            if let Some(row) = r.row.take() {
                                r.page.rows.push(row);
                            }
                        }
                        (TagKind::StartTag, "td" | "th") => r.cell = Some(String::new()),
                        (TagKind::EndTag, "td" | "th") => {
                            if let (Some(cell), Some(row)) = (r.cell.take(), r.row.as_mut()) {
                                row.1.push(cell.trim().to_owned());
                            }
                        }
                        _ => {}
                    }
                    if tag.kind == TagKind::StartTag {
                        let (id, class) = (attr("id"), attr("class"));
                        r.page.tags.push((name, id, class));
                    }
                }
                Token::CharacterTokens(text) => {
                    if let Some(cell) = r.cell.as_mut() {
                        cell.push_str(&text);
                    }
                }
                _ => {}
            }
            TokenSinkResult::Continue
        }
    }

    pub fn read(html: &str) -> Page {
        let tokenizer = Tokenizer::new(Sink(RefCell::new(Reading::default())), TokenizerOpts::default());
        let queue = BufferQueue::default();
        queue.push_back(StrTendril::from_slice(html));
        let _ = tokenizer.feed(&queue);
        tokenizer.end();
        tokenizer.sink.0.into_inner().page
    }
}

/// A year (2027) with one of each thing the yearly report counts.
async fn a_full_year() -> World {
    let mut w = World::new(sqlite()).await;
    let panel = "Mailbox.NationalReviewPanel@education.gov.uk";
    let icsc = "icsc@hackney.gov.uk";
    let say = |who: &str, case: &str, line: &str, date: &str| reply(who, case, line, date);
    // 001: a death, Rapid Review on time, the Panel agrees, CSPR, published on time.
    w.deliver(
        notification(LA, "04/01/2027", "06/01/2027", "SIN-2027-06001", "", "Wed, 6 Jan 2027 10:00:00 +0000", true)
            .replacen("Incident type: Serious harm", "Incident type: Death", 1),
        "2027-01-06T10:05:00Z",
    )
    .await;
    // 002: serious harm, Rapid Review late, the Panel disagrees, NO-CSPR, a possible national review.
    w.deliver(
        notification(LA, "05/01/2027", "07/01/2027", "SIN-2027-06002", "", "Thu, 7 Jan 2027 10:00:00 +0000", true),
        "2027-01-07T10:05:00Z",
    )
    .await;
    // 003: a looked-after child's death with abuse suspected: CSPR, then not published.
    let extra = "Looked after child: Yes\r\nAbuse or neglect suspected: Yes\r\n";
    w.deliver(
        notification(LA, "11/01/2027", "12/01/2027", "SIN-2027-06003", extra, "Tue, 12 Jan 2027 10:00:00 +0000", true),
        "2027-01-12T10:05:00Z",
    )
    .await;
    let steps = [
        (SPA, "CHSCP-2027-001", "SUBMITTED 20/01/2027", "Wed, 20 Jan 2027 10:00:00 +0000"),
        (SPA, "CHSCP-2027-002", "SUBMITTED 05/02/2027", "Fri, 5 Feb 2027 10:00:00 +0000"),
        (icsc, "CHSCP-2027-001", "DECISION CSPR 10/02/2027", "Wed, 10 Feb 2027 10:00:00 +0000"),
        (icsc, "CHSCP-2027-002", "DECISION NO-CSPR 10/02/2027", "Wed, 10 Feb 2027 11:00:00 +0000"),
        (icsc, "CHSCP-2027-002", "NATIONAL YES 11/02/2027", "Thu, 11 Feb 2027 10:00:00 +0000"),
        (icsc, "CHSCP-2027-003", "DECISION CSPR 15/02/2027", "Mon, 15 Feb 2027 10:00:00 +0000"),
        (SPA, "CHSCP-2027-001", "PUBLISHED https://chscp.org.uk/r/1 30/07/2027", "Fri, 30 Jul 2027 10:00:00 +0100"),
        (icsc, "CHSCP-2027-003", "NOT-PUBLISHING the family's safety", "Mon, 2 Aug 2027 10:00:00 +0100"),
    ];
    for (who, case, line, date) in steps {
        let when = chrono::DateTime::parse_from_rfc2822(date).unwrap().with_timezone(&chrono::Utc);
        w.deliver(say(who, case, line, date), &(when + chrono::Duration::minutes(1)).to_rfc3339()).await;
    }
    for (case, words, date) in [
        ("CHSCP-2027-001", "The Panel agrees with the partnership's decision.", "Mon, 1 Feb 2027 10:00:00 +0000"),
        ("CHSCP-2027-002", "The Panel does not agree with the decision.", "Tue, 16 Feb 2027 10:00:00 +0000"),
    ] {
        let subject = format!("[{case}] Rapid Review response");
        let when = chrono::DateTime::parse_from_rfc2822(date).unwrap().with_timezone(&chrono::Utc);
        w.deliver(
            crate::scenarios::mail(panel, &subject, date, words, true),
            &(when + chrono::Duration::minutes(1)).to_rfc3339(),
        )
        .await;
    }
    // A request for consideration the sub-group decides not to review.
    let body = "Dear Case Review sub-group,\r\n\r\nWe would like to request that the sub-group consider a local \
                child safeguarding practice review for a family we have worked with.";
    w.deliver(
        crate::scenarios::mail(
            "early.help@hackney.gov.uk",
            "Request for consideration",
            "Mon, 1 Mar 2027 09:00:00 +0000",
            body,
            true,
        ),
        "2027-03-01T09:01:00Z",
    )
    .await;
    w.deliver(
        say(SPA, "CHSCP-2027-004", "SUBGROUP-DECISION NO-REVIEW 02/03/2027", "Tue, 2 Mar 2027 12:00:00 +0000"),
        "2027-03-02T12:01:00Z",
    )
    .await;
    w
}

#[tokio::test]
async fn the_yearly_report_in_html_shows_each_figure_and_the_chart() {
    let w = a_full_year().await;
    let html = cli(&w, &["report", "--year", "2027", "--format", "html"], &[]);
    let page = page::read(&html);
    let tags: Vec<&str> = page.tags.iter().map(|(name, _, _)| name.as_str()).collect();
    assert!(!tags.contains(&"script"), "no scripts");
    for needed in ["html", "head", "title", "body", "h1", "table", "svg"] {
        assert!(tags.contains(&needed), "{needed} in {tags:?}");
    }
    // The clocks table: a header and one row per clock.
    let clocks: Vec<&Vec<String>> =
        page.rows.iter().filter(|(id, cells)| id.is_empty() && cells.len() == 8).map(|(_, c)| c).collect();
    assert_eq!(clocks.len(), 9, "{clocks:?}");
    // The chart: an on-time and a late bar for each clock.
    let bars = |class: &str| page.tags.iter().filter(|(name, _, c)| name == "rect" && c == class).count();
    assert_eq!((bars("on-time"), bars("late")), (8, 8));
    // Each figure, by hand.
    let figure = |id: &str| {
        page.rows.iter().find(|(row, _)| row == id).map(|(_, cells)| cells[1].clone()).unwrap_or_else(|| panic!("{id}"))
    };
    for (id, expected) in [
        ("notifications_death", "1"),
        ("notifications_serious_harm", "1"),
        ("notifications_looked_after_death", "1"),
        ("rapid_reviews_on_time", "1"),
        ("rapid_reviews_late", "1"),
        ("panel_responses_agree", "1"),
        ("panel_responses_disagree", "1"),
        ("decisions_cspr", "2"),
        ("decisions_no_cspr", "1"),
        ("national_reviews", "1"),
        ("published_on_time", "1"),
        ("published_late", "0"),
        ("published_with_approved_delay", "0"),
        ("not_published", "1"),
        ("consideration_requests", "1"),
        ("consideration_no_review", "1"),
        ("consideration_review", "0"),
    ] {
        assert_eq!(figure(id), expected, "{id}");
    }
    // The same figures in the CSV's second table.
    let csv = cli(&w, &["report", "--year", "2027", "--format", "csv"], &[]);
    assert!(csv.contains("\nfigure,value\n") && csv.contains("decisions_cspr,2\n"), "{csv}");
    assert!(cli(&w, &["report", "--year", "2027"], &[]).contains("Decisions: CSPR"));
}
