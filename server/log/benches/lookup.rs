//! Random lookups by offset (`log.read(offset, 1)`: find the batch holding an offset) and by
//! timestamp (`offset_for_timestamp`), and how their cost grows with the data kept.
//!
//! Three logs of 1 KiB records in 16 KiB batches (timestamps = first timestamp + offset; one
//! sparse index entry per batch, since a batch exceeds the 4 KiB index interval):
//! - `1seg_256KiB`: one segment of 15 batches (≈250 KB): the per-segment floor;
//! - `1000seg_256KiB`: 1,000 segments of those 15 batches (≈250 MB): same work inside a segment,
//!   1,000× the segments, so the difference is the binary search over segments (~10 steps);
//! - `1seg_256MiB`: the same ≈250 MB in one segment: the difference is the binary search over
//!   a 15,000-entry index.
//!
//! All in the page cache. Per lookup, after the binary searches, the log reads one or two
//! 61-byte headers; a timestamp lookup that lands inside a batch also reads and decodes that
//! 16 KiB batch to pin the record (Kafka's ListOffsets rule), the same on every log. Targets
//! cycle through 4,096 seeded random offsets/timestamps. The big logs may cost more, but at most
//! logarithmically so: 1,000× the data must never mean anything like 1,000× the time. Part of
//! what they add is not the search but memory: their headers and indexes no longer sit in the
//! CPU caches.

mod common;

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use weir_log::{Log, LogConfig, SEGMENT_BYTES_DEFAULT};

const BATCH_RECORDS: usize = 16;
/// Segment size of the many-segment log: 15 batches of 16 KiB fit, the 16th rolls.
const SMALL_SEGMENT_BYTES: u64 = 256 << 10;
const BATCHES_PER_SMALL_SEGMENT: usize = 15;
const TARGETS: usize = 4096;

/// (name, segment_bytes, batches appended)
const LOGS: [(&str, u64, usize); 3] = [
    (
        "1seg_256KiB",
        SEGMENT_BYTES_DEFAULT,
        BATCHES_PER_SMALL_SEGMENT,
    ),
    (
        "1000seg_256KiB",
        SMALL_SEGMENT_BYTES,
        1000 * BATCHES_PER_SMALL_SEGMENT,
    ),
    (
        "1seg_256MiB",
        SEGMENT_BYTES_DEFAULT,
        1000 * BATCHES_PER_SMALL_SEGMENT,
    ),
];

fn build(dir: &std::path::Path, segment_bytes: u64, batches: usize) -> Log {
    let config = LogConfig {
        segment_bytes,
        ..LogConfig::default()
    };
    let mut log = Log::open(dir, config).expect("open log");
    for _ in 0..batches {
        let first_ts = common::FIRST_TIMESTAMP_MS + log.log_end_offset();
        log.append(&common::batch(BATCH_RECORDS, first_ts))
            .expect("append");
    }
    log.flush().expect("flush");
    log
}

/// `n` seeded pseudo-random values in `0..bound` (SplitMix64).
fn random_below(bound: i64, n: usize) -> Vec<i64> {
    let mut state = 0x5EED_u64;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) % bound as u64) as i64
        })
        .collect()
}

fn lookup(c: &mut Criterion) {
    let dirs: Vec<_> = LOGS
        .iter()
        .map(|_| tempfile::tempdir().expect("temp dir"))
        .collect();
    let logs: Vec<(&str, Log)> = LOGS
        .iter()
        .zip(&dirs)
        .map(|(&(name, segment_bytes, batches), dir)| {
            let log = build(dir.path(), segment_bytes, batches);
            let segments = log.segments();
            let entries: usize = segments.iter().map(|s| s.index_entries).sum();
            eprintln!(
                "{name}: {} segments, {} index entries, {} bytes, {} records",
                segments.len(),
                entries,
                log.size_bytes(),
                log.log_end_offset()
            );
            (name, log)
        })
        .collect();
    assert_eq!(logs[1].1.segments().len(), 1000, "the segmented log rolls");

    let mut group = c.benchmark_group("lookup");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (name, log) in &logs {
        let offsets = random_below(log.log_end_offset(), TARGETS);
        let timestamps: Vec<i64> = offsets
            .iter()
            .map(|o| common::FIRST_TIMESTAMP_MS + o)
            .collect();
        for (&offset, &ts) in offsets.iter().zip(&timestamps).take(100) {
            let slice = log.read(offset, 1).expect("read");
            assert!(slice.first_offset() <= offset && offset < slice.next_offset());
            assert_eq!(log.offset_for_timestamp(ts).expect("lookup"), Some(offset));
        }
        let mut i = 0;
        group.bench_function(BenchmarkId::new("offset", name), |b| {
            b.iter(|| {
                i = (i + 1) % TARGETS;
                log.read(offsets[i], 1).expect("read").first_offset()
            })
        });
        group.bench_function(BenchmarkId::new("timestamp", name), |b| {
            b.iter(|| {
                i = (i + 1) % TARGETS;
                let found = log.offset_for_timestamp(timestamps[i]).expect("lookup");
                found.expect("a record that recent exists")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, lookup);
criterion_main!(benches);
