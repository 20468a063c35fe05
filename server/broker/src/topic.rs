//! Topics and their partitions: settings, the partition logs, appends and long-poll fetches.
//!
//! Owns one topic's partitions and the wake-up of waiting fetches. Must not know tenants'
//! credentials or any transport: callers hand in validated names and bytes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use tokio::sync::watch;
use weir_codec::batch::BatchHeader;
use weir_log::{AppendInfo, FlushPolicy, Log, LogConfig, ReadSlice};

use crate::producers::{Check, Producers};
use crate::{BrokerError, TenantId, TopicName};

/// Default retention by age: 7 days, as Kafka.
pub const RETENTION_MS_DEFAULT: u64 = 7 * 24 * 3600 * 1000;

/// Per-topic settings. Every field has a default and is checked by `validate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicConfig {
    /// Delete segments whose newest record is older than this; `None` keeps them forever.
    pub retention_ms: Option<u64>,
    /// Delete the oldest segments while a partition is larger than this; `None` = no limit.
    pub retention_bytes: Option<u64>,
    /// Roll a segment before it grows past this many bytes.
    pub segment_bytes: u64,
    /// Roll a segment when its first append is this old.
    pub segment_ms: u64,
    /// Largest batch a producer may send.
    pub batch_bytes_max: u32,
    /// fdatasync after every this many records (`None`: on roll and close only; the page cache
    /// and the clean-shutdown path keep the rest).
    pub flush_records: Option<u64>,
    /// fdatasync when this many milliseconds passed since the last one.
    pub flush_ms: Option<u64>,
}

impl Default for TopicConfig {
    fn default() -> Self {
        TopicConfig {
            retention_ms: Some(RETENTION_MS_DEFAULT),
            retention_bytes: None,
            segment_bytes: weir_log::SEGMENT_BYTES_DEFAULT,
            segment_ms: weir_log::SEGMENT_MS_DEFAULT,
            batch_bytes_max: weir_log::BATCH_BYTES_MAX_DEFAULT,
            flush_records: None,
            flush_ms: None,
        }
    }
}

impl TopicConfig {
    /// The log settings this topic gives each of its partitions.
    pub fn log_config(&self) -> LogConfig {
        let flush = match (self.flush_records, self.flush_ms) {
            (Some(1), _) => FlushPolicy::EveryAppend,
            (Some(n), _) => FlushPolicy::EveryRecords(n),
            (None, Some(ms)) => FlushPolicy::EveryMs(ms),
            (None, None) => FlushPolicy::Never,
        };
        LogConfig {
            segment_bytes: self.segment_bytes,
            segment_ms: self.segment_ms,
            batch_bytes_max: self.batch_bytes_max,
            retention_ms: self.retention_ms,
            retention_bytes: self.retention_bytes,
            flush,
            ..LogConfig::default()
        }
    }

    /// Checks every setting against its bounds.
    pub fn validate(&self) -> Result<(), BrokerError> {
        if self.flush_records.is_some() && self.flush_ms.is_some() {
            return Err(BrokerError::InvalidConfig {
                name: "flush_records".into(),
                reason: "set flush_records or flush_ms, not both".into(),
            });
        }
        self.log_config().validate().map_err(BrokerError::from)
    }
}

/// A partition's log and the idempotent producer state derived from it, behind one lock so
/// that a batch's sequence check, its append and its record are one step.
#[derive(Debug)]
struct Locked {
    log: Log,
    producers: Producers,
}

/// One partition: its log and a signal that wakes fetches waiting for new records.
#[derive(Debug)]
pub struct Partition {
    index: u32,
    log: Mutex<Locked>,
    end: watch::Sender<i64>,
    /// tenant, topic, partition: the labels of this partition's metrics.
    labels: [(&'static str, String); 3],
}

/// Offsets of a partition at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionOffsets {
    /// First offset still stored.
    pub log_start_offset: i64,
    /// Offset after the last record readers may see.
    pub high_watermark: i64,
    /// Bytes stored.
    pub size_bytes: u64,
}

/// Whole batches of a partition, found but not yet read: the caller copies them straight into
/// its output (`ReadSlice::read_to`, one positioned read each) after every lock is released,
/// or turns them into bytes with `read`.
#[derive(Debug, Clone)]
pub struct FetchedSlices {
    /// Byte ranges of segment files, in offset order; possibly none.
    pub slices: Vec<ReadSlice>,
    /// Their total length in bytes.
    pub len: usize,
    /// Where the next fetch continues.
    pub next_offset: i64,
    /// Offsets of the partition when the slices were cut.
    pub offsets: PartitionOffsets,
}

impl FetchedSlices {
    /// Reads the slices into one buffer.
    pub fn read(self) -> Result<Fetched, BrokerError> {
        let mut batches = Vec::with_capacity(self.len);
        for slice in &self.slices {
            slice
                .read_into(&mut batches)
                .map_err(|e| BrokerError::StorageUnavailable(e.to_string()))?;
        }
        Ok(Fetched {
            batches,
            next_offset: self.next_offset,
            offsets: self.offsets,
        })
    }
}

/// Whole batches read from a partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// Concatenated RecordBatch v2 bytes, possibly empty.
    pub batches: Vec<u8>,
    /// Where the next fetch continues.
    pub next_offset: i64,
    /// Offsets of the partition when the read was made.
    pub offsets: PartitionOffsets,
}

impl Partition {
    fn open(
        dir: PathBuf,
        index: u32,
        config: LogConfig,
        owner: (&TenantId, &TopicName),
    ) -> Result<Self, BrokerError> {
        let log = Log::open(dir, config)?;
        if let Some(cut) = &log.recovery_report().truncated {
            tracing::warn!(partition = index, dir = %log.dir().display(), %cut, "recovery cut a torn tail");
        }
        let producers = Producers::rebuild(&log)?;
        if producers.len() > 0 {
            tracing::debug!(
                partition = index,
                producers = producers.len(),
                "producer state rebuilt"
            );
        }
        let (end, _) = watch::channel(log.log_end_offset());
        let labels = [
            ("tenant", owner.0.to_string()),
            ("topic", owner.1.to_string()),
            ("partition", index.to_string()),
        ];
        Ok(Partition {
            index,
            log: Mutex::new(Locked { log, producers }),
            end,
            labels,
        })
    }

    /// The partition number.
    pub fn index(&self) -> u32 {
        self.index
    }

    fn lock(&self) -> MutexGuard<'_, Locked> {
        // A panic while holding the lock cannot leave the log half-updated in memory in a way
        // reads would trust less than the file itself, so a poisoned mutex is still usable.
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends one validated batch, assigning its offsets, and wakes waiting fetches. A batch
    /// with a producer id is checked against the producer's sequence first: a duplicate of a
    /// recent batch is answered with that batch's offsets and not written again.
    pub fn append(&self, batch: &[u8]) -> Result<AppendInfo, BrokerError> {
        let header = BatchHeader::parse(batch)?;
        let mut locked = self.lock();
        if let Check::Duplicate(info) = locked.producers.check(&header)? {
            return Ok(info);
        }
        let info = locked.log.append(batch)?;
        let stored = BatchHeader {
            base_offset: info.base_offset,
            ..header
        };
        locked.producers.record(&stored, info);
        self.end.send_replace(locked.log.log_end_offset());
        drop(locked);
        let records = (info.last_offset - info.base_offset + 1) as u64;
        metrics::counter!("weir_records_in_total", &self.labels).increment(records);
        metrics::counter!("weir_bytes_in_total", &self.labels).increment(batch.len() as u64);
        Ok(info)
    }

    /// A receiver that sees every change of the partition's end offset (for live tails that
    /// wait on several partitions at once).
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.end.subscribe()
    }

    /// Current offsets.
    pub fn offsets(&self) -> PartitionOffsets {
        let log = &self.lock().log;
        PartitionOffsets {
            log_start_offset: log.log_start_offset(),
            high_watermark: log.log_end_offset(),
            size_bytes: log.size_bytes(),
        }
    }

    /// The first offset whose record is at or after `timestamp`, `None` if none is.
    pub fn offset_for_timestamp(&self, timestamp: i64) -> Result<Option<i64>, BrokerError> {
        Ok(self.lock().log.offset_for_timestamp(timestamp)?)
    }

    /// Finds whole batches from `offset`, up to `max_bytes` (always at least one batch when
    /// there is one), leaving the bytes where they are (see `FetchedSlices`). When nothing is
    /// there yet, waits up to `wait` for records to arrive.
    pub async fn fetch(
        &self,
        offset: i64,
        max_bytes: usize,
        wait: Duration,
    ) -> Result<FetchedSlices, BrokerError> {
        let found = self.read_slices(offset, max_bytes)?;
        if found.len > 0 || wait.is_zero() {
            return Ok(found);
        }
        let mut rx = self.end.subscribe();
        // Errors mean the partition is being dropped (topic deleted): answer with what we have.
        let _ = tokio::time::timeout(wait, rx.wait_for(|&end| end > offset)).await;
        self.read_slices(offset, max_bytes)
    }

    /// Reads without waiting. Bytes are copied out of the page cache after the lock is released.
    pub fn read(&self, offset: i64, max_bytes: usize) -> Result<Fetched, BrokerError> {
        self.read_slices(offset, max_bytes)?.read()
    }

    /// Finds the whole batches from `offset` on, up to `max_bytes` (always at least one batch
    /// when there is one), without reading them. Counts them as read: they are about to be.
    pub fn read_slices(&self, offset: i64, max_bytes: usize) -> Result<FetchedSlices, BrokerError> {
        let mut slices = Vec::new();
        let mut len = 0;
        let mut next = offset;
        let offsets = loop {
            let (slice, offsets) = {
                let locked = self.lock();
                let log = &locked.log;
                let offsets = PartitionOffsets {
                    log_start_offset: log.log_start_offset(),
                    high_watermark: log.log_end_offset(),
                    size_bytes: log.size_bytes(),
                };
                (log.read(next, max_bytes - len.min(max_bytes))?, offsets)
            };
            let room = max_bytes.saturating_sub(len);
            let fits = len == 0 || slice.len() <= room;
            if slice.is_empty() || !fits {
                break offsets;
            }
            next = slice.next_offset();
            len += slice.len();
            slices.push(slice);
            if len >= max_bytes || next >= offsets.high_watermark {
                break offsets;
            }
        };
        // Offsets are dense (nothing is compacted), so a run of whole batches holds exactly
        // as many records as the offsets it spans.
        let records: i64 = slices
            .iter()
            .map(|s| s.next_offset() - s.first_offset())
            .sum();
        metrics::counter!("weir_bytes_out_total", &self.labels).increment(len as u64);
        metrics::counter!("weir_records_out_total", &self.labels)
            .increment(u64::try_from(records).unwrap_or(0));
        Ok(FetchedSlices {
            slices,
            len,
            next_offset: next,
            offsets,
        })
    }

    fn set_config(&self, config: LogConfig) -> Result<(), BrokerError> {
        Ok(self.lock().log.set_config(config)?)
    }

    /// Runs retention and a due flush. Returns the number of segments deleted.
    pub fn maintain(&self) -> Result<usize, BrokerError> {
        let log = &mut self.lock().log;
        log.flush_if_due()?;
        Ok(log.apply_retention()?.segments_deleted)
    }

    /// Flushes and writes the clean-shutdown marker; later writes are refused.
    pub fn shutdown(&self) -> Result<(), BrokerError> {
        Ok(self.lock().log.shutdown()?)
    }
}

/// A topic: a tenant-scoped name, settings and partitions.
#[derive(Debug)]
pub struct Topic {
    id: u64,
    tenant: TenantId,
    name: TopicName,
    dir: PathBuf,
    config: RwLock<TopicConfig>,
    partitions: RwLock<Vec<Arc<Partition>>>,
    /// Round-robin position for records without a key or partition.
    next_unkeyed: AtomicU32,
}

impl Topic {
    /// Opens (creating when new) the partition directories `dir/0`, `dir/1`, ...
    pub(crate) fn open(
        id: u64,
        tenant: TenantId,
        name: TopicName,
        dir: PathBuf,
        partitions: u32,
        config: TopicConfig,
    ) -> Result<Self, BrokerError> {
        let log_config = config.log_config();
        let parts = open_partitions(&dir, 0..partitions, &log_config, (&tenant, &name))?;
        Ok(Topic {
            id,
            tenant,
            name,
            dir,
            config: RwLock::new(config),
            partitions: RwLock::new(parts),
            next_unkeyed: AtomicU32::new(0),
        })
    }

    /// Internal id; names the topic's directory.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Owning tenant.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// Topic name.
    pub fn name(&self) -> &TopicName {
        &self.name
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Current settings.
    pub fn config(&self) -> TopicConfig {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Number of partitions.
    pub fn partition_count(&self) -> u32 {
        self.partitions().len() as u32
    }

    /// All partitions, in order.
    pub fn partitions(&self) -> Vec<Arc<Partition>> {
        self.partitions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// One partition.
    pub fn partition(&self, index: i64) -> Result<Arc<Partition>, BrokerError> {
        let parts = self.partitions.read().unwrap_or_else(|p| p.into_inner());
        usize::try_from(index)
            .ok()
            .and_then(|i| parts.get(i).cloned())
            .ok_or_else(|| BrokerError::PartitionNotFound {
                topic: self.name.to_string(),
                partition: index,
            })
    }

    /// The next partition for a record with neither key nor partition.
    pub(crate) fn next_round_robin(&self, partitions: u32) -> u32 {
        self.next_unkeyed.fetch_add(1, Ordering::Relaxed) % partitions
    }

    /// Applies new settings to every partition.
    pub(crate) fn set_config(&self, config: TopicConfig) -> Result<(), BrokerError> {
        let log_config = config.log_config();
        for p in self.partitions() {
            p.set_config(log_config.clone())?;
        }
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = config;
        Ok(())
    }

    /// Opens partitions up to `count` (never fewer: partitions are only ever added).
    pub(crate) fn grow(&self, count: u32) -> Result<(), BrokerError> {
        let log_config = self.config().log_config();
        let mut parts = self.partitions.write().unwrap_or_else(|p| p.into_inner());
        let have = u32::try_from(parts.len()).expect("partition counts fit in u32");
        let owner = (&self.tenant, &self.name);
        parts.extend(open_partitions(&self.dir, have..count, &log_config, owner)?);
        Ok(())
    }
}

/// Opens partitions `range` of the topic in `dir`, several at a time (each open waits on the
/// disk far more than it computes).
fn open_partitions(
    dir: &Path,
    range: std::ops::Range<u32>,
    config: &LogConfig,
    owner: (&TenantId, &TopicName),
) -> Result<Vec<Arc<Partition>>, BrokerError> {
    let opened = crate::parallel::map(range.collect(), |p| {
        Partition::open(dir.join(p.to_string()), p, config.clone(), owner).map(Arc::new)
    });
    opened.into_iter().collect()
}
