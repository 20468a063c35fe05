//! The Raft log and vote of one node, durable on disk.
//!
//! Owns `<dir>/log` (length- and crc32c-framed JSON records: entries, and a `Purged` mark
//! that heads the file after a rewrite), `<dir>/vote` and `<dir>/committed`. An append is
//! fsynced before openraft is told it is flushed; a vote is fsynced before `save_vote`
//! returns; truncation and purging rewrite the file atomically (temporary file, fsync,
//! rename, fsync of the directory). Open cuts a torn tail: only an append that was never
//! acknowledged can be torn. The committed id is written without fsync: losing it only means
//! re-applying from the snapshot. Entries are kept in memory too: the metadata log is small
//! (snapshots purge it). Must not know what entries mean.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::fs::File;
use std::io::{self, Read, Write};
use std::ops::RangeBounds;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{Entry, LogId, RaftLogReader, StorageError, StorageIOError, Vote};
use serde::{Deserialize, Serialize};
use weir_log::private;

use super::TypeConfig;

type NodeId = u64;

/// Largest record `open` accepts; a longer length field means a damaged file.
const RECORD_BYTES_MAX: usize = 64 << 20;

/// One framed record of `<dir>/log`.
#[derive(Debug, Serialize, Deserialize)]
enum Record {
    /// Every entry up to this id is gone (purged after a snapshot).
    Purged(LogId<NodeId>),
    Entry(Entry<TypeConfig>),
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    file: File,
    entries: BTreeMap<u64, Entry<TypeConfig>>,
    purged: Option<LogId<NodeId>>,
    vote: Option<Vote<NodeId>>,
    committed: Option<LogId<NodeId>>,
}

/// The Raft log storage of one node; clones share it (openraft reads through a clone).
#[derive(Debug, Clone)]
pub struct LogStore {
    inner: Arc<Mutex<Inner>>,
}

impl LogStore {
    /// Opens (creating when new) the log in `dir`.
    pub fn open(dir: &Path) -> io::Result<LogStore> {
        private::create_dir_all(dir)?;
        let path = dir.join("log");
        let mut file = private::options()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let (records, good) = parse(&bytes);
        if good < bytes.len() {
            tracing::warn!(path = %path.display(), cut = bytes.len() - good, "raft log: cutting a torn tail");
            file.set_len(u64::try_from(good).expect("file lengths fit in u64"))?;
            file.sync_all()?;
        }
        let mut inner = Inner {
            dir: dir.to_owned(),
            file,
            entries: BTreeMap::new(),
            purged: None,
            vote: read_json(&dir.join("vote"))?,
            committed: read_json(&dir.join("committed"))?,
        };
        for record in records {
            match record {
                Record::Purged(id) => inner.forget_through(id),
                Record::Entry(e) => {
                    inner.entries.insert(e.log_id.index, e);
                }
            }
        }
        Ok(LogStore {
            inner: Arc::new(Mutex::new(inner)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    fn forget_through(&mut self, id: LogId<NodeId>) {
        self.entries = self.entries.split_off(&(id.index + 1));
        self.purged = Some(id);
    }

    /// Writes the whole log anew (after a truncation or a purge) and reopens it for appends.
    fn rewrite(&mut self) -> io::Result<()> {
        let mut bytes = Vec::new();
        if let Some(id) = self.purged {
            frame(&Record::Purged(id), &mut bytes)?;
        }
        for entry in self.entries.values() {
            frame(&Record::Entry(entry.clone()), &mut bytes)?;
        }
        let path = self.dir.join("log");
        write_atomic(&path, &bytes, true)?;
        self.file = private::options().read(true).append(true).open(&path)?;
        Ok(())
    }

    fn last_log_id(&self) -> Option<LogId<NodeId>> {
        self.entries
            .last_key_value()
            .map(|(_, e)| e.log_id)
            .or(self.purged)
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<TypeConfig>>, StorageError<NodeId>> {
        Ok(self
            .lock()
            .entries
            .range(range)
            .map(|(_, e)| e.clone())
            .collect())
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError<NodeId>> {
        let inner = self.lock();
        Ok(LogState {
            last_purged_log_id: inner.purged,
            last_log_id: inner.last_log_id(),
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError<NodeId>> {
        let mut inner = self.lock();
        let bytes = serde_json::to_vec(vote).map_err(|e| StorageIOError::write_vote(&e))?;
        write_atomic(&inner.dir.join("vote"), &bytes, true)
            .map_err(|e| StorageIOError::write_vote(&e))?;
        inner.vote = Some(*vote);
        Ok(())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError<NodeId>> {
        Ok(self.lock().vote)
    }

    async fn save_committed(
        &mut self,
        committed: Option<LogId<NodeId>>,
    ) -> Result<(), StorageError<NodeId>> {
        let mut inner = self.lock();
        let bytes = serde_json::to_vec(&committed).map_err(|e| StorageIOError::write(&e))?;
        write_atomic(&inner.dir.join("committed"), &bytes, false)
            .map_err(|e| StorageIOError::write(&e))?;
        inner.committed = committed;
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<NodeId>>, StorageError<NodeId>> {
        Ok(self.lock().committed)
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let mut inner = self.lock();
        let entries: Vec<_> = entries.into_iter().collect();
        let written = append(&mut inner, &entries);
        if let Err(e) = &written {
            // The file may hold part of this append; the next open cuts or keeps it, and
            // openraft, told of the failure, stops this node rather than trust it.
            callback.log_io_completed(Err(io::Error::new(e.kind(), e.to_string())));
            return Err(StorageIOError::write_logs(e).into());
        }
        for entry in entries {
            inner.entries.insert(entry.log_id.index, entry);
        }
        callback.log_io_completed(Ok(()));
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        let mut inner = self.lock();
        inner.entries.split_off(&log_id.index);
        inner
            .rewrite()
            .map_err(|e| StorageIOError::write_logs(&e))?;
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        let mut inner = self.lock();
        assert!(
            inner.purged.is_none_or(|p| p.index <= log_id.index),
            "purging never moves back"
        );
        inner.forget_through(log_id);
        inner
            .rewrite()
            .map_err(|e| StorageIOError::write_logs(&e))?;
        Ok(())
    }
}

/// Writes `entries` at the end of the file and syncs it.
fn append(inner: &mut Inner, entries: &[Entry<TypeConfig>]) -> io::Result<()> {
    let mut bytes = Vec::new();
    // openraft keeps the log free of holes (it truncates before it overwrites); within one
    // append the indexes rise by one.
    for pair in entries.windows(2) {
        assert_eq!(
            pair[1].log_id.index,
            pair[0].log_id.index + 1,
            "one append has no holes"
        );
    }
    for entry in entries {
        frame(&Record::Entry(entry.clone()), &mut bytes)?;
    }
    inner.file.write_all(&bytes)?;
    inner.file.sync_data()
}

/// Appends `record`, framed: length (u32 BE), crc32c of the JSON (u32 BE), the JSON.
fn frame(record: &Record, out: &mut Vec<u8>) -> io::Result<()> {
    let json = serde_json::to_vec(record)?;
    let len = u32::try_from(json.len())
        .ok()
        .filter(|&n| n as usize <= RECORD_BYTES_MAX)
        .ok_or_else(|| io::Error::other(format!("raft record of {} bytes", json.len())))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&crc32c::crc32c(&json).to_be_bytes());
    out.extend_from_slice(&json);
    Ok(())
}

/// The records of a log file and the length of its intact prefix.
fn parse(bytes: &[u8]) -> (Vec<Record>, usize) {
    let mut records = Vec::new();
    let mut at = 0;
    while let Some(head) = bytes.get(at..at + 8) {
        let len = u32::from_be_bytes(head[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_be_bytes(head[4..].try_into().expect("4 bytes"));
        let Some(json) = bytes
            .get(at + 8..at + 8 + len)
            .filter(|_| len <= RECORD_BYTES_MAX)
        else {
            break;
        };
        if crc32c::crc32c(json) != crc {
            break;
        }
        let Ok(record) = serde_json::from_slice(json) else {
            break;
        };
        records.push(record);
        at += 8 + len;
    }
    (records, at)
}

/// The JSON value in `path`; `None` when the file is missing or unreadable (a file written
/// without fsync may be empty after a crash).
pub(super) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> io::Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Replaces `path` with `bytes`: a temporary file, renamed into place; with `sync`, the file
/// and then the directory are synced first.
pub(super) fn write_atomic(path: &Path, bytes: &[u8], sync: bool) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = private::create_file(&tmp)?;
    file.write_all(bytes)?;
    if sync {
        file.sync_all()?;
    }
    drop(file);
    std::fs::rename(&tmp, path)?;
    if sync && let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}
