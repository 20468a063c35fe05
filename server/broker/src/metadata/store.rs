//! The single-node metadata log: today's fsynced command log under `<data-dir>/meta`, with a
//! snapshot of the image beside it so that start-up reads the snapshot and only the commands
//! after it.
//!
//! Owns the on-disk form of metadata: each command is one JSON record (`wire`) in a weir-log
//! log, flushed on every append; `meta-snapshot` is the image as commands, written atomically
//! every `SNAPSHOT_EVERY` commands and at shutdown. The log is never truncated: it stays
//! the whole truth, and a snapshot that is missing, damaged or ahead of the log is ignored
//! (a full replay rebuilds the same image). Must not decide whether a command is allowed (the
//! caller validates against the image it is handed) and must not change the JSON shape of a
//! command without a migration: every later version reads it back.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use weir_codec::batch::{BatchOptions, DecodeLimits, Record, batches, decode, encode};
use weir_log::{FlushPolicy, Log, LogConfig};

use super::command::Command;
use super::image::MetadataImage;
use super::wire::StoredCommand;
use super::{Applied, Build, MetadataLog, now_ms};
use crate::BrokerError;

/// Bytes read from the metadata log at a time during replay.
const REPLAY_READ_BYTES: usize = 1 << 20;
/// Commands between two snapshots.
pub const SNAPSHOT_EVERY: u64 = 1_000;
/// The snapshot's first line names its format and carries the crc32c of the rest.
const SNAPSHOT_MAGIC: &str = "weir-metadata-snapshot 1";

/// The snapshot file's body.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Snapshot {
    /// Commands of the log the image includes: the tail starts at this offset.
    version: u64,
    next_topic_id: u64,
    commands: Vec<StoredCommand>,
}

#[derive(Debug)]
struct Inner {
    log: Log,
    image: Arc<MetadataImage>,
    since_snapshot: u64,
}

/// The metadata log of a single node.
#[derive(Debug)]
pub struct LocalMetadataLog {
    inner: Mutex<Inner>,
    images: watch::Sender<Arc<MetadataImage>>,
    snapshot: PathBuf,
}

impl LocalMetadataLog {
    /// Opens the log in `dir` and rebuilds the image from the snapshot at `snapshot` (when
    /// it is usable) and the commands after it.
    pub fn open(dir: &Path, snapshot: &Path) -> Result<LocalMetadataLog, BrokerError> {
        let config = LogConfig {
            flush: FlushPolicy::EveryAppend,
            segment_bytes: 64 << 20,
            ..LogConfig::default()
        };
        let log = Log::open(dir, config)?;
        assert_eq!(
            log.log_start_offset(),
            0,
            "the metadata log is never trimmed"
        );
        let base = read_snapshot(snapshot, log.log_end_offset())?;
        let mut image = base.unwrap_or_default();
        let from = image.version();
        replay(&log, &mut image)?;
        let end = u64::try_from(log.log_end_offset()).expect("log offsets are never negative");
        assert_eq!(
            image.version(),
            end,
            "every command of the log is in the image"
        );
        tracing::debug!(snapshot = from, tail = end - from, "metadata image rebuilt");
        let image = Arc::new(image);
        let (images, _) = watch::channel(image.clone());
        let store = LocalMetadataLog {
            inner: Mutex::new(Inner {
                log,
                image,
                since_snapshot: end - from,
            }),
            images,
            snapshot: snapshot.to_owned(),
        };
        if end > from {
            store.snapshot_now(&mut store.lock());
        }
        Ok(store)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes a snapshot of the current image. A failure costs only start-up time (the log
    /// holds everything), so it is logged, not returned.
    fn snapshot_now(&self, inner: &mut Inner) {
        match write_snapshot(&self.snapshot, &inner.image) {
            Ok(()) => inner.since_snapshot = 0,
            Err(e) => tracing::warn!(error = %e, "could not write the metadata snapshot"),
        }
    }
}

impl MetadataLog for LocalMetadataLog {
    fn propose(&self, build: Build<'_>) -> Result<Applied, BrokerError> {
        let mut inner = self.lock();
        let command = build(&inner.image)?;
        append(&mut inner.log, &command)?;
        let mut next = MetadataImage::clone(&inner.image);
        next.apply(&command);
        let next = Arc::new(next);
        inner.image = next.clone();
        inner.since_snapshot += 1;
        if inner.since_snapshot >= SNAPSHOT_EVERY {
            self.snapshot_now(&mut inner);
        }
        self.images.send_replace(next.clone());
        Ok(Applied {
            image: next,
            command,
        })
    }

    fn watch(&self) -> watch::Receiver<Arc<MetadataImage>> {
        self.images.subscribe()
    }

    fn shutdown(&self) -> Result<(), BrokerError> {
        let mut inner = self.lock();
        if inner.since_snapshot > 0 {
            self.snapshot_now(&mut inner);
        }
        Ok(inner.log.shutdown()?)
    }
}

/// The command log of a single node, under its data directory.
pub const LOCAL_LOG_DIR: &str = "meta";
/// The snapshot of that log's image, beside it.
pub const LOCAL_SNAPSHOT_FILE: &str = "meta-snapshot";
/// What an upgrade in place renames the command log and its snapshot to, once the quorum
/// holds their image: kept, never read again.
pub const IMPORTED_SUFFIX: &str = ".imported";

/// The image a single node's command log in `data` holds, when there is one: what an upgrade
/// in place imports into the quorum.
pub fn local_image(data: &Path) -> Result<Option<MetadataImage>, BrokerError> {
    let dir = data.join(LOCAL_LOG_DIR);
    if !dir.is_dir() {
        return Ok(None);
    }
    let log = LocalMetadataLog::open(&dir, &data.join(LOCAL_SNAPSHOT_FILE))?;
    let image = MetadataImage::clone(&log.lock().image);
    log.shutdown()?;
    Ok(Some(image))
}

/// Renames the command log in `data` and its snapshot aside (`IMPORTED_SUFFIX`) once their
/// image is in the quorum, durably: the next start does not import them again.
pub fn retire_local_log(data: &Path) -> Result<(), BrokerError> {
    let fail = |e: std::io::Error| {
        BrokerError::StorageUnavailable(format!(
            "retire the metadata log in {}: {e}",
            data.display()
        ))
    };
    for name in [LOCAL_SNAPSHOT_FILE, LOCAL_LOG_DIR] {
        let from = data.join(name);
        if from.exists() {
            std::fs::rename(&from, data.join(format!("{name}{IMPORTED_SUFFIX}"))).map_err(fail)?;
        }
    }
    std::fs::File::open(data)
        .and_then(|d| d.sync_all())
        .map_err(fail)
}

/// Appends one command durably (fsynced before returning).
fn append(log: &mut Log, command: &Command) -> Result<(), BrokerError> {
    let value = serde_json::to_vec(&StoredCommand::from(command))
        .map_err(|e| BrokerError::Internal(format!("encode metadata command: {e}")))?;
    let record = Record {
        value: Some(Bytes::from(value)),
        timestamp: now_ms(),
        ..Record::default()
    };
    let batch = encode(&[record], &BatchOptions::default())?;
    log.append(&batch)?;
    Ok(())
}

/// Applies every command from offset `image.version()` on.
fn replay(log: &Log, image: &mut MetadataImage) -> Result<(), BrokerError> {
    let start = i64::try_from(image.version()).expect("a snapshot ahead of the log is ignored");
    let mut offset = start;
    let mut buf = Vec::new();
    while offset < log.log_end_offset() {
        let slice = log.read(offset, REPLAY_READ_BYTES)?;
        buf.clear();
        slice
            .read_into(&mut buf)
            .map_err(|e| BrokerError::StorageUnavailable(format!("read metadata: {e}")))?;
        for batch in batches(&buf) {
            let (_, bytes) = batch?;
            let (_, records) = decode(bytes, &DecodeLimits::default())?;
            for record in records.into_iter().filter(|r| r.offset >= start) {
                assert_eq!(
                    u64::try_from(record.offset).ok(),
                    Some(image.version()),
                    "metadata commands are applied in offset order, none skipped"
                );
                let value = record.value.unwrap_or_default();
                let stored: StoredCommand = serde_json::from_slice(&value).map_err(|e| {
                    BrokerError::Internal(format!("metadata record {}: {e}", record.offset))
                })?;
                image.apply(&Command::try_from(stored)?);
            }
        }
        offset = slice.next_offset();
    }
    Ok(())
}

/// The image in the snapshot at `path`, if there is one that verifies and that the log
/// (ending at `log_end`) has every command of.
fn read_snapshot(path: &Path, log_end: i64) -> Result<Option<MetadataImage>, BrokerError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(BrokerError::StorageUnavailable(format!(
                "read {}: {e}",
                path.display()
            )));
        }
    };
    let snapshot = match parse_snapshot(&bytes) {
        Ok(s) => s,
        Err(reason) => {
            tracing::warn!(path = %path.display(), %reason, "ignoring the metadata snapshot: replaying the whole log");
            return Ok(None);
        }
    };
    if i64::try_from(snapshot.version).is_ok_and(|v| v > log_end) {
        tracing::warn!(
            snapshot = snapshot.version,
            log_end,
            "the metadata snapshot is ahead of the log: replaying the whole log"
        );
        return Ok(None);
    }
    image_of(snapshot).map(Some)
}

fn image_of(snapshot: Snapshot) -> Result<MetadataImage, BrokerError> {
    let commands = snapshot
        .commands
        .into_iter()
        .map(Command::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(MetadataImage::from_snapshot(
        snapshot.version,
        snapshot.next_topic_id,
        &commands,
    ))
}

/// The JSON body of a snapshot of `image`.
pub(super) fn snapshot_body(image: &MetadataImage) -> Vec<u8> {
    let snapshot = Snapshot {
        version: image.version(),
        next_topic_id: image.next_topic_id(),
        commands: image
            .to_commands()
            .iter()
            .map(StoredCommand::from)
            .collect(),
    };
    serde_json::to_vec(&snapshot).expect("snapshots are plain JSON")
}

/// The image in a snapshot's JSON body.
pub(super) fn image_of_body(body: &[u8]) -> Result<MetadataImage, BrokerError> {
    let snapshot: Snapshot = serde_json::from_slice(body)
        .map_err(|e| BrokerError::Internal(format!("metadata snapshot: {e}")))?;
    image_of(snapshot)
}

fn parse_snapshot(bytes: &[u8]) -> Result<Snapshot, String> {
    let newline = bytes.iter().position(|&b| b == b'\n').ok_or("no header")?;
    let header = std::str::from_utf8(&bytes[..newline]).map_err(|_| "header not UTF-8")?;
    let body = &bytes[newline + 1..];
    let crc = header
        .strip_prefix(SNAPSHOT_MAGIC)
        .and_then(|rest| rest.strip_prefix(" crc32c="))
        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
        .ok_or("unknown header")?;
    if crc32c::crc32c(body) != crc {
        return Err("checksum mismatch".into());
    }
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

/// Writes the snapshot of `image` to `path`: a temporary file, synced, renamed into place,
/// then the directory synced.
fn write_snapshot(path: &Path, image: &MetadataImage) -> std::io::Result<()> {
    use std::io::Write;
    let body = snapshot_body(image);
    let tmp = path.with_extension("tmp");
    let mut file = weir_log::private::create_file(&tmp)?;
    writeln!(
        file,
        "{SNAPSHOT_MAGIC} crc32c={:08x}",
        crc32c::crc32c(&body)
    )?;
    file.write_all(&body)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::{TenancyCmd, TopicCmd};
    use crate::{TenantId, TopicConfig, TopicName};

    fn open(dir: &Path) -> LocalMetadataLog {
        LocalMetadataLog::open(&dir.join("meta"), &dir.join("meta-snapshot")).unwrap()
    }

    fn image(store: &LocalMetadataLog) -> Arc<MetadataImage> {
        store.watch().borrow().clone()
    }

    /// Proposes a tenant and `topics` topics in it.
    fn fill(store: &LocalMetadataLog, topics: u32) {
        let tenant = TenantId::parse("acme").unwrap();
        let t = tenant.clone();
        store
            .propose(&mut |_| {
                Ok(TenancyCmd::CreateTenant {
                    tenant: t.clone(),
                    incarnation: 1,
                }
                .into())
            })
            .unwrap();
        for i in 0..topics {
            store
                .propose(&mut |image| {
                    Ok(TopicCmd::Create {
                        id: image.next_topic_id(),
                        tenant: tenant.clone(),
                        name: TopicName::parse(&format!("t{i}")).unwrap(),
                        partitions: 1,
                        config: TopicConfig::default(),
                        replicas: None,
                    }
                    .into())
                })
                .unwrap();
        }
    }

    #[test]
    fn proposals_are_durable_and_watched() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let mut rx = store.watch();
        fill(&store, 3);
        assert!(rx.has_changed().unwrap());
        let seen = rx.borrow_and_update().clone();
        assert_eq!(seen.version(), 4);
        // A refused build writes nothing.
        let refused = store.propose(&mut |_| Err(BrokerError::Internal("no".into())));
        assert!(refused.is_err());
        assert_eq!(image(&store).version(), 4);
        drop(store);
        // Without a clean shutdown: no snapshot yet, the whole log is replayed.
        assert!(!dir.path().join("meta-snapshot").exists());
        let again = open(dir.path());
        assert_eq!(*image(&again), *seen);
    }

    #[test]
    fn start_up_reads_the_snapshot_and_the_tail() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        fill(&store, 2);
        store.shutdown().unwrap();
        let at_shutdown = image(&store);
        drop(store);
        let path = dir.path().join("meta-snapshot");
        assert!(path.exists());

        // More commands after the snapshot: the tail.
        let store = open(dir.path());
        assert_eq!(*image(&store), *at_shutdown);
        store
            .propose(&mut |_| {
                let tenant = TenantId::parse("beta").unwrap();
                Ok(TenancyCmd::CreateTenant {
                    tenant,
                    incarnation: 2,
                }
                .into())
            })
            .unwrap();
        let with_tail = image(&store);
        drop(store);
        let reopened = open(dir.path());
        assert_eq!(*image(&reopened), *with_tail);
        drop(reopened);

        // A damaged snapshot is ignored: the whole log gives the same image.
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 2;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(*image(&open(dir.path())), *with_tail);

        // So is a snapshot claiming more commands than the log holds.
        let snap = Snapshot {
            version: 99,
            next_topic_id: 0,
            commands: vec![],
        };
        let body = serde_json::to_vec(&snap).unwrap();
        let mut file =
            format!("{SNAPSHOT_MAGIC} crc32c={:08x}\n", crc32c::crc32c(&body)).into_bytes();
        file.extend_from_slice(&body);
        std::fs::write(&path, file).unwrap();
        assert_eq!(*image(&open(dir.path())), *with_tail);
    }

    #[test]
    fn a_snapshot_is_written_every_so_many_commands() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let path = dir.path().join("meta-snapshot");
        let topics = u32::try_from(SNAPSHOT_EVERY).unwrap();
        fill(&store, topics - 1);
        assert!(
            path.exists(),
            "the {SNAPSHOT_EVERY}th command writes a snapshot"
        );
        let snap = parse_snapshot(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(snap.version, SNAPSHOT_EVERY);
        assert_eq!(image(&store).version(), SNAPSHOT_EVERY);
    }
}
