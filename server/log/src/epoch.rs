//! The leader epoch checkpoint: which leader epoch began at which offset, one line each, in
//! Kafka's `leader-epoch-checkpoint` text format, so that replicas can later find where their
//! logs diverge (the end offset of an epoch is the start offset of the next one).
//!
//! Owns the file format and its durable replacement (temporary file, fsync, rename, fsync of
//! the directory). Must not decide when an epoch begins: the log does, when it is told to
//! (`Log::begin_epoch`) or when a replica batch carries a newer epoch.
//!
//! Format (text, `\n` after every line):
//! ```text
//! 0                  version
//! 2                  number of entries
//! 0 0                epoch start_offset, epochs strictly increasing,
//! 1 1500             start offsets never decreasing
//! ```
//! The file is replaced whole and never edited in place, so it is never torn; one that does
//! not parse is an error (`LogError::Corrupt`), not a silent reset: the history it holds
//! cannot be rebuilt from batches written before leader epochs were stamped.

use std::io::{ErrorKind, Write};
use std::path::Path;

use crate::LogError;
use crate::checkpoint::{TMP_SUFFIX, sync_dir};

/// Name of the file in the partition directory.
pub(crate) const LEADER_EPOCH_CHECKPOINT: &str = "leader-epoch-checkpoint";

/// The only version this code writes or reads (Kafka's too).
const VERSION: u32 = 0;

/// The epoch every log starts in: a partition that never changed leader (every single node).
pub const INITIAL_LEADER_EPOCH: i32 = 0;

/// One leader epoch and the first offset written in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochEntry {
    /// The leader epoch.
    pub epoch: i32,
    /// Offset of the first batch stamped with it (the log end offset when it began).
    pub start_offset: i64,
}

/// Whether `next` may follow `entries`: a higher epoch, starting no earlier.
pub(crate) fn may_follow(entries: &[EpochEntry], next: EpochEntry) -> bool {
    next.epoch >= 0
        && next.start_offset >= 0
        && entries
            .last()
            .is_none_or(|last| next.epoch > last.epoch && next.start_offset >= last.start_offset)
}

/// The entries in `dir`'s checkpoint; `None` when there is none yet (a log written before
/// leader epochs existed, or a new one).
pub(crate) fn read(dir: &Path) -> Result<Option<Vec<EpochEntry>>, LogError> {
    let path = dir.join(LEADER_EPOCH_CHECKPOINT);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) if e.kind() == ErrorKind::InvalidData => {
            return Err(corrupt(&path, "not UTF-8 text"));
        }
        Err(e) => return Err(LogError::io("read", &path)(e)),
    };
    parse(&text)
        .map(Some)
        .map_err(|reason| corrupt(&path, reason))
}

fn corrupt(path: &Path, reason: &str) -> LogError {
    LogError::Corrupt {
        path: path.to_owned(),
        reason: format!("leader epoch checkpoint: {reason}"),
    }
}

fn parse(text: &str) -> Result<Vec<EpochEntry>, &'static str> {
    let mut lines = text.lines();
    let version = lines.next().ok_or("empty")?;
    if version.trim().parse::<u32>() != Ok(VERSION) {
        return Err("unknown version");
    }
    let count: usize = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .ok_or("missing or bad entry count")?;
    let mut entries = Vec::new();
    for line in lines.by_ref().take(count) {
        let mut fields = line.split_whitespace();
        let (Some(epoch), Some(start), None) = (fields.next(), fields.next(), fields.next()) else {
            return Err("an entry is not `epoch start_offset`");
        };
        let entry = EpochEntry {
            epoch: epoch.parse().map_err(|_| "bad epoch")?,
            start_offset: start.parse().map_err(|_| "bad start offset")?,
        };
        if !may_follow(&entries, entry) {
            return Err("entries out of order");
        }
        entries.push(entry);
    }
    if entries.len() != count || lines.any(|l| !l.trim().is_empty()) {
        return Err("entry count does not match the entries");
    }
    Ok(entries)
}

fn encode(entries: &[EpochEntry]) -> String {
    let mut text = format!("{VERSION}\n{}\n", entries.len());
    for e in entries {
        text.push_str(&format!("{} {}\n", e.epoch, e.start_offset));
    }
    text
}

/// Whether `write` syncs the directory itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DirSync {
    /// The rename is made durable before returning.
    Now,
    /// The caller syncs the directory before anything relies on the file (open does, once
    /// for everything it renamed).
    ByCaller,
}

/// Replaces the checkpoint with `entries`: temporary file, fsync, rename over the old one,
/// then (with `DirSync::Now`) fsync of the directory.
pub(crate) fn write(dir: &Path, entries: &[EpochEntry], dir_sync: DirSync) -> Result<(), LogError> {
    let tmp = dir.join(format!("{LEADER_EPOCH_CHECKPOINT}{TMP_SUFFIX}"));
    let path = dir.join(LEADER_EPOCH_CHECKPOINT);
    let mut file = crate::private::create_file(&tmp).map_err(LogError::io("create", &tmp))?;
    file.write_all(encode(entries).as_bytes())
        .map_err(LogError::io("write", &tmp))?;
    file.sync_all().map_err(LogError::io("fsync", &tmp))?;
    std::fs::rename(&tmp, &path).map_err(LogError::io("rename", &path))?;
    match dir_sync {
        DirSync::Now => sync_dir(dir),
        DirSync::ByCaller => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(epoch: i32, start_offset: i64) -> EpochEntry {
        EpochEntry {
            epoch,
            start_offset,
        }
    }

    #[test]
    fn kafka_text_round_trips() {
        let entries = [e(0, 0), e(3, 120), e(4, 120), e(7, 9_000)];
        let text = encode(&entries);
        assert_eq!(text, "0\n4\n0 0\n3 120\n4 120\n7 9000\n");
        assert_eq!(parse(&text).unwrap(), entries);
        assert_eq!(parse("0\n0\n").unwrap(), []);
    }

    #[test]
    fn damaged_text_is_refused() {
        for bad in [
            "",
            "1\n0\n",
            "0\n",
            "0\n2\n0 0\n",
            "0\n1\n0 0\n1 5\n",
            "0\n1\n0\n",
            "0\n1\n0 0 0\n",
            "0\n2\n1 0\n1 5\n",
            "0\n2\n0 5\n1 4\n",
            "0\n1\n-1 0\n",
            "0\n1\nx 0\n",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_unreadable_file_is_corrupt_and_a_missing_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()).unwrap(), None);
        write(dir.path(), &[e(0, 5)], DirSync::Now).unwrap();
        assert_eq!(read(dir.path()).unwrap(), Some(vec![e(0, 5)]));
        std::fs::write(dir.path().join(LEADER_EPOCH_CHECKPOINT), [0xff, 0xfe]).unwrap();
        assert!(matches!(read(dir.path()), Err(LogError::Corrupt { .. })));
    }
}
