//! Working-day additions per second: one addition is two array reads.

use std::hint::black_box;

use chrono::{Duration, NaiveDate};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use cspr::domain::Calendar;

fn additions(c: &mut Criterion) {
    let calendar = Calendar::england_and_wales();
    let first = NaiveDate::from_ymd_opt(2018, 1, 1).unwrap();
    let starts: Vec<NaiveDate> = (0..4096).map(|i| first + Duration::days(i * 7 % 3650)).collect();
    let counts: Vec<i32> = (0..4096).map(|i| (i * 37 % 121) - 60).collect();
    let mut group = c.benchmark_group("calendar");
    group.throughput(Throughput::Elements(starts.len() as u64));
    group.bench_function("working-day additions", |b| {
        b.iter(|| {
            for (date, n) in starts.iter().zip(&counts) {
                black_box(calendar.add_working_days(black_box(*date), black_box(*n)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, additions);
criterion_main!(benches);
