//! Parse → extract → classify throughput on a mixed set: the golden fixtures plus
//! typical 20 KB forwarded notifications.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use cspr::config::Config;
use cspr::understand::understand;

/// A forwarded notification padded with ordinary prose to about 20 KB.
fn typical(n: usize) -> Vec<u8> {
    let mut body = String::from(
        "Please see the notification below.\r\n\r\n________________________________\r\n\
         From: Duty Manager <duty.manager@hackney.gov.uk>\r\nSent: Friday, November 20, 2026 10:15 AM\r\n\
         To: Mailbox.NationalReviewPanel@education.gov.uk\r\nSubject: Serious incident notification\r\n\r\n\
         Local authority: Hackney\r\nIncident type: Death\r\nDate LA became aware: 18/11/2026\r\n\
         Date notified to the Panel: 20 November 2026\r\nPanel reference: SIN-2026-01234\r\n\
         Number of children: 1\r\nLooked after child: No\r\nAbuse or neglect suspected: Yes\r\n\r\n",
    );
    while body.len() < 20_000 {
        body.push_str("The agencies involved have been asked to secure their records and to provide a short summary of their involvement with the family over the last twelve months.\r\n");
    }
    format!(
        "From: Social Worker <sw@hackney.gov.uk>\r\nTo: chscp@hackney.gov.uk\r\nSubject: FW: Serious incident notification {n}\r\n\
         Date: Fri, 20 Nov 2026 11:00:00 +0000\r\nMessage-ID: <bench-{n}@hackney.gov.uk>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    )
    .into_bytes()
}

fn messages() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inspect");
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                .filter_map(|p| std::fs::read(p).ok())
                .collect()
        })
        .unwrap_or_default();
    out.extend((0..20).map(typical));
    out
}

fn pipeline(c: &mut Criterion) {
    let config = Config::defaults();
    let mixed = messages();
    let typical: Vec<Vec<u8>> = (0..32).map(typical).collect();
    let mut group = c.benchmark_group("understand");
    group.throughput(Throughput::Elements(mixed.len() as u64));
    group.bench_function("mixed messages", |b| {
        b.iter(|| {
            for raw in &mixed {
                black_box(understand(black_box(raw), &config.understanding()));
            }
        })
    });
    group.throughput(Throughput::Elements(typical.len() as u64));
    group.bench_function("typical 20 KB notifications", |b| {
        b.iter(|| {
            for raw in &typical {
                black_box(understand(black_box(raw), &config.understanding()));
            }
        })
    });
    group.finish();
}

/// The slowest single corpus file (read in place from ../shared/corpora when present).
fn corpus_slowest(_: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora");
    let mut stack = vec![root.clone()];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "eml" || e == "msg") {
                files.push(path);
            }
        }
    }
    if files.is_empty() {
        println!("corpus: ../shared/corpora absent, skipped");
        return;
    }
    let config = Config::defaults();
    let mut slowest = (std::time::Duration::ZERO, String::new());
    for file in &files {
        let Ok(raw) = std::fs::read(file) else { continue };
        let started = std::time::Instant::now();
        black_box(understand(&raw, &config.understanding()));
        let took = started.elapsed();
        if took > slowest.0 {
            slowest = (took, file.strip_prefix(&root).unwrap_or(file).display().to_string());
        }
    }
    println!("corpus: {} files, slowest {:.3} s ({})", files.len(), slowest.0.as_secs_f64(), slowest.1);
}

criterion_group!(benches, pipeline, corpus_slowest);
criterion_main!(benches);
