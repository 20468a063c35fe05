//! The two sparse indexes of a segment, held in memory and persisted when the segment is sealed.
//!
//! Owns: the offset index (relative offset → file position of the batch that starts there),
//! the time index (largest timestamp so far → relative offset of the batch that reached it),
//! their lookups, and their file format. Must not read the log file: the segment does that.
//!
//! File format (big endian): fixed-size entries, then a trailer of `crc32c(entries)` and the
//! magic `WIX1`. A file without a valid trailer is treated as missing and rebuilt from the log.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::path::Path;

use crate::LogError;
use crate::checkpoint::Durability;

const TRAILER_MAGIC: &[u8; 4] = b"WIX1";
const TRAILER_LEN: usize = 8;
const OFFSET_ENTRY_LEN: usize = 8;
const TIME_ENTRY_LEN: usize = 12;

/// Relative offset → position of the batch starting there, strictly increasing in both.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct OffsetIndex {
    entries: Vec<(u32, u32)>,
}

impl OffsetIndex {
    pub(crate) fn push(&mut self, relative_offset: u32, position: u32) {
        debug_assert!(
            self.entries
                .last()
                .is_none_or(|&(o, p)| o < relative_offset && p < position)
        );
        self.entries.push((relative_offset, position));
    }

    /// The largest entry at or before `relative_offset`, or the segment start.
    pub(crate) fn lookup(&self, relative_offset: u32) -> (u32, u32) {
        let n = self.entries.partition_point(|&(o, _)| o <= relative_offset);
        if n == 0 { (0, 0) } else { self.entries[n - 1] }
    }

    /// The last entry at or before `position`: a batch boundary.
    pub(crate) fn floor_by_position(&self, position: u32) -> Option<(u32, u32)> {
        let n = self.entries.partition_point(|&(_, p)| p <= position);
        n.checked_sub(1).map(|i| self.entries[i])
    }

    /// The last entry, or the segment start.
    pub(crate) fn last(&self) -> (u32, u32) {
        self.entries.last().copied().unwrap_or((0, 0))
    }

    /// Whether the entries are strictly increasing and inside a segment of `size` bytes holding
    /// relative offsets below `relative_end`.
    pub(crate) fn is_consistent(&self, size: u64, relative_end: u64) -> bool {
        let ordered = self
            .entries
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1);
        ordered
            && self
                .entries
                .last()
                .is_none_or(|&(o, p)| u64::from(p) < size && u64::from(o) < relative_end)
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn write_to(&self, path: &Path, durability: Durability) -> Result<(), LogError> {
        let mut bytes = Vec::with_capacity(self.entries.len() * OFFSET_ENTRY_LEN + TRAILER_LEN);
        for &(o, p) in &self.entries {
            bytes.extend_from_slice(&o.to_be_bytes());
            bytes.extend_from_slice(&p.to_be_bytes());
        }
        write_sealed(path, bytes, durability)
    }

    pub(crate) fn read_from(path: &Path) -> Result<Option<Self>, LogError> {
        let Some(bytes) = read_sealed(path, OFFSET_ENTRY_LEN)? else {
            return Ok(None);
        };
        let entries = bytes
            .chunks_exact(OFFSET_ENTRY_LEN)
            .map(|c| (be_u32(&c[0..4]), be_u32(&c[4..8])))
            .collect();
        Ok(Some(OffsetIndex { entries }))
    }
}

/// Largest timestamp so far in the segment → relative offset of the batch that reached it;
/// strictly increasing timestamps, non-decreasing offsets.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct TimeIndex {
    entries: Vec<(i64, u32)>,
}

impl TimeIndex {
    /// Records that the segment's largest timestamp reached `timestamp` at the batch starting
    /// at `relative_offset`; ignored unless the timestamp grew.
    pub(crate) fn push(&mut self, timestamp: i64, relative_offset: u32) {
        if self
            .entries
            .last()
            .is_none_or(|&(t, o)| timestamp > t && relative_offset >= o)
        {
            self.entries.push((timestamp, relative_offset));
        }
    }

    /// The batch to start scanning from for the first batch with a timestamp at or after
    /// `timestamp`: every batch before the returned relative offset has smaller timestamps.
    pub(crate) fn lookup(&self, timestamp: i64) -> u32 {
        let n = self.entries.partition_point(|&(t, _)| t < timestamp);
        if n == 0 { 0 } else { self.entries[n - 1].1 }
    }

    pub(crate) fn last_timestamp(&self) -> Option<i64> {
        self.entries.last().map(|&(t, _)| t)
    }

    pub(crate) fn is_consistent(&self, relative_end: u64) -> bool {
        let ordered = self
            .entries
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1);
        ordered
            && self
                .entries
                .last()
                .is_none_or(|&(_, o)| u64::from(o) < relative_end)
    }

    pub(crate) fn write_to(&self, path: &Path, durability: Durability) -> Result<(), LogError> {
        let mut bytes = Vec::with_capacity(self.entries.len() * TIME_ENTRY_LEN + TRAILER_LEN);
        for &(t, o) in &self.entries {
            bytes.extend_from_slice(&t.to_be_bytes());
            bytes.extend_from_slice(&o.to_be_bytes());
        }
        write_sealed(path, bytes, durability)
    }

    pub(crate) fn read_from(path: &Path) -> Result<Option<Self>, LogError> {
        let Some(bytes) = read_sealed(path, TIME_ENTRY_LEN)? else {
            return Ok(None);
        };
        let entries = bytes
            .chunks_exact(TIME_ENTRY_LEN)
            .map(|c| {
                let mut t = [0u8; 8];
                t.copy_from_slice(&c[0..8]);
                (i64::from_be_bytes(t), be_u32(&c[8..12]))
            })
            .collect();
        Ok(Some(TimeIndex { entries }))
    }
}

fn be_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(b);
    u32::from_be_bytes(a)
}

/// Writes entries plus trailer (and fsyncs when `Durability::Synced`). A crash mid-write, or
/// before an unsynced file reached the disk, leaves a file whose trailer does not verify,
/// which reads as missing.
fn write_sealed(path: &Path, mut bytes: Vec<u8>, durability: Durability) -> Result<(), LogError> {
    let crc = crc32c::crc32c(&bytes);
    bytes.extend_from_slice(&crc.to_be_bytes());
    bytes.extend_from_slice(TRAILER_MAGIC);
    let mut file = crate::private::create_file(path).map_err(LogError::io("create index", path))?;
    file.write_all(&bytes)
        .map_err(LogError::io("write index", path))?;
    if durability == Durability::Unsynced {
        return Ok(());
    }
    file.sync_data().map_err(LogError::io("fsync index", path))
}

/// Reads a sealed index file; `None` when it is missing, torn or fails its checksum.
fn read_sealed(path: &Path, entry_len: usize) -> Result<Option<Vec<u8>>, LogError> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut f) => f
            .read_to_end(&mut bytes)
            .map_err(LogError::io("read index", path))?,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(LogError::io("open index", path)(e)),
    };
    if bytes.len() < TRAILER_LEN || !(bytes.len() - TRAILER_LEN).is_multiple_of(entry_len) {
        return Ok(None);
    }
    let (entries, trailer) = bytes.split_at(bytes.len() - TRAILER_LEN);
    if &trailer[4..] != TRAILER_MAGIC || be_u32(&trailer[..4]) != crc32c::crc32c(entries) {
        return Ok(None);
    }
    bytes.truncate(bytes.len() - TRAILER_LEN);
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_lookup_finds_floor_entry() {
        let mut idx = OffsetIndex::default();
        idx.push(10, 4100);
        idx.push(20, 8300);
        assert_eq!(idx.lookup(5), (0, 0));
        assert_eq!(idx.lookup(10), (10, 4100));
        assert_eq!(idx.lookup(19), (10, 4100));
        assert_eq!(idx.lookup(1000), (20, 8300));
        assert_eq!(idx.floor_by_position(8299), Some((10, 4100)));
        assert_eq!(idx.floor_by_position(4099), None);
    }

    #[test]
    fn time_lookup_returns_last_batch_before_target() {
        let mut idx = TimeIndex::default();
        idx.push(100, 0);
        idx.push(100, 5); // not an increase: ignored
        idx.push(200, 10);
        idx.push(300, 20);
        assert_eq!(idx.lookup(50), 0);
        assert_eq!(idx.lookup(100), 0);
        assert_eq!(idx.lookup(150), 0);
        assert_eq!(idx.lookup(201), 10);
        assert_eq!(idx.lookup(10_000), 20);
    }

    #[test]
    fn sealed_file_round_trips_and_detects_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.index");
        let mut idx = OffsetIndex::default();
        idx.push(3, 4096);
        idx.push(9, 9000);
        idx.write_to(&path, Durability::Synced).unwrap();
        assert_eq!(OffsetIndex::read_from(&path).unwrap(), Some(idx));
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[5] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(OffsetIndex::read_from(&path).unwrap(), None);
        assert_eq!(
            OffsetIndex::read_from(&dir.path().join("missing")).unwrap(),
            None
        );
    }
}
