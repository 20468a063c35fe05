//! Building one RecordBatch v2 from records, as Kafka's producer does.
//!
//! Owns: `BatchOptions`, `encode` and `encode_into`: header fields, the records section,
//! compression and the CRC. Must not allocate per record: records are written into one buffer
//! (the output itself when uncompressed), which is then compressed in one call.

use super::header::{self, ATTR_TIMESTAMP_TYPE, HEADER_LEN, LOG_OVERHEAD, MAGIC_V2};
use super::record::{Record, records_len_hint, write_records};
use super::{BatchError, BatchHeader, Compression, TimestampType};
use crate::compression;

/// Header fields of a batch to encode. `Default` is what a non-idempotent producer sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOptions {
    /// Codec for the records section.
    pub compression: Compression,
    /// Idempotent producer id, or -1.
    pub producer_id: i64,
    /// Idempotent producer epoch, or -1.
    pub producer_epoch: i16,
    /// Sequence number of the first record, or -1.
    pub base_sequence: i32,
    /// Offset of the first record; producers send 0 and the log rewrites it.
    pub base_offset: i64,
    /// Leader epoch; producers send -1 and the log rewrites it.
    pub partition_leader_epoch: i32,
    /// CreateTime for producers; LogAppendTime is set by a broker.
    pub timestamp_type: TimestampType,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            compression: Compression::None,
            producer_id: -1,
            producer_epoch: -1,
            base_sequence: -1,
            base_offset: 0,
            partition_leader_epoch: -1,
            timestamp_type: TimestampType::CreateTime,
        }
    }
}

/// Encodes `records` as one batch: offset deltas `0..n`, `baseTimestamp` the first record's
/// timestamp and `maxTimestamp` the largest, as Kafka's `MemoryRecordsBuilder` writes them.
///
/// Fails on zero records, on fields too large for Kafka's `i32` lengths and on timestamps whose
/// distance from the first does not fit an `i64`.
pub fn encode(records: &[Record], opts: &BatchOptions) -> Result<Vec<u8>, BatchError> {
    let mut out = Vec::new();
    encode_into(records, opts, &mut out)?;
    Ok(out)
}

/// Like `encode`, but appends the batch to `out`, so a caller can reuse one buffer or build a
/// run of batches. On error `out` is left as it was.
pub fn encode_into(
    records: &[Record],
    opts: &BatchOptions,
    out: &mut Vec<u8>,
) -> Result<(), BatchError> {
    let start = out.len();
    let result = write_batch(records, opts, out, start);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

fn write_batch(
    records: &[Record],
    opts: &BatchOptions,
    out: &mut Vec<u8>,
    start: usize,
) -> Result<(), BatchError> {
    let first = records.first().ok_or(BatchError::Empty)?;
    let records_count = batch_int("record count", records.len())?;
    let base_timestamp = first.timestamp;
    let hint = records_len_hint(records);
    out.reserve(HEADER_LEN + hint);
    out.resize(start + HEADER_LEN, 0);
    match opts.compression {
        Compression::None => write_records(records, base_timestamp, out)?,
        codec => {
            let mut section = Vec::with_capacity(hint);
            write_records(records, base_timestamp, &mut section)?;
            compression::compress(codec, &section, out)?;
        }
    }
    let header = BatchHeader {
        base_offset: opts.base_offset,
        batch_length: batch_int("batch", out.len() - start - LOG_OVERHEAD)?,
        partition_leader_epoch: opts.partition_leader_epoch,
        magic: MAGIC_V2,
        crc: 0,
        attributes: attributes(opts),
        last_offset_delta: records_count - 1,
        base_timestamp,
        max_timestamp: records
            .iter()
            .map(|r| r.timestamp)
            .fold(base_timestamp, i64::max),
        producer_id: opts.producer_id,
        producer_epoch: opts.producer_epoch,
        base_sequence: opts.base_sequence,
        records_count,
    };
    let batch = &mut out[start..];
    header::write(&mut batch[..HEADER_LEN], &header);
    header::finish_crc(batch);
    Ok(())
}

fn attributes(opts: &BatchOptions) -> i16 {
    let timestamp_type = match opts.timestamp_type {
        TimestampType::CreateTime => 0,
        TimestampType::LogAppendTime => ATTR_TIMESTAMP_TYPE,
    };
    opts.compression.attribute_bits() | timestamp_type
}

fn batch_int(what: &'static str, len: usize) -> Result<i32, BatchError> {
    i32::try_from(len).map_err(|_| BatchError::TooLarge { what, len })
}
