//! Append throughput of `Log::append` for 1 KiB records in 16 KiB, 256 KiB and 1 MiB batches,
//! against its floor: a plain sequential `File::write_all` of the same bytes in the same chunks.
//!
//! - `append_page_cache`: `FlushPolicy::Never` vs `write_all`; 64 MiB per fill.
//! - `append_every_append`: `FlushPolicy::EveryAppend` vs `write_all` + `sync_data` per chunk;
//!   32 batches per fill (each costs an fdatasync: ≈155 µs on an idle disk).
//!
//! One iteration is one fill of a NEW file in a fresh temp dir: only the writes are timed;
//! opening the log, creating the file and deleting the dir are not. Writing into new pages pays
//! page allocation and first touch (≈0.6 GB/s buffered on this machine, TOOLCHAIN.md) where an
//! overwrite of cached pages runs ≈12 GB/s, so both sides must start from an empty file or the
//! comparison flatters one of them. Both sides drop their pages unwritten before closing (see
//! `discard_pages`); the log is dropped without `close()` (which would fsync). The batch is
//! encoded once and appended again and again (`append` leaves it unchanged). Reported as
//! records/s and bytes/s; the target is log ≥ 85% of the plain write's bytes/s.
//!
//! What the log adds per batch: a CRC-32C check of the whole batch before writing it (≈20 GB/s
//! here: at ≈3 GB/s of writing that alone costs ≈13%), and two positioned writes instead of
//! one (the assigned 8-byte `baseOffset`, then the producer's bytes after it).

mod common;

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use weir_log::{FlushPolicy, Log, LogConfig};

/// Records per batch: 16 KiB, 256 KiB and 1 MiB of values.
const BATCH_RECORDS: [usize; 3] = [16, 256, 1024];

/// Appends `count` copies of `batch` to a new log in `dir`; returns the time spent appending.
fn fill_log(dir: &Path, batch: &[u8], count: usize, flush: FlushPolicy) -> Duration {
    let config = LogConfig {
        flush,
        ..LogConfig::default()
    };
    let mut log = Log::open(dir, config).expect("open log");
    let start = Instant::now();
    for _ in 0..count {
        log.append(batch).expect("append");
    }
    let elapsed = start.elapsed();
    discard_pages(dir);
    elapsed
}

/// Writes `count` copies of `chunk` to a new file in `dir`, syncing each under `EveryAppend`.
fn fill_file(dir: &Path, chunk: &[u8], count: usize, flush: FlushPolicy) -> Duration {
    let mut file = File::create(dir.join("plain")).expect("create file");
    let start = Instant::now();
    for _ in 0..count {
        file.write_all(chunk).expect("write");
        if flush == FlushPolicy::EveryAppend {
            file.sync_data().expect("sync");
        }
    }
    let elapsed = start.elapsed();
    discard_pages(dir);
    elapsed
}

/// Truncates every file in `dir` to zero bytes, dropping unwritten pages, while the log or file
/// is still open. ext4 starts writeback when a file truncated to zero since it was opened is
/// closed (`auto_da_alloc`), and `Segment::create` truncates its new file: without this the
/// log's fills, and not the plain files, would be written to disk on drop, slowing the next
/// timed fill.
fn discard_pages(dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("list dir") {
        let path = entry.expect("dir entry").path();
        File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(0))
            .expect("truncate");
    }
}

/// Sum of `fill` over `iters` fresh temp dirs; each dir is removed after its fill, untimed.
fn fresh_fills(iters: u64, mut fill: impl FnMut(&Path) -> Duration) -> Duration {
    (0..iters)
        .map(|_| {
            let dir = tempfile::tempdir().expect("temp dir");
            fill(dir.path())
        })
        .sum()
}

/// Batches per fill: 64 MiB into the page cache; 32 when every append waits for an fdatasync,
/// whose latency (≈155 µs idle, milliseconds when other work shares the disk) dominates.
fn batches_per_fill(flush: FlushPolicy, batch_len: usize) -> usize {
    match flush {
        FlushPolicy::EveryAppend => 32,
        _ => (64 << 20) / batch_len,
    }
}

fn append(c: &mut Criterion) {
    let cases = [
        ("append_page_cache", FlushPolicy::Never),
        ("append_every_append", FlushPolicy::EveryAppend),
    ];
    for (name, flush) in cases {
        let mut group = c.benchmark_group(name);
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        for records in BATCH_RECORDS {
            let batch = common::batch(records, common::FIRST_TIMESTAMP_MS);
            let count = batches_per_fill(flush, batch.len());
            group.throughput(Throughput::ElementsAndBytes {
                elements: (count * records) as u64,
                bytes: (count * batch.len()) as u64,
            });
            let size = common::size_label(records);
            group.bench_function(BenchmarkId::new("log", &size), |b| {
                b.iter_custom(|iters| fresh_fills(iters, |dir| fill_log(dir, &batch, count, flush)))
            });
            group.bench_function(BenchmarkId::new("write_all", &size), |b| {
                b.iter_custom(|iters| {
                    fresh_fills(iters, |dir| fill_file(dir, &batch, count, flush))
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, append);
criterion_main!(benches);
