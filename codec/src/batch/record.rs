//! Records as callers see them, and how one record is laid out inside a records section.
//!
//! Owns: `Record`, `Header`, `DecodedRecord` and writing records (length prefix, attributes,
//! timestamp and offset deltas, key, value, headers) exactly as Kafka's `DefaultRecord` does.
//! Must not compress, checksum or write the batch header, and must not allocate per record:
//! everything is appended to the caller's buffer.

use bytes::Bytes;

use super::varint::{varint_len, varlong_len, write_varint, write_varlong};
use super::{BatchError, RecordError};

/// One record header: a UTF-8 key and an optional value. Keys may repeat, as in Kafka.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Header {
    /// Header name.
    pub key: String,
    /// Header value; `None` is Kafka's null, distinct from empty.
    pub value: Option<Bytes>,
}

/// A record to encode. Its offset is its position in the batch; the log assigns the base.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    /// Record key; `None` is Kafka's null key.
    pub key: Option<Bytes>,
    /// Record value; `None` is a tombstone.
    pub value: Option<Bytes>,
    /// Record headers, in order.
    pub headers: Vec<Header>,
    /// Milliseconds since the Unix epoch (CreateTime).
    pub timestamp: i64,
}

/// A record read back from a batch, with its absolute offset and timestamp.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DecodedRecord {
    /// `baseOffset + offsetDelta`.
    pub offset: i64,
    /// `baseTimestamp + timestampDelta`, or the batch's `maxTimestamp` under LogAppendTime.
    pub timestamp: i64,
    /// Record key; `None` is Kafka's null key.
    pub key: Option<Bytes>,
    /// Record value; `None` is a tombstone.
    pub value: Option<Bytes>,
    /// Record headers, in order.
    pub headers: Vec<Header>,
}

/// Appends the records section (uncompressed) for `records`, record `i` at offset delta `i`.
pub(crate) fn write_records(
    records: &[Record],
    base_timestamp: i64,
    out: &mut Vec<u8>,
) -> Result<(), BatchError> {
    for (index, record) in records.iter().enumerate() {
        write_record(record, index, base_timestamp, out)
            .map_err(|error| BatchError::InvalidRecord { index, error })?;
    }
    Ok(())
}

/// A rough size of the records section, to reserve buffer space once per batch.
pub(crate) fn records_len_hint(records: &[Record]) -> usize {
    records
        .iter()
        .map(|r| {
            let headers: usize = r
                .headers
                .iter()
                .map(|h| h.key.len() + opt_len(&h.value) + 4)
                .sum();
            16 + opt_len(&r.key) + opt_len(&r.value) + headers
        })
        .sum()
}

fn opt_len(bytes: &Option<Bytes>) -> usize {
    bytes.as_ref().map_or(0, Bytes::len)
}

fn write_record(
    record: &Record,
    index: usize,
    base_timestamp: i64,
    out: &mut Vec<u8>,
) -> Result<(), RecordError> {
    let timestamp_delta = record
        .timestamp
        .checked_sub(base_timestamp)
        .ok_or(RecordError::TimestampOverflow)?;
    let offset_delta = field_len("offset delta", index)?;
    write_varint(out, body_len(record, timestamp_delta, offset_delta)?);
    // Record attributes are unused in v2 and always zero.
    out.push(0);
    write_varlong(out, timestamp_delta);
    write_varint(out, offset_delta);
    write_nullable(out, "key", record.key.as_deref())?;
    write_nullable(out, "value", record.value.as_deref())?;
    write_varint(out, field_len("header count", record.headers.len())?);
    for header in &record.headers {
        write_varint(out, field_len("header key", header.key.len())?);
        out.extend_from_slice(header.key.as_bytes());
        write_nullable(out, "header value", header.value.as_deref())?;
    }
    Ok(())
}

/// Bytes after the length prefix, which Kafka writes first and checks on read.
fn body_len(record: &Record, timestamp_delta: i64, offset_delta: i32) -> Result<i32, RecordError> {
    let mut len = 1 + varlong_len(timestamp_delta) + varint_len(offset_delta);
    len += nullable_size("key", record.key.as_deref())?;
    len += nullable_size("value", record.value.as_deref())?;
    len += varint_len(field_len("header count", record.headers.len())?);
    for header in &record.headers {
        len += varint_len(field_len("header key", header.key.len())?) + header.key.len();
        len += nullable_size("header value", header.value.as_deref())?;
    }
    field_len("record", len)
}

fn nullable_size(field: &'static str, bytes: Option<&[u8]>) -> Result<usize, RecordError> {
    match bytes {
        None => Ok(varint_len(-1)),
        Some(bytes) => Ok(varint_len(field_len(field, bytes.len())?) + bytes.len()),
    }
}

fn write_nullable(
    out: &mut Vec<u8>,
    field: &'static str,
    bytes: Option<&[u8]>,
) -> Result<(), RecordError> {
    match bytes {
        None => write_varint(out, -1),
        Some(bytes) => {
            write_varint(out, field_len(field, bytes.len())?);
            out.extend_from_slice(bytes);
        }
    }
    Ok(())
}

/// Kafka lengths and counts are `i32`.
fn field_len(field: &'static str, len: usize) -> Result<i32, RecordError> {
    i32::try_from(len).map_err(|_| RecordError::TooLarge { field, len })
}
