//! The fixed 61-byte header of a Kafka RecordBatch v2 and the checks that need nothing else.
//!
//! Owns: field offsets, parsing, validation of lengths and CRC-32C, and the in-place rewrite of
//! `baseOffset`. Must not touch the records section beyond checksumming it: the broker validates
//! and stores batches without decoding a single record.

use super::{BatchError, Compression};

/// Bytes before `batchLength`'s coverage starts: `baseOffset` (8) + `batchLength` (4).
pub const LOG_OVERHEAD: usize = 12;
/// Size of the v2 batch header, up to and including the records count.
pub const HEADER_LEN: usize = 61;
/// The only magic value Weir reads or writes.
pub const MAGIC_V2: i8 = 2;
/// Smallest legal `batchLength`: the header after `LOG_OVERHEAD`, zero records.
pub const BATCH_LENGTH_MIN: usize = HEADER_LEN - LOG_OVERHEAD;

// Byte offsets of the header fields (Kafka's DefaultRecordBatch).
const BASE_OFFSET: usize = 0;
const BATCH_LENGTH: usize = 8;
const PARTITION_LEADER_EPOCH: usize = 12;
const MAGIC: usize = 16;
const CRC: usize = 17;
/// The CRC covers everything from `attributes` to the end of the batch.
pub(crate) const ATTRIBUTES: usize = 21;
const LAST_OFFSET_DELTA: usize = 23;
const BASE_TIMESTAMP: usize = 27;
const MAX_TIMESTAMP: usize = 35;
const PRODUCER_ID: usize = 43;
const PRODUCER_EPOCH: usize = 51;
const BASE_SEQUENCE: usize = 53;
const RECORDS_COUNT: usize = 57;

/// Attribute bits (Kafka's DefaultRecordBatch).
pub(crate) const ATTR_COMPRESSION_MASK: i16 = 0x07;
pub(crate) const ATTR_TIMESTAMP_TYPE: i16 = 0x08;
pub(crate) const ATTR_TRANSACTIONAL: i16 = 0x10;
pub(crate) const ATTR_CONTROL: i16 = 0x20;

/// How the timestamps of a batch were set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampType {
    /// Set by the producer.
    CreateTime,
    /// Set by the broker on append.
    LogAppendTime,
}

/// The parsed header of one RecordBatch v2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    /// Offset of the first record; assigned by the log on append.
    pub base_offset: i64,
    /// Bytes after the `batchLength` field; the whole batch is `LOG_OVERHEAD + batch_length`.
    pub batch_length: i32,
    /// Leader epoch of the partition when the batch was appended (replication).
    pub partition_leader_epoch: i32,
    /// Always 2.
    pub magic: i8,
    /// CRC-32C of `attributes..end`.
    pub crc: u32,
    /// Compression, timestamp type, transactional and control bits.
    pub attributes: i16,
    /// `last offset - base offset`.
    pub last_offset_delta: i32,
    /// Timestamp of the first record.
    pub base_timestamp: i64,
    /// Largest record timestamp in the batch.
    pub max_timestamp: i64,
    /// Idempotent producer id, or -1.
    pub producer_id: i64,
    /// Idempotent producer epoch, or -1.
    pub producer_epoch: i16,
    /// Sequence number of the first record, or -1.
    pub base_sequence: i32,
    /// Number of records that follow the header.
    pub records_count: i32,
}

impl BatchHeader {
    /// Parses the 61 header bytes. Checks the magic byte and that `batchLength` is at least a
    /// header; does not look at the records or the CRC.
    pub fn parse(bytes: &[u8]) -> Result<Self, BatchError> {
        if bytes.len() < HEADER_LEN {
            return Err(BatchError::Truncated {
                needed: HEADER_LEN,
                available: bytes.len(),
            });
        }
        let header = BatchHeader {
            base_offset: i64_at(bytes, BASE_OFFSET),
            batch_length: i32_at(bytes, BATCH_LENGTH),
            partition_leader_epoch: i32_at(bytes, PARTITION_LEADER_EPOCH),
            magic: bytes[MAGIC] as i8,
            crc: u32::from_be_bytes(array_at(bytes, CRC)),
            attributes: i16::from_be_bytes(array_at(bytes, ATTRIBUTES)),
            last_offset_delta: i32_at(bytes, LAST_OFFSET_DELTA),
            base_timestamp: i64_at(bytes, BASE_TIMESTAMP),
            max_timestamp: i64_at(bytes, MAX_TIMESTAMP),
            producer_id: i64_at(bytes, PRODUCER_ID),
            producer_epoch: i16::from_be_bytes(array_at(bytes, PRODUCER_EPOCH)),
            base_sequence: i32_at(bytes, BASE_SEQUENCE),
            records_count: i32_at(bytes, RECORDS_COUNT),
        };
        if header.magic != MAGIC_V2 {
            return Err(BatchError::UnsupportedMagic(header.magic));
        }
        if header.batch_length < BATCH_LENGTH_MIN as i32 {
            return Err(BatchError::InvalidLength(header.batch_length));
        }
        if header.last_offset_delta < 0 || header.records_count < 0 {
            return Err(BatchError::InvalidHeader(
                "negative last offset delta or record count",
            ));
        }
        Ok(header)
    }

    /// Size of the whole batch in bytes, `LOG_OVERHEAD + batch_length`.
    pub fn total_len(&self) -> usize {
        LOG_OVERHEAD + self.batch_length as usize
    }

    /// Offset of the last record in the batch (saturating: a damaged header must not panic).
    pub fn last_offset(&self) -> i64 {
        self.base_offset
            .saturating_add(i64::from(self.last_offset_delta))
    }

    /// Offset after the last record: where the next batch starts (saturating).
    pub fn next_offset(&self) -> i64 {
        self.last_offset().saturating_add(1)
    }

    /// The compression codec named in the attributes.
    pub fn compression(&self) -> Result<Compression, BatchError> {
        Compression::from_attributes(self.attributes)
    }

    /// CreateTime or LogAppendTime.
    pub fn timestamp_type(&self) -> TimestampType {
        if self.attributes & ATTR_TIMESTAMP_TYPE != 0 {
            TimestampType::LogAppendTime
        } else {
            TimestampType::CreateTime
        }
    }

    /// Whether the batch belongs to a transaction.
    pub fn is_transactional(&self) -> bool {
        self.attributes & ATTR_TRANSACTIONAL != 0
    }

    /// Whether the batch carries control records (transaction markers).
    pub fn is_control(&self) -> bool {
        self.attributes & ATTR_CONTROL != 0
    }
}

/// Checks one whole batch without decoding its records: header fields, that `bytes` holds
/// exactly `LOG_OVERHEAD + batchLength` bytes, the compression codec, and the CRC-32C.
pub fn validate(bytes: &[u8]) -> Result<BatchHeader, BatchError> {
    let header = BatchHeader::parse(bytes)?;
    let total = header.total_len();
    if bytes.len() != total {
        return Err(BatchError::LengthMismatch {
            declared: total,
            actual: bytes.len(),
        });
    }
    header.compression()?;
    let computed = crc32c::crc32c(&bytes[ATTRIBUTES..]);
    if computed != header.crc {
        return Err(BatchError::CrcMismatch {
            stored: header.crc,
            computed,
        });
    }
    Ok(header)
}

/// Rewrites `baseOffset` in place. The CRC does not cover it, so the batch stays valid.
///
/// Panics if `bytes` is shorter than the offset field; callers pass a validated batch.
pub fn set_base_offset(bytes: &mut [u8], base_offset: i64) {
    bytes[BASE_OFFSET..BASE_OFFSET + 8].copy_from_slice(&base_offset.to_be_bytes());
}

/// Rewrites `partitionLeaderEpoch` in place (not covered by the CRC either).
///
/// Panics if `bytes` is shorter than the header; callers pass a validated batch.
pub fn set_partition_leader_epoch(bytes: &mut [u8], epoch: i32) {
    bytes[PARTITION_LEADER_EPOCH..PARTITION_LEADER_EPOCH + 4].copy_from_slice(&epoch.to_be_bytes());
}

/// Stamps an idempotent producer's id, epoch and base sequence into a whole batch and
/// recomputes its CRC (which covers these fields), so a batch encoded without them can be
/// sent idempotently.
///
/// Panics if `bytes` is shorter than the header; callers pass a validated batch.
pub fn set_producer(bytes: &mut [u8], producer_id: i64, epoch: i16, base_sequence: i32) {
    bytes[PRODUCER_ID..PRODUCER_ID + 8].copy_from_slice(&producer_id.to_be_bytes());
    bytes[PRODUCER_EPOCH..PRODUCER_EPOCH + 2].copy_from_slice(&epoch.to_be_bytes());
    bytes[BASE_SEQUENCE..BASE_SEQUENCE + 4].copy_from_slice(&base_sequence.to_be_bytes());
    let crc = crc32c::crc32c(&bytes[ATTRIBUTES..]);
    bytes[CRC..CRC + 4].copy_from_slice(&crc.to_be_bytes());
}

/// Reads `baseOffset` and `batchLength` from the first `LOG_OVERHEAD` bytes, for walking a run
/// of batches. Returns the whole batch length.
pub fn peek_total_len(bytes: &[u8]) -> Result<usize, BatchError> {
    if bytes.len() < LOG_OVERHEAD {
        return Err(BatchError::Truncated {
            needed: LOG_OVERHEAD,
            available: bytes.len(),
        });
    }
    let batch_length = i32_at(bytes, BATCH_LENGTH);
    if batch_length < BATCH_LENGTH_MIN as i32 {
        return Err(BatchError::InvalidLength(batch_length));
    }
    Ok(LOG_OVERHEAD + batch_length as usize)
}

fn array_at<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[at..at + N]);
    out
}

fn i32_at(bytes: &[u8], at: usize) -> i32 {
    i32::from_be_bytes(array_at(bytes, at))
}

fn i64_at(bytes: &[u8], at: usize) -> i64 {
    i64::from_be_bytes(array_at(bytes, at))
}

/// Writes a header into `out[..HEADER_LEN]`, leaving the CRC as zero; `finish_crc` fills it.
pub(crate) fn write(out: &mut [u8], h: &BatchHeader) {
    out[BASE_OFFSET..BASE_OFFSET + 8].copy_from_slice(&h.base_offset.to_be_bytes());
    out[BATCH_LENGTH..BATCH_LENGTH + 4].copy_from_slice(&h.batch_length.to_be_bytes());
    out[PARTITION_LEADER_EPOCH..PARTITION_LEADER_EPOCH + 4]
        .copy_from_slice(&h.partition_leader_epoch.to_be_bytes());
    out[MAGIC] = h.magic as u8;
    out[CRC..CRC + 4].copy_from_slice(&0u32.to_be_bytes());
    out[ATTRIBUTES..ATTRIBUTES + 2].copy_from_slice(&h.attributes.to_be_bytes());
    out[LAST_OFFSET_DELTA..LAST_OFFSET_DELTA + 4]
        .copy_from_slice(&h.last_offset_delta.to_be_bytes());
    out[BASE_TIMESTAMP..BASE_TIMESTAMP + 8].copy_from_slice(&h.base_timestamp.to_be_bytes());
    out[MAX_TIMESTAMP..MAX_TIMESTAMP + 8].copy_from_slice(&h.max_timestamp.to_be_bytes());
    out[PRODUCER_ID..PRODUCER_ID + 8].copy_from_slice(&h.producer_id.to_be_bytes());
    out[PRODUCER_EPOCH..PRODUCER_EPOCH + 2].copy_from_slice(&h.producer_epoch.to_be_bytes());
    out[BASE_SEQUENCE..BASE_SEQUENCE + 4].copy_from_slice(&h.base_sequence.to_be_bytes());
    out[RECORDS_COUNT..RECORDS_COUNT + 4].copy_from_slice(&h.records_count.to_be_bytes());
}

/// Computes the CRC-32C over `attributes..end` of a complete batch and stores it.
pub(crate) fn finish_crc(batch: &mut [u8]) {
    let crc = crc32c::crc32c(&batch[ATTRIBUTES..]);
    batch[CRC..CRC + 4].copy_from_slice(&crc.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::super::{BatchOptions, Record, encode};
    use super::*;

    #[test]
    fn stamping_a_producer_equals_encoding_with_it() {
        let records: Vec<Record> = (0..3)
            .map(|i| Record {
                value: Some(format!("v{i}").into_bytes().into()),
                timestamp: 1_700_000_000_000 + i,
                ..Record::default()
            })
            .collect();
        let mut plain = encode(&records, &BatchOptions::default()).unwrap();
        let stamped = BatchOptions {
            producer_id: 42,
            producer_epoch: 3,
            base_sequence: 17,
            ..BatchOptions::default()
        };
        set_producer(&mut plain, 42, 3, 17);
        assert_eq!(plain, encode(&records, &stamped).unwrap());
        let header = validate(&plain).unwrap();
        assert_eq!(
            (
                header.producer_id,
                header.producer_epoch,
                header.base_sequence
            ),
            (42, 3, 17)
        );
    }
}
