//! `Producer`: sends records to partitions in batches, with per-record delivery futures.
//!
//! Owns the public producer API (builder, `send`, `flush`, `close`), the buffer bound with its
//! back-pressure, partition choice, and the map of per-partition workers (`worker.rs`), which
//! batch, compress, send and retry. Must not decode anything it sends or reorder records of a
//! partition before they reach the wire.
//!
//! Ordering and idempotence: each partition has one worker with one ProduceStream, on which
//! up to `max_in_flight` batches are pipelined; the server appends a stream's requests in
//! order, so records of a partition land in `send` order. With idempotence (the default) the
//! producer gets a producer id at build and numbers each partition's batches; a retried batch
//! is resent with the same bytes and sequence, so the server writes it once (a resend of a
//! stored batch is answered with its original offsets) and refuses a batch that would land
//! out of order; `max_in_flight` is then at most `IDEMPOTENT_IN_FLIGHT_MAX`, as in Kafka.
//! Without idempotence a retry after a lost response may duplicate records and, with
//! `max_in_flight > 1`, reorder them.

mod idempotence;
mod metadata;
mod partitioner;
mod worker;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::sync::{Semaphore, mpsc, oneshot};
use weir_proto::ErrorCode;
use weir_proto::batch::{Compression, Header, Record};

pub use idempotence::IDEMPOTENT_IN_FLIGHT_MAX;
pub use metadata::METADATA_MAX_AGE;
pub use partitioner::{DefaultPartitioner, Partitioner};

use crate::connection::{ClientConfig, Connection};
use crate::error::within;
use crate::{Admin, Error};
use idempotence::Identity;
use metadata::Metadata;
use worker::{Msg, Pending, PendingBatch, Worker};

/// Default wait for more records before a batch that is not full is sent.
pub const LINGER_DEFAULT: Duration = Duration::from_millis(5);
/// Default size at which a partition's batch is sent without waiting for `linger`.
pub const BATCH_BYTES_DEFAULT: usize = 256 << 10;
/// Default bound on the bytes of records sent but not yet acknowledged, all partitions.
pub const BUFFER_BYTES_DEFAULT: usize = 32 << 20;
/// Default number of batches one partition may have sent and not yet acknowledged.
pub const MAX_IN_FLIGHT_DEFAULT: usize = 5;
/// Default bound on the time from `send` to a record's final outcome, retries included.
pub const DELIVERY_TIMEOUT_DEFAULT: Duration = Duration::from_secs(120);
/// Default longest wait of `send` for buffer space or partition metadata.
pub const MAX_BLOCK_DEFAULT: Duration = Duration::from_secs(60);
/// First wait before a retry; it doubles per attempt up to `RETRY_BACKOFF_MAX`.
pub const RETRY_BACKOFF_DEFAULT: Duration = Duration::from_millis(100);
/// Longest wait between two attempts of one batch (unless the server asks for longer).
pub const RETRY_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// Bytes Kafka reserves per record for its length, deltas and varints in the size estimate.
pub const RECORD_OVERHEAD_BYTES: usize = 21;
/// Records (and flush requests) queued to one partition's worker before `send` waits.
pub const WORKER_QUEUE_MAX: usize = 1024;
/// Largest `batch_bytes`: the server's default `batch_bytes_max` is 8 MiB.
pub const BATCH_BYTES_MAX: usize = 8 << 20;

/// A map by topic name with a hasher cheaper than SipHash: the producer looks a topic up
/// several times per `send`, and topic names come from the application itself.
pub(crate) type TopicMap<V> = HashMap<String, V, foldhash::fast::RandomState>;

/// Per topic, the worker of each partition (by index).
type Workers = TopicMap<Vec<Option<mpsc::Sender<Msg>>>>;

/// When to acknowledge a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Acks {
    /// Fire and forget: offsets in `RecordMetadata` are -1 and append errors are not reported.
    None,
    /// Once the partition leader appended the batch.
    #[default]
    Leader,
    /// Once every in-sync replica has it.
    All,
}

impl std::str::FromStr for Acks {
    type Err = crate::options::UnknownName;

    /// `none`, `leader` or `all` in any ASCII case, or Kafka's numbers for them: `0`, `1`,
    /// `-1`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const NAMES: [(&str, Acks); 6] = [
            ("none", Acks::None),
            ("leader", Acks::Leader),
            ("all", Acks::All),
            ("0", Acks::None),
            ("1", Acks::Leader),
            ("-1", Acks::All),
        ];
        crate::options::by_name(&NAMES, s, "acks", "none, leader or all")
    }
}

impl Acks {
    fn wire(self) -> weir_proto::v1::Acks {
        match self {
            Acks::None => weir_proto::v1::Acks::None,
            Acks::Leader => weir_proto::v1::Acks::Leader,
            Acks::All => weir_proto::v1::Acks::All,
        }
    }
}

/// What `send` does when the buffer (`buffer_bytes`) is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenFull {
    /// Wait for room, up to `max_block`, then fail with `Error::Timeout`.
    #[default]
    Wait,
    /// Fail at once with `Error::BufferFull`.
    Fail,
}

impl std::str::FromStr for WhenFull {
    type Err = crate::options::UnknownName;

    /// `wait` or `fail`, in any ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const NAMES: [(&str, WhenFull); 2] = [("wait", WhenFull::Wait), ("fail", WhenFull::Fail)];
        crate::options::by_name(&NAMES, s, "when_full", "wait or fail")
    }
}

/// Every producer setting; `ProducerBuilder` fills it.
#[derive(Debug, Clone)]
pub struct ProducerConfig {
    /// Where to connect and as whom.
    pub client: ClientConfig,
    /// How long a partition's batch waits for more records before it is sent.
    pub linger: Duration,
    /// Size (estimated encoded bytes) at which a batch is sent without waiting for linger.
    pub batch_bytes: usize,
    /// Bound on the bytes of records sent but not yet acknowledged.
    pub buffer_bytes: usize,
    /// What `send` does when the buffer is full.
    pub when_full: WhenFull,
    /// Longest wait of `send` for buffer space.
    pub max_block: Duration,
    /// Batches one partition may have in flight.
    pub max_in_flight: usize,
    /// Codec for whole batches.
    pub compression: Compression,
    /// When the server acknowledges.
    pub acks: Acks,
    /// Bound on the time from `send` to a record's outcome, retries included.
    pub delivery_timeout: Duration,
    /// First wait before a retry (doubling per attempt up to `RETRY_BACKOFF_MAX`).
    pub retry_backoff: Duration,
    /// Number batches with a producer id and sequences so that retries never duplicate or
    /// reorder records (needs acks `Leader` or `All` and `max_in_flight` up to 5).
    pub idempotence: bool,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            client: ClientConfig::default(),
            linger: LINGER_DEFAULT,
            batch_bytes: BATCH_BYTES_DEFAULT,
            buffer_bytes: BUFFER_BYTES_DEFAULT,
            when_full: WhenFull::Wait,
            max_block: MAX_BLOCK_DEFAULT,
            max_in_flight: MAX_IN_FLIGHT_DEFAULT,
            compression: Compression::None,
            acks: Acks::Leader,
            delivery_timeout: DELIVERY_TIMEOUT_DEFAULT,
            retry_backoff: RETRY_BACKOFF_DEFAULT,
            idempotence: true,
        }
    }
}

impl ProducerConfig {
    fn check(&self) -> Result<(), Error> {
        let bad = |what: &str| Err(Error::InvalidArgument(what.to_owned()));
        if !(1..=BATCH_BYTES_MAX).contains(&self.batch_bytes) {
            return bad("batch_bytes must be between 1 and 8 MiB");
        }
        if self.buffer_bytes < self.batch_bytes {
            return bad("buffer_bytes must be at least batch_bytes");
        }
        if self.buffer_bytes > Semaphore::MAX_PERMITS {
            return bad("buffer_bytes is too large");
        }
        if self.max_in_flight == 0 {
            return bad("max_in_flight must be at least 1");
        }
        if self.delivery_timeout.is_zero() {
            return bad("delivery_timeout must be above 0");
        }
        if self.idempotence && self.max_in_flight > IDEMPOTENT_IN_FLIGHT_MAX {
            return bad("max_in_flight must be at most 5 with idempotence");
        }
        if self.idempotence && self.acks == Acks::None {
            return bad("idempotence needs acks leader or all");
        }
        Ok(())
    }
}

/// A record to send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProducerRecord {
    /// Topic to send to.
    pub topic: String,
    /// Key: records with the same key go to the same partition. `None` is Kafka's null key.
    pub key: Option<Bytes>,
    /// Value; `None` is a tombstone.
    pub value: Option<Bytes>,
    /// Headers, in order.
    pub headers: Vec<Header>,
    /// Explicit partition; it wins over the key.
    pub partition: Option<u32>,
    /// Milliseconds since the Unix epoch; the producer's clock when `None`.
    pub timestamp: Option<i64>,
}

impl ProducerRecord {
    /// A record with a value and nothing else.
    pub fn new(topic: impl Into<String>, value: impl Into<Bytes>) -> Self {
        ProducerRecord {
            topic: topic.into(),
            value: Some(value.into()),
            ..ProducerRecord::default()
        }
    }

    /// Sets the key.
    pub fn key(mut self, key: impl Into<Bytes>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets an explicit partition.
    pub fn partition(mut self, partition: u32) -> Self {
        self.partition = Some(partition);
        self
    }

    /// Sets the timestamp (ms since the Unix epoch).
    pub fn timestamp(mut self, timestamp: i64) -> Self {
        self.timestamp = Some(timestamp);
        self
    }

    /// Adds a header.
    pub fn header(mut self, key: impl Into<String>, value: impl Into<Bytes>) -> Self {
        self.headers.push(Header {
            key: key.into(),
            value: Some(value.into()),
        });
        self
    }

    /// Kafka's size estimate: key, value, headers and a fixed overhead.
    fn size(&self) -> usize {
        let len = |b: &Option<Bytes>| b.as_ref().map_or(0, Bytes::len);
        let headers: usize = self
            .headers
            .iter()
            .map(|h| h.key.len() + len(&h.value))
            .sum();
        RECORD_OVERHEAD_BYTES + len(&self.key) + len(&self.value) + headers
    }
}

/// Where a record landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMetadata {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// Offset; -1 under `Acks::None`.
    pub offset: i64,
    /// The record's timestamp (CreateTime).
    pub timestamp: i64,
}

/// Resolves once a record is acknowledged (or failed for good).
#[derive(Debug)]
#[must_use = "a delivery reports whether the record was stored"]
pub struct Delivery(oneshot::Receiver<Result<RecordMetadata, Error>>);

impl Future for Delivery {
    type Output = Result<RecordMetadata, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(Error::Closed("producer"))))
    }
}

/// Where a whole batch sent with `Producer::send_batch` was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchMetadata {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// Offset of the batch's first record; -1 under `Acks::None`.
    pub base_offset: i64,
    /// Offset of its last record; -1 under `Acks::None`.
    pub last_offset: i64,
}

/// Resolves once a batch sent with `Producer::send_batch` is acknowledged (or failed).
#[derive(Debug)]
#[must_use = "a delivery reports whether the batch was stored"]
pub struct BatchDelivery(oneshot::Receiver<Result<BatchMetadata, Error>>);

impl Future for BatchDelivery {
    type Output = Result<BatchMetadata, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(Error::Closed("producer"))))
    }
}

/// Builds a `Producer`; every setting has a default (see `ProducerConfig`).
#[derive(Debug, Default)]
pub struct ProducerBuilder {
    config: ProducerConfig,
    partitioner: Option<Arc<dyn Partitioner>>,
}

impl ProducerBuilder {
    /// gRPC address of a Weir node.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.config.client.url = url.into();
        self
    }
    /// Tenant to write to.
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.config.client.tenant = tenant.into();
        self
    }
    /// Bearer token or API key.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.config.client.token = Some(token.into());
        self
    }
    /// Bound on every unary call.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.client.request_timeout = timeout;
        self
    }
    /// How long a batch waits for more records.
    pub fn linger(mut self, linger: Duration) -> Self {
        self.config.linger = linger;
        self
    }
    /// Batch size that triggers a send.
    pub fn batch_bytes(mut self, bytes: usize) -> Self {
        self.config.batch_bytes = bytes;
        self
    }
    /// Bound on unacknowledged bytes.
    pub fn buffer_bytes(mut self, bytes: usize) -> Self {
        self.config.buffer_bytes = bytes;
        self
    }
    /// What `send` does on a full buffer.
    pub fn when_full(mut self, when_full: WhenFull) -> Self {
        self.config.when_full = when_full;
        self
    }
    /// Longest wait of `send` for buffer space.
    pub fn max_block(mut self, max_block: Duration) -> Self {
        self.config.max_block = max_block;
        self
    }
    /// Batches in flight per partition.
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.config.max_in_flight = n;
        self
    }
    /// Batch compression codec.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.config.compression = compression;
        self
    }
    /// Acknowledgement level.
    pub fn acks(mut self, acks: Acks) -> Self {
        self.config.acks = acks;
        self
    }
    /// Bound on a record's time to its outcome, retries included.
    pub fn delivery_timeout(mut self, timeout: Duration) -> Self {
        self.config.delivery_timeout = timeout;
        self
    }
    /// First retry backoff.
    pub fn retry_backoff(mut self, backoff: Duration) -> Self {
        self.config.retry_backoff = backoff;
        self
    }
    /// Idempotence (default on): retried batches are written once and in order.
    pub fn idempotence(mut self, on: bool) -> Self {
        self.config.idempotence = on;
        self
    }
    /// A custom partitioner for records without an explicit partition.
    pub fn partitioner(mut self, partitioner: impl Partitioner + 'static) -> Self {
        self.partitioner = Some(Arc::new(partitioner));
        self
    }
    /// All settings at once (keeps a partitioner set before).
    pub fn config(mut self, config: ProducerConfig) -> Self {
        self.config = config;
        self
    }

    /// Checks the settings and connects.
    pub async fn build(self) -> Result<Producer, Error> {
        self.config.check()?;
        let conn = Connection::open(self.config.client.clone()).await?;
        let identity = match self.config.idempotence {
            true => Some(Identity::init(&conn).await?),
            false => None,
        };
        let partitioner = self
            .partitioner
            .unwrap_or_else(|| Arc::new(DefaultPartitioner::new(self.config.batch_bytes)));
        let inner = Inner {
            buffer: Arc::new(Semaphore::new(self.config.buffer_bytes)),
            metadata: Arc::new(Metadata::new(Admin::from_connection(conn.clone()))),
            conn,
            identity,
            config: Arc::new(self.config),
            partitioner,
            workers: Mutex::new(Workers::default()),
            closed: AtomicBool::new(false),
        };
        Ok(Producer {
            inner: Arc::new(inner),
        })
    }
}

#[derive(Debug)]
struct Inner {
    conn: Connection,
    /// Producer id and epoch shared by every partition (each numbers its own sequences).
    identity: Option<Identity>,
    config: Arc<ProducerConfig>,
    partitioner: Arc<dyn Partitioner>,
    buffer: Arc<Semaphore>,
    metadata: Arc<Metadata>,
    /// Per topic, the worker of each partition (by index), so a record finds its worker
    /// with the topic name it carries, without building a key.
    workers: Mutex<Workers>,
    closed: AtomicBool,
}

/// Sends records in batches. Cheap to clone; clones share buffer, workers and connection.
#[derive(Debug, Clone)]
pub struct Producer {
    inner: Arc<Inner>,
}

impl Producer {
    /// A builder with default settings.
    pub fn builder() -> ProducerBuilder {
        ProducerBuilder::default()
    }

    /// Queues a record for its partition's next batch. Waits (up to `max_block`) while the
    /// buffer is full, unless `WhenFull::Fail`. The returned `Delivery` resolves once the
    /// record is acknowledged or failed for good.
    ///
    /// Fails here, before queueing, for a closed producer, a record larger than the buffer,
    /// an unknown topic (`TOPIC_NOT_FOUND`) or a full buffer.
    pub async fn send(&self, record: ProducerRecord) -> Result<Delivery, Error> {
        let inner = &self.inner;
        if inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed("producer"));
        }
        let size = record.size();
        let permit = self.reserve(size).await?;
        let partition = self.choose_partition(&record, size).await?;
        let (tx, rx) = oneshot::channel();
        let partition = match partition {
            Ok(p) => p,
            Err(e) => {
                let _ = tx.send(Err(e));
                return Ok(Delivery(rx));
            }
        };
        let pending = Pending {
            record: Record {
                key: record.key,
                value: record.value,
                headers: record.headers,
                timestamp: record.timestamp.unwrap_or_else(now_ms),
            },
            size,
            delivery: tx,
            _permit: permit,
        };
        self.queue(
            &record.topic,
            partition,
            Msg::Record(pending),
            "queueing a record",
        )
        .await?;
        Ok(Delivery(rx))
    }

    /// Queues one whole, already encoded RecordBatch v2 (e.g. from
    /// `weir_proto::batch::encode`, compressed as you like) for `partition`, behind every
    /// record queued there before. It is sent as it is, with the producer's acks, retries,
    /// in-flight bound and, with idempotence, this producer's id and the partition's next
    /// sequence stamped in (which costs one copy of the batch). For tools that build batches
    /// once and send them many times (`weir bench`), and for relaying batches unchanged.
    pub async fn send_batch(
        &self,
        topic: &str,
        partition: u32,
        batch: Bytes,
    ) -> Result<BatchDelivery, Error> {
        let inner = &self.inner;
        if inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed("producer"));
        }
        let header = weir_proto::batch::validate(&batch)
            .map_err(|e| Error::InvalidArgument(format!("not a whole RecordBatch v2: {e}")))?;
        let records = usize::try_from(header.records_count)
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| Error::InvalidArgument("the batch holds no records".into()))?;
        let count = inner.metadata.partitions(topic).await?;
        if partition >= count {
            return Err(Error::InvalidArgument(format!(
                "topic {topic:?} has {count} partitions; there is no partition {partition}"
            )));
        }
        let permit = self.reserve(batch.len()).await?;
        let (tx, rx) = oneshot::channel();
        let pending = PendingBatch {
            bytes: batch,
            records,
            delivery: tx,
            _permit: permit,
        };
        self.queue(topic, partition, Msg::Batch(pending), "queueing a batch")
            .await?;
        Ok(BatchDelivery(rx))
    }

    async fn reserve(&self, size: usize) -> Result<tokio::sync::OwnedSemaphorePermit, Error> {
        let config = &self.inner.config;
        if size > config.buffer_bytes {
            return Err(Error::InvalidArgument(format!(
                "record of about {size} bytes is larger than buffer_bytes {}",
                config.buffer_bytes
            )));
        }
        let permits = u32::try_from(size).unwrap_or(u32::MAX);
        let buffer = Arc::clone(&self.inner.buffer);
        // Space is free almost always: take it without arming a timer for the wait.
        match Arc::clone(&buffer).try_acquire_many_owned(permits) {
            Ok(permit) => return Ok(permit),
            Err(tokio::sync::TryAcquireError::Closed) => return Err(Error::Closed("producer")),
            Err(tokio::sync::TryAcquireError::NoPermits) if config.when_full == WhenFull::Fail => {
                return Err(Error::BufferFull {
                    buffer_bytes: config.buffer_bytes,
                });
            }
            Err(tokio::sync::TryAcquireError::NoPermits) => {}
        }
        let acquired = async {
            let permit = buffer.acquire_many_owned(permits).await;
            permit.map_err(|_| Error::Closed("producer"))
        };
        within(
            "waiting for producer buffer space",
            config.max_block,
            acquired,
        )
        .await
    }

    /// The partition of `record`: its own (checked against the topic's partitions, read
    /// again once when it looks too high, so a grown topic's new partitions are found), else
    /// the partitioner's choice. A partition the topic does not have is the inner `Err`: the
    /// server's PARTITION_NOT_FOUND, reported by the record's delivery.
    async fn choose_partition(
        &self,
        record: &ProducerRecord,
        size: usize,
    ) -> Result<Result<u32, Error>, Error> {
        let metadata = &self.inner.metadata;
        if let Some(p) = record.partition {
            let mut count = metadata.partitions(&record.topic).await?;
            if p >= count {
                metadata.invalidate(&record.topic);
                count = metadata.partitions(&record.topic).await?;
            }
            if p >= count {
                return Ok(Err(Error::Server {
                    code: ErrorCode::PartitionNotFound,
                    message: format!(
                        "topic {:?} has {count} partitions; there is no partition {p}",
                        record.topic
                    ),
                    retry_after: None,
                }));
            }
            return Ok(Ok(p));
        }
        let count = metadata.partitions(&record.topic).await?;
        let key = record.key.as_deref();
        let p = self
            .inner
            .partitioner
            .partition(&record.topic, key, size, count);
        if p >= count {
            return Err(Error::InvalidArgument(format!(
                "partitioner chose partition {p} of a topic with {count} partitions"
            )));
        }
        Ok(Ok(p))
    }

    /// Hands `msg` to the worker of `topic`'s `partition` (started on first use), waiting
    /// (up to `max_block`) only when its queue is full; a timer is armed only then. The
    /// common case takes one lock and clones nothing.
    async fn queue(
        &self,
        topic: &str,
        partition: u32,
        msg: Msg,
        what: &'static str,
    ) -> Result<(), Error> {
        let (worker, msg) = {
            let mut workers = self.inner.workers.lock().unwrap_or_else(|p| p.into_inner());
            let msg = match self.worker(&mut workers, topic, partition).try_send(msg) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::TrySendError::Full(msg)) => msg,
                // A worker that ended (none does while the producer is open) is replaced.
                Err(mpsc::error::TrySendError::Closed(msg)) => {
                    if self.inner.closed.load(Ordering::Acquire) {
                        return Err(Error::Closed("producer"));
                    }
                    remove_worker(&mut workers, topic, partition);
                    match self.worker(&mut workers, topic, partition).try_send(msg) {
                        Ok(()) => return Ok(()),
                        Err(mpsc::error::TrySendError::Closed(_)) => {
                            return Err(Error::Closed("producer"));
                        }
                        Err(mpsc::error::TrySendError::Full(msg)) => msg,
                    }
                }
            };
            (self.worker(&mut workers, topic, partition).clone(), msg)
        };
        let queued = async {
            let sent = worker.send(msg).await;
            sent.map_err(|_| Error::Closed("producer"))
        };
        within(what, self.inner.config.max_block, queued).await
    }

    /// The worker of a partition, started on first use.
    fn worker<'w>(
        &self,
        workers: &'w mut Workers,
        topic: &str,
        partition: u32,
    ) -> &'w mpsc::Sender<Msg> {
        let inner = &self.inner;
        let index = usize::try_from(partition).expect("a u32 fits in usize");
        if !workers.contains_key(topic) {
            workers.insert(topic.to_owned(), Vec::new());
        }
        let by_partition = workers.get_mut(topic).expect("inserted above");
        if by_partition.len() <= index {
            by_partition.resize(index + 1, None);
        }
        by_partition[index].get_or_insert_with(|| {
            let (tx, rx) = mpsc::channel(WORKER_QUEUE_MAX);
            let worker = Worker::new(
                inner.conn.clone(),
                Arc::clone(&inner.config),
                Arc::clone(&inner.metadata),
                topic.to_owned(),
                partition,
                inner.identity,
                rx,
            );
            tokio::spawn(worker.run());
            tx
        })
    }

    /// Sends every batch now (without waiting for linger) and waits until every record sent
    /// before this call is acknowledged or failed.
    pub async fn flush(&self) -> Result<(), Error> {
        let workers: Vec<mpsc::Sender<Msg>> = {
            let workers = self.inner.workers.lock().unwrap_or_else(|p| p.into_inner());
            workers.values().flatten().flatten().cloned().collect()
        };
        let mut waits = Vec::with_capacity(workers.len());
        for worker in workers {
            let (tx, rx) = oneshot::channel();
            if worker.send(Msg::Flush(tx)).await.is_ok() {
                waits.push(rx);
            }
        }
        for wait in waits {
            // A worker that ended has nothing left to flush.
            let _ = wait.await;
        }
        Ok(())
    }

    /// Flushes, then stops every worker; later `send`s fail with `Error::Closed`.
    pub async fn close(&self) -> Result<(), Error> {
        self.flush().await?;
        self.inner.closed.store(true, Ordering::Release);
        self.inner
            .workers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        Ok(())
    }
}

/// Forgets the worker of `topic`'s `partition`.
fn remove_worker(workers: &mut Workers, topic: &str, partition: u32) {
    let index = usize::try_from(partition).expect("a u32 fits in usize");
    if let Some(slot) = workers.get_mut(topic).and_then(|w| w.get_mut(index)) {
        *slot = None;
    }
}

/// Milliseconds since the Unix epoch by the local clock.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
