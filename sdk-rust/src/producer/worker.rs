//! One partition's sender: gathers records into a batch (linger, batch_bytes), encodes and
//! compresses it, pipelines up to `max_in_flight` batches on one ProduceStream, and settles
//! every record's delivery (acknowledged, retried with backoff, or failed).
//!
//! With idempotence, every batch carries the producer id, epoch and the partition's next
//! sequence; a retry resends the same bytes. When a batch fails for good its sequence may be
//! missing on the server, so the worker takes a new producer id before it encodes another.
//!
//! Owns the batch lifecycle of one partition: open → ready → in flight → settled. Must not
//! choose partitions or block on anything but its own queue, stream and timers; it never
//! panics on a misbehaving server (an out-of-order or missing response breaks the stream and
//! its batches are retried).

use std::collections::VecDeque;
use std::future::pending;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot};
use tokio::time::{Instant, sleep_until};
use weir_proto::ErrorCode;
use weir_proto::batch::{BatchOptions, Record, encode};
use weir_proto::v1::produce_request::Payload;
use weir_proto::v1::{ProduceRequest, ProduceResponse};

use super::idempotence::Identity;
use super::metadata::Metadata;
use super::{BatchMetadata, ProducerConfig, RETRY_BACKOFF_MAX, RecordMetadata};
use crate::Error;
use crate::connection::Connection;
use crate::produce_call::ProduceResponses;

/// The delivery end of one record.
type DeliverySender = oneshot::Sender<Result<RecordMetadata, Error>>;

/// A record on its way to its partition's worker.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) record: Record,
    pub(crate) size: usize,
    pub(crate) delivery: DeliverySender,
    /// Buffer space, given back when the record is settled.
    pub(crate) _permit: OwnedSemaphorePermit,
}

/// A whole encoded batch on its way to its partition's worker (`Producer::send_batch`).
#[derive(Debug)]
pub(crate) struct PendingBatch {
    pub(crate) bytes: Bytes,
    /// Records in it (from its header).
    pub(crate) records: usize,
    pub(crate) delivery: oneshot::Sender<Result<BatchMetadata, Error>>,
    /// Buffer space, given back when the batch is settled.
    pub(crate) _permit: OwnedSemaphorePermit,
}

/// What a worker is asked to do.
#[derive(Debug)]
pub(crate) enum Msg {
    /// Add a record to the open batch.
    Record(Pending),
    /// Send an encoded batch after everything queued before it.
    Batch(PendingBatch),
    /// Send the open batch now; answer once every earlier record is settled.
    Flush(oneshot::Sender<()>),
}

/// A record's delivery, waiting for its batch's outcome.
#[derive(Debug)]
struct Waiter {
    delivery: DeliverySender,
    timestamp: i64,
    _permit: OwnedSemaphorePermit,
}

/// The batch being filled.
#[derive(Debug, Default)]
struct Open {
    records: Vec<Record>,
    waiters: Vec<Waiter>,
    bytes: usize,
    started: Option<Instant>,
}

/// Who waits for a batch's outcome: each record of a batch the worker built, or the sender of
/// a whole batch.
#[derive(Debug)]
enum Waiters {
    Records(Vec<Waiter>),
    Batch {
        delivery: oneshot::Sender<Result<BatchMetadata, Error>>,
        records: usize,
        _permit: OwnedSemaphorePermit,
    },
}

/// An encoded batch.
#[derive(Debug)]
struct Batch {
    id: u64,
    bytes: Bytes,
    waiters: Waiters,
    deadline: Instant,
    attempts: u32,
    sent_at: Instant,
}

/// An open ProduceStream.
#[derive(Debug)]
struct Stream {
    requests: mpsc::Sender<ProduceRequest>,
    responses: ProduceResponses,
}

/// What woke the worker.
#[derive(Debug)]
enum Event {
    Msg(Option<Msg>),
    Response(Option<Result<ProduceResponse, Error>>),
    ResponseOverdue,
    Timer,
}

/// The sender of one (topic, partition).
#[derive(Debug)]
pub(crate) struct Worker {
    conn: Connection,
    config: Arc<ProducerConfig>,
    metadata: Arc<Metadata>,
    topic: String,
    partition: u32,
    /// Producer id, epoch and next sequence; `None` without idempotence.
    identity: Option<Identity>,
    /// A batch failed for good: take a new producer id before encoding the next batch.
    identity_stale: bool,
    rx: mpsc::Receiver<Msg>,
    rx_open: bool,
    next_id: u64,
    open: Open,
    ready: VecDeque<Batch>,
    inflight: VecDeque<Batch>,
    stream: Option<Stream>,
    retry_at: Option<Instant>,
    flushes: Vec<(u64, oneshot::Sender<()>)>,
}

impl Worker {
    pub(crate) fn new(
        conn: Connection,
        config: Arc<ProducerConfig>,
        metadata: Arc<Metadata>,
        topic: String,
        partition: u32,
        identity: Option<Identity>,
        rx: mpsc::Receiver<Msg>,
    ) -> Self {
        Worker {
            conn,
            config,
            metadata,
            topic,
            partition,
            identity,
            identity_stale: false,
            rx,
            rx_open: true,
            next_id: 1,
            open: Open::default(),
            ready: VecDeque::new(),
            inflight: VecDeque::new(),
            stream: None,
            retry_at: None,
            flushes: Vec::new(),
        }
    }

    /// Runs until the producer is gone (or closed) and every record is settled.
    pub(crate) async fn run(mut self) {
        loop {
            if self.identity_stale {
                self.renew_identity().await;
            }
            self.ship().await;
            self.finish_flushes();
            if !self.rx_open && self.idle() {
                return;
            }
            match self.next_event().await {
                Event::Msg(Some(Msg::Record(p))) => self.add(p),
                Event::Msg(Some(Msg::Batch(b))) => self.add_batch(b),
                Event::Msg(Some(Msg::Flush(done))) => self.flush(done),
                Event::Msg(None) => self.rx_open = false,
                Event::Response(r) => self.on_response(r),
                Event::ResponseOverdue => {
                    let after = self.conn.request_timeout();
                    self.break_stream(Error::Timeout {
                        what: "produce response",
                        after,
                    });
                }
                Event::Timer => {}
            }
        }
    }

    /// Takes a new producer id (sequences restart at 0). If the server cannot give one, the
    /// open batch fails: it could not be numbered.
    async fn renew_identity(&mut self) {
        match Identity::init(&self.conn).await {
            Ok(identity) => {
                self.identity = Some(identity);
                self.identity_stale = false;
            }
            Err(e) => {
                tracing::debug!(topic = %self.topic, partition = self.partition, error = %e, "cannot renew the producer id");
                let open = std::mem::take(&mut self.open);
                settle_all(Waiters::Records(open.waiters), &e);
            }
        }
    }

    fn idle(&self) -> bool {
        self.open.records.is_empty() && self.ready.is_empty() && self.inflight.is_empty()
    }

    async fn next_event(&mut self) -> Event {
        let timer = self.wake_at();
        let overdue = self
            .inflight
            .front()
            .map(|b| b.sent_at + self.conn.request_timeout());
        let rx = self.rx_open.then_some(&mut self.rx);
        let responses = match self.inflight.is_empty() {
            true => None,
            false => self.stream.as_mut().map(|s| &mut s.responses),
        };
        tokio::select! {
            msg = recv(rx) => Event::Msg(msg),
            r = message(responses) => Event::Response(r),
            () = sleep_opt(overdue) => Event::ResponseOverdue,
            () = sleep_opt(timer) => Event::Timer,
        }
    }

    fn linger_deadline(&self) -> Option<Instant> {
        self.open.started.map(|s| s + self.config.linger)
    }

    /// When the worker must wake up with nothing else happening: when the open batch is due
    /// and could go out (at once if it is due already), or when a retry's backoff ends. An
    /// open batch that cannot go out yet waits for a response or the retry instead.
    fn wake_at(&self) -> Option<Instant> {
        let linger = self.linger_deadline().filter(|_| self.can_close());
        match (linger, self.retry_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether `ship` may close the open batch now: nothing waits before it and a slot is
    /// free, so it is sent as soon as it is closed.
    fn can_close(&self) -> bool {
        self.ready.is_empty()
            && self.inflight.len() < self.config.max_in_flight
            && self.retry_at.is_none()
    }

    fn add(&mut self, p: Pending) {
        let open = &self.open;
        if !open.records.is_empty() && open.bytes + p.size > self.config.batch_bytes {
            self.close_open();
        }
        let open = &mut self.open;
        open.started.get_or_insert_with(Instant::now);
        open.bytes += p.size;
        open.waiters.push(Waiter {
            delivery: p.delivery,
            timestamp: p.record.timestamp,
            _permit: p._permit,
        });
        open.records.push(p.record);
        if open.bytes >= self.config.batch_bytes {
            self.close_open();
        }
    }

    /// Queues a whole batch behind the open one, numbered like any other with idempotence.
    fn add_batch(&mut self, b: PendingBatch) {
        self.close_open();
        if self.identity_stale {
            // `run` could not renew the producer id: the batch cannot be numbered.
            let e = Error::Closed("producer id (InitProducer failed)");
            let _ = b.delivery.send(Err(e));
            return;
        }
        let bytes = match &mut self.identity {
            None => b.bytes,
            Some(identity) => {
                let sequence = identity.take(b.records);
                let mut stamped = BytesMut::from(&b.bytes[..]);
                weir_proto::batch::set_producer(
                    &mut stamped,
                    identity.producer_id,
                    identity.epoch,
                    sequence,
                );
                stamped.freeze()
            }
        };
        let id = self.next_id;
        self.next_id += 1;
        let now = Instant::now();
        self.ready.push_back(Batch {
            id,
            bytes,
            waiters: Waiters::Batch {
                delivery: b.delivery,
                records: b.records,
                _permit: b._permit,
            },
            deadline: now + self.config.delivery_timeout,
            attempts: 0,
            sent_at: now,
        });
    }

    fn flush(&mut self, done: oneshot::Sender<()>) {
        self.close_open();
        self.flushes.push((self.next_id - 1, done));
    }

    /// Answers flushes whose batches are all settled.
    fn finish_flushes(&mut self) {
        // An open batch still held back (see `close_open`) will get `next_id`.
        let held = (!self.open.records.is_empty()).then_some(self.next_id);
        let oldest = self
            .ready
            .iter()
            .chain(&self.inflight)
            .map(|b| b.id)
            .chain(held)
            .min()
            .unwrap_or(u64::MAX);
        let (done, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.flushes)
            .into_iter()
            .partition(|(id, _)| *id < oldest);
        self.flushes = waiting;
        for (_, tx) in done {
            let _ = tx.send(());
        }
    }

    /// Encodes the open batch and queues it for sending. Held back while the producer id is
    /// stale: `run` renews it first.
    fn close_open(&mut self) {
        if self.identity_stale {
            return;
        }
        let open = std::mem::take(&mut self.open);
        let Some(started) = open.started else {
            return;
        };
        let mut options = BatchOptions {
            compression: self.config.compression,
            ..BatchOptions::default()
        };
        if let Some(identity) = &mut self.identity {
            options.producer_id = identity.producer_id;
            options.producer_epoch = identity.epoch;
            options.base_sequence = identity.take(open.records.len());
        }
        let bytes = match encode(&open.records, &options) {
            Ok(bytes) => Bytes::from(bytes),
            Err(e) => {
                let error = Error::InvalidArgument(format!("cannot encode batch: {e}"));
                return settle_all(Waiters::Records(open.waiters), &error);
            }
        };
        let id = self.next_id;
        self.next_id += 1;
        self.ready.push_back(Batch {
            id,
            bytes,
            waiters: Waiters::Records(open.waiters),
            deadline: started + self.config.delivery_timeout,
            attempts: 0,
            sent_at: started,
        });
    }

    /// Closes the open batch when it is due and sends ready batches while slots are free.
    async fn ship(&mut self) {
        let now = Instant::now();
        if self.retry_at.is_some_and(|t| t <= now) {
            self.retry_at = None;
        }
        let due = self.linger_deadline().is_some_and(|d| d <= now) || !self.rx_open;
        if due && self.can_close() {
            self.close_open();
        }
        while self.retry_at.is_none() && self.inflight.len() < self.config.max_in_flight {
            let Some(batch) = self.ready.pop_front() else {
                return;
            };
            if now >= batch.deadline {
                self.identity_stale = self.identity.is_some();
                let after = self.config.delivery_timeout;
                settle_all(
                    batch.waiters,
                    &Error::Timeout {
                        what: "delivery",
                        after,
                    },
                );
                continue;
            }
            self.send(batch).await;
        }
    }

    async fn send(&mut self, mut batch: Batch) {
        if self.stream.is_none() {
            match self.open_stream().await {
                Ok(stream) => self.stream = Some(stream),
                Err(e) => return self.on_failure(batch, e),
            }
        }
        let request = ProduceRequest {
            tenant: self.conn.tenant().to_owned(),
            topic: self.topic.clone(),
            partition: i32::try_from(self.partition).unwrap_or(i32::MAX),
            acks: self.config.acks.wire().into(),
            payload: Some(Payload::Batch(batch.bytes.clone())),
            sequence: batch.id,
        };
        batch.sent_at = Instant::now();
        let sent = match &self.stream {
            Some(s) => s.requests.try_send(request).is_ok(),
            None => false,
        };
        self.inflight.push_back(batch);
        if !sent {
            let e = self.conn.stream_ended("the produce stream");
            self.break_stream(e);
        }
    }

    async fn open_stream(&self) -> Result<Stream, Error> {
        let (requests, responses) = self.conn.produce_stream(self.config.max_in_flight).await?;
        Ok(Stream {
            requests,
            responses,
        })
    }

    fn on_response(&mut self, r: Option<Result<ProduceResponse, Error>>) {
        let response = match r {
            Some(Ok(response)) => response,
            None => {
                let e = self.conn.stream_ended("the produce stream");
                return self.break_stream(e);
            }
            Some(Err(e)) => return self.break_stream(e),
        };
        let Some(batch) = self.inflight.pop_front() else {
            return self.break_stream(Error::Corrupt("unexpected produce response".into()));
        };
        if response.sequence != batch.id {
            self.inflight.push_front(batch);
            let e = format!("produce response {} out of order", response.sequence);
            return self.break_stream(Error::Corrupt(e));
        }
        match response.error {
            Some(detail) => self.on_failure(batch, Error::from_detail(&detail)),
            None => self.complete(batch, response.base_offset),
        }
    }

    fn complete(&self, batch: Batch, base_offset: i64) {
        let waiters = match batch.waiters {
            Waiters::Records(waiters) => waiters,
            Waiters::Batch {
                delivery, records, ..
            } => {
                let (base, last) = match base_offset {
                    b if b >= 0 => (b, b + records as i64 - 1),
                    _ => (-1, -1),
                };
                let _ = delivery.send(Ok(BatchMetadata {
                    topic: self.topic.clone(),
                    partition: self.partition,
                    base_offset: base,
                    last_offset: last,
                }));
                return;
            }
        };
        for (i, w) in waiters.into_iter().enumerate() {
            let offset = match base_offset {
                b if b >= 0 => b + i as i64,
                _ => -1,
            };
            let _ = w.delivery.send(Ok(RecordMetadata {
                topic: self.topic.clone(),
                partition: self.partition,
                offset,
                timestamp: w.timestamp,
            }));
        }
    }

    /// Retries a failed batch (first in line, after a backoff) or fails its records.
    fn on_failure(&mut self, mut batch: Batch, error: Error) {
        if matches!(
            error.code(),
            Some(ErrorCode::PartitionNotFound | ErrorCode::TopicNotFound)
        ) {
            self.metadata.invalidate(&self.topic);
        }
        let now = Instant::now();
        if !self.worth_retrying(&batch, &error) || now >= batch.deadline {
            // Its sequence may now be missing on the server: later batches need a new id.
            self.identity_stale = self.identity.is_some();
            return settle_all(batch.waiters, &error);
        }
        batch.attempts += 1;
        let wait = backoff(
            self.config.retry_backoff,
            batch.attempts,
            error.retry_after(),
        );
        let at = (now + wait).min(batch.deadline);
        self.retry_at = Some(self.retry_at.map_or(at, |t| t.max(at)));
        tracing::debug!(topic = %self.topic, partition = self.partition, %error, "retrying a batch");
        self.requeue(batch);
    }

    /// Retryable errors, and with idempotence an out-of-order refusal of a batch sent after
    /// one that is waiting for its retry (it failed only because that one is missing).
    fn worth_retrying(&self, batch: &Batch, error: &Error) -> bool {
        let behind_a_retry = self.identity.is_some()
            && error.code() == Some(ErrorCode::OutOfOrderSequence)
            && self.ready.front().is_some_and(|b| b.id < batch.id);
        error.is_retryable() || behind_a_retry
    }

    /// Puts a batch back in the ready queue in id (send) order.
    fn requeue(&mut self, batch: Batch) {
        let at = self
            .ready
            .iter()
            .position(|b| b.id > batch.id)
            .unwrap_or(self.ready.len());
        self.ready.insert(at, batch);
    }

    /// Drops the stream; its unanswered batches are retried in order (or failed).
    fn break_stream(&mut self, error: Error) {
        self.stream = None;
        let unanswered: Vec<Batch> = self.inflight.drain(..).collect();
        for batch in unanswered.into_iter().rev() {
            self.on_failure(batch, error.clone());
        }
    }
}

fn settle_all(waiters: Waiters, error: &Error) {
    match waiters {
        Waiters::Records(waiters) => {
            for w in waiters {
                let _ = w.delivery.send(Err(error.clone()));
            }
        }
        Waiters::Batch { delivery, .. } => {
            let _ = delivery.send(Err(error.clone()));
        }
    }
}

/// `base` doubled per earlier attempt, capped at `RETRY_BACKOFF_MAX`, never below what the
/// server asked for.
fn backoff(base: Duration, attempts: u32, server: Option<Duration>) -> Duration {
    let exp = base.saturating_mul(1 << attempts.saturating_sub(1).min(16));
    exp.min(RETRY_BACKOFF_MAX).max(server.unwrap_or_default())
}

async fn recv(rx: Option<&mut mpsc::Receiver<Msg>>) -> Option<Msg> {
    match rx {
        Some(rx) => rx.recv().await,
        None => pending().await,
    }
}

async fn message(s: Option<&mut ProduceResponses>) -> Option<Result<ProduceResponse, Error>> {
    match s {
        Some(s) => s.next().await,
        None => pending().await,
    }
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => pending().await,
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::Semaphore;

    use super::*;
    use crate::Admin;
    use crate::connection::ClientConfig;

    fn worker(config: ProducerConfig) -> (Worker, mpsc::Sender<Msg>) {
        let conn = Connection::unconnected(ClientConfig::default());
        let metadata = Arc::new(Metadata::new(Admin::from_connection(conn.clone())));
        let (tx, rx) = mpsc::channel(8);
        let worker = Worker::new(conn, Arc::new(config), metadata, "t".into(), 0, None, rx);
        (worker, tx)
    }

    fn record(
        buffer: &Arc<Semaphore>,
    ) -> (Pending, oneshot::Receiver<Result<RecordMetadata, Error>>) {
        let (delivery, rx) = oneshot::channel();
        let pending = Pending {
            record: Record {
                value: Some(Bytes::from_static(b"v")),
                ..Record::default()
            },
            size: 1,
            delivery,
            _permit: Arc::clone(buffer)
                .try_acquire_owned()
                .expect("buffer space"),
        };
        (pending, rx)
    }

    /// An open batch whose linger ended since the worker last looked must still wake it: the
    /// worker looks at the clock once to ship and again to wait, and a deadline falling
    /// between the two looks once left a partition's last batch unsent until the next flush.
    #[tokio::test]
    async fn an_open_batch_wakes_the_worker_when_due_even_if_due_already() {
        let linger = Duration::from_millis(5);
        let config = ProducerConfig {
            linger,
            ..ProducerConfig::default()
        };
        let (mut worker, _tx) = worker(config);
        let buffer = Arc::new(Semaphore::new(16));
        assert_eq!(
            worker.wake_at(),
            None,
            "nothing to send, nothing to wait for"
        );

        let (first, _delivery) = record(&buffer);
        worker.add(first);
        let due = worker.linger_deadline().expect("an open batch");
        assert!(due > Instant::now());
        assert_eq!(worker.wake_at(), Some(due));
        tokio::time::sleep_until(due + linger).await;
        assert_eq!(worker.wake_at(), Some(due), "due already: wake at once");

        // Waiting for a retry: the open batch goes out after it, so the retry wakes the worker.
        let retry = Instant::now() + Duration::from_secs(1);
        worker.retry_at = Some(retry);
        assert_eq!(worker.wake_at(), Some(retry));
        worker.retry_at = None;

        // Every slot taken: a response frees one and wakes the worker; no timer spins.
        for id in 0..worker.config.max_in_flight {
            let (pending, _delivery) = record(&buffer);
            worker.inflight.push_back(Batch {
                id: id as u64,
                bytes: Bytes::new(),
                waiters: Waiters::Records(vec![Waiter {
                    delivery: pending.delivery,
                    timestamp: 0,
                    _permit: pending._permit,
                }]),
                deadline: Instant::now() + Duration::from_secs(60),
                attempts: 0,
                sent_at: Instant::now(),
            });
        }
        assert_eq!(worker.wake_at(), None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_honors_the_server() {
        let base = Duration::from_millis(100);
        assert_eq!(backoff(base, 1, None), base);
        assert_eq!(backoff(base, 3, None), Duration::from_millis(400));
        assert_eq!(backoff(base, 30, None), RETRY_BACKOFF_MAX);
        let asked = Duration::from_secs(5);
        assert_eq!(backoff(base, 1, Some(asked)), asked);
    }
}
