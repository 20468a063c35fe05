//! Settings of one partition log, each named with its unit, with a default and enforced bounds.
//!
//! Owns validation of the settings. Must not read files or the clock.

use crate::LogError;

/// Default largest segment file, in bytes (1 GiB).
pub const SEGMENT_BYTES_DEFAULT: u64 = 1 << 30;
/// Smallest segment file accepted, in bytes: below this, rolls dominate the write path.
pub const SEGMENT_BYTES_MIN: u64 = 1024;
/// Largest segment file accepted: index positions are `u32`, and one batch may overshoot.
pub const SEGMENT_BYTES_MAX: u64 = (1 << 31) - 1;
/// Default age after which the active segment rolls, in milliseconds (7 days, as Kafka).
pub const SEGMENT_MS_DEFAULT: u64 = 7 * 24 * 3600 * 1000;
/// Default bytes of log between two sparse index entries.
pub const INDEX_INTERVAL_BYTES_DEFAULT: u32 = 4096;
/// Default largest single batch accepted on append, in bytes (8 MiB).
pub const BATCH_BYTES_MAX_DEFAULT: u32 = 8 << 20;
/// Hard ceiling for `batch_bytes_max`: one batch is read into memory whole during recovery.
pub const BATCH_BYTES_MAX_CEILING: u32 = 256 << 20;

/// Default bytes appended to the active segment between two write-back starts (1 MiB, as
/// RocksDB's `bytes_per_sync` advice): the kernel gets a steady trickle of pages to write
/// rather than gigabytes at its dirty threshold.
pub const WRITEBACK_BYTES_DEFAULT: u64 = 1 << 20;

/// When appended data is forced to disk with fdatasync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushPolicy {
    /// Only on segment roll and on close; the page cache holds the rest.
    Never,
    /// After this many records have been appended since the last flush.
    EveryRecords(u64),
    /// When this many milliseconds have passed since the last flush (checked on append and by
    /// `Log::flush_if_due`, which a caller runs on a timer).
    EveryMs(u64),
    /// After every append: an acknowledged batch is on disk.
    EveryAppend,
}

/// Settings of one partition log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// Roll the active segment before it would grow past this many bytes.
    pub segment_bytes: u64,
    /// Roll the active segment when its first append is this old.
    pub segment_ms: u64,
    /// Add a sparse index entry after at least this many bytes of log.
    pub index_interval_bytes: u32,
    /// Refuse a batch larger than this.
    pub batch_bytes_max: u32,
    /// Delete sealed segments whose newest record is older than this; `None` keeps them.
    pub retention_ms: Option<u64>,
    /// Delete the oldest sealed segments while the log is larger than this; `None` = no limit.
    pub retention_bytes: Option<u64>,
    /// When to fdatasync.
    pub flush: FlushPolicy,
    /// Start (not wait for) the write-back of appended bytes once this many accumulated;
    /// 0 leaves it to the kernel. Changes when data reaches the disk, never what an
    /// acknowledgement promises: that is `flush`.
    pub writeback_bytes: u64,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: SEGMENT_BYTES_DEFAULT,
            segment_ms: SEGMENT_MS_DEFAULT,
            index_interval_bytes: INDEX_INTERVAL_BYTES_DEFAULT,
            batch_bytes_max: BATCH_BYTES_MAX_DEFAULT,
            retention_ms: None,
            retention_bytes: None,
            flush: FlushPolicy::Never,
            writeback_bytes: WRITEBACK_BYTES_DEFAULT,
        }
    }
}

impl LogConfig {
    /// Checks every setting against its bounds.
    pub fn validate(&self) -> Result<(), LogError> {
        let bad =
            |name: &'static str, reason: String| Err(LogError::InvalidConfig { name, reason });
        if !(SEGMENT_BYTES_MIN..=SEGMENT_BYTES_MAX).contains(&self.segment_bytes) {
            return bad(
                "segment_bytes",
                format!(
                    "{} is outside {SEGMENT_BYTES_MIN}..={SEGMENT_BYTES_MAX}",
                    self.segment_bytes
                ),
            );
        }
        if self.segment_ms == 0 {
            return bad("segment_ms", "must be at least 1".into());
        }
        if self.index_interval_bytes == 0 {
            return bad("index_interval_bytes", "must be at least 1".into());
        }
        if u64::from(self.batch_bytes_max) < crate::len_u64(weir_codec::batch::HEADER_LEN)
            || self.batch_bytes_max > BATCH_BYTES_MAX_CEILING
        {
            return bad(
                "batch_bytes_max",
                format!(
                    "{} is outside {}..={BATCH_BYTES_MAX_CEILING}",
                    self.batch_bytes_max,
                    weir_codec::batch::HEADER_LEN
                ),
            );
        }
        match self.flush {
            FlushPolicy::EveryRecords(0) => bad("flush", "every 0 records is meaningless".into()),
            FlushPolicy::EveryMs(0) => bad("flush", "every 0 ms is meaningless".into()),
            _ => Ok(()),
        }
    }
}
