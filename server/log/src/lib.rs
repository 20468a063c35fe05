//! weir-log: the segmented partition log.
//!
//! A partition is a directory of segments named by base offset (`00000000000000000000.log`),
//! each with a sparse offset index and time index. The log appends whole Kafka RecordBatch v2
//! batches, assigns their offsets, reads whole batches back as byte ranges, finds offsets by
//! timestamp, rolls segments by size and age, deletes old segments for retention, truncates,
//! flushes by policy and recovers after a crash. Every batch it appends is stamped with the
//! partition's current leader epoch, kept with the offset it began at in
//! `leader-epoch-checkpoint`; replica batches keep the offsets and epoch their leader gave them.
//!
//! Must not know tenants, topic names, JSON, HTTP or gRPC: it sees offsets, batches and bytes.
//! No async runtime on the append and read paths.

mod checkpoint;
mod clock;
mod config;
mod epoch;
mod error;
mod log;
pub mod private;
mod segment;
mod sys;

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

pub use clock::{Clock, SystemClock};
pub use config::{
    BATCH_BYTES_MAX_CEILING, BATCH_BYTES_MAX_DEFAULT, FlushPolicy, INDEX_INTERVAL_BYTES_DEFAULT,
    LogConfig, SEGMENT_BYTES_DEFAULT, SEGMENT_BYTES_MAX, SEGMENT_BYTES_MIN, SEGMENT_MS_DEFAULT,
    WRITEBACK_BYTES_DEFAULT,
};
pub use epoch::{EpochEntry, INITIAL_LEADER_EPOCH};
pub use error::{LogError, ReplicaAppendError};
pub use log::{AppendInfo, Log, RecoveryReport, RetentionOutcome, SegmentInfo};
pub use sys::WRITEBACK_QUEUE_MAX;

/// A length, a count or a position held as `usize`, as the `u64` that file positions and
/// sizes are kept in. Never fails: `usize` is at most 64 bits on every target Weir builds for
/// (and where it is, the conversion compiles to nothing).
pub(crate) fn len_u64(n: usize) -> u64 {
    u64::try_from(n).expect("usize is at most 64 bits")
}

/// Whole batches of one segment file as a byte range, read by the caller outside any lock
/// (`read_into`) or handed to the kernel as is.
#[derive(Debug, Clone)]
pub struct ReadSlice {
    file: Arc<File>,
    position: u64,
    len: usize,
    first_offset: i64,
    next_offset: i64,
}

impl ReadSlice {
    /// The segment file holding the bytes.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Byte position of the first batch in the file.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Number of bytes: whole batches only.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is nothing to read (the reader is at the log end).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Base offset of the first batch; at or before the requested offset.
    pub fn first_offset(&self) -> i64 {
        self.first_offset
    }

    /// Offset after the last batch: where the next read continues.
    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }

    /// Reads the bytes into the start of `dst` (which must hold at least `len()` bytes) with
    /// one positioned read. With a buffer the caller reuses, this is a plain copy from the
    /// page cache; `read_into` also has to zero-fill the bytes it appends.
    pub fn read_exact_into(&self, dst: &mut [u8]) -> std::io::Result<()> {
        let available = dst.len();
        let dst = dst.get_mut(..self.len).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("buffer of {available} bytes for a slice of {}", self.len),
            )
        })?;
        self.file.read_exact_at(dst, self.position)
    }

    /// Appends the bytes to `buf` with one positioned read, growing it once.
    pub fn read_into(&self, buf: &mut Vec<u8>) -> std::io::Result<()> {
        buf.reserve(self.len);
        self.read_to(buf)
    }

    /// Appends the bytes to any growable buffer (a `BytesMut`, an encoder's output) with
    /// positioned reads straight into its spare capacity: no zero-fill, no bounce buffer.
    /// Reserve `len()` first to read with one call.
    pub fn read_to(&self, dst: &mut impl bytes::BufMut) -> std::io::Result<()> {
        sys::read_at_into(&self.file, self.position, self.len, dst)
    }

    /// The bytes in a new buffer.
    pub fn to_vec(&self) -> std::io::Result<Vec<u8>> {
        let mut buf = Vec::with_capacity(self.len);
        self.read_into(&mut buf)?;
        Ok(buf)
    }
}
