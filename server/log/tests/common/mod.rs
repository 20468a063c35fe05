//! Shared by the weir-log integration tests: batch building, a manual clock, a seeded RNG and
//! a reader that walks a whole log. Not a product API.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use bytes::Bytes;
use weir_codec::batch::{BatchOptions, Compression, DecodeLimits, Record, batches, decode, encode};
use weir_log::{Clock, Log};

/// A clock the test moves by hand.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start_ms: i64) -> Arc<Self> {
        Arc::new(ManualClock(AtomicI64::new(start_ms)))
    }

    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// SplitMix64: small, seedable, good enough to drive tests. Seeds are printed so a failure can
/// be replayed with `WEIR_TEST_SEED`.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn from_env_or_time(test: &str) -> Self {
        let seed = std::env::var("WEIR_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(42)
            });
        eprintln!("{test}: WEIR_TEST_SEED={seed}");
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo)
    }
}

/// The value stored at `offset` by tests that check content by offset alone.
pub fn value_for(offset: i64, len: usize) -> Vec<u8> {
    let mut v = format!("offset-{offset}-").into_bytes();
    v.resize(len.max(v.len()), b'x');
    v
}

/// A batch whose records, once appended at `base`, carry `value_for(offset, value_len)` and
/// timestamps `ts, ts+1, ...`.
pub fn batch_for(
    base: i64,
    count: usize,
    value_len: usize,
    ts: i64,
    codec: Compression,
) -> Vec<u8> {
    let records: Vec<Record> = (0..count)
        .map(|i| Record {
            key: Some(Bytes::from(format!("k{}", (base + i as i64) % 7))),
            value: Some(Bytes::from(value_for(base + i as i64, value_len))),
            headers: vec![],
            timestamp: ts + i as i64,
        })
        .collect();
    let opts = BatchOptions {
        compression: codec,
        ..BatchOptions::default()
    };
    encode(&records, &opts).expect("test batch encodes")
}

/// Every record in the log from its start, as (offset, timestamp, value), checking each batch.
pub fn read_all(log: &Log) -> Vec<(i64, i64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut offset = log.log_start_offset();
    while offset < log.log_end_offset() {
        let slice = log.read(offset, 64 * 1024).expect("read");
        assert!(!slice.is_empty(), "empty read at {offset} before the end");
        let bytes = slice.to_vec().expect("read bytes");
        for batch in batches(&bytes) {
            let (_, batch_bytes) = batch.expect("every stored batch validates");
            let (_, records) = decode(batch_bytes, &DecodeLimits::default()).expect("decodes");
            for r in records {
                if r.offset >= offset {
                    out.push((
                        r.offset,
                        r.timestamp,
                        r.value.map(|v| v.to_vec()).unwrap_or_default(),
                    ));
                }
            }
        }
        offset = slice.next_offset();
    }
    out
}
