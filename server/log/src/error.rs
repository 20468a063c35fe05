//! Errors of the partition log, with the context a caller needs to act on them.

use std::path::PathBuf;

use weir_codec::batch::BatchError;

/// Why a log operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A setting is outside its bounds.
    #[error("invalid log config {name}: {reason}")]
    InvalidConfig {
        /// Setting name.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The batch handed to `append` is not a valid RecordBatch v2.
    #[error("invalid batch: {0}")]
    InvalidBatch(#[from] BatchError),
    /// The batch is larger than `batch_bytes_max`.
    #[error("batch of {size} bytes exceeds batch_bytes_max {max}")]
    BatchTooLarge {
        /// Batch size.
        size: usize,
        /// Configured limit.
        max: u32,
    },
    /// The requested offset is outside `[log_start_offset, log_end_offset]`.
    #[error("offset {offset} is out of range [{start}, {end}]")]
    OffsetOutOfRange {
        /// Requested offset.
        offset: i64,
        /// Log start offset.
        start: i64,
        /// Log end offset.
        end: i64,
    },
    /// An earlier fsync failed; the log accepts no more writes (fsync is never retried, since
    /// the kernel may have dropped the dirty pages it could not write).
    #[error("log at {dir} is poisoned by an earlier failure: {cause}")]
    Poisoned {
        /// Partition directory.
        dir: PathBuf,
        /// What failed first.
        cause: String,
    },
    /// The log was shut down; it accepts no more writes.
    #[error("log is closed")]
    Closed,
    /// The data on disk contradicts itself in a way recovery cannot repair.
    #[error("corrupt log at {path}: {reason}")]
    Corrupt {
        /// File concerned.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An I/O error, with the file it concerned.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// File concerned.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl LogError {
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> LogError {
        let path = path.into();
        move |source| LogError::Io { op, path, source }
    }
}

/// Why `Log::append_replica` refused a batch.
#[derive(Debug, thiserror::Error)]
pub enum ReplicaAppendError {
    /// The batch does not start where the log ends: the replica missed batches before it, or
    /// holds some the leader does not (the caller truncates or fetches from elsewhere).
    #[error("replica batch starts at offset {base_offset} but the log ends at {log_end_offset}")]
    NotAtLogEnd {
        /// The batch's leader-assigned base offset.
        base_offset: i64,
        /// The log end offset it had to equal.
        log_end_offset: i64,
    },
    /// Anything `Log::append` can refuse or fail with.
    #[error(transparent)]
    Log(#[from] LogError),
}
