//! Wiring: open the store, start the mail source and the workers, stop cleanly on
//! SIGTERM or SIGINT. A task that fails takes the process down with an error.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use tokio::sync::{Notify, watch};

use crate::config::{Config, MailboxSource};
use crate::jobs::ingest;
use crate::sources::imap::ImapSource;
use crate::sources::maildir::MaildirSource;
use crate::store::Store;

/// Workers look for work at least this often even without a wake-up.
const SAFETY_TICK: Duration = Duration::from_secs(60);

/// Runs the daemon until SIGTERM or SIGINT.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let store = Store::open(&config.store_url).await.context("cannot open the store")?;
    let (stop, shutdown) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("stopping");
        let _ = stop.send(true);
    });
    let config = Arc::new(config);
    let stored = Arc::new(Notify::new());
    let source = tokio::spawn(run_source(config.clone(), store.clone(), stored.clone(), shutdown.clone()));
    let worker = tokio::spawn(run_ingest(config.clone(), store.clone(), stored, shutdown));
    let (source, worker) = tokio::join!(source, worker);
    store.close().await;
    source.context("the mail source task died")?.context("the mail source failed")?;
    worker.context("the ingest task died")?.context("the ingest worker failed")?;
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
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    match &config.mailbox {
        MailboxSource::Maildir { path, poll_interval } => {
            let source = MaildirSource::new(path);
            tracing::info!(source = source.name(), "watching Maildir");
            while !*shutdown.borrow() {
                let scan = source.scan_once(&store).await?;
                if scan.stored > 0 {
                    stored.notify_one();
                }
                tokio::select! {
                    _ = tokio::time::sleep(*poll_interval) => {}
                    _ = shutdown.changed() => {}
                }
            }
            Ok(())
        }
        MailboxSource::Imap(settings) => {
            let source = ImapSource::new((**settings).clone());
            let (state, _) = watch::channel(crate::sources::imap::SourceState::Disconnected);
            source.run(&store, stored, state, shutdown).await;
            Ok(())
        }
    }
}

async fn run_ingest(
    config: Arc<Config>,
    store: Store,
    stored: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    loop {
        ingest::drain(&store, &config, Utc::now).await?;
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
