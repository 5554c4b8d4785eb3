//! A backlog is processed in batches sharing one transaction. Two promises hold: each
//! message sees what the ones before it in the batch wrote, and one message whose writes
//! the database refuses has them undone alone — the others in its batch are kept.

use chrono::{DateTime, Utc};
use cspr::jobs::ingest::try_batch;
use cspr::store::NewMessage;

use crate::databases::both;
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
