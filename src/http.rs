//! The optional HTTP listener (localhost by default): `/healthz`, `/metrics` (OpenMetrics
//! text, from prometheus-client) and `/calendar.ics?token=…`, the deadlines feed for
//! Outlook or Google Calendar. Served by hyper, bounded: a client has `HEADER_TIMEOUT`
//! to send its request head and `REQUEST_DEADLINE` for the whole exchange, at most
//! `MAX_CONNECTIONS` are served at once (more are closed at once), one request each.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use http_body_util::Full;
use hyper::header::{CACHE_CONTROL, CONNECTION, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use crate::config::Config;
use crate::report::{deadlines, ics};
use crate::store::Store;

/// Connections served at once at most.
pub const MAX_CONNECTIONS: usize = 64;
/// Time a client has to send its request line and headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// Time one connection may take, request and answer together.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(30);
/// The most a request head may hold.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// What the endpoints report, updated by the daemon's loops.
#[derive(Default)]
pub struct Health {
    /// Every worker loop came round recently.
    pub loops_alive: AtomicBool,
    pub mailbox_connected: AtomicBool,
    /// Unix seconds of the last successful tick.
    pub last_tick: AtomicI64,
}

fn response(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(value) = content_type.parse() {
        headers.insert(CONTENT_TYPE, value);
    }
    headers.insert(CACHE_CONTROL, hyper::header::HeaderValue::from_static("no-store"));
    headers.insert(CONNECTION, hyper::header::HeaderValue::from_static("close"));
    response
}

type Labels = Vec<(String, String)>;

/// The metrics, encoded afresh on each scrape from the store's counts and the loops'.
async fn metrics(store: &Store, health: &Health) -> String {
    let mut registry = Registry::default();
    match store.metrics().await {
        Ok(rows) => {
            let mut families: Vec<(&'static str, Family<Labels, Gauge>)> = Vec::new();
            for (name, label, count) in rows {
                let family = match families.iter().find(|(n, _)| *n == name) {
                    Some((_, family)) => family.clone(),
                    None => {
                        let family = Family::<Labels, Gauge>::default();
                        registry.register(name, help(name), family.clone());
                        families.push((name, family.clone()));
                        family
                    }
                };
                let key = match name {
                    "cspr_messages" => "kind",
                    "cspr_cases" => "stage",
                    _ => "status",
                };
                family.get_or_create(&vec![(key.to_owned(), label)]).set(count);
            }
        }
        Err(error) => tracing::warn!(%error, "metrics unavailable"),
    }
    let connected = Gauge::<i64>::default();
    connected.set(i64::from(health.mailbox_connected.load(Ordering::Relaxed)));
    registry.register("cspr_mailbox_connected", "1 while the mailbox is connected", connected);
    let last_tick = Gauge::<i64>::default();
    last_tick.set(health.last_tick.load(Ordering::Relaxed));
    registry.register(
        "cspr_last_tick_timestamp_seconds",
        "When the scheduler last completed a tick (Unix seconds)",
        last_tick,
    );
    let (requests, failures) = crate::oauth::metrics();
    for (name, help, value) in [
        ("cspr_oauth_token_requests", "OAuth token requests made", requests),
        ("cspr_oauth_token_failures", "OAuth token requests that failed", failures),
    ] {
        let counter = Counter::<u64>::default();
        counter.inc_by(value);
        registry.register(name, help, counter);
    }
    let mut out = String::new();
    if let Err(error) = encode(&mut out, &registry) {
        tracing::warn!(%error, "metrics could not be encoded");
    }
    out
}

fn help(name: &str) -> &'static str {
    match name {
        "cspr_messages" => "Stored messages by kind (or state, before they are understood)",
        "cspr_outbox" => "Outgoing emails by status",
        "cspr_clocks" => "Statutory clocks by status",
        "cspr_triage_open" => "Messages held for a person",
        "cspr_cases" => "Cases by stage",
        _ => "A count",
    }
}

/// The calendar token given in the query, compared in constant time.
fn token_allowed(query: &str, config: &Config) -> bool {
    let given = query.split('&').find_map(|kv| kv.strip_prefix("token="));
    let expected = config.http.calendar_token.as_ref().map(|t| t.expose_secret().to_owned());
    match (given, expected.as_deref()) {
        (Some(given), Some(expected)) if !expected.is_empty() => {
            bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
        }
        _ => false,
    }
}

async fn answer(
    request: Request<hyper::body::Incoming>,
    config: &Config,
    store: &Store,
    health: &Health,
) -> Response<Full<Bytes>> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return response(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "GET only\n");
    }
    let query = request.uri().query().unwrap_or("");
    match request.uri().path() {
        "/healthz" if health.loops_alive.load(Ordering::Relaxed) => response(StatusCode::OK, "text/plain", "ok\n"),
        "/healthz" => response(StatusCode::SERVICE_UNAVAILABLE, "text/plain", "a worker loop has stopped\n"),
        "/metrics" => response(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            metrics(store, health).await,
        ),
        "/calendar.ics" if !token_allowed(query, config) => {
            response(StatusCode::FORBIDDEN, "text/plain", "a valid token is needed\n")
        }
        "/calendar.ics" => match store.cases(true).await {
            Ok(rows) => {
                let cases: Vec<_> = rows.into_iter().map(|r| r.state).collect();
                let now = Utc::now();
                let feed = ics(&deadlines(&cases, config, now, 3650), config, now);
                response(StatusCode::OK, "text/calendar; charset=utf-8", feed)
            }
            Err(_) => response(StatusCode::SERVICE_UNAVAILABLE, "text/plain", "the store is unavailable\n"),
        },
        _ => response(StatusCode::NOT_FOUND, "text/plain", "not found\n"),
    }
}

/// Serves until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    config: Arc<Config>,
    store: Store,
    health: Arc<Health>,
    mut shutdown: watch::Receiver<bool>,
) {
    let places = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        let Ok(place) = places.clone().try_acquire_owned() else {
            tracing::debug!("HTTP connection closed: {MAX_CONNECTIONS} are being served already");
            drop(stream);
            continue;
        };
        let (config, store, health) = (config.clone(), store.clone(), health.clone());
        tokio::spawn(async move {
            let _place = place;
            let service = hyper::service::service_fn(move |request| {
                let (config, store, health) = (config.clone(), store.clone(), health.clone());
                async move { Ok::<_, Infallible>(answer(request, &config, &store, &health).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .keep_alive(false)
                .max_buf_size(MAX_HEAD_BYTES)
                .serve_connection(TokioIo::new(stream), service);
            // The connection (and its task) ends at the deadline whatever the client does.
            let _ = tokio::time::timeout(REQUEST_DEADLINE, connection).await;
        });
    }
}
