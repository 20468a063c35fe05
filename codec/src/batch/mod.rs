//! Kafka RecordBatch v2 (magic 2), byte for byte.
//!
//! Owns the batch layout: header parsing and validation (`header`), records (`record`),
//! encoding (`encode`), decoding (`decode`) and walking a run of batches (`run`). Must not
//! allocate per record on the validation path: the broker checks and stores batches without
//! decoding them. Compression codecs live in `crate::compression`.

mod cursor;
mod decode;
mod encode;
mod header;
mod record;
mod run;
mod varint;

pub use decode::{DECOMPRESSED_BYTES_MAX_DEFAULT, DecodeLimits, decode};
pub use encode::{BatchOptions, encode, encode_into};
pub use header::{
    BATCH_LENGTH_MIN, BatchHeader, HEADER_LEN, LOG_OVERHEAD, MAGIC_V2, TimestampType,
    peek_total_len, set_base_offset, set_partition_leader_epoch, set_producer, validate,
};
pub use record::{DecodedRecord, Header, Record};
pub use run::{Batches, batches};

use crate::compression::CodecError;

/// Compression codec of a batch, stored in the low three attribute bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// Records stored as they are.
    #[default]
    None,
    /// gzip (RFC 1952).
    Gzip,
    /// Snappy in Kafka's xerial framing.
    Snappy,
    /// LZ4 frame format.
    Lz4,
    /// Zstandard frame.
    Zstd,
}

impl Compression {
    /// All codecs, for tests and benchmarks that cover each one.
    pub const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    /// Reads the codec from batch attributes.
    pub fn from_attributes(attributes: i16) -> Result<Self, BatchError> {
        match attributes & header::ATTR_COMPRESSION_MASK {
            0 => Ok(Compression::None),
            1 => Ok(Compression::Gzip),
            2 => Ok(Compression::Snappy),
            3 => Ok(Compression::Lz4),
            4 => Ok(Compression::Zstd),
            other => Err(BatchError::UnknownCompression(other as u8)),
        }
    }

    /// The attribute bits for this codec.
    pub fn attribute_bits(self) -> i16 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }

    /// Lowercase name as used in configs and APIs (`none`, `gzip`, `snappy`, `lz4`, `zstd`).
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

impl std::str::FromStr for Compression {
    type Err = BatchError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Compression::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| BatchError::UnknownCompressionName(s.to_owned()))
    }
}

/// Why a batch could not be parsed, validated, encoded or decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BatchError {
    /// Fewer bytes than the structure being read needs.
    #[error("batch truncated: needed {needed} bytes, {available} available")]
    Truncated {
        /// Bytes required.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// Magic byte other than 2.
    #[error("unsupported record batch magic {0}, only 2 is supported")]
    UnsupportedMagic(i8),
    /// `batchLength` smaller than a header.
    #[error("invalid batch length {0}")]
    InvalidLength(i32),
    /// The buffer holds more or fewer bytes than the header declares.
    #[error("batch declares {declared} bytes but {actual} were given")]
    LengthMismatch {
        /// `LOG_OVERHEAD + batchLength`.
        declared: usize,
        /// Bytes given.
        actual: usize,
    },
    /// The stored CRC-32C does not match the bytes.
    #[error("batch crc mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    CrcMismatch {
        /// CRC in the header.
        stored: u32,
        /// CRC of the bytes.
        computed: u32,
    },
    /// Compression bits 5, 6 or 7.
    #[error("unknown compression codec id {0}")]
    UnknownCompression(u8),
    /// A codec name that is not none, gzip, snappy, lz4 or zstd.
    #[error("unknown compression {0:?}, expected none, gzip, snappy, lz4 or zstd")]
    UnknownCompressionName(String),
    /// A header field holds an impossible value.
    #[error("invalid batch header: {0}")]
    InvalidHeader(&'static str),
    /// `encode` was given no records; Kafka batches hold at least one.
    #[error("cannot encode a batch of zero records")]
    Empty,
    /// A batch-wide count or length does not fit Kafka's `i32`.
    #[error("{what} of {len} does not fit in a batch")]
    TooLarge {
        /// What overflowed: `record count` or `batch`.
        what: &'static str,
        /// Its size.
        len: usize,
    },
    /// One record could not be encoded or decoded.
    #[error("record {index}: {error}")]
    InvalidRecord {
        /// Position of the record in the batch.
        index: usize,
        /// What is wrong with it.
        error: RecordError,
    },
    /// Bytes follow the last record the header counts.
    #[error("{0} bytes left after the last record")]
    TrailingBytes(usize),
    /// The records section could not be compressed or decompressed.
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// Why one record inside a records section could not be encoded or decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
pub enum RecordError {
    /// The section ends inside the record.
    #[error("truncated: needed {needed} bytes, {available} available")]
    Truncated {
        /// Bytes required.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// A varint with more continuation bytes than its type allows.
    #[error("varint longer than its maximum size")]
    VarintTooLong,
    /// A negative length or count (only nullable fields may use -1).
    #[error("invalid length {0}")]
    InvalidLength(i32),
    /// The record's length prefix does not end where its fields do.
    #[error("record length {declared} leaves {unread} bytes unread")]
    LengthMismatch {
        /// The length prefix.
        declared: usize,
        /// Bytes of the body no field covered.
        unread: usize,
    },
    /// An offset delta below zero or past the header's `lastOffsetDelta`.
    #[error("offset delta {0} outside the batch")]
    OffsetDelta(i32),
    /// `baseOffset + offsetDelta` overflows an `i64`.
    #[error("offset overflows i64")]
    OffsetOverflow,
    /// A timestamp and the base timestamp are further apart than an `i64` can say.
    #[error("timestamp delta overflows i64")]
    TimestampOverflow,
    /// A header key that is not UTF-8.
    #[error("header key is not utf-8")]
    HeaderKeyNotUtf8,
    /// A field longer than Kafka's `i32` lengths allow.
    #[error("{field} of {len} bytes is too large")]
    TooLarge {
        /// Which field.
        field: &'static str,
        /// Its size.
        len: usize,
    },
}
