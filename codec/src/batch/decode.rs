//! Turning one whole batch back into records: validation, decompression, record parsing.
//!
//! Owns: `decode`, `DecodeLimits` and the record parser. Must not panic or allocate without
//! bound on any input: every length is checked against the bytes present, offsets and
//! timestamps use checked arithmetic, and decompression stops at `decompressed_bytes_max`.

use bytes::Bytes;

use super::cursor::Cursor;
use super::header::{HEADER_LEN, validate};
use super::record::{DecodedRecord, Header};
use super::{BatchError, BatchHeader, Compression, RecordError, TimestampType};
use crate::compression;

/// Default bound on a decompressed records section. Kafka's default `message.max.bytes` is
/// about 1 MiB of compressed batch; 64 MiB leaves room for any sane compression ratio while
/// keeping a decompression bomb from taking the process's memory.
pub const DECOMPRESSED_BYTES_MAX_DEFAULT: usize = 64 * 1024 * 1024;

/// Smallest encoded record: length, attributes, two deltas, null key, null value and zero
/// headers, one byte each. Bounds how many records a section can claim to hold.
const RECORD_BYTES_MIN: usize = 7;
/// Smallest encoded header: an empty key's length and a null value's length.
const HEADER_BYTES_MIN: usize = 2;

/// Limits that keep decoding untrusted batches cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest decompressed records section accepted, in bytes.
    pub decompressed_bytes_max: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            decompressed_bytes_max: DECOMPRESSED_BYTES_MAX_DEFAULT,
        }
    }
}

/// Validates one whole batch (as `validate` does), decompresses it and parses every record.
///
/// The record count must match the header, each record's length prefix must match its body,
/// and no bytes may follow the last record. Under LogAppendTime every record carries the
/// batch's `maxTimestamp`, as Kafka's Java client reports it.
pub fn decode(
    batch: &[u8],
    limits: &DecodeLimits,
) -> Result<(BatchHeader, Vec<DecodedRecord>), BatchError> {
    let header = validate(batch)?;
    let section = batch.get(HEADER_LEN..).unwrap_or_default();
    let records = decode_records(&header, section, limits)?;
    Ok((header, records))
}

fn decode_records(
    header: &BatchHeader,
    section: &[u8],
    limits: &DecodeLimits,
) -> Result<Vec<DecodedRecord>, BatchError> {
    let count = usize::try_from(header.records_count)
        .map_err(|_| BatchError::InvalidHeader("negative record count"))?;
    // Compaction can leave a batch with no records and no records section at all.
    if count == 0 && section.is_empty() {
        return Ok(Vec::new());
    }
    let data = section_bytes(header.compression()?, section, limits)?;
    let context = RecordContext::new(header);
    let mut cursor = Cursor::new(&data);
    let mut records = Vec::with_capacity(count.min(data.len() / RECORD_BYTES_MIN));
    for index in 0..count {
        let record = read_record(&mut cursor, &context)
            .map_err(|error| BatchError::InvalidRecord { index, error })?;
        records.push(record);
    }
    match cursor.remaining() {
        0 => Ok(records),
        left => Err(BatchError::TrailingBytes(left)),
    }
}

/// The records section as one shared buffer that keys and values are views into.
fn section_bytes(
    compression: Compression,
    section: &[u8],
    limits: &DecodeLimits,
) -> Result<Bytes, BatchError> {
    match compression {
        // Already bounded by the batch's own length.
        Compression::None => Ok(Bytes::copy_from_slice(section)),
        codec => Ok(compression::decompress(codec, section, limits.decompressed_bytes_max)?.into()),
    }
}

/// What every record of a batch needs from its header.
struct RecordContext {
    base_offset: i64,
    last_offset_delta: i32,
    base_timestamp: i64,
    log_append_time: Option<i64>,
}

impl RecordContext {
    fn new(header: &BatchHeader) -> Self {
        let log_append_time = match header.timestamp_type() {
            TimestampType::LogAppendTime => Some(header.max_timestamp),
            TimestampType::CreateTime => None,
        };
        RecordContext {
            base_offset: header.base_offset,
            last_offset_delta: header.last_offset_delta,
            base_timestamp: header.base_timestamp,
            log_append_time,
        }
    }

    fn offset(&self, delta: i32) -> Result<i64, RecordError> {
        // Compaction leaves gaps, so deltas need not be 0..n, but they stay inside the batch.
        if !(0..=self.last_offset_delta).contains(&delta) {
            return Err(RecordError::OffsetDelta(delta));
        }
        self.base_offset
            .checked_add(i64::from(delta))
            .ok_or(RecordError::OffsetOverflow)
    }

    fn timestamp(&self, delta: i64) -> Result<i64, RecordError> {
        match self.log_append_time {
            Some(timestamp) => Ok(timestamp),
            None => self
                .base_timestamp
                .checked_add(delta)
                .ok_or(RecordError::TimestampOverflow),
        }
    }
}

fn read_record(
    cursor: &mut Cursor<'_>,
    context: &RecordContext,
) -> Result<DecodedRecord, RecordError> {
    let declared = cursor.length()?;
    let mut body = cursor.split(declared)?;
    let _attributes = body.i8()?;
    let timestamp_delta = body.varlong()?;
    let offset_delta = body.varint()?;
    let key = body.nullable_bytes()?;
    let value = body.nullable_bytes()?;
    let headers = read_headers(&mut body)?;
    if body.remaining() != 0 {
        return Err(RecordError::LengthMismatch {
            declared,
            unread: body.remaining(),
        });
    }
    Ok(DecodedRecord {
        offset: context.offset(offset_delta)?,
        timestamp: context.timestamp(timestamp_delta)?,
        key,
        value,
        headers,
    })
}

fn read_headers(body: &mut Cursor<'_>) -> Result<Vec<Header>, RecordError> {
    let count = body.length()?;
    let mut headers = Vec::with_capacity(count.min(body.remaining() / HEADER_BYTES_MIN));
    for _ in 0..count {
        let key_len = body.length()?;
        let key = std::str::from_utf8(&body.bytes(key_len)?)
            .map_err(|_| RecordError::HeaderKeyNotUtf8)?
            .to_owned();
        let value = body.nullable_bytes()?;
        headers.push(Header { key, value });
    }
    Ok(headers)
}
