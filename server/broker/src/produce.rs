//! Producing: the acks a producer waits for, and plain records (the REST path): choose each
//! record's partition, build one batch per partition, append, and report each record's
//! position or error in request order.
//!
//! Owns what each `Acks` level waits for (every transport's answer follows it), record-level
//! limits and the partitioning rule for the server side. Must not parse JSON or know a
//! transport's acks encoding: the api layer turns request bodies into `NewRecord`s and its
//! acks values into `Acks`.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use weir_codec::batch::{BatchOptions, Header, Record, encode};
use weir_codec::partitioner::partition_for_key;

use crate::topic::{Partition, Topic};
use crate::{AppendInfo, BrokerError, Limits};

/// How far a produced batch must have gone before its producer is answered (Kafka's `acks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acks {
    /// Nobody waits: the transport answers before the append and never reports its outcome
    /// (it still calls the broker the same way, and drops what comes back).
    None,
    /// Once the leader's log holds the batch.
    Leader,
    /// Once every in-sync replica holds it: the partition's high watermark passed it. On one
    /// node that is as soon as the leader's log holds it.
    All,
}

/// A batch in the partition log: where it landed, and what its producer still waits for.
#[derive(Debug)]
#[must_use = "await `acknowledged` before answering the producer (only `Acks::None` drops it)"]
pub struct Produced {
    info: AppendInfo,
    /// The partition whose high watermark must pass the batch (`Acks::All` only).
    replicated_in: Option<Arc<Partition>>,
}

impl Produced {
    pub(crate) fn new(info: AppendInfo, acks: Acks, partition: Arc<Partition>) -> Produced {
        Produced {
            info,
            replicated_in: (acks == Acks::All).then_some(partition),
        }
    }

    /// A batch already as replicated as its acks asked (another node's leader answered).
    pub(crate) fn resolved(info: AppendInfo) -> Produced {
        Produced {
            info,
            replicated_in: None,
        }
    }

    /// Where the batch landed (its original offsets when it was a duplicate).
    pub fn info(&self) -> AppendInfo {
        self.info
    }

    /// Resolves once the batch is as replicated as its acks asked: at once for `Acks::Leader`
    /// and `Acks::None`, when the high watermark passes its last offset for `Acks::All`
    /// (an async wait on the partition's high watermark, never a blocked thread).
    pub async fn acknowledged(self) -> Result<AppendInfo, BrokerError> {
        if let Some(partition) = &self.replicated_in {
            partition.committed(self.info.last_offset).await;
        }
        Ok(self.info)
    }
}

/// Plain records in the partition logs: one result per record, and what their producer still
/// waits for.
#[derive(Debug)]
#[must_use = "await `acknowledged` before answering the producer (only `Acks::None` drops it)"]
pub struct ProducedRecords {
    results: Vec<Result<RecordPosition, BrokerError>>,
    /// Each partition written and its last offset written (`Acks::All` only).
    replicated_in: Vec<(Arc<Partition>, i64)>,
}

impl ProducedRecords {
    /// For `results` of records produced to `topic`, waiting as `acks` says.
    pub(crate) fn new(
        topic: &Topic,
        results: Vec<Result<RecordPosition, BrokerError>>,
        acks: Acks,
    ) -> ProducedRecords {
        let mut last: BTreeMap<u32, i64> = BTreeMap::new();
        if acks == Acks::All {
            for position in results.iter().flatten() {
                let offset = last.entry(position.partition).or_insert(position.offset);
                *offset = (*offset).max(position.offset);
            }
        }
        // Partitions are never removed, so each one just written is still there.
        let replicated_in = last
            .into_iter()
            .filter_map(|(p, offset)| Some((topic.partition(i64::from(p)).ok()?, offset)))
            .collect();
        ProducedRecords {
            results,
            replicated_in,
        }
    }

    /// One result per record, in request order.
    pub fn results(&self) -> &[Result<RecordPosition, BrokerError>] {
        &self.results
    }

    /// The results, for acks that wait for nothing more than the append.
    pub(crate) fn into_results(self) -> Vec<Result<RecordPosition, BrokerError>> {
        assert!(
            self.replicated_in.is_empty(),
            "records produced with Acks::All are answered through `acknowledged`"
        );
        self.results
    }

    /// Resolves with the results once every record is as replicated as the acks asked (see
    /// `Produced::acknowledged`).
    pub async fn acknowledged(
        self,
    ) -> Result<Vec<Result<RecordPosition, BrokerError>>, BrokerError> {
        for (partition, last_offset) in &self.replicated_in {
            partition.committed(*last_offset).await;
        }
        Ok(self.results)
    }
}

/// A record to produce, as a client sent it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewRecord {
    /// Key; records with the same key go to the same partition.
    pub key: Option<Bytes>,
    /// Value; `None` is a tombstone.
    pub value: Option<Bytes>,
    /// Headers in order.
    pub headers: Vec<Header>,
    /// Explicit partition; wins over the key.
    pub partition: Option<i64>,
    /// Milliseconds since the epoch; the broker's clock when absent.
    pub timestamp: Option<i64>,
}

impl NewRecord {
    /// Bytes the record carries: key, value, header names and values.
    pub fn payload_bytes(&self) -> usize {
        let len = |b: &Option<Bytes>| b.as_ref().map_or(0, Bytes::len);
        len(&self.key)
            + len(&self.value)
            + self
                .headers
                .iter()
                .map(|h| h.key.len() + len(&h.value))
                .sum::<usize>()
    }
}

/// Where a produced record landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordPosition {
    /// Partition chosen.
    pub partition: u32,
    /// Offset assigned.
    pub offset: i64,
    /// Timestamp stored.
    pub timestamp: i64,
}

/// Checks a record against `record_bytes_max` and `record_headers_max`.
pub fn check_record(record: &NewRecord, limits: &Limits) -> Result<(), BrokerError> {
    let size = record.payload_bytes();
    if size > limits.record_bytes_max {
        return Err(BrokerError::RecordTooLarge {
            size,
            max: limits.record_bytes_max,
        });
    }
    if record.headers.len() > limits.record_headers_max {
        return Err(BrokerError::InvalidRecord(format!(
            "{} headers exceed record_headers_max {}",
            record.headers.len(),
            limits.record_headers_max
        )));
    }
    Ok(())
}

/// Chooses a partition: explicit, else murmur2 of the key (Kafka's rule), else round robin.
pub(crate) fn choose_partition(
    topic: &Topic,
    record: &NewRecord,
    count: u32,
) -> Result<u32, BrokerError> {
    if let Some(p) = record.partition {
        return u32::try_from(p).ok().filter(|&p| p < count).ok_or_else(|| {
            BrokerError::PartitionNotFound {
                topic: topic.name().to_string(),
                partition: p,
            }
        });
    }
    match &record.key {
        Some(key) => partition_for_key(key, count)
            .map_err(|_| BrokerError::Internal("topic has no partitions".into())),
        None => Ok(topic.next_round_robin(count)),
    }
}

/// Appends one encoded batch to partition `p` (here, or on the node that leads it).
pub(crate) type Append<'a> = &'a dyn Fn(u32, &[u8]) -> Result<AppendInfo, BrokerError>;

/// Produces `records` to `topic` through `append`; one result per record, in request order.
pub(crate) fn produce_records(
    topic: &Topic,
    records: Vec<NewRecord>,
    limits: &Limits,
    now_ms: i64,
    append: Append<'_>,
) -> Vec<Result<RecordPosition, BrokerError>> {
    let count = topic.partition_count();
    let mut results: Vec<Option<Result<RecordPosition, BrokerError>>> =
        (0..records.len()).map(|_| None).collect();
    // Per partition: (request index, record) in request order.
    let mut by_partition: Vec<Vec<(usize, Record)>> = (0..count).map(|_| Vec::new()).collect();
    for (i, record) in records.into_iter().enumerate() {
        if let Err(e) = check_record(&record, limits) {
            results[i] = Some(Err(e));
            continue;
        }
        match choose_partition(topic, &record, count) {
            // `choose_partition` answers below `count`, a u32: an index on any target.
            Ok(p) => by_partition[usize::try_from(p).expect("u32 fits in usize")].push((
                i,
                Record {
                    key: record.key,
                    value: record.value,
                    headers: record.headers,
                    timestamp: record.timestamp.unwrap_or(now_ms),
                },
            )),
            Err(e) => results[i] = Some(Err(e)),
        }
    }
    let batch_max = usize::try_from(topic.config().batch_bytes_max).unwrap_or(usize::MAX);
    for (p, entries) in (0..count).zip(by_partition) {
        for chunk in split_by_size(entries, batch_max) {
            append_chunk(append, p, chunk, &mut results);
        }
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(BrokerError::Internal("record not produced".into()))))
        .collect()
}

/// Splits records into runs whose encoded batch stays under `batch_max` (estimated from the
/// payload plus per-record overhead; a single record always forms a run of its own).
fn split_by_size(entries: Vec<(usize, Record)>, batch_max: usize) -> Vec<Vec<(usize, Record)>> {
    const RECORD_OVERHEAD_BYTES: usize = 64;
    const BATCH_OVERHEAD_BYTES: usize = 128;
    let mut chunks = Vec::new();
    let mut current = Vec::new();
    let mut size = BATCH_OVERHEAD_BYTES;
    for (i, r) in entries {
        let len = |b: &Option<Bytes>| b.as_ref().map_or(0, Bytes::len);
        let rsize = len(&r.key)
            + len(&r.value)
            + r.headers
                .iter()
                .map(|h| h.key.len() + len(&h.value) + 10)
                .sum::<usize>()
            + RECORD_OVERHEAD_BYTES;
        if !current.is_empty() && size + rsize > batch_max {
            chunks.push(std::mem::take(&mut current));
            size = BATCH_OVERHEAD_BYTES;
        }
        size += rsize;
        current.push((i, r));
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

fn append_chunk(
    append: Append<'_>,
    partition: u32,
    chunk: Vec<(usize, Record)>,
    results: &mut [Option<Result<RecordPosition, BrokerError>>],
) {
    let (indexes, records): (Vec<usize>, Vec<Record>) = chunk.into_iter().unzip();
    let outcome = encode(&records, &BatchOptions::default())
        .map_err(BrokerError::from)
        .and_then(|batch| append(partition, &batch));
    // One offset per record, gapless: record `n` of the chunk is at `base_offset + n`.
    if let Ok(info) = &outcome {
        assert!(
            usize::try_from(info.last_offset - info.base_offset + 1) == Ok(records.len()),
            "{} records appended as offsets {}..={}",
            records.len(),
            info.base_offset,
            info.last_offset
        );
    }
    for ((n, &i), delta) in indexes.iter().enumerate().zip(0i64..) {
        results[i] = Some(match &outcome {
            Ok(info) => Ok(RecordPosition {
                partition,
                offset: info.base_offset + delta,
                timestamp: records[n].timestamp,
            }),
            Err(e) => Err(clone_error(e)),
        });
    }
}

/// The same error for each record of a failed batch.
fn clone_error(e: &BrokerError) -> BrokerError {
    match e {
        BrokerError::BatchTooLarge { size, max } => BrokerError::BatchTooLarge {
            size: *size,
            max: *max,
        },
        BrokerError::StorageUnavailable(m) => BrokerError::StorageUnavailable(m.clone()),
        BrokerError::ShuttingDown => BrokerError::ShuttingDown,
        BrokerError::NotLeader {
            topic,
            partition,
            leader,
        } => BrokerError::NotLeader {
            topic: topic.clone(),
            partition: *partition,
            leader: *leader,
        },
        BrokerError::Forwarded { code, message } => BrokerError::Forwarded {
            code: *code,
            message: message.clone(),
        },
        other => BrokerError::Internal(other.to_string()),
    }
}
