//! The partition log: an ordered run of segments, the last one active.
//!
//! Owns offset assignment, leader epoch stamping and the epoch history, rolling, flushing by
//! policy, retention, truncation, recovery at open and the poisoned state. Must not know what the batches mean beyond their headers (except
//! one decode to pin a timestamp lookup to a record).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use weir_codec::batch::{BatchHeader, DecodeLimits, TimestampType, decode, validate};

use crate::checkpoint::Durability::{Synced, Unsynced};
use crate::checkpoint::{self, CLEAN_SHUTDOWN, RECOVERY_POINT, TMP_SUFFIX};
use crate::epoch::{self, DirSync, EpochEntry, INITIAL_LEADER_EPOCH};
use crate::segment::{self, Recovery, Segment};
use crate::{Clock, FlushPolicy, LogConfig, LogError, ReadSlice, ReplicaAppendError, SystemClock};

/// Where an appended batch landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendInfo {
    /// Offset assigned to the first record.
    pub base_offset: i64,
    /// Offset of the last record.
    pub last_offset: i64,
    /// Largest record timestamp in the batch.
    pub max_timestamp: i64,
}

/// What `Log::open` found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The last close was clean: nothing was re-validated.
    pub clean: bool,
    /// Segments whose every batch was checked.
    pub segments_validated: usize,
    /// Where and why the log was cut short, if it was.
    pub truncated: Option<String>,
}

/// What a retention pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionOutcome {
    /// Whole segments removed.
    pub segments_deleted: usize,
    /// Their bytes.
    pub bytes_deleted: u64,
}

/// One segment, as shown to operators and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentInfo {
    /// First offset of the segment (its file name).
    pub base_offset: i64,
    /// Offset after its last batch.
    pub next_offset: i64,
    /// File size in bytes.
    pub size_bytes: u64,
    /// Largest batch timestamp, `i64::MIN` when empty.
    pub max_timestamp: i64,
    /// Entries in its offset index.
    pub index_entries: usize,
}

/// A partition log. Appends take `&mut self`; reads take `&self` and return byte ranges that
/// are read without holding the log.
#[derive(Debug)]
pub struct Log {
    dir: PathBuf,
    config: LogConfig,
    clock: Arc<dyn Clock>,
    /// Sorted by base offset, never empty; the last one takes appends.
    segments: Vec<Segment>,
    /// `running_max[i]` = largest timestamp in `segments[..=i]`: binary search by timestamp.
    running_max: Vec<i64>,
    flushed_offset: i64,
    unflushed_records: u64,
    last_flush_ms: i64,
    poisoned: Option<String>,
    closed: bool,
    recovery: RecoveryReport,
    /// Leader epochs and where each began, as in `leader-epoch-checkpoint`; never empty, the
    /// last one is the current epoch that `append` stamps.
    epochs: Vec<EpochEntry>,
}

impl Log {
    /// Opens (or creates) the log in `dir` with the system clock.
    pub fn open(dir: impl Into<PathBuf>, config: LogConfig) -> Result<Log, LogError> {
        Self::open_with_clock(dir, config, Arc::new(SystemClock))
    }

    /// Opens (or creates) the log in `dir`, recovering from an unclean stop: batches after the
    /// last recovery point are checked and the log is cut at the first torn or corrupt one;
    /// missing or damaged indexes are rebuilt.
    pub fn open_with_clock(
        dir: impl Into<PathBuf>,
        config: LogConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Log, LogError> {
        config.validate()?;
        let dir = dir.into();
        crate::private::create_dir_all(&dir).map_err(LogError::io("create dir", &dir))?;
        let bases = list_segments(&dir)?;
        let clean = checkpoint::read(&dir, CLEAN_SHUTDOWN)?.is_some();
        // From here on a crash must not be mistaken for a clean stop. The removal is made
        // durable by `settle_after_open`'s directory sync, before anything is written.
        checkpoint::remove(&dir, CLEAN_SHUTDOWN)?;
        let recovery_point = checkpoint::read(&dir, RECOVERY_POINT)?;
        let mut report = RecoveryReport {
            clean,
            ..RecoveryReport::default()
        };
        let mut segments =
            open_segments(&dir, &config, &bases, clean, recovery_point, &mut report)?;
        if segments.is_empty() {
            segments.push(Segment::create(&dir, 0, config.index_interval_bytes)?);
        }
        // Recovery keeps only segments that continue each other, as `append` writes them.
        assert!(
            segments
                .windows(2)
                .all(|w| w[0].next_offset() == w[1].base_offset()),
            "recovery left a gap between segments in {}",
            dir.display()
        );
        let epochs = open_epochs(&dir, &segments)?;
        let now = clock.now_ms();
        let mut log = Log {
            dir,
            config,
            clock,
            segments,
            running_max: Vec::new(),
            flushed_offset: 0,
            unflushed_records: 0,
            last_flush_ms: now,
            poisoned: None,
            closed: false,
            recovery: report,
            epochs,
        };
        log.settle_after_open(recovery_point)?;
        Ok(log)
    }

    /// Seals recovered segments, syncs the active one and moves the recovery point to it, so
    /// that everything found at open counts as flushed. Its directory sync also makes a leader
    /// epoch checkpoint created by `open_epochs` durable.
    fn settle_after_open(&mut self, recovery_point: Option<i64>) -> Result<(), LogError> {
        let last = self.segments.len() - 1;
        for seg in &mut self.segments[..last] {
            if !seg.is_sealed() {
                seg.seal(Synced)?;
            }
        }
        let active = &mut self.segments[last];
        active.remove_index_files()?;
        active
            .sync()
            .map_err(LogError::io("fsync segment", &self.dir))?;
        checkpoint::sync_dir(&self.dir)?;
        if recovery_point != Some(active.base_offset()) {
            checkpoint::write(&self.dir, RECOVERY_POINT, active.base_offset(), Synced)?;
        }
        self.flushed_offset = self.log_end_offset();
        self.recompute_running_max();
        Ok(())
    }

    /// The partition directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The settings in force.
    pub fn config(&self) -> &LogConfig {
        &self.config
    }

    /// What the last open found.
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.recovery
    }

    /// First offset still in the log.
    pub fn log_start_offset(&self) -> i64 {
        self.segments[0].base_offset()
    }

    /// Offset the next appended record will get.
    pub fn log_end_offset(&self) -> i64 {
        self.active().next_offset()
    }

    /// Every offset below this is on disk (fsynced).
    pub fn flushed_offset(&self) -> i64 {
        self.flushed_offset
    }

    /// Bytes in all segment files.
    pub fn size_bytes(&self) -> u64 {
        self.segments.iter().map(Segment::size).sum()
    }

    /// The segments, oldest first.
    pub fn segments(&self) -> Vec<SegmentInfo> {
        self.segments
            .iter()
            .map(|s| SegmentInfo {
                base_offset: s.base_offset(),
                next_offset: s.next_offset(),
                size_bytes: s.size(),
                max_timestamp: s.max_timestamp(),
                index_entries: s.index_entries(),
            })
            .collect()
    }

    /// Whether an earlier failure stopped writes, and why.
    pub fn poisoned(&self) -> Option<&str> {
        self.poisoned.as_deref()
    }

    /// The current leader epoch: `append` stamps it on every batch.
    pub fn leader_epoch(&self) -> i32 {
        self.epochs.last().expect("a log always has an epoch").epoch
    }

    /// Every leader epoch the log knows of, oldest first, with the offset it began at.
    pub fn leader_epochs(&self) -> &[EpochEntry] {
        &self.epochs
    }

    /// Makes `epoch` the current leader epoch from the log end offset on, recording it durably
    /// in `leader-epoch-checkpoint` before returning (the cluster calls this when this node
    /// becomes leader; a single node only ever runs epoch 0, which every log starts in).
    /// Returns false, changing nothing, when `epoch` is not above the current one.
    pub fn begin_epoch(&mut self, epoch: i32) -> Result<bool, LogError> {
        if epoch <= self.leader_epoch() {
            return Ok(false);
        }
        self.check_writable()?;
        let start_offset = self.log_end_offset();
        self.record_epoch(EpochEntry {
            epoch,
            start_offset,
        })?;
        Ok(true)
    }

    /// Appends `entry` to the epoch history and replaces the checkpoint; the history in
    /// memory changes only once the file did.
    fn record_epoch(&mut self, entry: EpochEntry) -> Result<(), LogError> {
        assert!(
            epoch::may_follow(&self.epochs, entry) && entry.start_offset >= self.log_end_offset(),
            "epoch {entry:?} cannot follow {:?} at log end {}",
            self.epochs.last(),
            self.log_end_offset()
        );
        let mut epochs = self.epochs.clone();
        epochs.push(entry);
        let written = epoch::write(&self.dir, &epochs, DirSync::Now);
        self.poison(written)?;
        self.epochs = epochs;
        Ok(())
    }

    fn active(&self) -> &Segment {
        self.segments.last().expect("a log always has a segment")
    }

    fn active_mut(&mut self) -> &mut Segment {
        self.segments
            .last_mut()
            .expect("a log always has a segment")
    }

    fn check_writable(&self) -> Result<(), LogError> {
        if self.closed {
            return Err(LogError::Closed);
        }
        match &self.poisoned {
            Some(cause) => Err(LogError::Poisoned {
                dir: self.dir.clone(),
                cause: cause.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Records a failure after which the state on disk is unknown; later writes are refused.
    fn poison<T>(&mut self, result: Result<T, LogError>) -> Result<T, LogError> {
        if let Err(e) = &result {
            self.poisoned.get_or_insert_with(|| e.to_string());
        }
        result
    }

    /// Appends one batch: checks its size, header and CRC, assigns its offsets and stamps the
    /// current leader epoch (the stored copy gets the new `baseOffset` and
    /// `partitionLeaderEpoch`, which the CRC does not cover; `batch` itself is not changed nor
    /// copied), writes it, and flushes if the policy says so.
    pub fn append(&mut self, batch: &[u8]) -> Result<AppendInfo, LogError> {
        let header = self.check_append(batch)?;
        let header = BatchHeader {
            base_offset: self.log_end_offset(),
            partition_leader_epoch: self.leader_epoch(),
            ..header
        };
        self.append_with(batch, header)
    }

    /// Appends a batch a leader already appended, as it came: its base offset (which must be
    /// this log's end offset) and its leader epoch are kept. A batch of a newer epoch than
    /// the log knows makes that epoch current from the batch on (recorded durably before the
    /// batch is written). Otherwise checked and written like `append`.
    pub fn append_replica(&mut self, batch: &[u8]) -> Result<AppendInfo, ReplicaAppendError> {
        let header = self.check_append(batch)?;
        let log_end_offset = self.log_end_offset();
        if header.base_offset != log_end_offset {
            return Err(ReplicaAppendError::NotAtLogEnd {
                base_offset: header.base_offset,
                log_end_offset,
            });
        }
        let epoch = header.partition_leader_epoch;
        if epoch > self.leader_epoch() {
            self.record_epoch(EpochEntry {
                epoch,
                start_offset: log_end_offset,
            })?;
        }
        let info = self.append_with(batch, header)?;
        debug_assert_eq!(
            info.base_offset, header.base_offset,
            "a replica keeps its offsets"
        );
        Ok(info)
    }

    /// The checks every appended batch passes: the log is writable, the batch fits
    /// `batch_bytes_max`, its header and CRC verify, and its records are numbered 0..count.
    fn check_append(&self, batch: &[u8]) -> Result<BatchHeader, LogError> {
        self.check_writable()?;
        if crate::len_u64(batch.len()) > u64::from(self.config.batch_bytes_max) {
            return Err(LogError::BatchTooLarge {
                size: batch.len(),
                max: self.config.batch_bytes_max,
            });
        }
        let header = validate(batch)?;
        if header.records_count < 1 || header.last_offset_delta != header.records_count - 1 {
            return Err(weir_codec::batch::BatchError::InvalidHeader(
                "a produced batch needs records numbered 0..count",
            )
            .into());
        }
        Ok(header)
    }

    /// Writes a checked batch at the log end with `header`'s base offset and leader epoch.
    fn append_with(&mut self, batch: &[u8], header: BatchHeader) -> Result<AppendInfo, LogError> {
        let now = self.clock.now_ms();
        self.maybe_roll(batch.len(), &header, now)?;
        let leo_before = self.log_end_offset();
        assert!(
            header.base_offset == leo_before,
            "batch at {} appended at log end {leo_before}",
            header.base_offset
        );
        if let Err(e) = self.active_mut().append(batch, &header, now) {
            let cut = self.active().discard_tail();
            self.poison(cut)?;
            return Err(e);
        }
        assert!(
            self.log_end_offset() == header.next_offset(),
            "log end {} after a batch ending at {}",
            self.log_end_offset(),
            header.next_offset()
        );
        let last = self.running_max.len() - 1;
        let before = if last == 0 {
            i64::MIN
        } else {
            self.running_max[last - 1]
        };
        self.running_max[last] = before.max(self.active().max_timestamp());
        // `check_append` made sure records_count >= 1.
        self.unflushed_records += u64::from(header.records_count.unsigned_abs());
        if self.flush_due(now) {
            self.flush()?;
        } else {
            let threshold = self.config.writeback_bytes;
            self.active_mut().start_writeback(threshold);
        }
        Ok(AppendInfo {
            base_offset: header.base_offset,
            last_offset: header.last_offset(),
            max_timestamp: header.max_timestamp,
        })
    }

    fn flush_due(&self, now: i64) -> bool {
        match self.config.flush {
            FlushPolicy::Never => false,
            FlushPolicy::EveryAppend => true,
            FlushPolicy::EveryRecords(n) => self.unflushed_records >= n,
            FlushPolicy::EveryMs(ms) => {
                self.unflushed_records > 0 && now.saturating_sub(self.last_flush_ms) >= ms_i64(ms)
            }
        }
    }

    fn maybe_roll(&mut self, len: usize, header: &BatchHeader, now: i64) -> Result<(), LogError> {
        let active = self.active();
        if active.is_empty() {
            return Ok(());
        }
        let full = active.size() + crate::len_u64(len) > self.config.segment_bytes;
        let old = active
            .first_append_ms()
            .is_some_and(|t| now.saturating_sub(t) >= ms_i64(self.config.segment_ms));
        let last_offset = active.next_offset() + i64::from(header.last_offset_delta);
        let offsets_exhausted = !segment::holds(active.base_offset(), last_offset);
        if full || old || offsets_exhausted {
            self.roll()?;
        }
        Ok(())
    }

    /// Seals the active segment and starts a new one at the log end offset. Does nothing when
    /// the active segment is empty.
    pub fn roll(&mut self) -> Result<(), LogError> {
        self.check_writable()?;
        if self.active().is_empty() {
            return Ok(());
        }
        let sealed = self.active_mut().seal(Synced);
        self.poison(sealed)?;
        let base = self.log_end_offset();
        let created = Segment::create(&self.dir, base, self.config.index_interval_bytes);
        let segment = self.poison(created)?;
        self.segments.push(segment);
        self.running_max
            .push(*self.running_max.last().unwrap_or(&i64::MIN));
        let durable = checkpoint::sync_dir(&self.dir)
            .and_then(|()| checkpoint::write(&self.dir, RECOVERY_POINT, base, Synced));
        self.poison(durable)?;
        self.flushed_offset = base;
        self.unflushed_records = 0;
        Ok(())
    }

    /// fdatasyncs the active segment. Returns the flushed offset. A failure poisons the log:
    /// the kernel may have dropped the pages it could not write, so a retry could lie.
    pub fn flush(&mut self) -> Result<i64, LogError> {
        self.check_writable()?;
        let end = self.log_end_offset();
        if self.flushed_offset == end {
            return Ok(end);
        }
        let synced = self
            .active()
            .sync()
            .map_err(LogError::io("fsync segment", &self.dir));
        self.poison(synced)?;
        self.flushed_offset = end;
        self.unflushed_records = 0;
        self.last_flush_ms = self.clock.now_ms();
        Ok(end)
    }

    /// Flushes when the `EveryMs` policy says it is time; a caller runs this on a timer.
    pub fn flush_if_due(&mut self) -> Result<(), LogError> {
        if self.flush_due(self.clock.now_ms()) {
            self.flush()?;
        }
        Ok(())
    }

    /// Whole batches starting with the one that holds `offset`, up to `max_bytes` (at least one
    /// batch, so a reader always progresses). Reading at the log end gives an empty slice.
    pub fn read(&self, offset: i64, max_bytes: usize) -> Result<ReadSlice, LogError> {
        self.read_up_to(offset, max_bytes, self.log_end_offset())
    }

    /// `read`, leaving out every batch that reaches `end_offset` (a partition's high
    /// watermark: readers see nothing at or past it). `offset` must still lie within the
    /// log; at or past `end_offset` the slice is empty.
    pub fn read_up_to(
        &self,
        offset: i64,
        max_bytes: usize,
        end_offset: i64,
    ) -> Result<ReadSlice, LogError> {
        self.check_range(offset)?;
        if offset < end_offset {
            let first = self.segment_index_for(offset);
            for seg in &self.segments[first..] {
                if seg.base_offset() >= end_offset {
                    break;
                }
                let slice = seg.slice(offset.max(seg.base_offset()), max_bytes, end_offset)?;
                if !slice.is_empty() {
                    return Ok(slice);
                }
            }
        }
        Ok(self.active().empty_slice())
    }

    /// Calls `f` with the header of every stored batch, oldest first (for state rebuilt from
    /// the log at open, such as producer sequences). Costs one 61-byte positioned read per
    /// batch; reads no records.
    pub fn for_each_batch_header(&self, mut f: impl FnMut(&BatchHeader)) -> Result<(), LogError> {
        for segment in &self.segments {
            segment.for_each_header(&mut f)?;
        }
        Ok(())
    }

    fn check_range(&self, offset: i64) -> Result<(), LogError> {
        let (start, end) = (self.log_start_offset(), self.log_end_offset());
        if offset < start || offset > end {
            return Err(LogError::OffsetOutOfRange { offset, start, end });
        }
        Ok(())
    }

    fn segment_index_for(&self, offset: i64) -> usize {
        self.segments
            .partition_point(|s| s.base_offset() <= offset)
            .saturating_sub(1)
    }

    /// The offset of the first record, in the first batch whose largest timestamp is at or
    /// after `timestamp`, whose own timestamp is at or after it (Kafka's ListOffsets rule).
    /// `None` when no record is that recent.
    pub fn offset_for_timestamp(&self, timestamp: i64) -> Result<Option<i64>, LogError> {
        let first = self.running_max.partition_point(|&m| m < timestamp);
        for seg in &self.segments[first.min(self.segments.len())..] {
            if let Some((pos, header)) = seg.find_timestamp(timestamp)? {
                return self
                    .record_at_or_after(seg, pos, &header, timestamp)
                    .map(Some);
            }
        }
        Ok(None)
    }

    fn record_at_or_after(
        &self,
        seg: &Segment,
        pos: u64,
        header: &BatchHeader,
        timestamp: i64,
    ) -> Result<i64, LogError> {
        if header.timestamp_type() == TimestampType::LogAppendTime
            || header.base_timestamp >= timestamp
        {
            return Ok(header.base_offset);
        }
        let bytes = seg.read_batch(pos, header)?;
        let (_, records) =
            decode(&bytes, &DecodeLimits::default()).map_err(|e| LogError::Corrupt {
                path: self.dir.clone(),
                reason: format!("batch at offset {}: {e}", header.base_offset),
            })?;
        Ok(records
            .iter()
            .find(|r| r.timestamp >= timestamp)
            .map_or(header.base_offset, |r| r.offset))
    }

    /// Deletes whole sealed segments, oldest first, while the oldest is past `retention_ms` or
    /// the log stays at or above `retention_bytes` without it. Moves the log start offset.
    pub fn apply_retention(&mut self) -> Result<RetentionOutcome, LogError> {
        self.apply_retention_up_to(self.log_end_offset())
    }

    /// `apply_retention`, deleting only segments whose records all lie below `limit` (a
    /// partition's high watermark: the log start never passes what readers may see).
    pub fn apply_retention_up_to(&mut self, limit: i64) -> Result<RetentionOutcome, LogError> {
        let now = self.clock.now_ms();
        let mut outcome = RetentionOutcome::default();
        let mut total = self.size_bytes();
        while self.segments.len() > 1 && self.segments[1].base_offset() <= limit {
            let oldest = &self.segments[0];
            let expired = self
                .config
                .retention_ms
                .is_some_and(|ms| oldest.max_timestamp() < now.saturating_sub(ms_i64(ms)));
            let oversize = self
                .config
                .retention_bytes
                .is_some_and(|max| total - oldest.size() >= max);
            if !(expired || oversize) {
                break;
            }
            let seg = self.segments.remove(0);
            total -= seg.size();
            outcome.segments_deleted += 1;
            outcome.bytes_deleted += seg.size();
            seg.delete()?;
        }
        if outcome.segments_deleted > 0 {
            self.recompute_running_max();
            assert!(
                self.log_start_offset() <= limit.min(self.log_end_offset()),
                "retention up to {limit} moved the log start to {}, log end {}",
                self.log_start_offset(),
                self.log_end_offset()
            );
        }
        Ok(outcome)
    }

    /// Deletes whole sealed segments whose records all lie below `offset` (for a log whose
    /// older records a snapshot already covers). Never deletes the active segment.
    pub fn delete_before(&mut self, offset: i64) -> Result<RetentionOutcome, LogError> {
        let mut outcome = RetentionOutcome::default();
        while self.segments.len() > 1 && self.segments[1].base_offset() <= offset {
            let seg = self.segments.remove(0);
            outcome.segments_deleted += 1;
            outcome.bytes_deleted += seg.size();
            seg.delete()?;
        }
        if outcome.segments_deleted > 0 {
            self.recompute_running_max();
        }
        Ok(outcome)
    }

    /// Removes every record at or after `offset`, cutting at the start of the batch that holds
    /// it (replication truncates divergent suffixes), and the leader epochs that began after
    /// the new end (the first one is kept, starting at the new end at the latest, so the log
    /// always has a current epoch). Returns the new log end offset.
    pub fn truncate(&mut self, offset: i64) -> Result<i64, LogError> {
        self.check_writable()?;
        self.check_range(offset)?;
        let (start, end_before) = (self.log_start_offset(), self.log_end_offset());
        if offset == end_before {
            return Ok(offset);
        }
        assert!(
            start <= offset && offset < end_before && self.flushed_offset <= end_before,
            "truncate to {offset} of [{start}, {end_before}] flushed to {}",
            self.flushed_offset
        );
        while self.segments.len() > 1 && self.active().base_offset() >= offset {
            let seg = self.segments.pop().expect("more than one segment");
            seg.delete()?;
        }
        let active = self.active_mut();
        let end = active.truncate_to(offset)?;
        active.remove_index_files()?;
        let base = active.base_offset();
        let durable = checkpoint::sync_dir(&self.dir)
            .and_then(|()| checkpoint::write(&self.dir, RECOVERY_POINT, base, Synced));
        self.poison(durable)?;
        self.flushed_offset = self.flushed_offset.min(end);
        self.recompute_running_max();
        self.truncate_epochs(end)?;
        // The cut lands on the start of the batch holding `offset`: not past it, not before
        // the log start, which a truncation never moves; the current epoch began by then.
        assert!(
            start <= end && end <= offset && self.log_end_offset() == end,
            "truncate to {offset} of [{start}, {end_before}] ended at {end}, log end {}",
            self.log_end_offset()
        );
        assert_eq!(
            self.log_start_offset(),
            start,
            "a truncation moved the log start"
        );
        assert!(
            self.flushed_offset <= end && self.epochs.last().is_some_and(|e| e.start_offset <= end),
            "after truncating to {end}: flushed to {}, epochs {:?}",
            self.flushed_offset,
            self.epochs.last()
        );
        Ok(end)
    }

    /// Forgets the leader epochs that began after `end`, the new log end offset.
    fn truncate_epochs(&mut self, end: i64) -> Result<(), LogError> {
        let epochs = epochs_up_to(&self.epochs, end);
        if epochs != self.epochs {
            let written = epoch::write(&self.dir, &epochs, DirSync::Now);
            self.poison(written)?;
            self.epochs = epochs;
        }
        Ok(())
    }

    /// Flushes everything, seals the active segment's indexes and writes the clean-shutdown
    /// marker, so the next open trusts the data without re-reading it.
    pub fn close(mut self) -> Result<(), LogError> {
        self.shutdown()
    }

    /// `close` for a log held behind a lock: afterwards reads still work and writes get
    /// `LogError::Closed`. One fsync: the data's. The active segment's index files and the
    /// marker are left to the kernel, after the data is durable: if a crash loses or tears
    /// them, open sees no valid marker or index and checks the data instead, so a node with
    /// thousands of partitions stops in a fraction of the time.
    pub fn shutdown(&mut self) -> Result<(), LogError> {
        self.check_writable()?;
        let end = self.log_end_offset();
        let sealed = self.active_mut().seal(Unsynced);
        self.poison(sealed)?;
        self.closed = true;
        checkpoint::write(&self.dir, CLEAN_SHUTDOWN, end, Unsynced)
    }

    /// Changes the settings; they apply from the next append or retention pass.
    pub fn set_config(&mut self, config: LogConfig) -> Result<(), LogError> {
        config.validate()?;
        self.config = config;
        Ok(())
    }

    fn recompute_running_max(&mut self) {
        let mut max = i64::MIN;
        self.running_max = self
            .segments
            .iter()
            .map(|s| {
                max = max.max(s.max_timestamp());
                max
            })
            .collect();
    }
}

/// A period in milliseconds of the settings (`u64`) as the clock counts (`i64`). Saturates: a
/// period past `i64::MAX` ms (292 million years) never elapses, where a cast would wrap it
/// negative and make it elapse at once (a gRPC caller may set any `u64`).
fn ms_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// The leader epochs of the log in `dir`. A log without a checkpoint (new, or written before
/// leader epochs existed) gets one: `INITIAL_LEADER_EPOCH` from its end offset on, since the
/// batches already there carry whatever their producer put in the field. The new file is
/// synced; `settle_after_open` syncs the directory after it.
/// Epochs that began after the end of the recovered log (its unsynced tail was lost) are
/// forgotten, as `truncate` does.
fn open_epochs(dir: &Path, segments: &[Segment]) -> Result<Vec<EpochEntry>, LogError> {
    let end = segments.last().map_or(0, Segment::next_offset);
    let initial = EpochEntry {
        epoch: INITIAL_LEADER_EPOCH,
        start_offset: end,
    };
    let stored = epoch::read(dir)?;
    let epochs = match &stored {
        Some(stored) if !stored.is_empty() => epochs_up_to(stored, end),
        _ => vec![initial],
    };
    if stored.as_ref() != Some(&epochs) {
        epoch::write(dir, &epochs, DirSync::ByCaller)?;
    }
    Ok(epochs)
}

/// `epochs` without those that began after `end`, keeping at least the first (moved to
/// start at `end` when it began after it), so a log always has a current epoch.
fn epochs_up_to(epochs: &[EpochEntry], end: i64) -> Vec<EpochEntry> {
    let mut kept: Vec<EpochEntry> = epochs
        .iter()
        .copied()
        .filter(|e| e.start_offset <= end)
        .collect();
    if kept.is_empty()
        && let Some(&first) = epochs.first()
    {
        kept.push(EpochEntry {
            start_offset: end,
            ..first
        });
    }
    kept
}

/// Base offsets of the `.log` files in `dir`, sorted; removes leftovers of interrupted writes
/// and index files whose log is gone.
fn list_segments(dir: &Path) -> Result<Vec<i64>, LogError> {
    let mut bases = Vec::new();
    let mut indexes = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(LogError::io("list", dir))?;
    for entry in entries {
        let entry = entry.map_err(LogError::io("list", dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(base) = segment::parse_log_name(&name) {
            bases.push(base);
        } else if name.ends_with(TMP_SUFFIX) {
            std::fs::remove_file(entry.path()).map_err(LogError::io("remove", entry.path()))?;
        } else if let Some(stem) = name
            .strip_suffix(".index")
            .or_else(|| name.strip_suffix(".timeindex"))
        {
            indexes.push((stem.to_owned(), entry.path()));
        }
    }
    bases.sort_unstable();
    for (stem, path) in indexes {
        let owner = stem
            .parse::<i64>()
            .ok()
            .filter(|b| bases.binary_search(b).is_ok());
        if owner.is_none() {
            std::fs::remove_file(&path).map_err(LogError::io("remove", &path))?;
        }
    }
    Ok(bases)
}

/// Opens the segments in order. Segments below the recovery point (or all, after a clean
/// stop) are trusted; the rest are validated. At the first segment cut short or out of
/// sequence, every later segment is deleted: the log must stay gapless.
fn open_segments(
    dir: &Path,
    config: &LogConfig,
    bases: &[i64],
    clean: bool,
    recovery_point: Option<i64>,
    report: &mut RecoveryReport,
) -> Result<Vec<Segment>, LogError> {
    let mut segments: Vec<Segment> = Vec::with_capacity(bases.len());
    let mut rest = bases.iter();
    for &base in rest.by_ref() {
        let trusted = clean || recovery_point.is_some_and(|rp| base < rp);
        let recovery = if trusted {
            Recovery::Trusted
        } else {
            Recovery::Validate
        };
        if let Some(prev) = segments.last()
            && prev.next_offset() != base
        {
            report.truncated = Some(format!(
                "segment {base} does not continue segment {} ending at {}",
                prev.base_offset(),
                prev.next_offset()
            ));
            delete_files_from(dir, base)?;
            break;
        }
        let (seg, cut) = Segment::open(dir, base, config.index_interval_bytes, recovery)?;
        if recovery == Recovery::Validate || cut.is_some() {
            report.segments_validated += 1;
        }
        segments.push(seg);
        if let Some(reason) = cut {
            report.truncated = Some(format!("segment {base}: {reason}"));
            break;
        }
    }
    for &base in rest {
        delete_files_from(dir, base)?;
    }
    Ok(segments)
}

fn delete_files_from(dir: &Path, base: i64) -> Result<(), LogError> {
    let stem = segment::file_stem(base);
    for ext in ["log", "index", "timeindex"] {
        let path = dir.join(format!("{stem}.{ext}"));
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(LogError::io("remove", &path)(e));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use weir_codec::batch::{BatchOptions, Record, encode};

    use super::*;
    use crate::segment::fault::FAIL_SYNC;

    fn batch(ts: i64) -> Vec<u8> {
        let record = Record {
            value: Some(bytes_of("v")),
            timestamp: ts,
            ..Record::default()
        };
        encode(&[record], &BatchOptions::default()).unwrap()
    }

    fn bytes_of(s: &str) -> bytes::Bytes {
        bytes::Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn slices_read_into_any_buffer_without_a_zero_fill() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::open(dir.path(), LogConfig::default()).unwrap();
        for ts in 0..50 {
            log.append(&batch(ts)).unwrap();
        }
        let slice = log.read(10, 1 << 20).unwrap();
        let mut exact = vec![0; slice.len()];
        slice.read_exact_into(&mut exact).unwrap();
        // A buffer that must grow many times on the way (no reservation).
        let mut grown = bytes::BytesMut::new();
        slice.read_to(&mut grown).unwrap();
        assert_eq!(&grown[..], &exact[..]);
        // Appending after what a Vec already holds.
        let mut after = b"head".to_vec();
        slice.read_into(&mut after).unwrap();
        assert_eq!(&after[..4], b"head");
        assert_eq!(&after[4..], &exact[..]);
        // A slice whose bytes are gone (cut away underneath) is an error, not short data.
        let gone = slice.clone();
        std::fs::OpenOptions::new()
            .write(true)
            .open(dir.path().join("00000000000000000000.log"))
            .unwrap()
            .set_len(gone.position() + 10)
            .unwrap();
        let err = gone.read_to(&mut bytes::BytesMut::new()).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn write_back_starts_once_the_threshold_is_reached() {
        let dir = tempfile::tempdir().unwrap();
        let one = batch(1).len() as u64;
        let config = LogConfig {
            writeback_bytes: 3 * one,
            ..LogConfig::default()
        };
        let mut log = Log::open(dir.path(), config).unwrap();
        let started = |log: &Log| log.active().writeback_from();
        log.append(&batch(1)).unwrap();
        log.append(&batch(2)).unwrap();
        assert_eq!(started(&log), 0, "below the threshold nothing is started");
        log.append(&batch(3)).unwrap();
        assert_eq!(started(&log), 3 * one);
        log.append(&batch(4)).unwrap();
        assert_eq!(started(&log), 3 * one);
        log.truncate(1).unwrap();
        assert_eq!(
            started(&log),
            one,
            "a truncation moves the mark back to the end"
        );
        log.append(&batch(5)).unwrap();
        log.append(&batch(6)).unwrap();
        assert_eq!(started(&log), one, "bytes after the cut count from the cut");
        log.append(&batch(7)).unwrap();
        assert_eq!(started(&log), 4 * one);
        let read = log.read(0, 1 << 20).unwrap();
        assert_eq!(read.next_offset(), 4);
    }

    #[test]
    fn failed_fsync_poisons_writes_but_not_reads() {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            flush: FlushPolicy::EveryAppend,
            ..LogConfig::default()
        };
        let mut log = Log::open(dir.path(), config).unwrap();
        log.append(&batch(1)).unwrap();
        FAIL_SYNC.with(|f| f.set(true));
        let err = log.append(&batch(2)).unwrap_err();
        assert!(matches!(err, LogError::Io { .. }), "{err}");
        FAIL_SYNC.with(|f| f.set(false));
        assert_eq!(log.flushed_offset(), 1);
        assert!(log.poisoned().unwrap().contains("injected fsync failure"));
        // Never retried, even though the disk would now succeed.
        assert!(matches!(log.flush(), Err(LogError::Poisoned { .. })));
        assert!(matches!(
            log.append(&batch(3)),
            Err(LogError::Poisoned { .. })
        ));
        assert!(matches!(log.roll(), Err(LogError::Poisoned { .. })));
        assert!(matches!(log.truncate(0), Err(LogError::Poisoned { .. })));
        // The batch whose flush failed was written whole; its producer got the error.
        assert_eq!(log.read(0, 1024).unwrap().next_offset(), 2);
        assert!(log.close().is_err());
        // No clean-shutdown marker: the next open re-validates.
        let log = Log::open(dir.path(), LogConfig::default()).unwrap();
        assert!(!log.recovery_report().clean);
    }

    #[test]
    fn oversized_and_malformed_batches_are_refused_without_writing() {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            batch_bytes_max: 100,
            ..LogConfig::default()
        };
        let mut log = Log::open(dir.path(), config).unwrap();
        let big = encode(
            &[Record {
                value: Some(bytes_of(&"x".repeat(200))),
                ..Record::default()
            }],
            &BatchOptions::default(),
        )
        .unwrap();
        assert!(matches!(
            log.append(&big),
            Err(LogError::BatchTooLarge { .. })
        ));
        let mut bad = batch(1);
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(matches!(log.append(&bad), Err(LogError::InvalidBatch(_))));
        assert_eq!(log.log_end_offset(), 0);
        assert_eq!(log.size_bytes(), 0);
    }

    #[test]
    fn config_bounds_are_enforced() {
        let too_small = LogConfig {
            segment_bytes: 10,
            ..LogConfig::default()
        };
        assert!(matches!(
            too_small.validate(),
            Err(LogError::InvalidConfig {
                name: "segment_bytes",
                ..
            })
        ));
        let never = LogConfig {
            flush: FlushPolicy::EveryRecords(0),
            ..LogConfig::default()
        };
        assert!(never.validate().is_err());
        assert!(LogConfig::default().validate().is_ok());
    }

    #[test]
    fn delete_before_drops_only_covered_sealed_segments() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::open(dir.path(), LogConfig::default()).unwrap();
        for ts in 0..3 {
            log.append(&batch(ts)).unwrap();
            log.roll().unwrap();
        }
        log.append(&batch(9)).unwrap();
        assert_eq!(log.segments().len(), 4);
        assert_eq!(log.delete_before(1).unwrap().segments_deleted, 1);
        assert_eq!(log.log_start_offset(), 1);
        // Offset 2 is in the segment starting at 2: it stays.
        assert_eq!(log.delete_before(2).unwrap().segments_deleted, 1);
        assert_eq!(log.delete_before(100).unwrap().segments_deleted, 1);
        assert_eq!(
            log.segments().len(),
            1,
            "the active segment is never deleted"
        );
        assert_eq!(log.log_start_offset(), 3);
    }

    #[test]
    fn reading_outside_the_log_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::open(dir.path(), LogConfig::default()).unwrap();
        log.append(&batch(1)).unwrap();
        assert!(log.read(1, 10).unwrap().is_empty());
        assert!(matches!(
            log.read(2, 10),
            Err(LogError::OffsetOutOfRange {
                offset: 2,
                start: 0,
                end: 1
            })
        ));
        assert!(matches!(
            log.read(-1, 10),
            Err(LogError::OffsetOutOfRange { .. })
        ));
    }

    #[test]
    fn periods_past_i64_max_never_elapse() {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            segment_ms: u64::MAX,
            retention_ms: Some(u64::MAX),
            flush: FlushPolicy::EveryMs(u64::MAX),
            ..LogConfig::default()
        };
        let mut log = Log::open(dir.path(), config).unwrap();
        log.append(&batch(1)).unwrap();
        log.append(&batch(2)).unwrap();
        assert_eq!(log.segments().len(), 1, "no roll by age");
        assert_eq!(log.flushed_offset(), 0, "no flush by time");
        log.roll().unwrap();
        log.append(&batch(3)).unwrap();
        let outcome = log.apply_retention().unwrap();
        assert_eq!(
            outcome.segments_deleted, 0,
            "records from 1970 have not expired"
        );
    }

    /// A one-record batch whose header claims `count` records (offsets `0..count`), its CRC
    /// made to match: a producer may send one.
    fn claiming(count: i32) -> Vec<u8> {
        let mut b = batch(1);
        b[23..27].copy_from_slice(&(count - 1).to_be_bytes());
        b[57..61].copy_from_slice(&count.to_be_bytes());
        let crc = crc32c::crc32c(&b[21..]);
        b[17..21].copy_from_slice(&crc.to_be_bytes());
        b
    }

    #[test]
    fn a_batch_ending_at_the_last_relative_offset_survives_recovery() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::open(dir.path(), LogConfig::default()).unwrap();
        log.append(&claiming(i32::MAX)).unwrap();
        log.append(&claiming(i32::MAX)).unwrap();
        let last = log.append(&claiming(2)).unwrap().last_offset;
        assert_eq!(
            last,
            i64::from(u32::MAX),
            "the segment's last relative offset"
        );
        assert_eq!(log.segments().len(), 1, "it fits: no roll");
        let end = log.log_end_offset();
        drop(log); // no clean shutdown: the next open validates the active segment
        let mut log = Log::open(dir.path(), LogConfig::default()).unwrap();
        assert_eq!(log.recovery_report().truncated, None);
        assert_eq!(log.log_end_offset(), end);
        log.append(&claiming(1)).unwrap();
        assert_eq!(log.segments().len(), 2, "nothing more fits");
        assert_eq!(log.segments()[1].base_offset, end);
    }
}
