//! `NativeProducer`: the addon face of `weir::Producer` (wrapped by `Producer` in
//! `lib/producer.js`).
//!
//! Owns the conversion of a JavaScript record into a `ProducerRecord`, the lazy connection
//! (made by the first call that needs it, so `new Producer()` never waits) and the order
//! lock: a `send` takes its place in it during the call itself (see `runtime::start`), so
//! records are queued in call order even while the connection is still being made. Must not
//! batch, partition, compress or retry: `weir::Producer` does.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use bytes::Bytes;
use napi::bindgen_prelude::Buffer;
use napi::{Env, Result};
use napi_derive::napi;
use tokio::sync::{Mutex, OnceCell};

use crate::config::{ProducerOptions, integer, partition};
use crate::error::{IntoNapi, to_napi};
use crate::runtime::{Cancel, Later, start};

/// One header of a record to send.
#[napi(object, object_to_js = false)]
pub struct HeaderIn {
    pub key: String,
    pub value: Option<Buffer>,
}

/// A record to send; the JavaScript layer has already turned strings and objects into bytes.
#[napi(object, object_to_js = false)]
pub struct RecordIn {
    pub topic: String,
    pub key: Option<Buffer>,
    pub value: Option<Buffer>,
    pub headers: Option<Vec<HeaderIn>>,
    pub partition: Option<f64>,
    pub timestamp: Option<f64>,
}

impl std::fmt::Debug for HeaderIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeaderIn")
            .field("key", &self.key)
            .field("value_bytes", &self.value.as_ref().map(|v| v.len()))
            .finish()
    }
}

impl std::fmt::Debug for RecordIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordIn")
            .field("topic", &self.topic)
            .field("key_bytes", &self.key.as_ref().map(|k| k.len()))
            .field("value_bytes", &self.value.as_ref().map(|v| v.len()))
            .field("headers", &self.headers)
            .field("partition", &self.partition)
            .field("timestamp", &self.timestamp)
            .finish()
    }
}

fn bytes(buffer: Option<Buffer>) -> Option<Bytes> {
    buffer.map(|b| Bytes::copy_from_slice(&b))
}

impl RecordIn {
    /// The SDK record; copies the bytes (so no JavaScript memory is touched off its thread).
    fn into_record(self) -> Result<weir::ProducerRecord> {
        let headers = self
            .headers
            .unwrap_or_default()
            .into_iter()
            .map(|h| weir::Header {
                key: h.key,
                value: bytes(h.value),
            })
            .collect();
        Ok(weir::ProducerRecord {
            topic: self.topic,
            key: bytes(self.key),
            value: bytes(self.value),
            headers,
            partition: self.partition.map(partition).transpose()?,
            timestamp: self
                .timestamp
                .map(|t| integer(t, "timestamp"))
                .transpose()?,
        })
    }
}

/// What `sendMany` queued: its group (for `delivered`) and, per record, the error of one the
/// SDK refused at once (a rejection's message, `weir-error:{json}`), else `null`.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct Queued {
    pub group: u32,
    pub refused: Vec<Option<String>>,
}

/// The outcome of one delivered record: where it was stored, or why not (a rejection's
/// message, `weir-error:{json}`).
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct SendOutcome {
    pub metadata: Option<RecordMetadata>,
    pub error: Option<String>,
}

impl SendOutcome {
    fn of(result: Result<RecordMetadata>) -> SendOutcome {
        match result {
            Ok(metadata) => SendOutcome {
                metadata: Some(metadata),
                error: None,
            },
            Err(e) => SendOutcome {
                metadata: None,
                error: Some(e.reason),
            },
        }
    }
}

/// Where a record was stored.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct RecordMetadata {
    pub topic: String,
    pub partition: u32,
    /// -1 with `acks: "none"`.
    pub offset: i64,
    pub timestamp: i64,
}

impl From<weir::RecordMetadata> for RecordMetadata {
    fn from(m: weir::RecordMetadata) -> Self {
        RecordMetadata {
            topic: m.topic,
            partition: m.partition,
            offset: m.offset,
            timestamp: m.timestamp,
        }
    }
}

#[derive(Debug)]
struct Shared {
    config: weir::ProducerConfig,
    producer: OnceCell<weir::Producer>,
    /// Sends queue here in call order until their record is queued in the SDK.
    order: Mutex<()>,
    closed: AtomicBool,
    /// Deliveries of `send_many` groups until `delivered` takes them.
    groups: std::sync::Mutex<HashMap<u32, Vec<Option<weir::Delivery>>>>,
    next_group: AtomicU32,
}

impl Shared {
    fn groups(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Vec<Option<weir::Delivery>>>> {
        self.groups.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The SDK producer, connecting on first use.
    async fn producer(&self) -> Result<&weir::Producer> {
        if self.closed.load(Ordering::Acquire) {
            return Err(to_napi(weir::Error::Closed("producer")));
        }
        self.producer
            .get_or_try_init(|| {
                weir::Producer::builder()
                    .config(self.config.clone())
                    .build()
            })
            .await
            .napi()
    }
}

/// The native producer; see `Producer` in `index.d.ts`.
#[napi]
#[derive(Debug)]
pub struct NativeProducer {
    shared: Arc<Shared>,
}

#[napi]
impl NativeProducer {
    /// Checks the options; connects later, on first use.
    #[napi(constructor)]
    pub fn new(options: ProducerOptions) -> Result<Self> {
        let config = options.config()?;
        Ok(NativeProducer {
            shared: Arc::new(Shared {
                config,
                producer: OnceCell::new(),
                order: Mutex::new(()),
                closed: AtomicBool::new(false),
                groups: std::sync::Mutex::new(HashMap::new()),
                next_group: AtomicU32::new(0),
            }),
        })
    }

    /// Connects (and gets a producer id) now.
    #[napi]
    pub fn connect<'env>(&self, env: &'env Env) -> Result<Later<'env, ()>> {
        let shared = Arc::clone(&self.shared);
        start(env, async move { shared.producer().await.map(|_| ()) })
    }

    /// Queues `records` in order, in one crossing of the boundary, and resolves once they
    /// are queued: with the records the SDK refused at once (an error per index, `null` for
    /// queued ones) and a group number whose deliveries `delivered` waits for. The JavaScript
    /// layer gathers `send` calls into such groups: a crossing per record, with its own
    /// promise, cost more than the SDK's whole send.
    #[napi]
    pub fn send_many<'env>(
        &self,
        env: &'env Env,
        records: Vec<RecordIn>,
    ) -> Result<Later<'env, Queued>> {
        let records: Vec<Result<weir::ProducerRecord>> =
            records.into_iter().map(RecordIn::into_record).collect();
        let shared = Arc::clone(&self.shared);
        start(env, async move {
            let turn = shared.order.lock().await;
            let producer = match shared.producer().await {
                Ok(p) => Ok(p),
                Err(e) => Err(e.reason),
            };
            let mut deliveries = Vec::with_capacity(records.len());
            let mut refused = Vec::with_capacity(records.len());
            for record in records {
                let queued = match (&producer, record) {
                    (Err(reason), _) => Err(reason.clone()),
                    (_, Err(e)) => Err(e.reason),
                    (Ok(p), Ok(record)) => p.send(record).await.napi().map_err(|e| e.reason),
                };
                match queued {
                    Ok(delivery) => {
                        deliveries.push(Some(delivery));
                        refused.push(None);
                    }
                    Err(reason) => {
                        deliveries.push(None);
                        refused.push(Some(reason));
                    }
                }
            }
            drop(turn);
            let group = shared.next_group.fetch_add(1, Ordering::Relaxed);
            shared.groups().insert(group, deliveries);
            Ok(Queued { group, refused })
        })
    }

    /// Waits for the deliveries of `group` (from `send_many`): one outcome per record, in
    /// order; records refused when queued have neither metadata nor error here.
    #[napi]
    pub fn delivered<'env>(
        &self,
        env: &'env Env,
        group: u32,
    ) -> Result<Later<'env, Vec<SendOutcome>>> {
        let deliveries = self.shared.groups().remove(&group).unwrap_or_default();
        start(env, async move {
            let mut outcomes = Vec::with_capacity(deliveries.len());
            for delivery in deliveries {
                outcomes.push(match delivery {
                    Some(d) => SendOutcome::of(d.await.map(RecordMetadata::from).napi()),
                    None => SendOutcome {
                        metadata: None,
                        error: None,
                    },
                });
            }
            Ok(outcomes)
        })
    }

    /// Sends every batch now and resolves once every record sent before is stored or failed.
    #[napi]
    pub fn flush<'env>(&self, env: &'env Env, cancel: Option<u32>) -> Result<Later<'env, ()>> {
        let shared = Arc::clone(&self.shared);
        let cancel = Cancel::new(cancel);
        start(
            env,
            cancel.run("flush", async move {
                // Sends still waiting for their turn are queued before the flush starts.
                let turn = shared.order.lock().await;
                drop(turn);
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
        start(env, async move {
            let turn = shared.order.lock().await;
            shared.closed.store(true, Ordering::Release);
            drop(turn);
            match shared.producer.get() {
                Some(producer) => producer.close().await.napi(),
                None => Ok(()),
            }
        })
    }
}
