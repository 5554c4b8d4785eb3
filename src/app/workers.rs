//! The daemon's workers, each a loop around one job's step: the mail source, ingest,
//! the scheduler and delivery.

use super::*;

pub(super) async fn run_source(
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
                        beats.space.check_returned(&store, &config.alerts).await;
                        let _ = store.note_state("mailbox", "waiting", Utc::now()).await;
                        let _ = store.note_state("last_sync", "up to date", Utc::now()).await;
                    }
                    Err(crate::sources::maildir::MaildirError::Sink(e))
                        if e.downcast_ref::<crate::store::StoreError>().is_some_and(|e| e.is_transient()) =>
                    {
                        if let Some(e) = e.downcast_ref::<crate::store::StoreError>() {
                            let busy = "the store is busy; the Maildir is read again shortly";
                            wait = wait.max(transient_wait(&beats, "mail source", e, busy));
                        }
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
            let noted = store.clone();
            tokio::spawn(async move {
                if states.wait_for(|s| *s != crate::sources::imap::SourceState::Disconnected).await.is_ok() {
                    crate::notify::notify("READY=1\nSTATUS=the mailbox is open");
                }
                loop {
                    let now = *states.borrow_and_update();
                    let connected = now != crate::sources::imap::SourceState::Disconnected;
                    health.mailbox_connected.store(connected, Ordering::Relaxed);
                    // For `cspr status`: where the mailbox stands, and when it was last in step.
                    let said = format!("{now:?}").to_lowercase();
                    let _ = noted.note_state("mailbox", &said, Utc::now()).await;
                    if now == crate::sources::imap::SourceState::Waiting {
                        let _ = noted.note_state("last_sync", "up to date", Utc::now()).await;
                    }
                    if states.changed().await.is_err() {
                        return;
                    }
                }
            });
            let sink = crate::jobs::intake::Intake { store: &store, recipients: &config.alerts };
            source.run(&sink, stored, state, shutdown).await;
            Ok(())
        }
    }
}

pub(super) async fn run_ingest(
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
                beats.space.check_returned(&store, &config.alerts).await;
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

pub(super) async fn run_scheduler(
    config: Arc<Config>,
    store: Store,
    queued: Arc<Notify>,
    beats: Arc<Heartbeats>,
    health: Arc<crate::http::Health>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut next_tick = Utc::now();
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
        let outcome = match tick::run(&store, &config, started).await {
            Ok(result) => tick::digests(&store, &config, Utc::now()).await.map(|d| (result, d)),
            Err(e) => Err(e),
        };
        if outcome.is_ok() {
            health.last_tick.store(Utc::now().timestamp(), Ordering::Relaxed);
            let _ = store.note_state("last_tick", "completed", Utc::now()).await;
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
pub(super) async fn run_delivery(
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
        // Each email only while this instance still leads, and not once it is asked to
        // stop: a long outbox waits for the next start rather than holding the stop up.
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
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
