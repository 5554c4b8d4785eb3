//! Crafted worst cases through the whole pipeline — stored, understood, matched,
//! decided and committed (SQLite) — at 1 MB and 8 MB each, to show that processing
//! stays linear in the message. Prints each shape's times and then
//! `hostile slowest: N ms per MB`. Under `cargo test` (no `--bench`) it runs the shapes
//! at 64 KB once, as a smoke test.

use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{TimeZone, Utc};
use cspr::config::Config;
use cspr::jobs::ingest::try_step;
use cspr::store::{NewMessage, Store};

const MB: usize = 1024 * 1024;

fn headers(subject: &str, extra: &str) -> String {
    format!(
        "From: Duty Manager <duty.manager@hackney.gov.uk>\r\nTo: chscp@hackney.gov.uk\r\nSubject: {subject}\r\n\
         Date: Tue, 01 Dec 2026 10:00:00 +0000\r\nMessage-ID: <hostile@hackney.gov.uk>\r\nMIME-Version: 1.0\r\n{extra}\r\n"
    )
}

/// `unit` repeated until the text is `size` bytes long.
fn fill(mut text: String, unit: &str, size: usize) -> String {
    let count = size.saturating_sub(text.len()) / unit.len().max(1);
    text.reserve(count * unit.len());
    for _ in 0..count {
        text.push_str(unit);
    }
    text
}

fn html(subject: &str, body: impl FnOnce(String) -> String) -> String {
    body(headers(subject, "Content-Type: text/html; charset=utf-8\r\n") + "<html><body><p>Dear team,</p>")
}

fn plain(subject: &str) -> String {
    headers(subject, "Content-Type: text/plain; charset=utf-8\r\n")
}

/// Each shape: a name and the message of about `size` bytes.
type Shape = (&'static str, fn(usize) -> String);

const SHAPES: [Shape; 8] = [
    ("ampersands without ';'", |size| html("Notification", |t| fill(t, "&amp x &lt y &#163 ", size))),
    ("unterminated comments", |size| html("Notification", |t| fill(t, "<!-- x <b>y</b> <p>", size))),
    ("From: lines under Fwd:", |size| {
        fill(plain("Fwd: Serious incident notification"), "From: Someone <someone@example.org>\r\n", size)
    }),
    ("80,000 references per MB", |size| {
        let mut text = plain("Re: [CHSCP-2026-001] update");
        let mut k = 0u32;
        while text.len() < size {
            text.push_str(&format!("CHSCP-2{k:03}-{k} "));
            k += 1;
            if k.is_multiple_of(8) {
                text.push_str("\r\n");
            }
        }
        text
    }),
    ("1,000-level quoting", |size| {
        let line = format!("{} Local authority: Hackney\r\n", ">".repeat(1000));
        fill(plain("Re: Serious incident notification"), &line, size)
    }),
    ("one line", |size| fill(plain("Notification") + "Date LA became aware: ", "1 November ", size)),
    ("tiny MIME parts", |size| {
        // 10,000 parts a megabyte.
        let part = "--p\r\nContent-Type: text/plain\r\n\r\npart of a notification, padded to a hundred bytes\r\n";
        let text = headers("Notification", "Content-Type: multipart/mixed; boundary=\"p\"\r\n") + "\r\n";
        fill(text, &format!("{part}{}\r\n", "x".repeat(100 - part.len() % 100)), size) + "--p--\r\n"
    }),
    ("base64 with junk", |size| {
        let text =
            headers("Notification", "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n");
        let encoded = base64::engine::general_purpose::STANDARD.encode(
            "Local authority: Hackney\r\nIncident type: Death\r\nDate LA became aware: 18/11/2026\r\n".repeat(8),
        );
        let mut junked = String::new();
        for (i, c) in encoded.chars().enumerate() {
            junked.push(c);
            if i % 7 == 0 {
                junked.push_str("!*~");
            }
            if i % 76 == 75 {
                junked.push_str("\r\n");
            }
        }
        fill(text, &junked, size)
    }),
];

/// Stores `raw` in a new SQLite store and times processing it (understand, match,
/// decide, commit); the best of `runs`.
async fn process(raw: &str, runs: usize) -> (Duration, String) {
    let mut best = Duration::MAX;
    let mut outcome = String::new();
    for _ in 0..runs {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = Store::open(&format!("sqlite:{}", dir.path().join("bench.db").display())).await.expect("a store");
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).single().expect("a time");
        let message = NewMessage {
            truncated_from: None,
            source: "bench",
            uidvalidity: None,
            uid: None,
            raw: raw.as_bytes(),
            arrived_at: at,
        };
        store.store_message(&message).await.expect("stored");
        let config = Config::defaults();
        let started = Instant::now();
        try_step(&store, &config, at).await.expect("processed");
        best = best.min(started.elapsed());
        outcome = store
            .message_list()
            .await
            .expect("listed")
            .first()
            .map(|m| format!("{} {}", m.3, m.4.as_deref().unwrap_or("-")))
            .unwrap_or_default();
        store.close().await;
    }
    (best, outcome)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    if !bench {
        for (name, make) in SHAPES {
            let (took, outcome) = process(&make(64 * 1024), 1).await;
            println!("hostile {name} at 64 KB: {} ms ({outcome})", took.as_millis());
        }
        return;
    }
    let mut slowest = 0.0f64;
    println!("{:<26} {:>10} {:>10} {:>8} {:>10}  outcome", "shape", "1 MB ms", "8 MB ms", "8/1", "ms per MB");
    // `CSPR_HOSTILE_SHAPE=From` runs only the shapes whose names contain it (profiling).
    let only = std::env::var("CSPR_HOSTILE_SHAPE").unwrap_or_default();
    for (name, make) in SHAPES.into_iter().filter(|(name, _)| name.contains(only.as_str())) {
        let (one, _) = process(&make(MB), 5).await;
        let (eight, outcome) = process(&make(8 * MB), 5).await;
        let per_mb = eight.as_secs_f64() * 1000.0 / 8.0;
        slowest = slowest.max(per_mb);
        println!(
            "{name:<26} {:>10.1} {:>10.1} {:>8.2} {per_mb:>10.1}  {outcome}",
            one.as_secs_f64() * 1000.0,
            eight.as_secs_f64() * 1000.0,
            eight.as_secs_f64() / one.as_secs_f64().max(1e-9),
        );
    }
    println!("hostile slowest: {slowest:.0} ms per MB");
}
