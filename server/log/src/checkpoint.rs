//! Small durable files in a partition directory that tell recovery what it may trust:
//! `recovery-point` (every segment below this base offset is sealed and synced) and
//! `clean-shutdown` (the last close synced the data; open may trust it without checking).
//!
//! Format: magic (4 bytes), offset (i64 BE), crc32c of the previous 12 bytes. Written to a
//! temporary file, renamed into place; the recovery point is synced (file, then directory),
//! the clean-shutdown marker is left to the kernel after the data it vouches for was synced.
//! A file that does not verify reads as absent, which only makes recovery check more.

use std::fs::File;
use std::io::{ErrorKind, Write};
use std::path::Path;

use crate::LogError;

pub(crate) const RECOVERY_POINT: &str = "recovery-point";
pub(crate) const CLEAN_SHUTDOWN: &str = "clean-shutdown";
/// Suffix of files being written; leftovers are removed at open.
pub(crate) const TMP_SUFFIX: &str = ".tmp";
const MAGIC: &[u8; 4] = b"WCP1";
const LEN: usize = 16;

/// Whether a small file the log writes is synced before the call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// The file, then its directory, synced before returning.
    Synced,
    /// Left to the kernel. Only for files whose loss or damage open detects and repairs:
    /// index files and the clean-shutdown marker carry CRCs, and without them open checks
    /// the data itself. A close that wrote them this way costs one fsync (the data's).
    Unsynced,
}

/// Writes `offset` to `dir/name` atomically (and durably when `Durability::Synced`).
pub(crate) fn write(
    dir: &Path,
    name: &str,
    offset: i64,
    durability: Durability,
) -> Result<(), LogError> {
    let mut bytes = Vec::with_capacity(LEN);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&offset.to_be_bytes());
    let crc = crc32c::crc32c(&bytes);
    bytes.extend_from_slice(&crc.to_be_bytes());
    let tmp = dir.join(format!("{name}{TMP_SUFFIX}"));
    let path = dir.join(name);
    let mut file = crate::private::create_file(&tmp).map_err(LogError::io("create", &tmp))?;
    file.write_all(&bytes)
        .map_err(LogError::io("write", &tmp))?;
    if durability == Durability::Unsynced {
        return std::fs::rename(&tmp, &path).map_err(LogError::io("rename", &path));
    }
    file.sync_all().map_err(LogError::io("fsync", &tmp))?;
    std::fs::rename(&tmp, &path).map_err(LogError::io("rename", &path))?;
    sync_dir(dir)
}

/// Reads the offset in `dir/name`; `None` when absent or damaged.
pub(crate) fn read(dir: &Path, name: &str) -> Result<Option<i64>, LogError> {
    let path = dir.join(name);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(LogError::io("read", &path)(e)),
    };
    if bytes.len() != LEN || &bytes[..4] != MAGIC {
        return Ok(None);
    }
    let mut crc = [0u8; 4];
    crc.copy_from_slice(&bytes[12..]);
    if u32::from_be_bytes(crc) != crc32c::crc32c(&bytes[..12]) {
        return Ok(None);
    }
    let mut offset = [0u8; 8];
    offset.copy_from_slice(&bytes[4..12]);
    Ok(Some(i64::from_be_bytes(offset)))
}

/// Removes `dir/name` (absent is fine). Not synced: the caller syncs the directory (with
/// `sync_dir`) before anything that relies on the removal.
pub(crate) fn remove(dir: &Path, name: &str) -> Result<(), LogError> {
    let path = dir.join(name);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(LogError::io("remove", &path)(e)),
    }
}

/// fsync of a directory, so that created, renamed and removed names are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), LogError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(LogError::io("fsync dir", dir))
}
