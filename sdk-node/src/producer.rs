//! `NativeProducer`: the addon face of `weir::Producer` (wrapped by `Producer` in
//! `lib/producer.js`).
//!
//! Owns the conversion of the JavaScript layer's record groups (columns: one buffer of keys,
//! one of values, typed arrays of lengths, partitions and timestamps) into `ProducerRecord`s,
//! the lazy connection (made by the first call that needs it, so `new Producer()` never
//! waits) and call order: each group is pushed, during the call itself, onto one queue that
//! a feeder task drains into the SDK, so records are queued in call order while the
//! JavaScript thread goes on converting the next group. Must not batch, partition, compress
//! or retry: `weir::Producer` does.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use bytes::Bytes;
use napi::bindgen_prelude::{Buffer, Float64Array, Int32Array, Uint32Array};
use napi::{Env, Result};
use napi_derive::napi;
use tokio::sync::{OnceCell, mpsc, oneshot};

use crate::config::{ProducerOptions, integer, partition};
use crate::error::{IntoNapi, invalid, to_napi};
use crate::runtime::{Cancel, Later, start};

/// One header of a record to send.
#[napi(object, object_to_js = false)]
pub struct HeaderIn {
    pub key: String,
    pub value: Option<Buffer>,
}

/// The headers of record `index` of a group.
#[napi(object, object_to_js = false)]
pub struct RecordHeaders {
    pub index: u32,
    pub headers: Vec<HeaderIn>,
}

impl std::fmt::Debug for HeaderIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeaderIn")
            .field("key", &self.key)
            .field("value_bytes", &self.value.as_ref().map(|v| v.len()))
            .finish()
    }
}

impl std::fmt::Debug for RecordHeaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordHeaders")
            .field("index", &self.index)
            .field("headers", &self.headers)
            .finish()
    }
}

/// A group of records to send, as columns (record `i` is row `i` of each): the JavaScript
/// layer has already turned strings and objects into bytes. A record's key and value bytes
/// follow those of the record before it in `keys` and `values`; a length of -1 means none.
#[napi(object, object_to_js = false)]
pub struct Group {
    /// The group's distinct topics.
    pub topics: Vec<String>,
    /// Per record, its topic's index in `topics`.
    pub topic: Uint32Array,
    pub keys: Buffer,
    pub key_len: Int32Array,
    pub values: Buffer,
    pub value_len: Int32Array,
    /// Per record, its partition; NaN: the partitioner chooses.
    pub partition: Float64Array,
    /// Per record, its timestamp (ms since the epoch); NaN: the producer's clock.
    pub timestamp: Float64Array,
    /// The headers of the records that have any.
    pub headers: Vec<RecordHeaders>,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("topics", &self.topics)
            .field("records", &self.topic.len())
            .field("key_bytes", &self.keys.len())
            .field("value_bytes", &self.values.len())
            .finish()
    }
}

/// Takes the next `len` bytes (-1: none) of a column, after `at`.
fn take(column: &Bytes, at: &mut usize, len: i32, what: &str) -> Result<Option<Bytes>> {
    let Ok(len) = usize::try_from(len) else {
        return Ok(None);
    };
    let end = at
        .checked_add(len)
        .filter(|&end| end <= column.len())
        .ok_or_else(|| invalid(format!("the {what} lengths run past their bytes")))?;
    let bytes = column.slice(*at..end);
    *at = end;
    Ok(Some(bytes))
}

impl Group {
    /// The group's records, each an SDK record or the reason it cannot be one (a rejection's
    /// message). Copies the key and value bytes once each (so no JavaScript memory is
    /// touched off its thread); a record's bytes are slices of those copies. Fails as a
    /// whole only for columns that do not fit together, which `lib/producer.js` never sends.
    fn records(self) -> Result<Vec<std::result::Result<weir::ProducerRecord, String>>> {
        let n = self.topic.len();
        let columns = [
            self.key_len.len(),
            self.value_len.len(),
            self.partition.len(),
            self.timestamp.len(),
        ];
        if columns.iter().any(|&len| len != n) {
            return Err(invalid("the columns of a send group differ in length"));
        }
        let mut headers: HashMap<usize, Vec<weir::Header>> = HashMap::new();
        for h in self.headers {
            let list = h.headers.into_iter().map(|h| weir::Header {
                key: h.key,
                value: h.value.map(|v| Bytes::copy_from_slice(&v)),
            });
            headers.insert(h.index as usize, list.collect());
        }
        let keys = Bytes::copy_from_slice(&self.keys);
        let values = Bytes::copy_from_slice(&self.values);
        let (mut key_at, mut value_at) = (0, 0);
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let key = take(&keys, &mut key_at, self.key_len[i], "key")?;
            let value = take(&values, &mut value_at, self.value_len[i], "value")?;
            let topic = self
                .topics
                .get(self.topic[i] as usize)
                .ok_or_else(|| invalid("a record names a topic the group does not have"))?;
            let (p, t) = (self.partition[i], self.timestamp[i]);
            let record = (|| {
                Ok(weir::ProducerRecord {
                    topic: topic.clone(),
                    key,
                    value,
                    headers: headers.remove(&i).unwrap_or_default(),
                    partition: (!p.is_nan()).then(|| partition(p)).transpose()?,
                    timestamp: (!t.is_nan()).then(|| integer(t, "timestamp")).transpose()?,
                })
            })();
            out.push(record.map_err(|e: napi::Error| e.reason));
        }
        Ok(out)
    }
}

/// A record of a group that did not get through, and why (a rejection's message,
/// `weir-error:{json}`).
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct Failed {
    pub index: u32,
    pub error: String,
}

/// What `sendMany` queued: its group number (for `delivered`) and the records the SDK
/// refused at once.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct Queued {
    pub group: u32,
    pub refused: Vec<Failed>,
}

/// The outcomes of a delivered group, as columns: where record `i` was stored (offset NaN:
/// it was refused when queued, or failed), and the records that failed.
#[napi(object, object_from_js = false)]
pub struct Delivered {
    pub partition: Uint32Array,
    /// -1 with `acks: "none"`.
    pub offset: Float64Array,
    pub timestamp: Float64Array,
    pub failed: Vec<Failed>,
}

impl std::fmt::Debug for Delivered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivered")
            .field("records", &self.offset.len())
            .field("failed", &self.failed)
            .finish()
    }
}

/// What the feeder task does next, in call order.
#[derive(Debug)]
enum Job {
    /// Queue these records in the SDK; report the refused ones.
    Group {
        records: Vec<std::result::Result<weir::ProducerRecord, String>>,
        queued: oneshot::Sender<Queued>,
    },
    /// Answer once every group pushed before is queued.
    Barrier(oneshot::Sender<()>),
    /// Refuse every group pushed after this, then answer.
    Close(oneshot::Sender<()>),
}

#[derive(Debug)]
struct Shared {
    config: weir::ProducerConfig,
    producer: OnceCell<weir::Producer>,
    closed: AtomicBool,
    /// Deliveries of queued groups until `delivered` takes them.
    groups: std::sync::Mutex<HashMap<u32, Vec<Option<weir::Delivery>>>>,
    next_group: AtomicU32,
}

impl Shared {
    fn groups(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Vec<Option<weir::Delivery>>>> {
        self.groups.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The SDK producer, connecting on first use. One made while `close` ran (a `connect`
    /// racing it) is closed here, since `close` may have found none.
    async fn producer(&self) -> Result<&weir::Producer> {
        let closed = || to_napi(weir::Error::Closed("producer"));
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        let producer = self
            .producer
            .get_or_try_init(|| {
                weir::Producer::builder()
                    .config(self.config.clone())
                    .build()
            })
            .await
            .napi()?;
        if self.closed.load(Ordering::Acquire) {
            let _ = producer.close().await;
            return Err(closed());
        }
        Ok(producer)
    }

    /// Queues a group's records in the SDK, in order; keeps their deliveries for
    /// `delivered`.
    async fn queue(
        &self,
        records: Vec<std::result::Result<weir::ProducerRecord, String>>,
    ) -> Queued {
        let producer = self.producer().await.map_err(|e| e.reason);
        let mut deliveries = Vec::with_capacity(records.len());
        let mut refused = Vec::new();
        for (index, record) in (0u32..).zip(records) {
            let queued = match (&producer, record) {
                (Err(reason), _) => Err(reason.clone()),
                (_, Err(reason)) => Err(reason),
                (Ok(p), Ok(record)) => p.send(record).await.napi().map_err(|e| e.reason),
            };
            match queued {
                Ok(delivery) => deliveries.push(Some(delivery)),
                Err(error) => {
                    deliveries.push(None);
                    refused.push(Failed { index, error });
                }
            }
        }
        let group = self.next_group.fetch_add(1, Ordering::Relaxed);
        self.groups().insert(group, deliveries);
        Queued { group, refused }
    }
}

/// Runs the jobs pushed by the JavaScript thread, one after another, until the producer is
/// gone.
async fn feed(shared: Arc<Shared>, mut jobs: mpsc::UnboundedReceiver<Job>) {
    while let Some(job) = jobs.recv().await {
        match job {
            Job::Group { records, queued } => {
                let _ = queued.send(shared.queue(records).await);
            }
            Job::Barrier(done) => {
                let _ = done.send(());
            }
            Job::Close(done) => {
                shared.closed.store(true, Ordering::Release);
                let _ = done.send(());
            }
        }
    }
}

/// The native producer; see `Producer` in `index.d.ts`.
#[napi]
#[derive(Debug)]
pub struct NativeProducer {
    shared: Arc<Shared>,
    jobs: mpsc::UnboundedSender<Job>,
}

impl NativeProducer {
    /// Resolves once the feeder did `job` (made with its answer channel), after every
    /// group pushed before.
    fn after(&self, job: fn(oneshot::Sender<()>) -> Job) -> impl Future<Output = ()> + 'static {
        let (done, rx) = oneshot::channel();
        let pushed = self.jobs.send(job(done)).is_ok();
        async move {
            if pushed {
                let _ = rx.await;
            }
        }
    }
}

#[napi]
impl NativeProducer {
    /// Checks the options; connects later, on first use.
    #[napi(constructor)]
    pub fn new(options: ProducerOptions) -> Result<Self> {
        let config = options.config()?;
        let shared = Arc::new(Shared {
            config,
            producer: OnceCell::new(),
            closed: AtomicBool::new(false),
            groups: std::sync::Mutex::new(HashMap::new()),
            next_group: AtomicU32::new(0),
        });
        let (jobs, rx) = mpsc::unbounded_channel();
        napi::bindgen_prelude::spawn(feed(Arc::clone(&shared), rx));
        Ok(NativeProducer { shared, jobs })
    }

    /// Connects (and gets a producer id) now.
    #[napi]
    pub fn connect<'env>(&self, env: &'env Env) -> Result<Later<'env, ()>> {
        let shared = Arc::clone(&self.shared);
        start(env, async move { shared.producer().await.map(|_| ()) })
    }

    /// Queues a group of records, in one crossing of the boundary: takes its place in call
    /// order now and resolves once the records are queued in the SDK, with the ones it
    /// refused at once and a group number whose deliveries `delivered` waits for. The
    /// JavaScript layer gathers `send` calls into such groups: a crossing per record, with
    /// its own promise, cost more than the SDK's whole send.
    #[napi]
    pub fn send_many<'env>(&self, env: &'env Env, group: Group) -> Result<Later<'env, Queued>> {
        let records = group.records()?;
        let (queued, rx) = oneshot::channel();
        self.jobs
            .send(Job::Group { records, queued })
            .map_err(|_| to_napi(weir::Error::Closed("producer")))?;
        start(env, async move {
            rx.await
                .map_err(|_| to_napi(weir::Error::Closed("producer")))
        })
    }

    /// Waits for the deliveries of `group` (from `send_many`): where each record was
    /// stored, and the records that failed.
    #[napi]
    pub fn delivered<'env>(&self, env: &'env Env, group: u32) -> Result<Later<'env, Delivered>> {
        let deliveries = self.shared.groups().remove(&group).unwrap_or_default();
        start(env, async move {
            let n = deliveries.len();
            let (mut partition, mut offset, mut timestamp) =
                (vec![0; n], vec![f64::NAN; n], vec![f64::NAN; n]);
            let mut failed = Vec::new();
            for (i, delivery) in deliveries.into_iter().enumerate() {
                let Some(delivery) = delivery else { continue };
                match delivery.await.napi() {
                    Ok(m) => {
                        // JavaScript numbers hold offsets and timestamps exactly below 2^53,
                        // far beyond any log's end or clock.
                        partition[i] = m.partition;
                        offset[i] = m.offset as f64;
                        timestamp[i] = m.timestamp as f64;
                    }
                    Err(e) => failed.push(Failed {
                        index: u32::try_from(i).unwrap_or(u32::MAX),
                        error: e.reason,
                    }),
                }
            }
            Ok(Delivered {
                partition: Uint32Array::new(partition),
                offset: Float64Array::new(offset),
                timestamp: Float64Array::new(timestamp),
                failed,
            })
        })
    }

    /// Sends every batch now and resolves once every record sent before is stored or failed.
    #[napi]
    pub fn flush<'env>(&self, env: &'env Env, cancel: Option<u32>) -> Result<Later<'env, ()>> {
        let shared = Arc::clone(&self.shared);
        let queued = self.after(Job::Barrier);
        let cancel = Cancel::new(cancel);
        start(
            env,
            cancel.run("flush", async move {
                // Groups still waiting for the feeder are queued before the flush starts.
                queued.await;
                match shared.producer.get() {
                    Some(producer) => producer.flush().await.napi(),
                    None => Ok(()),
                }
            }),
        )
    }

    /// Flushes, then stops the producer; later sends fail with `closed`. Idempotent.
    #[napi]
    pub fn close<'env>(&self, env: &'env Env) -> Result<Later<'env, ()>> {
        let shared = Arc::clone(&self.shared);
        // Groups pushed before are queued; later ones, and sends racing this, are refused.
        let queued = self.after(Job::Close);
        start(env, async move {
            queued.await;
            shared.closed.store(true, Ordering::Release);
            match shared.producer.get() {
                Some(producer) => producer.close().await.napi(),
                None => Ok(()),
            }
        })
    }
}
