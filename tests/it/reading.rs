//! Commands that only read need only what they read: with every secret the daemon uses
//! out of reach, `cases`, `case`, `triage`, `outbox`, `deadlines`, `report` and `inspect`
//! still answer; and a command pointed at a database that does not exist says so — it
//! never creates an empty one and prints an empty list.

use crate::scenarios::notification;
use crate::support::{cspr_with_env, stderr, stdout};

/// A deployment's configuration: IMAP and SMTP with password files, a token secret file,
/// none of them readable here.
fn deployment(dir: &std::path::Path, db: &std::path::Path) -> String {
    let path = dir.join("cspr.toml");
    std::fs::write(
        &path,
        format!(
            "[store]\nurl = \"sqlite://{}\"\n\
             [mailbox]\nsource = \"imap\"\nhost = \"mail.example.org\"\nusername = \"chscp\"\npassword_file = \"/nonexistent/imap-password\"\n\
             [outbound]\ntransport = \"smtp\"\nhost = \"smtp.example.org\"\nusername = \"chscp\"\npassword_file = \"/nonexistent/smtp-password\"\n\
             [approvals]\ntoken_secret_file = \"/nonexistent/approval-token-secret\"\n\
             [http]\ncalendar_token_file = \"/nonexistent/calendar-token\"\n",
            db.display()
        ),
    )
    .unwrap();
    path.display().to_string()
}

/// A deployment's configuration and the daemon's database with one case in it, opened
/// by a notification with Panel reference `panel_ref` (returned as sent).
async fn with_a_case(panel_ref: &str) -> (tempfile::TempDir, String, crate::scenarios::World, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cspr.db");
    let config = deployment(dir.path(), &db);
    let url = format!("sqlite://{}", db.display());
    let mut world = crate::scenarios::World::new(crate::databases::at(&url)).await;
    let la = "social.worker@hackney.gov.uk";
    let raw = notification(la, "16/11/2026", "18/11/2026", panel_ref, "", "Thu, 19 Nov 2026 10:00:00 +0000", true);
    world.deliver(raw.clone(), "2026-11-19T10:05:00Z").await;
    (dir, config, world, raw)
}

#[tokio::test]
async fn read_only_commands_answer_with_every_secret_out_of_reach() {
    let (dir, config, _world, raw) = with_a_case("SIN-2026-06001").await;
    let message = crate::support::write(dir.path(), "message.eml", &raw);

    for args in [
        vec!["cases"],
        vec!["case", "CHSCP-2026-001"],
        vec!["triage"],
        vec!["outbox"],
        vec!["deadlines"],
        vec!["report", "--year", "2026"],
        vec!["inspect", &message],
    ] {
        let mut all = args.clone();
        all.extend(["--config", &config]);
        let output = cspr_with_env(&all, &[]);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        if args[0] == "cases" {
            assert!(stdout(&output).contains("CHSCP-2026-001"), "{}", stdout(&output));
        }
    }
    // What sends mail or changes the database still needs its secrets.
    let check = cspr_with_env(&["check-config", "--config", &config], &[]);
    assert!(!check.status.success());
    assert!(stdout(&check).contains("mailbox.password_file") || stderr(&check).contains("mailbox.password_file"));
}

#[test]
fn a_command_never_creates_the_database_it_looks_for() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("elsewhere").join("cspr.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let config = deployment(dir.path(), &db);
    for args in [vec!["cases"], vec!["triage"], vec!["outbox"], vec!["deadlines"]] {
        let mut all = args.clone();
        all.extend(["--config", &config]);
        let output = cspr_with_env(&all, &[]);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stdout(&output));
        let said = stderr(&output);
        assert!(said.contains(&format!("no database at {}", db.display())), "{said}");
        assert!(said.contains("--config") && said.contains("CSPR__STORE__URL"), "{said}");
        assert!(!db.exists(), "{args:?} created {}", db.display());
    }
}

#[tokio::test]
async fn triage_message_case_and_outbox_show_who_what_and_when_never_a_body() {
    let (_dir, config, mut world, _) = with_a_case("SIN-2026-06002").await;
    let forged = crate::scenarios::mail(
        "icsc@hackney.gov.uk",
        "Re: [CHSCP-2026-001] closing",
        "Fri, 20 Nov 2026 09:00:00 +0000",
        "CLOSE the family has asked us to stop",
        false,
    );
    world.deliver(forged, "2026-11-20T09:00:00Z").await;
    let item = world.store.triage(true).await.unwrap().pop().unwrap();
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--config", &config]);
        let output = cspr_with_env(&all, &[]);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        stdout(&output)
    };

    let triage = run(&["triage"]);
    assert!(
        triage.contains("from icsc@hackney.gov.uk") && triage.contains("\"Re: [CHSCP-2026-001] closing\""),
        "{triage}"
    );
    assert!(triage.contains("2026-11-20"), "{triage}");
    assert!(!triage.contains("asked us to stop"), "never the body: {triage}");

    let message = run(&["message", &item.message.to_string()]);
    assert!(message.contains("Subject: Re: [CHSCP-2026-001] closing"), "{message}");
    assert!(
        message.contains("Authentication-Results:") && message.contains("\"kind\": \"staff_command\""),
        "{message}"
    );
    assert!(!message.contains("asked us to stop"), "never the body: {message}");

    let case = run(&["case", "CHSCP-2026-001"]);
    let emails = case.split("\nemails\n").nth(1).unwrap_or_else(|| panic!("{case}"));
    assert!(emails.contains("acknowledgement") && emails.contains("to social.worker@hackney.gov.uk"), "{emails}");
    assert!(emails.contains("new_case") && emails.contains("to spa, icsc"), "{emails}");

    let outbox = run(&["outbox"]);
    assert!(
        outbox.lines().next().unwrap().contains("to") && outbox.contains("social.worker@hackney.gov.uk"),
        "{outbox}"
    );
    assert!(outbox.contains("queued 2026-11-19"), "{outbox}");
}
