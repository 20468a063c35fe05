//! Shared by the weir-log benches: the batches they append, how they name batch sizes, and
//! page-aligned read buffers.
//! Not a product API; holds no timing logic (each bench owns what it measures).
#![allow(dead_code)]

use bytes::Bytes;
use weir_codec::batch::{BatchOptions, Record, encode};

/// Value size of every bench record.
pub const VALUE_BYTES: usize = 1024;
/// Timestamp of the first record of a log (November 2023), in ms since the Unix epoch.
pub const FIRST_TIMESTAMP_MS: i64 = 1_700_000_000_000;

/// One uncompressed batch of `records` records with 1 KiB values and no keys, timestamped
/// `first_ts, first_ts + 1, ...`, as a producer sends it (base offset 0).
pub fn batch(records: usize, first_ts: i64) -> Vec<u8> {
    let value = Bytes::from(vec![b'v'; VALUE_BYTES]);
    let records: Vec<Record> = (0..records)
        .map(|i| Record {
            value: Some(value.clone()),
            timestamp: first_ts + i as i64,
            ..Record::default()
        })
        .collect();
    encode(&records, &BatchOptions::default()).expect("bench batch encodes")
}

/// Page size of the machines the figures come from.
pub const PAGE_BYTES: usize = 4096;

/// A buffer holding `pad` filler bytes, so that whatever is appended next starts on a page
/// boundary, with room for `capacity` more bytes without moving. Returns it and `pad`.
///
/// Copies from the page cache to user space run ≈5× slower here (≈2.5 vs ≈13 GB/s) when the
/// destination's offset in its page is 1 to 31 bytes above the source's (4K aliasing), and a
/// fresh large `Vec` starts 16 bytes into a page (glibc's mmap chunk header): reads at
/// page-aligned file positions into it are all slow. A page-aligned destination is slow only
/// for sources in the last 32 bytes of a page.
pub fn page_aligned_buf(capacity: usize) -> (Vec<u8>, usize) {
    let mut buf: Vec<u8> = Vec::with_capacity(capacity + PAGE_BYTES);
    let pad = buf.as_ptr().align_offset(PAGE_BYTES);
    buf.resize(pad, 0);
    (buf, pad)
}

/// `16KiB`, `1MiB`: the nominal size of a batch of `records` 1 KiB records.
pub fn size_label(records: usize) -> String {
    let kib = records * VALUE_BYTES / 1024;
    if kib >= 1024 && kib.is_multiple_of(1024) {
        format!("{}MiB", kib / 1024)
    } else {
        format!("{kib}KiB")
    }
}
