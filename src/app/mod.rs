//! Wiring: open the store, start the mail source and the workers, stop cleanly on
//! SIGTERM or SIGINT. A task that fails takes the process down with an error.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use tokio::sync::{Notify, watch};

use crate::config::{Config, MailboxSource};
use crate::jobs::deliver::Outbox;
use crate::jobs::{ingest, tick};
use crate::outbound::{Templates, Transport};
use crate::sources::imap::ImapSource;
use crate::sources::maildir::MaildirSource;
use crate::store::Store;

/// Workers look for work at least this often even without a wake-up, and so prove to
/// the watchdog that they are alive.
const SAFETY_TICK: Duration = Duration::from_secs(20);

/// What the worker loops share: when each last came round (Unix seconds, for the
/// watchdog), and whether the store's disk is full.
#[derive(Default)]
struct Heartbeats {
    ingest: AtomicI64,
    scheduler: AtomicI64,
    delivery: AtomicI64,
    space: crate::jobs::space::Space,
}

/// How a worker waits after a transient store error: a full disk is logged once and
/// waited out with backoff; anything else (busy, a lost connection) briefly.
fn transient_wait(beats: &Heartbeats, who: &str, error: &crate::store::StoreError, busy: &str) -> Duration {
    if error.is_disk_full() {
        beats.space.full(who, error)
    } else {
        tracing::warn!(%error, "{busy}");
        Duration::from_secs(1)
    }
}

fn beat(cell: &AtomicI64) {
    cell.store(Utc::now().timestamp(), Ordering::Relaxed);
}

impl Heartbeats {
    /// Every loop came round within `limit`.
    fn healthy(&self, limit: Duration) -> bool {
        let oldest = Utc::now().timestamp() - i64::try_from(limit.as_secs()).unwrap_or(i64::MAX);
        [&self.ingest, &self.scheduler, &self.delivery].iter().all(|c| c.load(Ordering::Relaxed) >= oldest)
    }
}

/// Runs the daemon until SIGTERM or SIGINT.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let store = Store::open(&config.store_url).await.context("cannot open the store")?;
    let (stop, shutdown) = watch::channel(false);
    let stop = Arc::new(stop);
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("stopping");
            crate::notify::notify("STOPPING=1");
            let _ = stop.send(true);
        });
    }
    // Everything, the mail source included, waits until this instance leads.
    let mut waiting = shutdown.clone();
    let leadership = match crate::leader::Leadership::acquire(&config.store_url, &mut waiting).await {
        Ok(leadership) => {
            if let Some(epoch) = leadership.epoch() {
                store.fence(epoch);
            }
            Arc::new(leadership)
        }
        Err(crate::leader::LeaderError::Stopped) => {
            store.close().await;
            return Ok(());
        }
        Err(e) => return Err(anyhow::Error::new(e)),
    };
    let templates =
        Templates::load(config.outbound.templates_dir.as_deref()).context("cannot load the email templates")?;
    let sent = match (&config.mailbox, &config.outbound.sent_folder) {
        (MailboxSource::Imap(settings), Some(folder)) => Some(((**settings).clone(), folder.clone())),
        _ => None,
    };
    let transport = Transport::new(&config.outbound.transport, sent).context("cannot set up outbound mail")?;
    let config = Arc::new(config);
    let beats = Arc::new(Heartbeats::default());
    for cell in [&beats.ingest, &beats.scheduler, &beats.delivery] {
        beat(cell);
    }
    let health = Arc::new(crate::http::Health::default());
    health.loops_alive.store(true, Ordering::Relaxed);
    {
        let (beats, health, mut shutdown) = (beats.clone(), health.clone(), shutdown.clone());
        let watchdog = crate::notify::watchdog_interval();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(watchdog.unwrap_or(Duration::from_secs(5)).min(Duration::from_secs(5))) => {}
                    _ = shutdown.changed() => return,
                }
                // Healthy only while every loop really comes round (each wakes at least every 20 s).
                let alive = beats.healthy(SAFETY_TICK * 3);
                health.loops_alive.store(alive, Ordering::Relaxed);
                if watchdog.is_some() {
                    if alive {
                        crate::notify::notify("WATCHDOG=1");
                    } else {
                        tracing::error!("a worker loop has stopped coming round; the watchdog is no longer fed");
                    }
                }
            }
        });
    }
    if let Some(address) = config.http.listen {
        let listener =
            tokio::net::TcpListener::bind(address).await.with_context(|| format!("cannot listen on {address}"))?;
        tracing::info!(%address, "HTTP listener: /healthz, /metrics, /calendar.ics");
        tokio::spawn(crate::http::serve(listener, config.clone(), store.clone(), health.clone(), shutdown.clone()));
    }
    let stored = Arc::new(Notify::new());
    let queued = Arc::new(Notify::new());
    let source = tokio::spawn(run_source(
        config.clone(),
        store.clone(),
        stored.clone(),
        health.clone(),
        beats.clone(),
        shutdown.clone(),
    ));
    let worker = tokio::spawn(run_ingest(
        config.clone(),
        store.clone(),
        stored,
        queued.clone(),
        beats.clone(),
        shutdown.clone(),
    ));
    let scheduler = tokio::spawn(run_scheduler(
        config.clone(),
        store.clone(),
        queued.clone(),
        beats.clone(),
        health.clone(),
        shutdown.clone(),
    ));
    let delivery = tokio::spawn(run_delivery(
        config.clone(),
        store.clone(),
        transport,
        templates,
        queued,
        beats,
        leadership,
        shutdown,
    ));
    // The first task to fail takes the process down (systemd restarts it); on a
    // clean stop every task finishes the work in hand.
    let mut tasks = tokio::task::JoinSet::new();
    for (name, handle) in
        [("mail source", source), ("ingest", worker), ("scheduler", scheduler), ("delivery", delivery)]
    {
        tasks.spawn(async move { (name, handle.await) });
    }
    let mut failure = None;
    while let Some(done) = tasks.join_next().await {
        let (name, result) = done.context("a task could not be joined")?;
        let error = match result {
            Ok(Ok(())) => continue,
            Ok(Err(e)) => e.context(format!("the {name} task failed")),
            Err(e) => anyhow::Error::new(e).context(format!("the {name} task died")),
        };
        tracing::error!(error = format!("{error:#}"), "stopping after a failure");
        let _ = stop.send(true);
        failure.get_or_insert(error);
    }
    store.close().await;
    if let Some(error) = failure {
        return Err(error);
    }
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = terminate => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

async fn run_source(
    config: Arc<Config>,
    store: Store,
    stored: Arc<Notify>,
    health: Arc<crate::http::Health>,
    beats: Arc<Heartbeats>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    match &config.mailbox {
        MailboxSource::Maildir { path, poll_interval, read_only } => {
            let source = MaildirSource::new(path).max_message_bytes(config.intake.max_message_bytes);
            let source = if *read_only { source.read_only() } else { source };
            tracing::info!(source = source.name(), "watching Maildir");
            let mut ready = false;
            while !*shutdown.borrow() {
                let mut wait = *poll_interval;
                match source.scan_once(&store).await {
                    Ok(scan) => {
                        if scan.stored > 0 {
                            stored.notify_one();
                        }
                        beats.space.check_returned(&store).await;
                    }
                    Err(crate::sources::maildir::MaildirError::Store(e)) if e.is_transient() => {
                        let busy = "the store is busy; the Maildir is read again shortly";
                        wait = wait.max(transient_wait(&beats, "mail source", &e, busy));
                    }
                    Err(e) => return Err(e.into()),
                }
                health.mailbox_connected.store(true, Ordering::Relaxed);
                if !ready {
                    ready = true;
                    crate::notify::notify("READY=1\nSTATUS=watching the Maildir");
                }
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.changed() => {}
                }
            }
            Ok(())
        }
        MailboxSource::Imap(settings) => {
            let source = ImapSource::new((**settings).clone()).max_message_bytes(config.intake.max_message_bytes);
            let (state, mut states) = watch::channel(crate::sources::imap::SourceState::Disconnected);
            tokio::spawn(async move {
                if states.wait_for(|s| *s != crate::sources::imap::SourceState::Disconnected).await.is_ok() {
                    crate::notify::notify("READY=1\nSTATUS=the mailbox is open");
                }
                loop {
                    let connected = *states.borrow_and_update() != crate::sources::imap::SourceState::Disconnected;
                    health.mailbox_connected.store(connected, Ordering::Relaxed);
                    if states.changed().await.is_err() {
                        return;
                    }
                }
            });
            source.run(&store, stored, state, shutdown).await;
            Ok(())
        }
    }
}

async fn run_ingest(
    config: Arc<Config>,
    store: Store,
    stored: Arc<Notify>,
    queued: Arc<Notify>,
    beats: Arc<Heartbeats>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    loop {
        beat(&beats.ingest);
        let beat_ingest = || beat(&beats.ingest);
        match ingest::drain(&store, &config, Utc::now, &beat_ingest).await {
            Ok(n) => {
                if n > 0 {
                    queued.notify_one();
                }
                beats.space.check_returned(&store).await;
            }
            Err(e) if e.is_transient() => {
                let wait = transient_wait(&beats, "ingest", &e, "the store is busy; processing resumes shortly");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.changed() => {}
                }
                if *shutdown.borrow() {
                    return Ok(());
                }
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        if *shutdown.borrow() {
            return Ok(());
        }
        tokio::select! {
            _ = stored.notified() => {}
            _ = tokio::time::sleep(SAFETY_TICK) => {}
            _ = shutdown.changed() => {}
        }
    }
}

async fn run_scheduler(
    config: Arc<Config>,
    store: Store,
    queued: Arc<Notify>,
    beats: Arc<Heartbeats>,
    health: Arc<crate::http::Health>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut next_tick = Utc::now();
    // When the last tick that completed began: later ticks skip what it already saw.
    let mut last_tick: Option<chrono::DateTime<Utc>> = None;
    loop {
        beat(&beats.scheduler);
        if Utc::now() < next_tick {
            tokio::select! {
                _ = tokio::time::sleep(SAFETY_TICK.min((next_tick - Utc::now()).to_std().unwrap_or_default())) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return Ok(());
            }
            continue;
        }
        let started = Utc::now();
        let outcome = match tick::run_since(&store, &config, started, last_tick).await {
            Ok(result) => tick::digests(&store, &config, Utc::now()).await.map(|d| (result, d)),
            Err(e) => Err(e),
        };
        if outcome.is_ok() {
            last_tick = Some(started);
            health.last_tick.store(Utc::now().timestamp(), Ordering::Relaxed);
            // Retention: raw text of cases closed long enough ago (cheap when there is none).
            let cutoff =
                crate::domain::london_date(&Utc::now()) - chrono::Duration::days(i64::from(config.retention_days));
            match store.purge_raw(&cutoff.to_string(), true).await {
                Ok((n, _)) if n > 0 => tracing::info!(messages = n, "raw text removed under the retention period"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "retention could not run; it will next tick"),
            }
            let unlinked = Utc::now() - chrono::Duration::days(i64::from(config.unlinked_retention_days));
            match store.purge_unlinked(unlinked, true).await {
                Ok(found) if found.messages > 0 => tracing::info!(
                    messages = found.messages,
                    "raw text of messages tied to no case removed under the retention period"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "retention could not run; it will next tick"),
            }
        }
        match outcome {
            Ok((result, digests)) if result.queued + digests > 0 => {
                tracing::info!(clocks = result.clocks, queued = result.queued + digests, "tick");
                queued.notify_one();
            }
            Ok(_) => {}
            Err(e) if e.is_transient() => {
                let wait = transient_wait(&beats, "scheduler", &e, "the store is busy; the next tick will catch up");
                next_tick = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        next_tick =
            config.tick.after_utc(&Utc::now()).next().unwrap_or_else(|| Utc::now() + chrono::Duration::minutes(5));
        if *shutdown.borrow() {
            return Ok(());
        }
    }
}

#[allow(clippy::too_many_arguments)] // the wiring of one worker: each is a distinct part
async fn run_delivery(
    config: Arc<Config>,
    store: Store,
    transport: Transport,
    templates: Templates,
    queued: Arc<Notify>,
    beats: Arc<Heartbeats>,
    leadership: Arc<crate::leader::Leadership>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let outbox = Outbox { store: &store, config: &config, transport: &transport, templates: &templates };
    outbox.reconcile().await?;
    loop {
        beat(&beats.delivery);
        // Each email only while this instance still leads.
        loop {
            if !leadership.still_leader().await {
                anyhow::bail!("this instance lost the leader lock; stopping so that only one sends");
            }
            match outbox.try_step(Utc::now()).await {
                Ok(crate::jobs::deliver::Delivery::Idle) => break,
                Ok(_) => {}
                Err(e) if e.is_transient() => {
                    let wait = transient_wait(&beats, "delivery", &e, "the store is busy; delivery resumes shortly");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = shutdown.changed() => {}
                    }
                    break;
                }
                Err(e) => return Err(e.into()),
            }
        }
        if *shutdown.borrow() {
            return Ok(());
        }
        tokio::select! {
            _ = queued.notified() => {}
            _ = tokio::time::sleep(SAFETY_TICK) => {}
            _ = shutdown.changed() => {}
        }
    }
}
