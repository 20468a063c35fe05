//! One segment: a `.log` file of whole batches named by its base offset, with its sparse
//! `.index` and `.timeindex`.
//!
//! Owns positions inside one file: appending at the end, finding the batch that holds an offset
//! or reaches a timestamp, cutting byte ranges for reads, truncation, sealing. Must not decide
//! when to roll, flush or delete: the log does, across segments.

mod index;
mod scan;

use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use weir_codec::batch::{BatchHeader, HEADER_LEN, LOG_OVERHEAD};

pub(crate) use index::{OffsetIndex, TimeIndex};

/// Fault injection for unit tests: fsync failures cannot be provoked on a healthy disk.
#[cfg(test)]
pub(crate) mod fault {
    thread_local! {
        /// When set, every segment fsync on this thread fails.
        pub(crate) static FAIL_SYNC: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
}
pub(crate) use scan::ScanMode;

use crate::checkpoint::Durability;
use crate::{LogError, ReadSlice, len_u64};

/// The header fields the log writes itself: `baseOffset` (8 bytes), then `batchLength` (4,
/// copied from the batch) and `partitionLeaderEpoch` (4). The CRC covers none of them.
const STAMPED_BYTES: usize = LOG_OVERHEAD + 4;

/// Digits in a segment file name: enough for any non-negative i64.
const NAME_DIGITS: usize = 20;

/// Whether a segment based at `base_offset` may hold a batch ending at `last_offset`: the
/// indexes keep offsets relative to the base as u32. One rule for both sides: the log rolls
/// before a batch that does not fit (`Log::maybe_roll`), recovery cuts at one (`scan`).
pub(crate) fn holds(base_offset: i64, last_offset: i64) -> bool {
    last_offset - base_offset <= i64::from(u32::MAX)
}

/// `00000000000000000042` for base offset 42.
pub(crate) fn file_stem(base_offset: i64) -> String {
    format!("{base_offset:0NAME_DIGITS$}")
}

/// The base offset named by a `.log` file, if the name is one of ours.
pub(crate) fn parse_log_name(name: &str) -> Option<i64> {
    let stem = name.strip_suffix(".log")?;
    if stem.len() != NAME_DIGITS || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

/// Both indexes plus the running state that decides when the next entries are due.
#[derive(Debug, Clone)]
pub(crate) struct Indexes {
    pub(crate) offsets: OffsetIndex,
    pub(crate) times: TimeIndex,
    interval_bytes: u32,
    bytes_since_entry: u64,
    /// Largest batch timestamp seen, `i64::MIN` when empty.
    pub(crate) max_timestamp: i64,
    /// Relative offset of the last batch, for the final time index entry at seal.
    last_batch: Option<u32>,
}

impl Indexes {
    pub(crate) fn new(interval_bytes: u32) -> Self {
        Indexes {
            offsets: OffsetIndex::default(),
            times: TimeIndex::default(),
            interval_bytes,
            bytes_since_entry: 0,
            max_timestamp: i64::MIN,
            last_batch: None,
        }
    }

    /// Accounts for a batch appended at `position`; adds entries once enough bytes went by.
    pub(crate) fn on_batch(&mut self, rel: u32, position: u32, len: usize, max_timestamp: i64) {
        self.max_timestamp = self.max_timestamp.max(max_timestamp);
        if self.bytes_since_entry >= u64::from(self.interval_bytes) {
            self.offsets.push(rel, position);
            self.times.push(self.max_timestamp, rel);
            self.bytes_since_entry = 0;
        }
        self.bytes_since_entry += len_u64(len);
        self.last_batch = Some(rel);
    }

    /// Makes the time index end with the segment's largest timestamp, so a reopened segment
    /// knows it without scanning.
    fn finish_time_index(&mut self) {
        if let Some(rel) = self.last_batch {
            self.times.push(self.max_timestamp, rel);
        }
    }
}

/// How much to trust a segment file found at open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recovery {
    /// Flushed and sealed before the last recovery point (or after a clean shutdown): use
    /// its indexes if they verify, else rebuild them from headers.
    Trusted,
    /// Possibly torn: check every batch's CRC and cut at the first bad one.
    Validate,
}

#[derive(Debug)]
pub(crate) struct Segment {
    base_offset: i64,
    next_offset: i64,
    size: u64,
    file: Arc<File>,
    log_path: PathBuf,
    index_path: PathBuf,
    time_index_path: PathBuf,
    indexes: Indexes,
    /// Wall-clock time of the first append since this process opened it (age rolls).
    first_append_ms: Option<i64>,
    /// Whether the index files on disk describe the data exactly and the data is synced.
    sealed: bool,
    /// End of the bytes whose write-back to disk was already started (`start_writeback`).
    writeback_from: u64,
}

impl Segment {
    /// Creates an empty segment, replacing any leftover file of the same name.
    /// A leftover file is removed rather than truncated: ext4 treats truncate-then-close as a
    /// cue to write the file back at close, which would stall a later roll or shutdown.
    pub(crate) fn create(dir: &Path, base_offset: i64, interval: u32) -> Result<Self, LogError> {
        let log_path = dir.join(format!("{}.log", file_stem(base_offset)));
        match std::fs::remove_file(&log_path) {
            Err(e) if e.kind() != ErrorKind::NotFound => {
                return Err(LogError::io("remove", &log_path)(e));
            }
            _ => {}
        }
        let mut seg = Self::paths(dir, base_offset, interval)?;
        seg.remove_index_files()?;
        Ok(seg)
    }

    /// Opens an existing segment. Returns the segment and, when recovery cut it short, why.
    pub(crate) fn open(
        dir: &Path,
        base_offset: i64,
        interval: u32,
        recovery: Recovery,
    ) -> Result<(Self, Option<String>), LogError> {
        let mut seg = Self::paths(dir, base_offset, interval)?;
        seg.size = seg
            .file
            .metadata()
            .map_err(LogError::io("stat", &seg.log_path))?
            .len();
        if recovery == Recovery::Trusted && seg.load_indexes()? && seg.walk_tail()? {
            seg.sealed = true;
            return Ok((seg, None));
        }
        // Untrusted, or trusted but its indexes are missing or disagree with the data: check
        // every batch.
        let cut = seg.rebuild(ScanMode::ValidateCrc)?;
        Ok((seg, cut))
    }

    fn paths(dir: &Path, base_offset: i64, interval: u32) -> Result<Self, LogError> {
        let stem = file_stem(base_offset);
        let log_path = dir.join(format!("{stem}.log"));
        let file = crate::private::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&log_path)
            .map_err(LogError::io("open segment", &log_path))?;
        Ok(Segment {
            base_offset,
            next_offset: base_offset,
            size: 0,
            file: Arc::new(file),
            index_path: dir.join(format!("{stem}.index")),
            time_index_path: dir.join(format!("{stem}.timeindex")),
            log_path,
            indexes: Indexes::new(interval),
            first_append_ms: None,
            sealed: false,
            writeback_from: 0,
        })
    }

    /// Loads both sealed index files; false when either is missing or does not verify.
    fn load_indexes(&mut self) -> Result<bool, LogError> {
        let (Some(offsets), Some(times)) = (
            OffsetIndex::read_from(&self.index_path)?,
            TimeIndex::read_from(&self.time_index_path)?,
        ) else {
            return Ok(false);
        };
        if !offsets.is_consistent(self.size, u64::from(u32::MAX))
            || !times.is_consistent(u64::from(u32::MAX))
        {
            return Ok(false);
        }
        self.indexes.max_timestamp = times.last_timestamp().unwrap_or(i64::MIN);
        self.indexes.offsets = offsets;
        self.indexes.times = times;
        Ok(true)
    }

    /// With trusted indexes loaded: walks the headers after the last index entry to learn the
    /// next offset and the tail's timestamps. False when the walk finds anything inconsistent.
    fn walk_tail(&mut self) -> Result<bool, LogError> {
        let (rel, position) = self.indexes.offsets.last();
        let mut pos = u64::from(position);
        let mut expected = self.base_offset + i64::from(rel);
        let mut since_entry = 0u64;
        while pos < self.size {
            let Ok(h) = self.header_at(pos) else {
                return Ok(false);
            };
            let len = len_u64(h.total_len());
            if h.base_offset != expected || pos + len > self.size {
                return Ok(false);
            }
            // A relative offset past u32::MAX is no segment Weir wrote: check it all.
            let Ok(rel) = u32::try_from(h.base_offset - self.base_offset) else {
                return Ok(false);
            };
            self.indexes.max_timestamp = self.indexes.max_timestamp.max(h.max_timestamp);
            self.indexes.last_batch = Some(rel);
            since_entry += len;
            pos += len;
            expected = h.next_offset();
        }
        self.indexes.bytes_since_entry = since_entry;
        self.next_offset = expected;
        let relative_end = u64::try_from(expected - self.base_offset).expect(
            "offsets only grow from the base: a header's lastOffsetDelta is never negative",
        );
        Ok(self.indexes.times.is_consistent(relative_end))
    }

    /// Rebuilds the indexes from the file; cuts the file after the last valid batch.
    fn rebuild(&mut self, mode: ScanMode) -> Result<Option<String>, LogError> {
        let interval = self.indexes.interval_bytes;
        let found = scan::scan(
            &self.file,
            &self.log_path,
            self.size,
            self.base_offset,
            interval,
            mode,
        )?;
        // The scan reads every byte or stops at the first bad batch: it never ends past the
        // file, and it ends short exactly when it says why.
        assert!(
            found.end <= self.size && found.stopped.is_some() == (found.end < self.size),
            "scan of {} bytes ended at {} ({:?})",
            self.size,
            found.end,
            found.stopped
        );
        assert!(
            found.next_offset >= self.base_offset,
            "scan of segment {} ended at offset {}",
            self.base_offset,
            found.next_offset
        );
        if found.end < self.size {
            self.set_len(found.end)?;
        }
        self.size = found.end;
        self.next_offset = found.next_offset;
        self.indexes = found.indexes;
        self.remove_index_files()?;
        Ok(found.stopped)
    }

    fn set_len(&self, len: u64) -> Result<(), LogError> {
        self.file
            .set_len(len)
            .map_err(LogError::io("truncate", &self.log_path))?;
        self.file
            .sync_all()
            .map_err(LogError::io("fsync", &self.log_path))
    }

    pub(crate) fn base_offset(&self) -> i64 {
        self.base_offset
    }

    pub(crate) fn next_offset(&self) -> i64 {
        self.next_offset
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Largest batch timestamp, `i64::MIN` when empty.
    pub(crate) fn max_timestamp(&self) -> i64 {
        self.indexes.max_timestamp
    }

    pub(crate) fn first_append_ms(&self) -> Option<i64> {
        self.first_append_ms
    }

    pub(crate) fn index_entries(&self) -> usize {
        self.indexes.offsets.len()
    }

    /// Writes a validated batch at the end of the file, with `header`'s base offset and
    /// partition leader epoch in place of the batch's own. On error the segment's state is
    /// unchanged, but the file may hold part of the batch: the caller cuts it off.
    pub(crate) fn append(
        &mut self,
        batch: &[u8],
        header: &BatchHeader,
        now_ms: i64,
    ) -> Result<(), LogError> {
        debug_assert_eq!(header.base_offset, self.next_offset);
        // The log's own header fields go in a 16-byte prefix written in front of the bytes
        // after the producer's own, so the caller's buffer is never copied or changed (the
        // same two writes as before epochs were stamped). A crash between the two writes
        // leaves a torn batch, which recovery cuts off.
        let mut prefix = [0u8; STAMPED_BYTES];
        prefix[..8].copy_from_slice(&header.base_offset.to_be_bytes());
        prefix[8..LOG_OVERHEAD].copy_from_slice(&batch[8..LOG_OVERHEAD]);
        prefix[LOG_OVERHEAD..].copy_from_slice(&header.partition_leader_epoch.to_be_bytes());
        let write = |bytes: &[u8], at: u64| {
            self.file
                .write_all_at(bytes, at)
                .map_err(LogError::io("write segment", &self.log_path))
        };
        write(&prefix, self.size)?;
        write(&batch[STAMPED_BYTES..], self.size + len_u64(STAMPED_BYTES))?;
        // The log rolls before a batch's last offset would pass u32::MAX past the base
        // (`Log::maybe_roll`), and `segment_bytes` is at most 2 GiB, so both fit in u32.
        let rel = u32::try_from(header.base_offset - self.base_offset)
            .expect("the log rolls before relative offsets pass u32::MAX");
        let position = u32::try_from(self.size).expect("segment_bytes is at most 2 GiB");
        self.indexes
            .on_batch(rel, position, batch.len(), header.max_timestamp);
        self.size += len_u64(batch.len());
        self.next_offset = header.next_offset();
        self.sealed = false;
        self.first_append_ms.get_or_insert(now_ms);
        Ok(())
    }

    /// Once `threshold` bytes were appended since the last write-back began, has the kernel
    /// start writing them to disk, from a background thread (0 = never: the kernel's flusher
    /// decides). Written back in small steady steps, dirty pages never pile up to the
    /// kernel's threshold, where it writes gigabytes at once and holds up appends meanwhile.
    /// Durability is unchanged: that is `sync`'s job. A failure here is only a lost hint.
    pub(crate) fn start_writeback(&mut self, threshold: u64) {
        let pending = self.size.saturating_sub(self.writeback_from);
        if threshold == 0 || pending < threshold {
            return;
        }
        // A dropped hint (queue full: the disk is behind) is not retried; the next one covers
        // its bytes too, and the kernel's flusher writes them anyway.
        if crate::sys::start_writeback_later(&self.file, self.writeback_from, pending) {
            self.writeback_from = self.size;
        }
    }

    /// End of the bytes whose write-back was started.
    #[cfg(test)]
    pub(crate) fn writeback_from(&self) -> u64 {
        self.writeback_from
    }

    /// Cuts a partially written batch off the end after a failed append.
    pub(crate) fn discard_tail(&self) -> Result<(), LogError> {
        self.set_len(self.size)
    }

    /// fdatasync of the log file.
    pub(crate) fn sync(&self) -> std::io::Result<()> {
        #[cfg(test)]
        if fault::FAIL_SYNC.with(std::cell::Cell::get) {
            return Err(std::io::Error::other("injected fsync failure"));
        }
        self.file.sync_data()
    }

    /// Makes the segment durable and immutable on disk: data synced, indexes written (and
    /// synced as `durability` says: a lost or torn index file is rebuilt at open).
    pub(crate) fn seal(&mut self, durability: Durability) -> Result<(), LogError> {
        self.sync()
            .map_err(LogError::io("fsync segment", &self.log_path))?;
        self.indexes.finish_time_index();
        self.indexes
            .offsets
            .write_to(&self.index_path, durability)?;
        self.indexes
            .times
            .write_to(&self.time_index_path, durability)?;
        self.sealed = true;
        Ok(())
    }

    pub(crate) fn is_sealed(&self) -> bool {
        self.sealed
    }

    /// Index files describe a sealed segment; an active one must not leave stale ones behind.
    pub(crate) fn remove_index_files(&mut self) -> Result<(), LogError> {
        self.sealed = false;
        for path in [&self.index_path, &self.time_index_path] {
            match std::fs::remove_file(path) {
                Err(e) if e.kind() != ErrorKind::NotFound => {
                    return Err(LogError::io("remove index", path)(e));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Deletes the segment's files (log first: leftover index files are cleaned at open).
    pub(crate) fn delete(mut self) -> Result<(), LogError> {
        std::fs::remove_file(&self.log_path).map_err(LogError::io("remove", &self.log_path))?;
        self.remove_index_files()
    }

    fn header_at(&self, pos: u64) -> Result<BatchHeader, LogError> {
        let mut buf = [0u8; HEADER_LEN];
        self.file
            .read_exact_at(&mut buf, pos)
            .map_err(LogError::io("read segment", &self.log_path))?;
        BatchHeader::parse(&buf).map_err(|e| LogError::Corrupt {
            path: self.log_path.clone(),
            reason: format!("at byte {pos}: {e}"),
        })
    }

    /// Calls `f` with the header of every batch, in order: one 61-byte read per batch.
    pub(crate) fn for_each_header(&self, f: &mut dyn FnMut(&BatchHeader)) -> Result<(), LogError> {
        let mut pos = 0;
        while pos < self.size {
            let h = self.header_at(pos)?;
            f(&h);
            pos += len_u64(h.total_len());
        }
        Ok(())
    }

    /// The first batch whose records reach `offset`, with its position.
    pub(crate) fn locate(&self, offset: i64) -> Result<Option<(u64, BatchHeader)>, LogError> {
        // Before the base: from the start; past u32::MAX: from the last index entry.
        let rel = u32::try_from((offset - self.base_offset).max(0)).unwrap_or(u32::MAX);
        let mut pos = u64::from(self.indexes.offsets.lookup(rel).1);
        while pos < self.size {
            let h = self.header_at(pos)?;
            if h.next_offset() > offset {
                return Ok(Some((pos, h)));
            }
            pos += len_u64(h.total_len());
        }
        Ok(None)
    }

    /// Whole batches from the one holding `offset`, as many as fit in `max_bytes`, and always
    /// at least one so that a reader makes progress; none that reaches `end_offset` (a batch
    /// holding it or anything after it is left out, even the first).
    pub(crate) fn slice(
        &self,
        offset: i64,
        max_bytes: usize,
        end_offset: i64,
    ) -> Result<ReadSlice, LogError> {
        let Some((start, first)) = self.locate(offset)? else {
            return Ok(self.empty_slice());
        };
        if first.next_offset() > end_offset {
            return Ok(self.empty_slice());
        }
        // The first byte not to read: the start of the batch holding `end_offset`. When it is
        // at or past this segment's end (every read of a single node), there is no lookup.
        let fence = if end_offset >= self.next_offset {
            self.size
        } else {
            self.locate(end_offset)?.map_or(self.size, |(pos, _)| pos)
        };
        let limit = start.saturating_add(len_u64(max_bytes)).min(fence);
        let mut end = start + len_u64(first.total_len());
        let mut next = first.next_offset();
        // Jump over whole batches with the index, then walk the last few headers. Index
        // positions are u32: a limit past them is past every entry.
        let limit32 = u32::try_from(limit).unwrap_or(u32::MAX);
        if let Some((rel, pos)) = self.indexes.offsets.floor_by_position(limit32)
            && u64::from(pos) > end
        {
            end = u64::from(pos);
            next = self.base_offset + i64::from(rel);
        }
        while end < limit {
            let h = self.header_at(end)?;
            let len = len_u64(h.total_len());
            if end + len > limit {
                break;
            }
            end += len;
            next = h.next_offset();
        }
        // At most `max_bytes` past `start`, or the first batch alone: both are usize lengths.
        let len = usize::try_from(end - start).expect("a slice is max_bytes or one batch long");
        Ok(ReadSlice {
            file: Arc::clone(&self.file),
            position: start,
            len,
            first_offset: first.base_offset,
            next_offset: next,
        })
    }

    /// Nothing to read, at the segment's end.
    pub(crate) fn empty_slice(&self) -> ReadSlice {
        ReadSlice {
            file: Arc::clone(&self.file),
            position: self.size,
            len: 0,
            first_offset: self.next_offset,
            next_offset: self.next_offset,
        }
    }

    /// The first batch whose largest timestamp is at or after `timestamp`, with its position.
    pub(crate) fn find_timestamp(
        &self,
        timestamp: i64,
    ) -> Result<Option<(u64, BatchHeader)>, LogError> {
        if self.indexes.max_timestamp < timestamp {
            return Ok(None);
        }
        let from = self.base_offset + i64::from(self.indexes.times.lookup(timestamp));
        let Some((mut pos, _)) = self.locate(from)? else {
            return Ok(None);
        };
        while pos < self.size {
            let h = self.header_at(pos)?;
            if h.max_timestamp >= timestamp {
                return Ok(Some((pos, h)));
            }
            pos += len_u64(h.total_len());
        }
        Ok(None)
    }

    /// Reads the batch at `pos` whole.
    pub(crate) fn read_batch(&self, pos: u64, header: &BatchHeader) -> Result<Vec<u8>, LogError> {
        let mut buf = vec![0u8; header.total_len()];
        self.file
            .read_exact_at(&mut buf, pos)
            .map_err(LogError::io("read segment", &self.log_path))?;
        Ok(buf)
    }

    /// Removes every batch from the one holding `offset` on. Returns the new next offset.
    pub(crate) fn truncate_to(&mut self, offset: i64) -> Result<i64, LogError> {
        let Some((pos, h)) = self.locate(offset)? else {
            return Ok(self.next_offset);
        };
        let (size_before, next_before) = (self.size, self.next_offset);
        assert!(
            pos < size_before && h.next_offset() > offset,
            "cut at byte {pos} of {size_before} for offset {offset}, batch ends at {}",
            h.next_offset()
        );
        self.set_len(pos)?;
        self.size = pos;
        self.writeback_from = self.writeback_from.min(pos);
        self.rebuild(ScanMode::HeadersOnly)?;
        if self.size == 0 {
            self.first_append_ms = None;
        }
        assert!(
            self.size <= pos && self.next_offset <= offset && self.next_offset < next_before,
            "cut for offset {offset} left {} bytes ending at {} (was {size_before}, {next_before})",
            self.size,
            self.next_offset
        );
        debug_assert_eq!(self.next_offset, h.base_offset);
        Ok(self.next_offset)
    }
}
