//! Producing plain records (the REST path): choose each record's partition, build one batch
//! per partition, append, and report each record's position or error in request order.
//!
//! Owns record-level limits and the partitioning rule for the server side. Must not parse JSON:
//! the api layer turns request bodies into `NewRecord`s.

use bytes::Bytes;
use weir_codec::batch::{BatchOptions, Header, Record, encode};
use weir_codec::partitioner::partition_for_key;

use crate::topic::Topic;
use crate::{BrokerError, Limits};

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

/// Produces `records` to `topic`; one result per record, in request order.
pub(crate) fn produce_records(
    topic: &Topic,
    records: Vec<NewRecord>,
    limits: &Limits,
    now_ms: i64,
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
            Ok(p) => by_partition[p as usize].push((
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
    let batch_max = topic.config().batch_bytes_max as usize;
    for (p, entries) in by_partition.into_iter().enumerate() {
        for chunk in split_by_size(entries, batch_max) {
            append_chunk(topic, p as u32, chunk, &mut results);
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
    topic: &Topic,
    partition: u32,
    chunk: Vec<(usize, Record)>,
    results: &mut [Option<Result<RecordPosition, BrokerError>>],
) {
    let (indexes, records): (Vec<usize>, Vec<Record>) = chunk.into_iter().unzip();
    let outcome = encode(&records, &BatchOptions::default())
        .map_err(BrokerError::from)
        .and_then(|batch| topic.partition(i64::from(partition))?.append(&batch));
    for (n, &i) in indexes.iter().enumerate() {
        results[i] = Some(match &outcome {
            Ok(info) => Ok(RecordPosition {
                partition,
                offset: info.base_offset + n as i64,
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
        other => BrokerError::Internal(other.to_string()),
    }
}
