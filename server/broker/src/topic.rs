//! Topics and their partitions: settings, the partition logs, appends, the high watermark and
//! long-poll fetches.
//!
//! Owns one topic's partitions, what readers may see of them (everything below the high
//! watermark, never a record at or past it) and the wake-up of waiting fetches. Must not know
//! tenants' credentials or any transport: callers hand in validated names and bytes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;
use weir_codec::batch::BatchHeader;
use weir_log::{AppendInfo, FlushPolicy, INITIAL_LEADER_EPOCH, Log, LogConfig, ReadSlice};

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

/// The leader epoch of every partition of a single node: it never changes leader.
pub const SINGLE_NODE_LEADER_EPOCH: i32 = INITIAL_LEADER_EPOCH;

/// A partition's log, the idempotent producer state derived from it and its high watermark,
/// behind one lock so that a batch's sequence check, its append, its record and the high
/// watermark's advance are one step, and a read sees a high watermark and the log agree.
#[derive(Debug)]
struct Locked {
    log: Log,
    producers: Producers,
    /// Offsets below it are readable: every in-sync replica holds them. Never decreases;
    /// between the log start and the log end offset.
    high_watermark: i64,
    /// Where tests hold the in-sync replicas' end (a replica that has not caught up yet).
    #[cfg(test)]
    in_sync_end_held: Option<i64>,
}

impl Locked {
    /// `log start <= HW <= LEO`: what every change of the log or of the high watermark keeps,
    /// and what reads cut at the high watermark rely on.
    fn assert_offsets(&self) {
        let (start, leo) = (self.log.log_start_offset(), self.log.log_end_offset());
        assert!(
            start <= self.high_watermark && self.high_watermark <= leo,
            "high watermark {} outside the log [{start}, {leo}]",
            self.high_watermark
        );
    }
}

/// One partition: its log, its high watermark (HW: what readers may see) and log end offset
/// (LEO: what the log holds), each with a watch channel. Consumers, reads and long polls
/// use the HW; replica fetchers (replication) will wait on the LEO.
#[derive(Debug)]
pub struct Partition {
    index: u32,
    log: Mutex<Locked>,
    /// Mirrors `Locked::high_watermark`; wakes fetches, live tails and `Acks::All` producers.
    high_watermark: watch::Sender<i64>,
    /// The log end offset after each append.
    log_end: watch::Sender<i64>,
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
    /// Batches the partition's leader on another node sent, read whole (after `slices`;
    /// empty for a partition hosted here).
    pub remote: Bytes,
    /// The total length in bytes of `slices` and `remote`.
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
        batches.extend_from_slice(&self.remote);
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
        let leo = log.log_end_offset();
        // A single node's in-sync set is itself: everything its log holds is committed. (A
        // cluster will start from a checkpointed HW and let followers' fetches advance it.)
        let high_watermark = leo;
        let labels = [
            ("tenant", owner.0.to_string()),
            ("topic", owner.1.to_string()),
            ("partition", index.to_string()),
        ];
        let locked = Locked {
            log,
            producers,
            high_watermark,
            #[cfg(test)]
            in_sync_end_held: None,
        };
        locked.assert_offsets();
        let partition = Partition {
            index,
            log: Mutex::new(locked),
            high_watermark: watch::channel(high_watermark).0,
            log_end: watch::channel(leo).0,
            labels,
        };
        partition.begin_leader_epoch(SINGLE_NODE_LEADER_EPOCH)?;
        Ok(partition)
    }

    /// Leads the partition from `epoch` on: the batches appended from now on are stamped with
    /// it, and `leader-epoch-checkpoint` records where it began (a no-op for an epoch that is
    /// not newer). The cluster will call this when this node becomes the leader; a single
    /// node only ever calls it with `SINGLE_NODE_LEADER_EPOCH`.
    pub(crate) fn begin_leader_epoch(&self, epoch: i32) -> Result<(), BrokerError> {
        self.lock().log.begin_epoch(epoch)?;
        Ok(())
    }

    /// The leader epoch stamped on the batches appended now.
    pub fn leader_epoch(&self) -> i32 {
        self.lock().log.leader_epoch()
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

    /// Appends one validated batch, assigning its offsets, advances the high watermark as far
    /// as the in-sync replicas allow (on one node: to the new log end, at once) and wakes
    /// waiting fetches. A batch with a producer id is checked against the producer's
    /// sequence first: a duplicate of a recent batch is answered with that batch's offsets
    /// and not written again.
    pub fn append(&self, batch: &[u8]) -> Result<AppendInfo, BrokerError> {
        let header = BatchHeader::parse(batch)?;
        let mut locked = self.lock();
        if let Check::Duplicate(info) = locked.producers.check(&header)? {
            return Ok(info);
        }
        locked.assert_offsets();
        let leo_before = locked.log.log_end_offset();
        let info = locked.log.append(batch)?;
        let leo = locked.log.log_end_offset();
        assert!(
            info.base_offset == leo_before && leo == info.last_offset + 1,
            "batch {}..={} appended at log end {leo_before}, now {leo}",
            info.base_offset,
            info.last_offset
        );
        let stored = BatchHeader {
            base_offset: info.base_offset,
            ..header
        };
        locked.producers.record(&stored, info);
        self.log_end.send_replace(leo);
        let in_sync_end = Self::in_sync_end(&locked);
        if in_sync_end > locked.high_watermark {
            self.advance_high_watermark(&mut locked, in_sync_end);
        }
        locked.assert_offsets();
        drop(locked);
        // The log takes only batches of at least one record, so `records` is at least 1.
        let records = u64::try_from(info.last_offset - info.base_offset + 1).unwrap_or(0);
        metrics::counter!("weir_records_in_total", &self.labels).increment(records);
        let bytes = u64::try_from(batch.len()).unwrap_or(u64::MAX);
        metrics::counter!("weir_bytes_in_total", &self.labels).increment(bytes);
        Ok(info)
    }

    /// The offset every in-sync replica's log reaches. The partition's in-sync set is just
    /// itself on one node, so that is its own log end offset.
    fn in_sync_end(locked: &Locked) -> i64 {
        #[cfg(test)]
        if let Some(held) = locked.in_sync_end_held {
            return held.min(locked.log.log_end_offset());
        }
        locked.log.log_end_offset()
    }

    /// Moves the high watermark up to `to`, making the records below it visible to readers,
    /// and wakes everything waiting on it (long polls, live tails, `Acks::All` producers).
    /// The only place the high watermark changes.
    fn advance_high_watermark(&self, locked: &mut Locked, to: i64) {
        let (start, leo) = (locked.log.log_start_offset(), locked.log.log_end_offset());
        assert!(
            to >= locked.high_watermark,
            "the high watermark never decreases: {} to {to}",
            locked.high_watermark
        );
        assert!(
            start <= to && to <= leo,
            "high watermark {to} outside the log [{start}, {leo}]"
        );
        locked.high_watermark = to;
        self.high_watermark.send_replace(to);
    }

    /// Holds the in-sync replicas' end at `held` (`None`: each append advances the high
    /// watermark again) and advances the high watermark to it when it is higher: a replica
    /// lagging, then catching up.
    #[cfg(test)]
    pub(crate) fn hold_in_sync_end(&self, held: Option<i64>) {
        let mut locked = self.lock();
        locked.in_sync_end_held = held;
        let in_sync_end = Self::in_sync_end(&locked);
        if in_sync_end > locked.high_watermark {
            self.advance_high_watermark(&mut locked, in_sync_end);
        }
    }

    /// A receiver that sees every change of the partition's high watermark (for live tails
    /// that wait on several partitions at once).
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.high_watermark.subscribe()
    }

    /// A receiver that sees every change of the partition's log end offset, ahead of the high
    /// watermark: what replica fetchers will wait on. Not for consumers.
    pub fn subscribe_log_end(&self) -> watch::Receiver<i64> {
        self.log_end.subscribe()
    }

    /// Offset after the last record readers may see.
    pub fn high_watermark(&self) -> i64 {
        *self.high_watermark.borrow()
    }

    /// Offset the next appended record will get (at or above the high watermark). Not for
    /// consumers: records from the high watermark on are not theirs to see yet.
    pub fn log_end_offset(&self) -> i64 {
        *self.log_end.borrow()
    }

    /// Waits until the high watermark passes `last_offset`: every in-sync replica holds the
    /// record there. On one node it has already when `append` returns.
    pub async fn committed(&self, last_offset: i64) {
        if self.high_watermark() > last_offset {
            return;
        }
        let mut rx = self.high_watermark.subscribe();
        // `self` holds the sender, so the wait ends only when the high watermark passes.
        let _ = rx.wait_for(|&hw| hw > last_offset).await;
    }

    /// Current offsets, as readers see them.
    pub fn offsets(&self) -> PartitionOffsets {
        Self::offsets_of(&self.lock())
    }

    fn offsets_of(locked: &Locked) -> PartitionOffsets {
        locked.assert_offsets();
        PartitionOffsets {
            log_start_offset: locked.log.log_start_offset(),
            high_watermark: locked.high_watermark,
            size_bytes: locked.log.size_bytes(),
        }
    }

    /// The first offset whose record is at or after `timestamp`, `None` if none is below the
    /// high watermark.
    pub fn offset_for_timestamp(&self, timestamp: i64) -> Result<Option<i64>, BrokerError> {
        let locked = self.lock();
        let found = locked.log.offset_for_timestamp(timestamp)?;
        Ok(found.filter(|&offset| offset < locked.high_watermark))
    }

    /// Finds whole batches from `offset`, up to `max_bytes` (always at least one batch when
    /// there is one below the high watermark), leaving the bytes where they are (see
    /// `FetchedSlices`). When nothing is there yet, waits up to `wait` for the high watermark
    /// to pass `offset`.
    pub async fn fetch(
        &self,
        offset: i64,
        max_bytes: usize,
        wait: Duration,
    ) -> Result<FetchedSlices, BrokerError> {
        let mut found = self.read_slices(offset, max_bytes)?;
        if found.len > 0 || wait.is_zero() {
            return Ok(found);
        }
        let deadline = tokio::time::Instant::now() + wait;
        let mut rx = self.high_watermark.subscribe();
        loop {
            // Nothing readable below the high watermark of that read: wait for it to pass
            // both that and `offset` (a high watermark inside a batch leaves the whole batch
            // out until it passes the batch's end, so a read can come back empty again).
            let seen = found.offsets.high_watermark.max(offset);
            let waited = tokio::time::timeout_at(deadline, rx.wait_for(|&hw| hw > seen)).await;
            found = self.read_slices(offset, max_bytes)?;
            // Out of time, or the partition is being dropped (topic deleted): answer with
            // what there is.
            if found.len > 0 || !matches!(waited, Ok(Ok(_))) {
                return Ok(found);
            }
        }
    }

    /// Reads without waiting. Bytes are copied out of the page cache after the lock is released.
    pub fn read(&self, offset: i64, max_bytes: usize) -> Result<Fetched, BrokerError> {
        self.read_slices(offset, max_bytes)?.read()
    }

    /// Finds the whole batches from `offset` on, up to `max_bytes` (always at least one batch
    /// when there is one), without reading them; none at or past the high watermark, even
    /// when the log holds it. Counts them as read: they are about to be.
    pub fn read_slices(&self, offset: i64, max_bytes: usize) -> Result<FetchedSlices, BrokerError> {
        let mut slices = Vec::new();
        let mut len = 0;
        let mut next = offset;
        let offsets = loop {
            let (slice, offsets) = {
                let locked = self.lock();
                let offsets = Self::offsets_of(&locked);
                let room = max_bytes - len.min(max_bytes);
                let slice = locked.log.read_up_to(next, room, offsets.high_watermark)?;
                (slice, offsets)
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
        let bytes = u64::try_from(len).unwrap_or(u64::MAX);
        metrics::counter!("weir_bytes_out_total", &self.labels).increment(bytes);
        metrics::counter!("weir_records_out_total", &self.labels)
            .increment(u64::try_from(records).unwrap_or(0));
        Ok(FetchedSlices {
            slices,
            remote: Bytes::new(),
            len,
            next_offset: next,
            offsets,
        })
    }

    fn set_config(&self, config: LogConfig) -> Result<(), BrokerError> {
        Ok(self.lock().log.set_config(config)?)
    }

    /// Runs retention (never past the high watermark, so the log start stays at or below it)
    /// and a due flush. Returns the number of segments deleted.
    pub fn maintain(&self) -> Result<usize, BrokerError> {
        let locked = &mut *self.lock();
        locked.log.flush_if_due()?;
        let deleted = locked.log.apply_retention_up_to(locked.high_watermark)?;
        assert!(
            locked.log.log_start_offset() <= locked.high_watermark,
            "retention passed the high watermark"
        );
        Ok(deleted.segments_deleted)
    }

    /// Flushes and writes the clean-shutdown marker; later writes are refused.
    pub fn shutdown(&self) -> Result<(), BrokerError> {
        Ok(self.lock().log.shutdown()?)
    }
}

/// Where one partition of a topic is, as this node sees it.
#[derive(Debug, Clone)]
pub enum Slot {
    /// Hosted on this node.
    Local(Arc<Partition>),
    /// On another node: its leader, or `None` when no node leads it now (offline).
    Remote {
        /// The node that leads it.
        leader: Option<u32>,
    },
}

/// Where the metadata puts one partition, for this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// This node hosts it.
    Here,
    /// Another node leads it (`None`: none now).
    Elsewhere(Option<u32>),
}

/// A topic: a tenant-scoped name, settings and partitions.
#[derive(Debug)]
pub struct Topic {
    id: u64,
    tenant: TenantId,
    name: TopicName,
    dir: PathBuf,
    config: RwLock<TopicConfig>,
    partitions: RwLock<Vec<Slot>>,
    /// Round-robin position for records without a key or partition.
    next_unkeyed: AtomicU32,
}

impl Topic {
    /// Opens (creating when new) the directories `dir/<p>` of the partitions placed here.
    pub(crate) fn open(
        id: u64,
        tenant: TenantId,
        name: TopicName,
        dir: PathBuf,
        placements: &[Placement],
        config: TopicConfig,
    ) -> Result<Self, BrokerError> {
        let topic = Topic {
            id,
            tenant,
            name,
            dir,
            config: RwLock::new(config),
            partitions: RwLock::new(Vec::new()),
            next_unkeyed: AtomicU32::new(0),
        };
        topic.place(placements)?;
        Ok(topic)
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

    /// Number of partitions (hosted here or not).
    pub fn partition_count(&self) -> u32 {
        let parts = self.partitions.read().unwrap_or_else(|p| p.into_inner());
        // Partitions are placed by u32 index only (`place`).
        u32::try_from(parts.len()).expect("partition counts fit in u32")
    }

    /// The partitions hosted on this node, in order (all of them on a node that hosts
    /// everything).
    pub fn partitions(&self) -> Vec<Arc<Partition>> {
        let parts = self.partitions.read().unwrap_or_else(|p| p.into_inner());
        parts
            .iter()
            .filter_map(|s| match s {
                Slot::Local(p) => Some(p.clone()),
                Slot::Remote { .. } => None,
            })
            .collect()
    }

    /// Where partition `index` is.
    pub fn slot(&self, index: i64) -> Result<Slot, BrokerError> {
        let parts = self.partitions.read().unwrap_or_else(|p| p.into_inner());
        usize::try_from(index)
            .ok()
            .and_then(|i| parts.get(i).cloned())
            .ok_or_else(|| BrokerError::PartitionNotFound {
                topic: self.name.to_string(),
                partition: index,
            })
    }

    /// One partition hosted here; `NotLeader` for one led elsewhere.
    pub fn partition(&self, index: i64) -> Result<Arc<Partition>, BrokerError> {
        match self.slot(index)? {
            Slot::Local(p) => Ok(p),
            Slot::Remote { leader } => Err(BrokerError::NotLeader {
                topic: self.name.to_string(),
                partition: index,
                leader,
            }),
        }
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

    /// Brings the partitions in step with `placements` (one per partition; partitions are
    /// only ever added): opens those newly placed here (before taking the lock lookups
    /// take), and records where the others are. A partition that moved away is closed here
    /// (its directory stays).
    pub(crate) fn place(&self, placements: &[Placement]) -> Result<(), BrokerError> {
        let current = self
            .partitions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let to_open: Vec<u32> = (0u32..)
            .zip(placements)
            .filter(|&(i, p)| {
                let now = usize::try_from(i).ok().and_then(|i| current.get(i));
                *p == Placement::Here && !matches!(now, Some(Slot::Local(_)))
            })
            .map(|(i, _)| i)
            .collect();
        let log_config = self.config().log_config();
        let owner = (&self.tenant, &self.name);
        let mut opened = open_partitions(&self.dir, to_open, &log_config, owner)?.into_iter();
        let mut parts = self.partitions.write().unwrap_or_else(|p| p.into_inner());
        assert!(placements.len() >= parts.len(), "partitions are only added");
        parts.resize(placements.len(), Slot::Remote { leader: None });
        for (slot, placement) in parts.iter_mut().zip(placements) {
            match (placement, &*slot) {
                (Placement::Here, Slot::Local(_)) => {}
                (Placement::Here, Slot::Remote { .. }) => {
                    *slot = Slot::Local(opened.next().expect("opened every partition placed here"));
                }
                (Placement::Elsewhere(leader), _) => *slot = Slot::Remote { leader: *leader },
            }
        }
        Ok(())
    }
}

/// Opens partitions `indexes` of the topic in `dir`, several at a time (each open waits on
/// the disk far more than it computes).
fn open_partitions(
    dir: &Path,
    indexes: Vec<u32>,
    config: &LogConfig,
    owner: (&TenantId, &TopicName),
) -> Result<Vec<Arc<Partition>>, BrokerError> {
    let opened = crate::parallel::map(indexes, |p| {
        Partition::open(dir.join(p.to_string()), p, config.clone(), owner).map(Arc::new)
    });
    opened.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use weir_codec::batch::{BatchOptions, Record, batches, encode};

    use super::*;

    fn partition(dir: &Path) -> Arc<Partition> {
        let owner = (
            &TenantId::parse("t").unwrap(),
            &TopicName::parse("x").unwrap(),
        );
        Arc::new(Partition::open(dir.join("0"), 0, LogConfig::default(), owner).unwrap())
    }

    /// `count` records timestamped `ts, ts + 1, ...`.
    fn batch(count: usize, ts: i64) -> Vec<u8> {
        let records: Vec<Record> = (0..count)
            .map(|i| Record {
                value: Some(Bytes::from(format!("v{i}"))),
                timestamp: ts + i as i64,
                ..Record::default()
            })
            .collect();
        encode(&records, &BatchOptions::default()).unwrap()
    }

    /// (base offset, next offset, leader epoch) of each fetched batch.
    fn fetched(slices: FetchedSlices) -> Vec<(i64, i64, i32)> {
        let bytes = slices.read().unwrap().batches;
        batches(&bytes)
            .map(|b| {
                let (h, _) = b.unwrap();
                (h.base_offset, h.next_offset(), h.partition_leader_epoch)
            })
            .collect()
    }

    #[tokio::test]
    async fn readers_see_only_what_is_below_the_high_watermark() {
        let dir = tempfile::tempdir().unwrap();
        let p = partition(dir.path());
        assert_eq!(p.leader_epoch(), SINGLE_NODE_LEADER_EPOCH);
        p.append(&batch(2, 100)).unwrap();
        assert_eq!((p.high_watermark(), p.log_end_offset()), (2, 2));
        // A replica has only what is there now: the log goes on, the HW stays.
        p.hold_in_sync_end(Some(2));
        p.append(&batch(3, 200)).unwrap();
        p.append(&batch(1, 300)).unwrap();
        assert_eq!((p.high_watermark(), p.log_end_offset()), (2, 6));
        assert_eq!(p.offsets().high_watermark, 2);

        let all = p.fetch(0, 1 << 20, Duration::ZERO).await.unwrap();
        assert_eq!((all.next_offset, all.offsets.high_watermark), (2, 2));
        assert_eq!(fetched(all), [(0, 2, 0)]);
        for offset in [2, 3, 6] {
            let none = p.fetch(offset, 1 << 20, Duration::ZERO).await.unwrap();
            assert_eq!((none.len, none.next_offset), (0, offset), "at {offset}");
            assert!(p.read(offset, 1 << 20).unwrap().batches.is_empty());
        }
        assert!(
            p.fetch(7, 1024, Duration::ZERO).await.is_err(),
            "past the log"
        );
        assert_eq!(p.offset_for_timestamp(100).unwrap(), Some(0));
        assert_eq!(p.offset_for_timestamp(200).unwrap(), None, "past the HW");

        // The HW inside a batch: none of that batch is readable yet.
        p.hold_in_sync_end(Some(3));
        assert_eq!(p.offsets().high_watermark, 3);
        assert_eq!(p.fetch(2, 1 << 20, Duration::ZERO).await.unwrap().len, 0);

        // A long poll at the HW (and a live tail's watch) wait for the HW, not the LEO.
        let mut tail = p.subscribe();
        tail.borrow_and_update();
        let mut leo = p.subscribe_log_end();
        leo.borrow_and_update();
        let waiter = {
            let p = Arc::clone(&p);
            tokio::spawn(async move { p.fetch(2, 1 << 20, Duration::from_secs(30)).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        p.append(&batch(1, 400)).unwrap();
        assert!(leo.has_changed().unwrap(), "the LEO moved");
        assert_eq!(*leo.borrow_and_update(), 7);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !waiter.is_finished(),
            "a LEO change does not wake a consumer"
        );
        assert!(!tail.has_changed().unwrap());
        p.hold_in_sync_end(Some(5));
        let woken = tokio::time::timeout(Duration::from_secs(10), waiter)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(woken.offsets.high_watermark, 5);
        assert_eq!(fetched(woken), [(2, 5, 0)]);
        assert_eq!(*tail.borrow_and_update(), 5);

        // The HW never goes back; released, it catches up with the log at once.
        p.hold_in_sync_end(Some(1));
        assert_eq!(p.high_watermark(), 5);
        p.hold_in_sync_end(None);
        assert_eq!((p.high_watermark(), p.log_end_offset()), (7, 7));
        let rest = p.fetch(5, 1 << 20, Duration::ZERO).await.unwrap();
        assert_eq!(fetched(rest), [(5, 6, 0), (6, 7, 0)]);
    }

    #[tokio::test]
    async fn a_producer_waiting_for_the_high_watermark_is_answered_when_it_passes() {
        let dir = tempfile::tempdir().unwrap();
        let p = partition(dir.path());
        p.hold_in_sync_end(Some(0));
        let info = p.append(&batch(3, 1)).unwrap();
        let waiter = {
            let p = Arc::clone(&p);
            tokio::spawn(async move { p.committed(info.last_offset).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished());
        p.hold_in_sync_end(Some(2));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "offset 2 is not below HW 2");
        p.hold_in_sync_end(Some(3));
        tokio::time::timeout(Duration::from_secs(10), waiter)
            .await
            .unwrap()
            .unwrap();
    }

    #[test]
    fn retention_stops_at_the_high_watermark() {
        let dir = tempfile::tempdir().unwrap();
        let p = partition(dir.path());
        let config = LogConfig {
            retention_bytes: Some(1),
            ..LogConfig::default()
        };
        p.set_config(config).unwrap();
        p.hold_in_sync_end(Some(0));
        for ts in 0..3 {
            p.append(&batch(2, ts)).unwrap();
            p.lock().log.roll().unwrap();
        }
        assert_eq!(p.maintain().unwrap(), 0, "nothing below the HW to delete");
        p.hold_in_sync_end(Some(4));
        assert_eq!(p.maintain().unwrap(), 2);
        assert_eq!(p.offsets().log_start_offset, 4);
        assert_eq!(p.offsets().high_watermark, 4);
    }
}
