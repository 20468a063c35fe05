//! Committed offsets of every consumer group, durable across graceful and unclean stops.
//!
//! Owns the offsets log (`<data>/groups/log`, a weir-log partition of JSON records, fsynced per
//! commit) and its snapshot (`<data>/groups/offsets.snapshot`). Start-up loads the snapshot and
//! replays only the log after it; a snapshot is taken every `OFFSETS_SNAPSHOT_RECORDS` records
//! and at shutdown, and log segments it covers are deleted, so history is never replayed.
//! Must not know members or assignments: the coordinator decides who may commit.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use weir_codec::batch::{BatchOptions, DecodeLimits, Record, batches, decode, encode};
use weir_log::{FlushPolicy, Log, LogConfig};

use crate::BrokerError;
use crate::metadata::now_ms;

/// Commit records between two snapshots.
pub const OFFSETS_SNAPSHOT_RECORDS: u64 = 50_000;
/// Segment size of the offsets log: small, so snapshots free space quickly.
const OFFSETS_SEGMENT_BYTES: u64 = 16 << 20;
/// Bytes read from the offsets log at a time during replay.
const REPLAY_READ_BYTES: usize = 1 << 20;
const SNAPSHOT_FILE: &str = "offsets.snapshot";

/// Where a group's committed offset is kept: tenant, group, topic, partition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OffsetKey {
    /// Tenant name.
    pub tenant: String,
    /// Group name.
    pub group: String,
    /// Topic name.
    pub topic: String,
    /// Partition.
    pub partition: u32,
}

/// A committed offset: the next record the group will read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Committed {
    /// Next offset to read.
    pub offset: i64,
    /// Free-form text the committer attached.
    pub metadata: String,
    /// When it was committed (ms since the epoch).
    pub commit_timestamp: i64,
}

/// One record of the offsets log. The JSON shape is an on-disk contract.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    #[serde(flatten)]
    key: OffsetKey,
    /// `None` is a tombstone: the offset was deleted.
    committed: Option<Committed>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Snapshot {
    /// Every log record below this offset is reflected in `entries`.
    log_offset: i64,
    entries: Vec<(OffsetKey, Committed)>,
}

/// The committed offsets and their log.
#[derive(Debug)]
pub struct OffsetStore {
    dir: PathBuf,
    log: Log,
    committed: BTreeMap<OffsetKey, Committed>,
    since_snapshot: u64,
}

impl OffsetStore {
    /// Opens the store under `dir`: loads the snapshot, replays the log after it.
    pub fn open(dir: &Path) -> Result<OffsetStore, BrokerError> {
        weir_log::private::create_dir_all(dir).map_err(|e| io_error("create", dir, e))?;
        let config = LogConfig {
            flush: FlushPolicy::EveryAppend,
            segment_bytes: OFFSETS_SEGMENT_BYTES,
            ..LogConfig::default()
        };
        let log = Log::open(dir.join("log"), config)?;
        let snapshot = read_snapshot(&dir.join(SNAPSHOT_FILE))?;
        let (from, mut committed) = match snapshot {
            Some(s) => (s.log_offset, s.entries.into_iter().collect()),
            None => (log.log_start_offset(), BTreeMap::new()),
        };
        let replayed = replay(&log, from.max(log.log_start_offset()), &mut committed)?;
        Ok(OffsetStore {
            dir: dir.to_path_buf(),
            log,
            committed,
            since_snapshot: replayed,
        })
    }

    /// The committed offset of one partition.
    pub fn get(&self, key: &OffsetKey) -> Option<&Committed> {
        self.committed.get(key)
    }

    /// Every committed offset of a group, in key order.
    pub fn group(&self, tenant: &str, group: &str) -> Vec<(OffsetKey, Committed)> {
        self.committed
            .iter()
            .filter(|(k, _)| k.tenant == tenant && k.group == group)
            .map(|(k, c)| (k.clone(), c.clone()))
            .collect()
    }

    /// Keys of every group's offsets for one topic of `tenant`.
    pub fn topic_keys(&self, tenant: &str, topic: &str) -> Vec<OffsetKey> {
        self.committed
            .keys()
            .filter(|k| k.tenant == tenant && k.topic == topic)
            .cloned()
            .collect()
    }

    /// Names of the groups of `tenant` that have committed offsets.
    pub fn groups(&self, tenant: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .committed
            .keys()
            .filter(|k| k.tenant == tenant)
            .map(|k| k.group.clone())
            .collect();
        names.dedup();
        names
    }

    /// Every (tenant, group) with committed offsets.
    pub fn all_groups(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = self
            .committed
            .keys()
            .map(|k| (k.tenant.clone(), k.group.clone()))
            .collect();
        all.dedup();
        all
    }

    /// Stores offsets durably (one batch, fsynced) and then in memory; all or nothing.
    pub fn commit(&mut self, offsets: Vec<(OffsetKey, i64, String)>) -> Result<(), BrokerError> {
        let now = now_ms();
        let entries = offsets
            .into_iter()
            .map(|(key, offset, metadata)| Entry {
                key,
                committed: Some(Committed {
                    offset,
                    metadata,
                    commit_timestamp: now,
                }),
            })
            .collect();
        self.write(entries)
    }

    /// Deletes offsets durably (tombstones).
    pub fn delete(&mut self, keys: Vec<OffsetKey>) -> Result<(), BrokerError> {
        let entries = keys
            .into_iter()
            .map(|key| Entry {
                key,
                committed: None,
            })
            .collect();
        self.write(entries)
    }

    fn write(&mut self, entries: Vec<Entry>) -> Result<(), BrokerError> {
        if entries.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let records = entries
            .iter()
            .map(|e| {
                let value = serde_json::to_vec(e)
                    .map_err(|err| BrokerError::Internal(format!("encode offset: {err}")))?;
                Ok(Record {
                    value: Some(Bytes::from(value)),
                    timestamp: now,
                    ..Record::default()
                })
            })
            .collect::<Result<Vec<_>, BrokerError>>()?;
        let batch = encode(&records, &BatchOptions::default())?;
        self.log.append(&batch)?;
        self.since_snapshot += u64::try_from(entries.len()).expect("usize is at most 64 bits");
        for e in entries {
            apply(&mut self.committed, e);
        }
        if self.since_snapshot >= OFFSETS_SNAPSHOT_RECORDS {
            self.snapshot()?;
        }
        Ok(())
    }

    /// Writes a snapshot of every offset, then deletes the log segments it covers.
    pub fn snapshot(&mut self) -> Result<(), BrokerError> {
        let log_offset = self.log.log_end_offset();
        let snapshot = Snapshot {
            log_offset,
            entries: self
                .committed
                .iter()
                .map(|(k, c)| (k.clone(), c.clone()))
                .collect(),
        };
        write_snapshot(&self.dir.join(SNAPSHOT_FILE), &snapshot)?;
        self.log.roll()?;
        self.log.delete_before(log_offset)?;
        self.since_snapshot = 0;
        Ok(())
    }

    /// Snapshots and closes the log cleanly.
    pub fn shutdown(&mut self) -> Result<(), BrokerError> {
        self.snapshot()?;
        Ok(self.log.shutdown()?)
    }
}

fn apply(committed: &mut BTreeMap<OffsetKey, Committed>, entry: Entry) {
    match entry.committed {
        Some(c) => committed.insert(entry.key, c),
        None => committed.remove(&entry.key),
    };
}

/// Applies every log record from `from` on; returns how many.
fn replay(
    log: &Log,
    from: i64,
    committed: &mut BTreeMap<OffsetKey, Committed>,
) -> Result<u64, BrokerError> {
    let mut offset = from;
    let mut count = 0;
    let mut buf = Vec::new();
    while offset < log.log_end_offset() {
        let slice = log.read(offset, REPLAY_READ_BYTES)?;
        buf.clear();
        slice
            .read_into(&mut buf)
            .map_err(|e| BrokerError::StorageUnavailable(format!("read offsets: {e}")))?;
        for batch in batches(&buf) {
            let (_, bytes) = batch?;
            for record in decode(bytes, &DecodeLimits::default())?.1 {
                if record.offset < from {
                    continue;
                }
                let value = record.value.unwrap_or_default();
                let entry: Entry = serde_json::from_slice(&value).map_err(|e| {
                    BrokerError::Internal(format!("offsets record {}: {e}", record.offset))
                })?;
                apply(committed, entry);
                count += 1;
            }
        }
        offset = slice.next_offset();
    }
    Ok(count)
}

/// Snapshot file: 4-byte magic, JSON, then crc32c of the JSON (4 bytes, big endian).
const SNAPSHOT_MAGIC: &[u8; 4] = b"WOS1";

fn write_snapshot(path: &Path, snapshot: &Snapshot) -> Result<(), BrokerError> {
    let json = serde_json::to_vec(snapshot)
        .map_err(|e| BrokerError::Internal(format!("encode offsets snapshot: {e}")))?;
    let tmp = path.with_extension("tmp");
    let mut file = weir_log::private::create_file(&tmp).map_err(|e| io_error("create", &tmp, e))?;
    let crc = crc32c::crc32c(&json);
    file.write_all(SNAPSHOT_MAGIC)
        .and_then(|()| file.write_all(&json))
        .and_then(|()| file.write_all(&crc.to_be_bytes()))
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error("write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_error("rename", path, e))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error("fsync", dir, e))
}

fn read_snapshot(path: &Path) -> Result<Option<Snapshot>, BrokerError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("read", path, e)),
    };
    let corrupt = || BrokerError::StorageUnavailable(format!("{} is corrupt", path.display()));
    if bytes.len() < 8 || &bytes[..4] != SNAPSHOT_MAGIC {
        return Err(corrupt());
    }
    let (json, crc) = bytes[4..].split_at(bytes.len() - 8);
    let stored = u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]);
    if stored != crc32c::crc32c(json) {
        return Err(corrupt());
    }
    serde_json::from_slice(json)
        .map(Some)
        .map_err(|_| corrupt())
}

fn io_error(op: &str, path: &Path, e: std::io::Error) -> BrokerError {
    BrokerError::StorageUnavailable(format!("{op} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(group: &str, partition: u32) -> OffsetKey {
        OffsetKey {
            tenant: "t".into(),
            group: group.into(),
            topic: "orders".into(),
            partition,
        }
    }

    #[test]
    fn offsets_survive_reopen_with_and_without_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut store = OffsetStore::open(dir.path()).unwrap();
            store
                .commit(vec![
                    (key("g", 0), 5, "m".into()),
                    (key("g", 1), 7, String::new()),
                ])
                .unwrap();
            store.commit(vec![(key("g", 0), 9, String::new())]).unwrap();
            store.delete(vec![key("g", 1)]).unwrap();
            // Dropped without shutdown: an unclean stop.
        }
        let mut store = OffsetStore::open(dir.path()).unwrap();
        assert_eq!(store.get(&key("g", 0)).unwrap().offset, 9);
        assert_eq!(store.get(&key("g", 1)), None);
        store.commit(vec![(key("h", 3), 1, String::new())]).unwrap();
        store.shutdown().unwrap();
        drop(store);
        let store = OffsetStore::open(dir.path()).unwrap();
        assert_eq!(store.get(&key("g", 0)).unwrap().offset, 9);
        assert_eq!(store.get(&key("h", 3)).unwrap().offset, 1);
        assert_eq!(store.groups("t"), ["g", "h"]);
        assert_eq!(store.since_snapshot, 0, "nothing replayed after a snapshot");
    }

    #[test]
    fn snapshot_deletes_covered_log_segments() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = OffsetStore::open(dir.path()).unwrap();
        for i in 0..10 {
            store.commit(vec![(key("g", 0), i, String::new())]).unwrap();
        }
        store.snapshot().unwrap();
        assert_eq!(store.log.log_start_offset(), 10);
        store
            .commit(vec![(key("g", 0), 99, String::new())])
            .unwrap();
        drop(store);
        let store = OffsetStore::open(dir.path()).unwrap();
        assert_eq!(store.get(&key("g", 0)).unwrap().offset, 99);
        assert_eq!(store.since_snapshot, 1);
    }
}
