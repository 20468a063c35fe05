//! Sequential read by offset from the page cache: a consumer catching up from the log start.
//!
//! The log holds 256 MiB of 1 KiB records in 256 KiB batches, flushed (clean pages) and warm.
//! One iteration reads it all: `log.read(offset, 1 MiB)` + `slice.read_into(&mut buf)` into
//! one reused buffer, advancing by `next_offset()`. The floor is a plain `read_exact_at` of the
//! same segment file in 1 MiB chunks into one reused buffer. Both copy from the page cache
//! (≈13 GB/s here), so any cost the log adds per read shows: `read_into` zero-fills the bytes
//! before reading over them, and a log read returns whole batches only, so it moves ≈0.8 MB per
//! call (three 264 KiB batches) where the plain read moves 1 MiB. `log_without_zero_fill`
//! reads each slice into a reused, initialized buffer with `ReadSlice::read_exact_into`, to
//! show the first of these apart. Target: log ≥ 85% of the plain read's bytes/s.
//!
//! Both buffers receive data at a page boundary (see `common::page_aligned_buf`): the plain
//! read into a fresh 1 MiB `Vec` would run at ≈2.5 GB/s and measure the allocator. The log's
//! reads start at batch boundaries, anywhere in a page, so ≈1 in 128 of them pays that price
//! whatever the buffer.

mod common;

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use weir_log::{Log, LogConfig};

const LOG_BYTES: usize = 256 << 20;
const READ_BYTES_MAX: usize = 1 << 20;
const BATCH_RECORDS: usize = 256;

/// Reads the whole log from its start into `buf` after its first `pad` bytes; returns the
/// bytes read.
fn read_log(log: &Log, buf: &mut Vec<u8>, pad: usize) -> usize {
    let mut total = 0;
    let mut offset = log.log_start_offset();
    while offset < log.log_end_offset() {
        let slice = log.read(offset, READ_BYTES_MAX).expect("read");
        buf.truncate(pad);
        slice.read_into(buf).expect("read bytes");
        total += buf.len() - pad;
        offset = slice.next_offset();
    }
    total
}

/// Like `read_log`, but with `ReadSlice::read_exact_into` into `buf`, which is already
/// initialized: what `read_into` costs beyond that is its zero-fill.
fn read_log_in_place(log: &Log, buf: &mut [u8]) -> usize {
    let mut total = 0;
    let mut offset = log.log_start_offset();
    while offset < log.log_end_offset() {
        let slice = log.read(offset, READ_BYTES_MAX).expect("read");
        slice.read_exact_into(buf).expect("read bytes");
        total += slice.len();
        offset = slice.next_offset();
    }
    total
}

/// Reads every file whole in chunks of `buf.len()`; returns the bytes read.
fn read_files(files: &[(File, u64)], buf: &mut [u8]) -> usize {
    let mut total = 0;
    for (file, size) in files {
        let mut pos = 0;
        while pos < *size {
            let n = buf.len().min((size - pos) as usize);
            file.read_exact_at(&mut buf[..n], pos).expect("read file");
            pos += n as u64;
            total += n;
        }
    }
    total
}

/// The log's segment files, oldest first, with their sizes.
fn segment_files(dir: &std::path::Path) -> Vec<(File, u64)> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("list log dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let file = File::open(p).expect("open segment");
            let size = file.metadata().expect("stat segment").len();
            (file, size)
        })
        .collect()
}

fn read(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut log = Log::open(dir.path(), LogConfig::default()).expect("open log");
    let batch = common::batch(BATCH_RECORDS, common::FIRST_TIMESTAMP_MS);
    for _ in 0..LOG_BYTES / batch.len() {
        log.append(&batch).expect("append");
    }
    log.flush().expect("flush");
    let files = segment_files(dir.path());
    let (mut log_buf, pad) = common::page_aligned_buf(READ_BYTES_MAX);
    let (mut plain_buf, plain_pad) = common::page_aligned_buf(READ_BYTES_MAX);
    plain_buf.resize(plain_pad + READ_BYTES_MAX, 0);
    let plain_buf = &mut plain_buf[plain_pad..];
    // Both sides see the same bytes; this pass also warms the cache.
    let log_buf_at = log_buf.as_ptr();
    let total = read_log(&log, &mut log_buf, pad);
    assert_eq!(log_buf.as_ptr(), log_buf_at, "the log's buffer never moves");
    assert_eq!(total, read_files(&files, plain_buf));
    assert_eq!(total, read_log_in_place(&log, plain_buf));
    assert_eq!(total as u64, log.size_bytes());

    let mut group = c.benchmark_group("read_sequential");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Bytes(total as u64));
    group.bench_function("log", |b| b.iter(|| read_log(&log, &mut log_buf, pad)));
    group.bench_function("log_without_zero_fill", |b| {
        b.iter(|| read_log_in_place(&log, plain_buf))
    });
    group.bench_function("read_exact_at", |b| {
        b.iter(|| read_files(&files, plain_buf))
    });
    group.finish();
}

criterion_group!(benches, read);
criterion_main!(benches);
