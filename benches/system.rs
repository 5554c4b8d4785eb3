//! End-to-end figures against the real mail stack and databases, printed one per line as
//! `name: value unit`. Run by `scripts/bench`, which starts the mail stack, finds
//! PostgreSQL, builds in release mode and sets `CSPR_BENCH_SYSTEM`; plain `cargo bench`
//! skips it. `--quick` uses the smaller counts.
//!
//! - latency: a notification APPENDed → its acknowledgement in the LA's mailbox (watched
//!   with STATUS every 10 ms), beside the floor: APPEND → a bare IDLE client told of it;
//! - backlog: messages waiting at start → processed (stored, understood, decided and
//!   committed with their outbound rows) per second, beside a bare `UID FETCH 1:*`;
//! - tick: one scheduler tick over 100,000 running clocks, SQLite and PostgreSQL;
//! - rss: the idle daemon's resident memory with 10,000 cases.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use cspr::config::{Config, Credential, ImapSettings, Sources, TlsMode, load};
use cspr::domain::case::{CaseRef, CaseState};
use cspr::domain::clock::deadline;
use cspr::jobs::ingest::try_step;
use cspr::sources::imap::{Session, connect};
use cspr::store::{NewMessage, Store};
use futures::TryStreamExt;
use secrecy::SecretString;
use sqlx::Row;

#[path = "../tests/shared/daemon_config.rs"]
mod daemon_config;
use daemon_config::daemon_config;

struct Env {
    stack: HashMap<String, String>,
    binary: PathBuf,
    postgres: String,
    work: tempfile::TempDir,
}

impl Env {
    fn port(&self, name: &str) -> u16 {
        self.stack[name].parse().expect("a port")
    }

    fn imap(&self, user: &str, folder: &str) -> ImapSettings {
        ImapSettings {
            host: "localhost".into(),
            port: self.port("CSPR_TEST_IMAPS_PORT"),
            tls: TlsMode::Implicit,
            username: user.into(),
            credential: Credential::Password(SecretString::from(format!("{user}-pass"))),
            ca_file: Some(self.stack["CSPR_TEST_CA"].clone().into()),
            folder: folder.into(),
            idle: true,
            idle_reissue: Duration::from_secs(25 * 60),
            poll_interval: Duration::from_secs(3600),
            processed_folder: None,
            unreachable_alert_after: Duration::from_secs(1800),
            command_timeout: Duration::from_secs(120),
            alert_roles: Vec::new(),
        }
    }

    async fn session(&self, user: &str) -> Session {
        connect(&self.imap(user, "INBOX")).await.expect("bench user logs in")
    }

    /// A configuration file for a daemon reading `folder` into `db`.
    fn config(&self, name: &str, db: &str, mailbox: &str, outbound: &str) -> PathBuf {
        let path = self.work.path().join(format!("{name}.toml"));
        std::fs::write(&path, daemon_config("BENCH", db, mailbox, outbound)).expect("config written");
        path
    }

    fn imap_mailbox(&self, folder: &str) -> String {
        format!(
            "source = \"imap\"\nhost = \"localhost\"\nport = {}\ntls = \"implicit\"\nusername = \"chscp\"\nfolder = \"{folder}\"\nca_file = \"{}\"",
            self.stack["CSPR_TEST_IMAPS_PORT"], self.stack["CSPR_TEST_CA"]
        )
    }

    fn daemon(&self, config: &Path) -> Child {
        Command::new(&self.binary)
            .args(["run", "--config", &config.display().to_string()])
            .env("CSPR__MAILBOX__PASSWORD", "chscp-pass")
            .env("CSPR__OUTBOUND__PASSWORD", "chscp-pass")
            // CSPR_BENCH_DAEMON_LOG=FILE keeps the daemons' logs (info level) to see where
            // a figure's time goes.
            .env("CSPR_LOG", if std::env::var_os("CSPR_BENCH_DAEMON_LOG").is_some() { "info" } else { "warn" })
            .stderr(match std::env::var_os("CSPR_BENCH_DAEMON_LOG") {
                Some(file) => std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(file)
                    .map_or_else(|_| Stdio::null(), Stdio::from),
                None => Stdio::null(),
            })
            .spawn()
            .expect("cspr run starts")
    }
}

fn stop(mut child: Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
}

/// A forwarded notification from the LA with a unique Panel reference.
fn notification(reference: &str) -> String {
    format!(
        "Authentication-Results: mx.chscp.test; dkim=pass header.d=test.local; dmarc=pass header.from=test.local\r\n\
         From: Social Worker <la@test.local>\r\nTo: chscp@test.local\r\nSubject: FW: Serious incident notification\r\n\
         Date: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{reference}@test.local>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nPlease find our notification below.\r\n\r\n\
         ________________________________\r\nFrom: Duty Manager <duty.manager@test.local>\r\n\
         Sent: Thursday, November 26, 2026 9:00 AM\r\nSubject: Serious incident notification\r\n\r\n\
         Local authority: Hackney\r\nIncident type: Serious harm\r\nDate LA became aware: 24/11/2026\r\n\
         Date notified to the Panel: 26/11/2026\r\nPanel reference: {reference}\r\nChild's name: Alex Example\r\n\
         Number of children: 1\r\nAbuse or neglect suspected: Yes\r\n"
    )
}

/// The n-th message of a mixed backlog: notifications, replies with commands, auto-replies
/// and messages that go to triage.
fn mixed(n: usize, run: u32) -> String {
    match n % 10 {
        0..=5 => notification(&format!("SIN-2026-{run}{n:06}")),
        6 | 7 => format!(
            "Authentication-Results: mx.chscp.test; dkim=pass header.d=test.local; dmarc=pass header.from=test.local\r\n\
             From: spa@test.local\r\nTo: chscp@test.local\r\nSubject: RE: [BENCH-2026-{:03}] Rapid Review\r\n\
             Date: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <reply-{run}-{n}@test.local>\r\n\r\nNOTE read and noted\r\n",
            n / 10 + 1
        ),
        8 => format!(
            "From: someone@elsewhere.test\r\nTo: chscp@test.local\r\nSubject: Newsletter {n}\r\n\
             Date: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <other-{run}-{n}@elsewhere.test>\r\n\r\n{}\r\n",
            "Our termly newsletter, with dates for training. ".repeat(40)
        ),
        _ => format!(
            "From: icsc@test.local\r\nTo: chscp@test.local\r\nSubject: Automatic reply: case\r\nAuto-Submitted: auto-replied\r\n\
             Date: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <auto-{run}-{n}@test.local>\r\n\r\nI am out of the office.\r\n"
        ),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn message_count(session: &mut Session, folder: &str) -> u32 {
    session.status(folder, "(MESSAGES)").await.expect("STATUS").exists
}

async fn latency(env: &Env, count: usize) {
    let run = std::process::id();
    let folder = format!("BenchLatency{run}");
    let mut writer = env.session("chscp").await;
    writer.create(&folder).await.expect("folder");
    let db = format!("sqlite://{}/latency.db", env.work.path().display());
    let outbound = format!(
        "transport = \"smtp\"\nhost = \"localhost\"\nport = {}\ntls = \"starttls\"\nusername = \"chscp\"\nca_file = \"{}\"\nsent_folder = \"Sent\"",
        env.stack["CSPR_TEST_SUBMISSION_PORT"], env.stack["CSPR_TEST_CA"]
    );
    let config = env.config("latency", &db, &env.imap_mailbox(&folder), &outbound);
    let daemon = env.daemon(&config);
    let mut observer = env.session("la").await;
    let store = loop {
        if let Ok(store) = Store::open(&db).await {
            break store;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut samples = Vec::new();
    // The first is a warm-up (connections, caches), not counted.
    for n in 0..=count {
        let before = message_count(&mut observer, "INBOX").await;
        let raw = notification(&format!("SIN-2026-{run}L{n:04}"));
        writer.append(&folder, None, None, raw.as_bytes()).await.expect("APPEND");
        let appended = Instant::now();
        while message_count(&mut observer, "INBOX").await <= before {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if n > 0 {
            samples.push(appended.elapsed().as_secs_f64());
        }
        // The case's other emails go before the next notification is measured.
        while store.outbox(None).await.map(|rows| rows.iter().any(|r| r.status != "sent")).unwrap_or(true) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    stop(daemon);
    samples.sort_by(f64::total_cmp);
    println!("latency p50: {:.3} s", percentile(&samples, 50.0));
    println!("latency p99: {:.3} s", percentile(&samples, 99.0));

    // The floor: the same APPEND seen by a bare IDLE client.
    let idle_folder = format!("BenchFloor{run}");
    writer.create(&idle_folder).await.expect("folder");
    let mut watcher = env.session("chscp").await;
    watcher.select(&idle_folder).await.expect("SELECT");
    let mut floor = Vec::new();
    for n in 0..count {
        let mut idle = watcher.idle();
        idle.init().await.expect("IDLE");
        let (wait, _stop) = idle.wait_with_timeout(Duration::from_secs(30));
        let appending = async {
            writer.append(&idle_folder, None, None, notification(&format!("F{n}")).as_bytes()).await.expect("APPEND");
            Instant::now()
        };
        let (woken, appended) = tokio::join!(async { wait.await.map(|_| Instant::now()) }, appending);
        floor.push(woken.expect("IDLE answered").saturating_duration_since(appended).as_secs_f64());
        watcher = idle.done().await.expect("DONE");
    }
    floor.sort_by(f64::total_cmp);
    println!("floor p50: {:.3} s", percentile(&floor, 50.0));
    println!("floor p99: {:.3} s", percentile(&floor, 99.0));
    let _ = writer.delete(&folder).await;
    let _ = writer.delete(&idle_folder).await;
}

async fn backlog(env: &Env, count: usize) {
    let run = std::process::id();
    let folder = format!("BenchBacklog{run}");
    let mut writer = env.session("chscp").await;
    writer.create(&folder).await.expect("folder");
    let filling = Instant::now();
    for n in 0..count {
        writer.append(&folder, None, None, mixed(n, run).as_bytes()).await.expect("APPEND");
    }
    eprintln!("backlog: {count} messages appended in {:.1} s", filling.elapsed().as_secs_f64());

    let mut reader = env.session("chscp").await;
    reader.examine(&folder).await.expect("EXAMINE");
    let fetching = Instant::now();
    let fetched: Vec<_> =
        reader.uid_fetch("1:*", "BODY.PEEK[]").await.expect("UID FETCH").try_collect().await.expect("fetched");
    let fetch_rate = fetched.len() as f64 / fetching.elapsed().as_secs_f64();
    let bytes: usize = fetched.iter().filter_map(|f| f.body()).map(<[u8]>::len).sum();
    drop(fetched);
    let _ = reader.logout().await;

    let db = format!("sqlite://{}/backlog.db", env.work.path().display());
    let outbox = env.work.path().join("backlog-outbox");
    let config = env.config(
        "backlog",
        &db,
        &env.imap_mailbox(&folder),
        &format!("transport = \"file\"\ndirectory = \"{}\"", outbox.display()),
    );
    let started = Instant::now();
    let daemon = env.daemon(&config);
    let pool = loop {
        if let Ok(pool) = sqlx::sqlite::SqlitePool::connect(&db).await
            && sqlx::query("SELECT 1 FROM messages LIMIT 1").fetch_optional(&pool).await.is_ok()
        {
            break pool;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    loop {
        let done: i64 = sqlx::query("SELECT count(*) FROM messages WHERE state = 'processed'")
            .fetch_one(&pool)
            .await
            .map(|r| r.get(0))
            .unwrap_or(0);
        if done as usize >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    stop(daemon);
    let _ = writer.delete(&folder).await;
    // The same messages through the pure pipeline alone (parse, extract, classify,
    // trust), on one thread, under the same configuration: what intake could reach.
    let understood_config =
        cspr::config::load_without_secrets(&Sources { file: Some(config), env: Vec::new(), credentials_dir: None })
            .expect("bench configuration");
    let rules = understood_config.understanding();
    let messages: Vec<String> = (0..count).map(|n| mixed(n, run)).collect();
    let mut best = f64::MAX;
    for _ in 0..3 {
        let understanding = Instant::now();
        for raw in &messages {
            std::hint::black_box(cspr::understand::understand(raw.as_bytes(), &rules));
        }
        best = best.min(understanding.elapsed().as_secs_f64());
    }
    let understand_rate = count as f64 / best;
    println!("backlog messages: {count} ({:.1} MB)", bytes as f64 / 1e6);
    println!("backlog processed: {rate:.0} msg/s");
    println!("backlog bare fetch: {fetch_rate:.0} msg/s");
    println!("backlog ratio: {:.2}", rate / fetch_rate);
    println!("understand only: {understand_rate:.0} msg/s");
    println!("backlog ratio to understanding: {:.2}", rate / understand_rate);
    ingest_only(env, &understood_config, &messages).await;
}

/// The same messages stored in a fresh database and processed in-process, without the
/// mailbox or delivery: what the store and the decisions cost.
async fn ingest_only(env: &Env, config: &Config, messages: &[String]) {
    let url = format!("sqlite://{}/ingest-only.db", env.work.path().display());
    let store = Store::open(&url).await.expect("database opens");
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).single().expect("time");
    for (n, chunk) in messages.chunks(50).enumerate() {
        let batch: Vec<NewMessage<'_>> = chunk
            .iter()
            .enumerate()
            .map(|(i, raw)| NewMessage {
                truncated_from: None,
                source: "bench",
                uidvalidity: Some(1),
                uid: Some((n * 50 + i + 1) as u32),
                raw: raw.as_bytes(),
                arrived_at: now,
            })
            .collect();
        store.store_messages(&batch).await.expect("stored");
    }
    let started = Instant::now();
    let done = cspr::jobs::ingest::drain(&store, config, || now, &|| {}).await.expect("processed");
    let rate = done as f64 / started.elapsed().as_secs_f64();
    store.close().await;
    println!("ingest only: {rate:.0} msg/s ({done} messages stored beforehand, SQLite, no delivery)");
}

/// One real case, made by the pipeline from a notification, in the database at `url`.
async fn template_case(url: &str, config: &Config, now: chrono::DateTime<Utc>) -> CaseState {
    let store = Store::open(url).await.expect("database opens");
    let raw = notification("SIN-2026-TEMPLATE");
    let message = NewMessage {
        truncated_from: None,
        source: "bench",
        uidvalidity: Some(1),
        uid: Some(1),
        raw: raw.as_bytes(),
        arrived_at: now,
    };
    store.store_message(&message).await.expect("stored");
    try_step(&store, config, now).await.expect("processed");
    let template = store
        .load_case(&cspr::domain::case::CaseRef::parse("BENCH-2026-001").expect("a reference"))
        .await
        .expect("loaded")
        .expect("a case");
    store.close().await;
    template
}

/// A database with `cases` open cases like `template`, of four running clocks each
/// (replacing any cases there).
async fn populate(url: &str, config: &Config, template: &CaseState, cases: usize, today: NaiveDate, near_due: bool) {
    let now = Utc.from_utc_datetime(&today.and_hms_opt(10, 0, 0).expect("time"));
    let pool = sqlx::AnyPool::connect(url).await.expect("pool");
    sqlx::query("DELETE FROM clocks").execute(&pool).await.expect("clean");
    sqlx::query("DELETE FROM cases").execute(&pool).await.expect("clean");
    sqlx::query("DELETE FROM intents").execute(&pool).await.expect("clean");
    let mut tx = pool.begin().await.expect("transaction");
    // Opened and last changed a week before the ticks measured.
    let stamp = (now - chrono::Duration::days(7)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    for chunk_start in (0..cases).step_by(100) {
        let chunk_end = (chunk_start + 100).min(cases);
        let mut case_rows = Vec::new();
        let mut clock_rows = Vec::new();
        for n in chunk_start..chunk_end {
            let mut state = template.clone();
            state.reference = CaseRef::parse(&format!("BENCH-2026-{:06}", n + 1)).expect("reference");
            state.notification.panel_reference = Some(format!("SIN-2026-B{n:06}"));
            // Near due: started in the last 30 days, so that every case has a clock due
            // or overdue within the reminder horizon (the worst case). Otherwise due dates
            // spread over the coming year.
            while state.clocks.len() < 4 {
                let extra = state.clocks[0].clone();
                state.clocks.push(extra);
            }
            state.clocks.truncate(4);
            for (i, clock) in state.clocks.iter_mut().enumerate() {
                clock.started = if near_due {
                    today - chrono::Duration::days(((n * 7 + i * 3) % 30) as i64)
                } else {
                    today + chrono::Duration::days(((n + i * 3) % 365) as i64) - chrono::Duration::days(30)
                };
                clock.due = config
                    .clock(clock.clock)
                    .and_then(|def| deadline(def, clock.started, &[], now, &config.calendar).ok())
                    .map_or(clock.started + chrono::Duration::days(30), |d| d.due);
            }
            for clock in &state.clocks {
                clock_rows.push((
                    state.reference.to_string(),
                    clock.clock.to_string(),
                    clock.started.to_string(),
                    clock.due.to_string(),
                ));
            }
            let next = state.clocks.iter().map(|c| c.due).min().expect("a clock");
            case_rows.push((
                state.reference.to_string(),
                serde_json::to_string(&state).expect("json"),
                next.to_string(),
            ));
        }
        let mut insert = String::from(
            "INSERT INTO cases (reference, kind, stage, opened_at, next_clock, next_due, state, updated_at, next_step_on) VALUES ",
        );
        let mut p = 0;
        for (i, _) in case_rows.iter().enumerate() {
            if i > 0 {
                insert.push(',');
            }
            insert.push_str(&format!(
                "(${}, 'cspr', 'rapid_review', ${}, 'C3', ${}, ${}, ${}, '{}')",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                cspr::store::schedule::UNSETTLED
            ));
            p += 5;
        }
        let mut query = sqlx::query(&insert);
        for (reference, state, next) in &case_rows {
            query = query.bind(reference).bind(&stamp).bind(next).bind(state).bind(&stamp);
        }
        query.execute(&mut *tx).await.expect("cases inserted");
        let mut insert = String::from("INSERT INTO clocks (case_reference, clock, started_on, due_on, status) VALUES ");
        for i in 0..clock_rows.len() {
            if i > 0 {
                insert.push(',');
            }
            insert.push_str(&format!("(${}, ${}, ${}, ${}, 'running')", i * 4 + 1, i * 4 + 2, i * 4 + 3, i * 4 + 4));
        }
        let mut query = sqlx::query(&insert);
        for (reference, clock, started, due) in &clock_rows {
            query = query.bind(reference).bind(clock).bind(started).bind(due);
        }
        query.execute(&mut *tx).await.expect("clocks inserted");
    }
    tx.commit().await.expect("committed");
    pool.close().await;
}

async fn tick(env: &Env, name: &str, url: &str) {
    let config = load(&Sources {
        file: Some(env.config(&format!("tick-{name}"), url, "source = \"maildir\"", "transport = \"file\"")),
        env: Vec::new(),
        credentials_dir: None,
    })
    .expect("bench configuration");
    let today = NaiveDate::from_ymd_opt(2026, 11, 26).expect("date");
    let at = |day: NaiveDate, minutes: i64| {
        Utc.from_utc_datetime(&day.and_hms_opt(9, 0, 0).expect("time")) + chrono::Duration::minutes(minutes)
    };
    let now = at(today, 0);
    let template = template_case(url, &config, now).await;
    let ms = |started: Instant| started.elapsed().as_secs_f64() * 1000.0;
    for near_due in [false, true] {
        let building = Instant::now();
        populate(url, &config, &template, 25_000, today, near_due).await;
        eprintln!("tick {name}: 100,000 clocks written in {:.1} s", building.elapsed().as_secs_f64());
        let label = if near_due { format!("tick {name} near due") } else { format!("tick {name}") };
        // The daemon ran until yesterday: its tick then read every case, as after an
        // upgrade or a calendar change, and queued what was due.
        let store = Store::open(url).await.expect("database opens");
        let started = Instant::now();
        let settling =
            cspr::jobs::tick::run(&store, &config, at(today.pred_opt().expect("a day"), 0)).await.expect("tick");
        let unsettled = ms(started);
        store.close().await;
        // Restarted this morning: the first tick finds what fell due meanwhile.
        let store = Store::open(url).await.expect("database opens");
        let started = Instant::now();
        let first = cspr::jobs::tick::run(&store, &config, now).await.expect("tick");
        let first_ms = ms(started);
        // The daemon's later ticks: five minutes apart.
        let mut steady = Vec::new();
        for n in 1..=5 {
            let started = Instant::now();
            cspr::jobs::tick::run(&store, &config, at(today, 5 * n)).await.expect("tick");
            steady.push(ms(started));
        }
        steady.sort_by(f64::total_cmp);
        // The first tick of the following day, when every case's steps move on a day.
        let started = Instant::now();
        let next = cspr::jobs::tick::run(&store, &config, at(today.succ_opt().expect("a day"), 0)).await.expect("tick");
        let next_ms = ms(started);
        println!("{label}: {:.1} ms", steady[2]);
        println!(
            "{label} first: {first_ms:.1} ms (the first after a start: {} cases read, {} emails queued)",
            first.cases, first.queued
        );
        println!("{label} next day: {next_ms:.1} ms ({} cases read, {} emails queued)", next.cases, next.queued);
        println!(
            "{label} every case: {unsettled:.1} ms (all {} cases read, as after an upgrade or a calendar change; {} emails queued)",
            settling.cases, settling.queued
        );
        store.close().await;
    }
}

async fn rss(env: &Env) {
    let url = format!("sqlite://{}/rss.db", env.work.path().display());
    let maildir = env.work.path().join("rss-maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).expect("maildir");
    }
    let mailbox = format!("source = \"maildir\"\nmaildir = \"{}\"", maildir.display());
    let outbound = format!("transport = \"file\"\ndirectory = \"{}\"", env.work.path().join("rss-outbox").display());
    let path = env.config("rss", &url, &mailbox, &outbound);
    let config = load(&Sources { file: Some(path.clone()), env: Vec::new(), credentials_dir: None }).expect("config");
    let today = NaiveDate::from_ymd_opt(2026, 11, 26).expect("date");
    let template =
        template_case(&url, &config, Utc.from_utc_datetime(&today.and_hms_opt(10, 0, 0).expect("time"))).await;
    populate(&url, &config, &template, 2_500, today, false).await;
    // 2,500 cases of four clocks is 10,000 clocks; add cases to 10,000 without clocks running.
    let pool = sqlx::AnyPool::connect(&url).await.expect("pool");
    let template: String =
        sqlx::query("SELECT state FROM cases LIMIT 1").fetch_one(&pool).await.expect("a case").get(0);
    let mut tx = pool.begin().await.expect("transaction");
    for n in 2_500..10_000 {
        let state = template.replace("BENCH-2026-000001", &format!("BENCH-2026-{:06}", n + 1));
        sqlx::query(
            "INSERT INTO cases (reference, kind, stage, opened_at, state, updated_at, closed_at) VALUES ($1, 'cspr', 'closed', $2, $3, $2, $2)",
        )
        .bind(format!("BENCH-2026-{:06}", n + 1))
        .bind("2026-11-26T10:00:00Z")
        .bind(state)
        .execute(&mut *tx)
        .await
        .expect("case");
    }
    tx.commit().await.expect("committed");
    pool.close().await;
    let daemon = env.daemon(&path);
    let pid = daemon.id();
    let read = || -> f64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
            .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
            .unwrap_or(0.0)
            / 1024.0
    };
    // Idle: started, first tick done, then steady for two seconds.
    let mut last = 0.0;
    let mut steady_for = 0;
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = read();
        if (now - last).abs() < 0.05 {
            steady_for += 1;
            if steady_for >= 20 {
                break;
            }
        } else {
            steady_for = 0;
        }
        last = now;
    }
    stop(daemon);
    println!("rss: {last:.1} MB");
}

fn main() {
    if std::env::var_os("CSPR_BENCH_SYSTEM").is_none() {
        println!("system bench skipped: run scripts/bench (it starts the mail stack)");
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let args: Vec<String> = std::env::args().collect();
    let only = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)).cloned();
    let wanted = |name: &str| only.as_deref().is_none_or(|o| o == name);
    let stack: HashMap<String, String> = std::env::vars().filter(|(k, _)| k.starts_with("CSPR_TEST_")).collect();
    let env = Env {
        stack,
        binary: std::env::var_os("CSPR_BENCH_BIN").map(PathBuf::from).expect("CSPR_BENCH_BIN names the cspr binary"),
        postgres: std::env::var("CSPR_BENCH_POSTGRES").expect("CSPR_BENCH_POSTGRES names a PostgreSQL database"),
        work: tempfile::tempdir().expect("work folder"),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        if wanted("latency") {
            latency(&env, if quick { 30 } else { 100 }).await;
        }
        if wanted("backlog") {
            backlog(&env, if quick { 2_000 } else { 10_000 }).await;
        }
        if wanted("tick") {
            tick(&env, "sqlite", &format!("sqlite://{}/tick.db", env.work.path().display())).await;
            tick(&env, "postgres", &env.postgres).await;
        }
        if wanted("rss") {
            rss(&env).await;
        }
    });
}
