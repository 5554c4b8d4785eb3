//! The optional HTTP listener (localhost by default): `/healthz`, `/metrics` in the
//! Prometheus text format, and `/calendar.ics?token=…`, the deadlines feed for Outlook or
//! Google Calendar. A minimal HTTP/1.1 server: GET only, one request per connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use chrono::Utc;
use secrecy::ExposeSecret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::report::{deadlines, ics};
use crate::store::Store;

/// What the endpoints report, updated by the daemon's loops.
#[derive(Default)]
pub struct Health {
    /// Every worker loop came round recently.
    pub loops_alive: AtomicBool,
    pub mailbox_connected: AtomicBool,
    /// Unix seconds of the last successful tick.
    pub last_tick: AtomicI64,
}

fn response(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

async fn metrics(store: &Store, health: &Health) -> String {
    let mut out = String::new();
    let mut seen = std::collections::BTreeSet::new();
    match store.metrics().await {
        Ok(rows) => {
            for (name, label, count) in rows {
                if seen.insert(name) {
                    out.push_str(&format!("# TYPE {name} gauge\n"));
                }
                let key = if name == "cspr_messages" {
                    "kind"
                } else if name == "cspr_cases" {
                    "stage"
                } else {
                    "status"
                };
                out.push_str(&format!("{name}{{{key}=\"{}\"}} {count}\n", label.replace(['"', '\\', '\n'], "_")));
            }
        }
        Err(error) => tracing::warn!(%error, "metrics unavailable"),
    }
    out.push_str(&format!(
        "# TYPE cspr_mailbox_connected gauge\ncspr_mailbox_connected {}\n",
        u8::from(health.mailbox_connected.load(Ordering::Relaxed))
    ));
    out.push_str(&format!(
        "# TYPE cspr_last_tick_timestamp_seconds gauge\ncspr_last_tick_timestamp_seconds {}\n",
        health.last_tick.load(Ordering::Relaxed)
    ));
    let (requests, failures) = crate::oauth::metrics();
    out.push_str(&format!(
        "# TYPE cspr_oauth_token_requests_total counter\ncspr_oauth_token_requests_total {requests}\n\
         # TYPE cspr_oauth_token_failures_total counter\ncspr_oauth_token_failures_total {failures}\n"
    ));
    out
}

async fn answer(path: &str, config: &Config, store: &Store, health: &Health) -> String {
    let (route, query) = path.split_once('?').unwrap_or((path, ""));
    match route {
        "/healthz" if health.loops_alive.load(Ordering::Relaxed) => response("200 OK", "text/plain", "ok\n"),
        "/healthz" => response("503 Service Unavailable", "text/plain", "a worker loop has stopped\n"),
        "/metrics" => response("200 OK", "text/plain; version=0.0.4", &metrics(store, health).await),
        "/calendar.ics" => {
            let given = query.split('&').find_map(|kv| kv.strip_prefix("token="));
            let expected = config.http.calendar_token.as_ref().map(|t| t.expose_secret().to_owned());
            let allowed = matches!((given, expected.as_deref()), (Some(g), Some(e)) if !e.is_empty() && g.len() == e.len() && g.bytes().zip(e.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0);
            if !allowed {
                return response("403 Forbidden", "text/plain", "a valid token is needed\n");
            }
            match store.cases(true).await {
                Ok(rows) => {
                    let cases: Vec<_> = rows.into_iter().map(|r| r.state).collect();
                    let now = Utc::now();
                    response(
                        "200 OK",
                        "text/calendar; charset=utf-8",
                        &ics(&deadlines(&cases, config, now, 3650), config, now),
                    )
                }
                Err(_) => response("503 Service Unavailable", "text/plain", "the store is unavailable\n"),
            }
        }
        _ => response("404 Not Found", "text/plain", "not found\n"),
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
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => return,
        };
        let Ok((mut stream, _)) = accepted else { continue };
        let (config, store, health) = (config.clone(), store.clone(), health.clone());
        tokio::spawn(async move {
            let mut buf = vec![0u8; 8192];
            let mut read = 0;
            let head_end = loop {
                let n = match tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut buf[read..]))
                    .await
                {
                    Ok(Ok(n)) if n > 0 => n,
                    _ => return,
                };
                read += n;
                if let Some(end) = buf[..read].windows(4).position(|w| w == b"\r\n\r\n") {
                    break end;
                }
                if read == buf.len() {
                    return;
                }
            };
            let head = String::from_utf8_lossy(&buf[..head_end]);
            let mut parts = head.lines().next().unwrap_or("").split_whitespace();
            let reply = match (parts.next(), parts.next()) {
                (Some("GET"), Some(path)) => answer(path, &config, &store, &health).await,
                _ => response("405 Method Not Allowed", "text/plain", "GET only\n"),
            };
            let _ = stream.write_all(reply.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}
