//! Time to open a log, per GiB of data in its active segment: after an unclean stop (the
//! process died: no `close()`), open must read every batch and check its CRC-32C; after a
//! clean `close()` it trusts the sealed indexes and only walks the headers after the last
//! index entry.
//!
//! The log is one 1 GiB segment of 1 KiB records in 256 KiB batches, written once, flushed
//! (so open's own fdatasync finds nothing dirty) and dropped. Each unclean open is dropped
//! again without `close()`, so the next one is unclean too; each clean open is followed by an
//! untimed `close()`. The data is in the page cache throughout: this measures the CPU and
//! copy cost of recovery, not the disk (a cold start after a machine crash also reads 1 GiB
//! from disk). The floor, `read_crc32c`, reads the same file in 1 MiB chunks into a
//! page-aligned buffer (see `common::page_aligned_buf`) and checksums every byte.
//!
//! Throughput is bytes of log per second: seconds per GiB = 1 / GiB/s. Not for `clean_open`,
//! which costs a few fsyncs whatever the size: read its time, not its GiB/s.

mod common;

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use weir_log::{Log, LogConfig};

const SEGMENT_BYTES: u64 = 1 << 30;
const BATCH_RECORDS: usize = 256;
const READ_CHUNK_BYTES: usize = 1 << 20;

fn config() -> LogConfig {
    LogConfig {
        segment_bytes: SEGMENT_BYTES,
        ..LogConfig::default()
    }
}

/// Fills one segment with as many whole batches as fit; flushes and drops it without `close()`.
fn write_unclean(dir: &Path) {
    let mut log = Log::open(dir, config()).expect("open log");
    let batch = common::batch(BATCH_RECORDS, common::FIRST_TIMESTAMP_MS);
    for _ in 0..SEGMENT_BYTES as usize / batch.len() {
        log.append(&batch).expect("append");
    }
    log.flush().expect("flush");
}

fn timed_open(dir: &Path) -> (Duration, Log) {
    let start = Instant::now();
    let log = Log::open(dir, config()).expect("open log");
    (start.elapsed(), log)
}

/// Reads `file` whole in chunks and checksums it: what any full validation must at least do.
fn read_crc32c(file: &File, size: u64, buf: &mut [u8]) -> u32 {
    let mut crc = 0;
    let mut pos = 0;
    while pos < size {
        let n = buf.len().min((size - pos) as usize);
        file.read_exact_at(&mut buf[..n], pos).expect("read");
        crc = crc32c::crc32c_append(crc, &buf[..n]);
        pos += n as u64;
    }
    crc
}

fn recovery(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    write_unclean(dir.path());
    let (_, log) = timed_open(dir.path());
    let report = log.recovery_report();
    assert!(!report.clean && report.segments_validated == 1 && report.truncated.is_none());
    let size = log.size_bytes();
    assert_eq!(log.segments().len(), 1);
    drop(log);

    let mut group = c.benchmark_group("recovery");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Bytes(size));
    group.bench_function("unclean_open", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| timed_open(dir.path()).0).sum())
    });

    let file = File::open(dir.path().join(format!("{:020}.log", 0))).expect("open segment");
    let (mut buf, pad) = common::page_aligned_buf(READ_CHUNK_BYTES);
    buf.resize(pad + READ_CHUNK_BYTES, 0);
    group.bench_function("read_crc32c", |b| {
        b.iter(|| read_crc32c(&file, size, &mut buf[pad..]))
    });

    timed_open(dir.path()).1.close().expect("close");
    group.bench_function("clean_open", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let (elapsed, log) = timed_open(dir.path());
                    assert!(log.recovery_report().clean);
                    log.close().expect("close");
                    elapsed
                })
                .sum()
        })
    });
    group.finish();
}

criterion_group!(benches, recovery);
criterion_main!(benches);
