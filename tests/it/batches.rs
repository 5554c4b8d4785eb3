//! A backlog is processed in batches sharing one transaction. Two promises hold: each
//! message sees what the ones before it in the batch wrote, and one message whose writes
//! the database refuses has them undone alone — the others in its batch are kept.

use chrono::{DateTime, Utc};
use cspr::jobs::ingest::{Outcome, try_batch, try_step};
use cspr::store::NewMessage;

use crate::databases::{TestDb, both, postgres, sqlite};
use crate::scenarios::{World, notification};

const LA: &str = "social.worker@hackney.gov.uk";
const DATE: &str = "Thu, 19 Nov 2026 10:00:00 +0000";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Stores each of `raws` as arriving, without processing any.
async fn stored(w: &World, raws: &[String]) -> Vec<i64> {
    let mut ids = Vec::new();
    for (n, raw) in raws.iter().enumerate() {
        let message = NewMessage {
            truncated_from: None,
            source: "batch",
            uidvalidity: Some(1),
            uid: Some(n as u32 + 1),
            raw: raw.as_bytes(),
            arrived_at: at("2026-11-19T10:05:00Z"),
        };
        match w.store.store_message(&message).await.unwrap() {
            cspr::store::Stored::New(id) => ids.push(id),
            other => panic!("stored as new: {other:?}"),
        }
    }
    ids
}

#[tokio::test]
async fn a_notification_and_its_second_copy_in_one_batch_make_one_case() {
    for db in both().await {
        let w = World::new(db).await;
        let copy = || notification(LA, "16/11/2026", "18/11/2026", "SIN-2026-01444", "", DATE, true);
        // The LA forwarded it twice (two Message-IDs), and both wait in one batch.
        let ids = stored(&w, &[copy(), copy()]).await;
        let done = try_batch(&w.store, &w.config, at("2026-11-19T10:06:00Z"), 100, &|| {}).await.unwrap();
        assert_eq!(done, ids, "{}: both processed in one batch", w.db.name);
        let cases = w.store.cases(false).await.unwrap();
        assert_eq!(cases.len(), 1, "{}: the second copy found the case the first opened", w.db.name);
        let reference = cases[0].state.reference.to_string();
        let tied = w.store.case_messages(&reference).await.unwrap();
        assert_eq!(tied.iter().map(|m| m.0).collect::<Vec<_>>(), ids, "{}: both tied to {reference}", w.db.name);
    }
}

#[tokio::test]
async fn a_message_the_database_refuses_is_undone_alone_and_the_rest_of_its_batch_is_kept() {
    for db in both().await {
        let w = World::new(db).await;
        let refused = "SIN-2026-06666";
        let pool = sqlx::AnyPool::connect(&w.db.url).await.unwrap();
        let trigger: &[&str] = if w.db.name == "sqlite" {
            &["CREATE TRIGGER refuse_one BEFORE INSERT ON cases WHEN NEW.panel_reference = 'SIN-2026-06666'
               BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"]
        } else {
            &[
                "CREATE FUNCTION refuse_one() RETURNS trigger AS $$ BEGIN
                   IF NEW.panel_reference = 'SIN-2026-06666' THEN RAISE EXCEPTION 'refused by the test'; END IF;
                   RETURN NEW; END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER refuse_one BEFORE INSERT ON cases FOR EACH ROW EXECUTE FUNCTION refuse_one()",
            ]
        };
        for sql in trigger {
            sqlx::raw_sql(sql).execute(&pool).await.unwrap();
        }
        let raws: Vec<String> = ["SIN-2026-01501", refused, "SIN-2026-01503"]
            .iter()
            .map(|r| notification(LA, "16/11/2026", "18/11/2026", r, "", DATE, true))
            .collect();
        let ids = stored(&w, &raws).await;
        let done = try_batch(&w.store, &w.config, at("2026-11-19T10:06:00Z"), 100, &|| {}).await.unwrap();
        assert_eq!(done, vec![ids[0], ids[2]], "{}: the two others processed", w.db.name);
        let panel: Vec<Option<String>> =
            w.store.cases(false).await.unwrap().into_iter().map(|c| c.state.notification.panel_reference).collect();
        assert_eq!(
            panel,
            vec![Some("SIN-2026-01501".to_owned()), Some("SIN-2026-01503".to_owned())],
            "{}: their cases kept, numbered 001 and 002",
            w.db.name
        );
        // Its acknowledgement went nowhere either; once the database accepts it, it is
        // retried (alone) and opens the next case.
        let acknowledged =
            w.store.outbox(None).await.unwrap().iter().filter(|r| r.template == "acknowledgement").count();
        assert_eq!(acknowledged, 2, "{}", w.db.name);
        let drop = if w.db.name == "sqlite" { "DROP TRIGGER refuse_one" } else { "DROP TRIGGER refuse_one ON cases" };
        sqlx::raw_sql(drop).execute(&pool).await.unwrap();
        let done = try_batch(&w.store, &w.config, at("2026-11-19T10:07:00Z"), 100, &|| {}).await.unwrap();
        assert_eq!(done, vec![ids[1]], "{}", w.db.name);
        let third = w.store.cases(false).await.unwrap().into_iter().map(|c| c.state.reference.to_string()).next_back();
        assert_eq!(third.as_deref(), Some("CHSCP-2026-003"), "{}", w.db.name);
        pool.close().await;
    }
}

/// A mixed backlog, as a partnership's mailbox holds it after an outage: notifications
/// and their second copies, follow-ups on the LA's own thread, staff replies by tag,
/// a copy without the Panel reference and a MERGE of it (written at once, mid-batch),
/// newsletters, auto-replies, a forged command, a tag naming no case.
fn backlog(with_merge: bool) -> Vec<String> {
    use crate::scenarios::{mail, reply};
    let spa = "spa@hackney.gov.uk";
    let first = notification(LA, "16/11/2026", "18/11/2026", "SIN-2026-31001", "", DATE, true);
    let first_id = first.split("Message-ID: <").nth(1).and_then(|r| r.split('>').next()).unwrap().to_owned();
    // The SPA answers on the LA's own thread, the reference nowhere but in its headers.
    let follow_up = mail(
        spa,
        "RE: FW: Serious incident notification",
        "Thu, 19 Nov 2026 11:00:00 +0000",
        "NOTE the school has been told and a strategy meeting is booked for Monday",
        true,
    )
    .replacen("\r\n\r\n", &format!("\r\nIn-Reply-To: <{first_id}>\r\nReferences: <{first_id}>\r\n\r\n"), 1);
    let colleague = crate::scenarios::colleague_copy();
    let mut raws = vec![
        first.clone(),
        notification(LA, "17/11/2026", "19/11/2026", "SIN-2026-31002", "", DATE, true),
        notification(LA, "16/11/2026", "18/11/2026", "SIN-2026-31001", "", DATE, true),
        follow_up,
        reply(spa, "CHSCP-2026-001", "NOTE strategy meeting held on Friday", "Fri, 20 Nov 2026 09:00:00 +0000"),
        mail("news@elsewhere.test", "Training dates", DATE, &"Our termly newsletter. ".repeat(20), false),
        colleague,
        reply("icsc@hackney.gov.uk", "CHSCP-2026-002", "NOTE chronology requested", "Fri, 20 Nov 2026 09:30:00 +0000"),
        mail("icsc@hackney.gov.uk", "Automatic reply: case", DATE, "I am out of the office.", true).replacen(
            "\r\n\r\n",
            "\r\nAuto-Submitted: auto-replied\r\n\r\n",
            1,
        ),
        reply(spa, "CHSCP-2026-099", "NOTE for a case that is not there", "Fri, 20 Nov 2026 10:00:00 +0000"),
        mail(spa, "Re: [CHSCP-2026-002] Rapid Review reminder", DATE, "CLOSE no further action", false),
    ];
    if with_merge {
        raws.push(reply(spa, "CHSCP-2026-003", "MERGE CHSCP-2026-001", "Fri, 20 Nov 2026 11:00:00 +0000"));
    }
    raws.push(notification(LA, "18/11/2026", "20/11/2026", "SIN-2026-31004", "", DATE, true));
    raws.push(reply(spa, "CHSCP-2026-001", "NOTE after the merge", "Fri, 20 Nov 2026 12:00:00 +0000"));
    raws
}

/// Every row the processing of messages wrote, as text, in a stable order.
async fn written(url: &str) -> Vec<String> {
    use sqlx::Row;
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let mut out = Vec::new();
    for (table, sql) in [
        (
            "messages",
            "SELECT CAST(id AS TEXT), state, kind, trust, summary, case_reference, failure FROM messages ORDER BY id",
        ),
        (
            "cases",
            "SELECT reference, kind, stage, opened_at, closed_at, panel_reference, la_reference, next_clock, next_due,
                    state, updated_at, CAST(open_duties AS TEXT), next_step_on FROM cases ORDER BY reference",
        ),
        (
            "clocks",
            "SELECT case_reference, clock, started_on, due_on, status, closed_on FROM clocks
             ORDER BY case_reference, clock, started_on, due_on, status",
        ),
        (
            "audit",
            "SELECT case_reference, at, event, clock, actor, CAST(message AS TEXT), detail FROM audit ORDER BY id",
        ),
        (
            "triage",
            "SELECT CAST(id AS TEXT), CAST(message AS TEXT), reason, candidates, evidence FROM triage ORDER BY id",
        ),
        (
            "intents",
            "SELECT case_reference, CAST(message AS TEXT), purpose, recipients, template, facts, dedupe_key,
                    CAST(coalesced AS TEXT), status FROM intents ORDER BY id",
        ),
        ("counters", "SELECT CAST(year AS TEXT), CAST(last_number AS TEXT) FROM case_counters ORDER BY year"),
    ] {
        for row in sqlx::query(sql).fetch_all(&pool).await.unwrap() {
            let cells: Vec<String> =
                (0..row.len()).map(|i| row.get::<Option<String>, _>(i).unwrap_or_default()).collect();
            out.push(format!("{table}: {}", cells.join(" | ")));
        }
    }
    pool.close().await;
    out
}

/// The same backlog processed a message at a time and as one batch: every row equal.
async fn batch_ends_where_single_steps_end(one: TestDb, other: TestDb, with_merge: bool) {
    let name = one.name;
    let raws = backlog(with_merge);
    let now = at("2026-11-20T12:30:00Z");
    let (single, batched) = (World::new(one).await, World::new(other).await);
    stored(&single, &raws).await;
    stored(&batched, &raws).await;
    let mut steps = 0;
    while let Outcome::Processed(_) = try_step(&single.store, &single.config, now).await.unwrap() {
        steps += 1;
    }
    assert_eq!(steps, raws.len(), "{name}: every message processed alone");
    let done = try_batch(&batched.store, &batched.config, now, 100, &|| {}).await.unwrap();
    assert_eq!(done.len(), raws.len(), "{name}: every message processed in one batch");
    let (a, b) = (written(&single.db.url).await, written(&batched.db.url).await);
    assert!(a.iter().filter(|r| r.starts_with("cases:")).count() >= 4, "{name}: cases opened");
    assert!(a.iter().any(|r| r.starts_with("triage:")), "{name}: something held");
    assert!(a.iter().any(|r| r.contains("case_merged_into")) == with_merge, "{name}: merged or not");
    for (n, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "{name} (merge: {with_merge}): row {n} differs");
    }
    assert_eq!(a.len(), b.len(), "{name} (merge: {with_merge}): as many rows");
}

#[tokio::test]
async fn a_backlog_processed_in_one_batch_ends_where_single_steps_end_on_sqlite() {
    for with_merge in [false, true] {
        batch_ends_where_single_steps_end(sqlite(), sqlite(), with_merge).await;
    }
}

#[tokio::test]
async fn a_backlog_processed_in_one_batch_ends_where_single_steps_end_on_postgres() {
    for with_merge in [false, true] {
        batch_ends_where_single_steps_end(postgres().await, postgres().await, with_merge).await;
    }
}

/// A hundred messages naming a hundred and more Message-IDs each (a mail loop, or forged
/// threading headers) ask one batch's lookups for about 40,000 values — more than SQLite
/// binds to one statement.
#[tokio::test]
async fn a_batch_whose_messages_name_forty_thousand_message_ids_is_processed_in_one_call() {
    for db in both().await {
        let w = World::new(db).await;
        let raws: Vec<String> = (0..100)
            .map(|n| {
                let ids = |kind: &str| -> String {
                    (0..100).map(|m| format!("<{kind}{n:03}{m:03}.loop@cspr.chscp.test>")).collect::<Vec<_>>().join(" ")
                };
                crate::scenarios::mail("spa@hackney.gov.uk", "Re: Re: Re: update", DATE, "NOTE looping", true).replacen(
                    "\r\n\r\n",
                    &format!("\r\nIn-Reply-To: {}\r\nReferences: {}\r\n\r\n", ids("R"), ids("T")),
                    1,
                )
            })
            .collect();
        let ids = stored(&w, &raws).await;
        let done = try_batch(&w.store, &w.config, at("2026-11-19T10:06:00Z"), 100, &|| {}).await.unwrap();
        assert_eq!(done, ids, "{}: every message processed", w.db.name);
    }
}
