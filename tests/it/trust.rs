//! The trust boundary end to end, on SQLite and PostgreSQL: what a forged sender can and
//! cannot do, and what a person's release from triage does and does not vouch for.

use crate::databases::both;
use crate::scenarios::{World, mail, notification};

const LA: &str = "social.worker@hackney.gov.uk";
const ICSC: &str = "icsc@hackney.gov.uk";
const CASE: &str = "CHSCP-2026-001";

/// Releases triage item `id` to `case` from the command line as `by`.
fn release(w: &World, id: i64, case: &str, by: &str) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cspr"))
        .args(["triage", "resolve", &id.to_string(), "--case", case, "--by", by, "--config", &w.config_path])
        .env("CSPR__STORE__URL", &w.db.url)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn a_released_forged_close_changes_nothing_and_the_chronology_names_the_releaser() {
    for db in both().await {
        let mut w = World::new(db).await;
        w.deliver(
            notification(LA, "16/11/2026", "18/11/2026", "SIN-2026-07001", "", "Thu, 19 Nov 2026 10:00:00 +0000", true),
            "2026-11-19T10:05:00Z",
        )
        .await;
        // The ICSC's address, but our server found no DMARC pass: held for a person.
        let forged = mail(
            ICSC,
            &format!("Re: [{CASE}] Rapid Review reminder"),
            "Fri, 20 Nov 2026 10:00:00 +0000",
            "CLOSE no further action",
            false,
        );
        w.deliver(forged, "2026-11-20T10:01:00Z").await;
        let triage = w.store.triage(true).await.unwrap();
        assert_eq!(triage.len(), 1, "{}", w.db.name);
        assert!(triage[0].reason.contains("not authenticated"), "{}", triage[0].reason);
        let before = w.case(CASE).await;

        let printed = release(&w, triage[0].id, CASE, "duty.officer");
        assert!(printed.contains(CASE), "{printed}");

        let after = w.case(CASE).await;
        assert!(!after.is_closed(), "{}: a released CLOSE is not run", w.db.name);
        assert_eq!(after.clocks, before.clocks, "{}: no clock changed", w.db.name);
        assert!(w.store.triage(true).await.unwrap().is_empty(), "the item is resolved");
        let audit = w.store.audit(CASE).await.unwrap();
        let released: Vec<_> = audit.iter().filter(|a| a.event == "released_from_triage").collect();
        assert_eq!(released.len(), 1, "{}: {audit:?}", w.db.name);
        let releaser = Some("duty.officer (cspr triage resolve)");
        assert_eq!(released[0].actor.as_deref(), releaser);
        assert!(released[0].detail.contains(&format!("claimed sender {ICSC}")), "{}", released[0].detail);
        let not_run: Vec<_> = audit.iter().filter(|a| a.event == "command_not_run").collect();
        assert_eq!(not_run.len(), 1, "{audit:?}");
        assert_eq!(not_run[0].actor.as_deref(), releaser);
        assert!(!audit.iter().any(|a| a.event == "closed"), "{audit:?}");
        // Nothing in the chronology is in the claimed sender's name.
        assert!(!audit.iter().any(|a| a.actor.as_deref() == Some(ICSC)), "{audit:?}");
    }
}
