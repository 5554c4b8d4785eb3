//! The scheduler's index: a tick that reads only the cases whose next step has come
//! queues, cancels and changes exactly what a tick reading every open case does, over a
//! generated population (random clocks, extensions, duties, local non-working days,
//! changes between ticks, restarts and a calendar change) on both databases.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use cspr::config::Config;
use cspr::domain::case::{CaseKind, CaseState, ClockInstance, ClockStatus};
use cspr::domain::case_ref::CaseRef;
use cspr::domain::clock::{Owner, due_date};
use cspr::domain::duty::DutyKind;
use cspr::domain::{Calendar, Holiday, HolidaySource};
use cspr::protocol::Outcome;
use cspr::store::Store;
use sqlx::Row;

use crate::databases::{TestDb, postgres, sqlite};

const CASES: usize = 120;
const DAYS: i64 = 75;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// 09:00 UTC of `date` (London's 09:00 or 10:00).
fn morning(date: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_hms_opt(9, 0, 0).unwrap())
}

fn config_with(local: &[NaiveDate]) -> Config {
    let mut config = Config::defaults();
    let local = local
        .iter()
        .map(|d| Holiday { date: *d, title: "Office closed".into(), substitute: false, source: HolidaySource::Local })
        .collect();
    config.calendar = Calendar::new(Vec::new(), local);
    config
}

/// A case with one to four running clocks the partnership owns, started around
/// `start`, some extended, some with open duties; some already closed.
fn generated(rng: &mut fastrand::Rng, n: usize, config: &Config, start: NaiveDate) -> CaseState {
    let reference = CaseRef::parse(&format!("CHSCP-2026-{:03}", n + 1)).unwrap();
    let mut case = CaseState::new(reference, CaseKind::Incident, start);
    let owned: Vec<_> = config.clocks.iter().filter(|c| c.enabled && c.owner == Owner::Partnership).collect();
    let mut ids: Vec<_> = owned.iter().map(|c| c.id).collect();
    rng.shuffle(&mut ids);
    for id in ids.into_iter().take(rng.usize(1..=4)) {
        let def = owned.iter().find(|c| c.id == id).unwrap();
        let started = start + chrono::Duration::days(rng.i64(-90..=40));
        let Ok(due) = due_date(def, started, &config.calendar) else { continue };
        let mut extensions = Vec::new();
        if rng.u8(..4) == 0 {
            extensions.push(due + chrono::Duration::days(rng.i64(3..60)));
        }
        case.clocks.push(ClockInstance {
            clock: id,
            started,
            due,
            extensions,
            status: ClockStatus::Running,
            closed_on: None,
            basis: None,
        });
    }
    if rng.u8(..3) == 0 {
        case.open_duty(DutyKind::ReportShared, start + chrono::Duration::days(rng.i64(-30..10)));
    }
    if rng.u8(..10) == 0 {
        case.closed = Some(("generated closed".into(), start));
    }
    case
}

async fn write(store: &Store, case: &CaseState, at: DateTime<Utc>) {
    let mut batch = store.batch().await.unwrap();
    batch.record_case(&Outcome { case: Some(case.clone()), ..Outcome::default() }, at).await.unwrap();
    batch.commit().await.unwrap();
}

/// Everything a tick can leave, as stored: each email (key, status, recipients, what it
/// says, when it may go) and each case's state.
async fn seen(url: &str) -> (Vec<String>, Vec<String>) {
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let text = |r: sqlx::any::AnyRow, n: usize| -> String {
        (0..n).map(|i| r.get::<Option<String>, _>(i).unwrap_or_default()).collect::<Vec<_>>().join(" | ")
    };
    let emails = sqlx::query(
        "SELECT dedupe_key, status, recipients, facts, next_attempt_at, case_reference FROM intents ORDER BY dedupe_key",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    .into_iter()
    .map(|r| text(r, 6))
    .collect();
    let cases = sqlx::query("SELECT reference, state, stage, next_clock, next_due FROM cases ORDER BY reference")
        .fetch_all(&pool)
        .await
        .unwrap()
        .into_iter()
        .map(|r| text(r, 5))
        .collect();
    pool.close().await;
    (emails, cases)
}

async fn indexed_tick_finds_what_the_full_scan_finds(indexed_db: TestDb, scanned_db: TestDb, seed: u64) {
    let engine = indexed_db.name;
    let mut rng = fastrand::Rng::with_seed(seed);
    let first = day("2026-11-02");
    let closures: Vec<NaiveDate> = (0..6).map(|_| first + chrono::Duration::days(rng.i64(0..DAYS))).collect::<Vec<_>>();
    let mut config = config_with(&closures[..3]);
    let mut indexed = Store::open(&indexed_db.url).await.unwrap();
    let scanned = Store::open(&scanned_db.url).await.unwrap();
    let mut cases: Vec<CaseState> = (0..CASES).map(|n| generated(&mut rng, n, &config, first)).collect();
    for case in &cases {
        write(&indexed, case, morning(first)).await;
        write(&scanned, case, morning(first)).await;
    }
    let (mut read, mut read_by_scan) = (0, 0);
    for offset in 0..DAYS {
        let today = first + chrono::Duration::days(offset);
        let at = morning(today);
        // Between ticks: a few cases change (an extension granted, a clock completed,
        // a case closed, a duty recorded), the same in both.
        for _ in 0..rng.usize(0..4) {
            let n = rng.usize(..cases.len());
            let case = &mut cases[n];
            match rng.u8(..4) {
                0 => {
                    if let Some(clock) = case.clocks.iter_mut().find(|c| c.is_running()) {
                        clock.extensions.push(clock.due_in_force() + chrono::Duration::days(rng.i64(5..40)));
                    }
                }
                1 => {
                    if let Some(clock) = case.clocks.iter_mut().find(|c| c.is_running()) {
                        clock.status = ClockStatus::Met;
                        clock.closed_on = Some(today);
                    }
                }
                2 => case.closed = Some(("closed in the test".into(), today)),
                _ => {
                    let _ = case.complete_duty(DutyKind::ReportShared, today);
                }
            }
            let changed_at = at - chrono::Duration::hours(1);
            write(&indexed, &cases[n], changed_at).await;
            write(&scanned, &cases[n], changed_at).await;
        }
        // Restarts: the indexed side's store is opened afresh now and then.
        if rng.u8(..5) == 0 {
            indexed.close().await;
            indexed = Store::open(&indexed_db.url).await.unwrap();
        }
        // Half way, the office announces three more closures (a calendar change).
        if offset == DAYS / 2 {
            config = config_with(&closures);
        }
        // A tick in the morning and one later the same day.
        for at in [at, at + chrono::Duration::hours(5)] {
            read += cspr::jobs::tick::run(&indexed, &config, at).await.unwrap().cases;
            read_by_scan += cspr::jobs::tick::rescan(&scanned, &config, at).await.unwrap().cases;
            let (a, b) = (seen(&indexed_db.url).await, seen(&scanned_db.url).await);
            assert_eq!(a.0, b.0, "{engine}, seed {seed}: the emails differ after the tick of {at}");
            assert_eq!(a.1, b.1, "{engine}, seed {seed}: the cases differ after the tick of {at}");
        }
        // What the scanning side changed in a case (a delay question asked), the
        // population carries on with.
        cases = scanned.cases(false).await.unwrap().into_iter().map(|r| r.state).collect();
    }
    let emails = seen(&indexed_db.url).await.0.len();
    assert!(emails > 100, "{engine}, seed {seed}: the population queued only {emails} emails");
    assert!(
        read * 5 < read_by_scan,
        "{engine}, seed {seed}: the index read {read} cases against the scan's {read_by_scan}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_indexed_tick_finds_exactly_what_a_full_scan_finds_on_sqlite() {
    for seed in [1, 2] {
        indexed_tick_finds_what_the_full_scan_finds(sqlite(), sqlite(), seed).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_indexed_tick_finds_exactly_what_a_full_scan_finds_on_postgres() {
    indexed_tick_finds_what_the_full_scan_finds(postgres().await, postgres().await, 4).await;
}
