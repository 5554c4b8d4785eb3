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

mod workers;

use workers::{run_delivery, run_ingest, run_scheduler, run_source};

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
            let leads = format!(
                "leading since {} (version {}, process {})",
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                env!("CARGO_PKG_VERSION"),
                std::process::id()
            );
            let _ = store.note_state("daemon", &leads, chrono::Utc::now()).await;
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
