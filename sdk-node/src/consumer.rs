//! `NativeConsumer`: the addon face of `weir::Consumer` (wrapped by `Consumer` in
//! `lib/consumer.js`).
//!
//! Owns the lock around the Rust consumer (one call at a time; a poll holds it for at most
//! `POLL_SLICE`, so commits, seeks and `close` from elsewhere in the program are served
//! between slices), the lazy connection (the first call joins the group), the packing of
//! polled records into one buffer, and handing assignment changes to JavaScript: the SDK
//! reports them on its background task, where no JavaScript may run, so they wait in a
//! `weir::RebalanceEvents` queue and the JavaScript layer runs the callbacks after each poll
//! (as Kafka's Java client runs them inside `poll`). The queue, the poll's slices
//! (`PollSlices`, `max_records`) and the iteration's chunk (`PollBuffer`) are the Rust SDK's
//! (`weir::consumer::handoff`), shared with the Python binding. Must not fetch, commit or
//! track positions itself: `weir::Consumer` does.

use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::{BufferSlice, Float64Array, Int32Array, Uint32Array};
use napi::{Env, Result};
use napi_derive::napi;
use tokio::sync::watch;
use weir::consumer::{PollBuffer, PollSlices, RebalanceEvent, RebalanceEvents};
use weir::options::Number;

use crate::config::{ConsumerOptions, count, integer, partition};
use crate::error::{IntoNapi, to_napi};
use crate::runtime::{Cancel, Later, start, start_with};

/// Longest a poll holds the consumer before letting other calls in.
const POLL_SLICE: Duration = Duration::from_millis(100);

/// A partition of a topic, from JavaScript.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: f64,
}

impl TopicPartition {
    fn tp(&self) -> Result<weir::TopicPartition> {
        Ok(weir::TopicPartition::new(
            self.topic.clone(),
            partition(self.partition)?,
        ))
    }

    fn from_tp(tp: &weir::TopicPartition) -> Self {
        TopicPartition {
            topic: tp.topic.clone(),
            partition: f64::from(tp.partition),
        }
    }
}

fn tps(list: &[TopicPartition]) -> Result<Vec<weir::TopicPartition>> {
    list.iter().map(TopicPartition::tp).collect()
}

/// An offset to commit: the next offset to read from a partition.
#[napi(object, object_to_js = false)]
#[derive(Debug)]
pub struct OffsetIn {
    pub topic: String,
    pub partition: f64,
    pub offset: f64,
}

/// One header of a polled record: its value's length in the poll's buffer (-1: null).
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct HeaderLayout {
    pub key: String,
    pub len: i64,
}

/// The headers of record `index` of a poll.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct RecordHeaders {
    pub index: u32,
    pub headers: Vec<HeaderLayout>,
}

/// The outcome of one poll, as columns (record `i` is row `i` of each): the records' bytes
/// follow each other in `data` (key, value, then header values; length -1: null).
#[napi(object, object_from_js = false)]
pub struct PollOut<'env> {
    pub data: BufferSlice<'env>,
    /// The partitions the records come from.
    pub parts: Vec<TopicPartition>,
    /// Per record, its partition's index in `parts`.
    pub part: Uint32Array,
    pub offset: Float64Array,
    pub timestamp: Float64Array,
    pub key_len: Int32Array,
    pub value_len: Int32Array,
    /// The headers of the records that have any.
    pub headers: Vec<RecordHeaders>,
    /// The consumer was closed (during or before this poll).
    pub closed: bool,
}

impl std::fmt::Debug for PollOut<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PollOut")
            .field("data_bytes", &self.data.len())
            .field("records", &self.offset.len())
            .field("closed", &self.closed)
            .finish()
    }
}

/// An assignment change, for the `onAssign` / `onRevoke` callbacks.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct Change {
    /// true: assigned; false: revoked.
    pub assigned: bool,
    pub partitions: Vec<TopicPartition>,
}

#[derive(Debug)]
enum Slot {
    /// Not connected yet.
    Idle,
    Open(weir::Consumer),
    Closed,
}

#[derive(Debug)]
struct Shared {
    config: weir::ConsumerConfig,
    slot: tokio::sync::Mutex<Slot>,
    /// Assignment changes the SDK reported, for `take_changes`.
    events: RebalanceEvents,
    /// Set by `close`: polls waiting for records return at once.
    closing: watch::Sender<bool>,
    /// The records of the iteration's last poll (see `put_back`).
    chunk: Mutex<PollBuffer>,
}

impl Shared {
    fn chunk(&self) -> std::sync::MutexGuard<'_, PollBuffer> {
        self.chunk.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The SDK consumer in `slot`, connecting (and joining the group) on first use.
    async fn open<'a>(&self, slot: &'a mut Slot) -> Result<&'a mut weir::Consumer> {
        if matches!(slot, Slot::Idle) {
            let consumer = weir::Consumer::builder()
                .config(self.config.clone())
                .listener(self.events.clone())
                .build()
                .await
                .napi()?;
            *slot = Slot::Open(consumer);
        }
        match slot {
            Slot::Open(consumer) => Ok(consumer),
            _ => Err(to_napi(weir::Error::Closed("consumer"))),
        }
    }

    /// Runs `f` on the connected consumer.
    async fn with<T>(
        &self,
        f: impl AsyncFnOnce(&mut weir::Consumer) -> std::result::Result<T, weir::Error>,
    ) -> Result<T> {
        let mut slot = self.slot.lock().await;
        let consumer = self.open(&mut slot).await?;
        f(consumer).await.napi()
    }

    /// Polls in slices until records come, `timeout` passes (`None`: no limit) or the
    /// consumer is closed (`None`); `ahead`: for the iteration's chunk (`poll_ahead`).
    async fn poll(
        &self,
        timeout: Option<Duration>,
        max: usize,
        ahead: bool,
    ) -> Result<Option<Vec<weir::ConsumerRecord>>> {
        let slices = PollSlices::new(timeout, POLL_SLICE);
        let mut closing = self.closing.subscribe();
        loop {
            if *closing.borrow_and_update() {
                return Ok(None);
            }
            let slice = slices.next_slice();
            let polled = async {
                let mut slot = self.slot.lock().await;
                if matches!(*slot, Slot::Closed) {
                    return Ok(None);
                }
                let consumer = self.open(&mut slot).await?;
                match ahead {
                    true => consumer.poll_ahead(slice, max).await.napi().map(Some),
                    false => consumer.poll_up_to(slice, max).await.napi().map(Some),
                }
            };
            let records = tokio::select! {
                out = polled => out?,
                _ = closing.wait_for(|c| *c) => None,
            };
            match records.map(|r| slices.settle(r)) {
                None => return Ok(None),
                Some(ControlFlow::Break(records)) => return Ok(Some(records)),
                Some(ControlFlow::Continue(())) => {}
            }
        }
    }
}

/// A poll's records laid out off the JavaScript thread: one byte vector plus columns.
#[derive(Debug, Default)]
struct Packed {
    data: Vec<u8>,
    parts: Vec<TopicPartition>,
    part: Vec<u32>,
    offset: Vec<f64>,
    timestamp: Vec<f64>,
    key_len: Vec<i32>,
    value_len: Vec<i32>,
    headers: Vec<RecordHeaders>,
    closed: bool,
}

/// The length column entry of `bytes` (-1: none), after appending them to `data`. Longer
/// values cannot come: a record is bounded far below 2 GiB by the server.
fn put(data: &mut Vec<u8>, bytes: &Option<bytes::Bytes>) -> i32 {
    match bytes {
        Some(b) => {
            data.extend_from_slice(b);
            i32::try_from(b.len()).unwrap_or(i32::MAX)
        }
        None => -1,
    }
}

/// Lays `records` (`None`: the consumer closed) out as one byte vector plus columns.
fn pack(records: Option<&[weir::ConsumerRecord]>) -> Packed {
    let Some(records) = records else {
        return Packed {
            closed: true,
            ..Packed::default()
        };
    };
    let n = records.len();
    let mut out = Packed {
        part: Vec::with_capacity(n),
        offset: Vec::with_capacity(n),
        timestamp: Vec::with_capacity(n),
        key_len: Vec::with_capacity(n),
        value_len: Vec::with_capacity(n),
        ..Packed::default()
    };
    let mut last: Option<(&str, u32, u32)> = None;
    for (index, r) in (0u32..).zip(records) {
        let part = match last {
            Some((topic, p, i)) if topic == r.topic && p == r.partition => i,
            _ => {
                let known = out
                    .parts
                    .iter()
                    .position(|tp| tp.topic == r.topic && tp.partition == f64::from(r.partition));
                let i = known.unwrap_or_else(|| {
                    out.parts.push(TopicPartition {
                        topic: r.topic.clone(),
                        partition: f64::from(r.partition),
                    });
                    out.parts.len() - 1
                });
                let i = u32::try_from(i).unwrap_or(u32::MAX);
                last = Some((&r.topic, r.partition, i));
                i
            }
        };
        out.part.push(part);
        // JavaScript numbers hold offsets and timestamps exactly below 2^53.
        out.offset.push(r.offset as f64);
        out.timestamp.push(r.timestamp as f64);
        out.key_len.push(put(&mut out.data, &r.key));
        out.value_len.push(put(&mut out.data, &r.value));
        if !r.headers.is_empty() {
            let headers = r
                .headers
                .iter()
                .map(|h| HeaderLayout {
                    key: h.key.clone(),
                    len: i64::from(put(&mut out.data, &h.value)),
                })
                .collect();
            out.headers.push(RecordHeaders { index, headers });
        }
    }
    out
}

/// The JavaScript value of a packed poll. The Buffer is a view of `data` itself, not a copy
/// (a runtime without external buffers, such as Electron, copies it); an empty one is made
/// afresh, since every empty vector has the same dangling pointer.
fn to_js(env: &Env, packed: Packed) -> Result<PollOut<'_>> {
    let data = match packed.data.is_empty() {
        true => BufferSlice::copy_from(env, [])?,
        false => BufferSlice::from_data(env, packed.data)?,
    };
    Ok(PollOut {
        data,
        parts: packed.parts,
        part: Uint32Array::new(packed.part),
        offset: Float64Array::new(packed.offset),
        timestamp: Float64Array::new(packed.timestamp),
        key_len: Int32Array::new(packed.key_len),
        value_len: Int32Array::new(packed.value_len),
        headers: packed.headers,
        closed: packed.closed,
    })
}

/// The native consumer; see `Consumer` in `index.d.ts`.
#[napi]
#[derive(Debug)]
pub struct NativeConsumer {
    shared: Arc<Shared>,
}

#[napi]
impl NativeConsumer {
    /// Checks the options; connects (and joins the group) on first use.
    #[napi(constructor)]
    pub fn new(options: ConsumerOptions) -> Result<Self> {
        let config = options.config()?;
        Ok(NativeConsumer {
            shared: Arc::new(Shared {
                config,
                slot: tokio::sync::Mutex::new(Slot::Idle),
                events: RebalanceEvents::new(),
                closing: watch::channel(false).0,
                chunk: Mutex::default(),
            }),
        })
    }

    /// Connects and, with topics, joins the group now.
    #[napi]
    pub fn connect<'env>(&self, env: &'env Env) -> Result<Later<'env, ()>> {
        let shared = Arc::clone(&self.shared);
        start(env, async move { shared.with(async |_| Ok(())).await })
    }

    /// Waits up to `timeout_ms` (none: until records come or the consumer closes) for at
    /// most `max_records` records. With `keep`, the records are the iteration's chunk: kept,
    /// so `put_back` can give back those the iterator did not hand out, and polled ahead
    /// (`weir::Consumer::poll_ahead`), so a revocation meanwhile commits none of them.
    #[napi]
    pub fn poll<'env>(
        &self,
        env: &'env Env,
        timeout_ms: Option<f64>,
        max_records: Option<f64>,
        cancel: Option<u32>,
        keep: Option<bool>,
    ) -> Result<Later<'env, PollOut<'env>>> {
        let timeout = crate::config::millis(timeout_ms, "timeoutMs")?;
        let max = weir::consumer::max_records(
            max_records.map(Number::Float),
            self.shared.config.max_poll_records,
            "maxRecords",
        )
        .napi()?;
        let shared = Arc::clone(&self.shared);
        let cancel = Cancel::new(cancel);
        let keep = keep.unwrap_or(false);
        start_with(
            env,
            cancel.run("poll", async move {
                let records = shared.poll(timeout, max, keep).await?;
                let packed = pack(records.as_deref());
                if keep {
                    shared.chunk().keep(records.unwrap_or_default());
                }
                Ok(packed)
            }),
            to_js,
        )
    }

    /// Gives back the records of the iteration's chunk from index `handed_out` on (the
    /// iterator did not hand them out): the next poll returns them again, and commits count
    /// them as not handed out until then.
    #[napi]
    pub fn put_back<'env>(&self, env: &'env Env, handed_out: f64) -> Result<Later<'env, ()>> {
        let handed_out = count(Some(handed_out), "handedOut")?.unwrap_or(0);
        let shared = Arc::clone(&self.shared);
        start(env, async move {
            let rest = shared.chunk().rest(handed_out);
            shared
                .with(async |c| {
                    c.put_back(rest);
                    Ok(())
                })
                .await
        })
    }

    /// Assignment changes since the last call, oldest first.
    #[napi]
    pub fn take_changes(&self) -> Vec<Change> {
        self.shared
            .events
            .take()
            .into_iter()
            .map(|event: RebalanceEvent| Change {
                assigned: event.is_assigned(),
                partitions: event
                    .partitions()
                    .iter()
                    .map(TopicPartition::from_tp)
                    .collect(),
            })
            .collect()
    }

    /// Commits the positions of every record handed out, or `offsets` when given.
    #[napi]
    pub fn commit<'env>(
        &self,
        env: &'env Env,
        offsets: Option<Vec<OffsetIn>>,
    ) -> Result<Later<'env, ()>> {
        let offsets = offsets
            .map(|list| {
                list.iter()
                    .map(|o| {
                        let tp =
                            weir::TopicPartition::new(o.topic.clone(), partition(o.partition)?);
                        Ok((tp, integer(o.offset, "offset")?))
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .transpose()?;
        let shared = Arc::clone(&self.shared);
        start(env, async move {
            shared
                .with(async |c| match &offsets {
                    Some(offsets) => c.commit_offsets(offsets).await,
                    None => c.commit().await,
                })
                .await
        })
    }

    /// The group's committed offset of a partition (null: none).
    #[napi]
    pub fn committed<'env>(
        &self,
        env: &'env Env,
        tp: TopicPartition,
    ) -> Result<Later<'env, Option<i64>>> {
        let tp = tp.tp()?;
        let shared = Arc::clone(&self.shared);
        start(env, async move {
            shared.with(async |c| c.committed(&tp).await).await
        })
    }

    /// The next offset poll hands out from a partition (null: not known yet or not assigned).
    #[napi]
    pub fn position<'env>(
        &self,
        env: &'env Env,
        tp: TopicPartition,
    ) -> Result<Later<'env, Option<i64>>> {
        let tp = tp.tp()?;
        let shared = Arc::clone(&self.shared);
        start(env, async move {
            shared.with(async |c| Ok(c.position(&tp))).await
        })
    }

    /// The partitions this consumer reads now.
    #[napi]
    pub fn assignment<'env>(&self, env: &'env Env) -> Result<Later<'env, Vec<TopicPartition>>> {
        let shared = Arc::clone(&self.shared);
        start(env, async move {
            let list = shared.with(async |c| Ok(c.assignment())).await?;
            Ok(list.iter().map(TopicPartition::from_tp).collect())
        })
    }

    /// Reads these partitions without group membership.
    #[napi]
    pub fn assign<'env>(
        &self,
        env: &'env Env,
        partitions: Vec<TopicPartition>,
    ) -> Result<Later<'env, ()>> {
        let partitions = tps(&partitions)?;
        let shared = Arc::clone(&self.shared);
        start(env, async move {
            shared.with(async |c| c.assign(&partitions)).await
        })
    }

    /// Continues a partition at `offset`.
    #[napi]
    pub fn seek<'env>(
        &self,
        env: &'env Env,
        tp: TopicPartition,
        offset: f64,
    ) -> Result<Later<'env, ()>> {
        let tp = tp.tp()?;
        let offset = integer(offset, "offset")?;
        let shared = Arc::clone(&self.shared);
        start(env, async move {
            shared.with(async |c| c.seek(&tp, offset)).await
        })
    }

    /// Continues a partition at its first record at or after `timestamp` (ms since the epoch).
    #[napi]
    pub fn seek_to_timestamp<'env>(
        &self,
        env: &'env Env,
        tp: TopicPartition,
        timestamp: f64,
    ) -> Result<Later<'env, ()>> {
        let tp = tp.tp()?;
        let timestamp = integer(timestamp, "timestamp")?;
        let shared = Arc::clone(&self.shared);
        start(env, async move {
            shared
                .with(async |c| c.seek_to_timestamp(&tp, timestamp).await)
                .await
        })
    }

    /// Stops handing out (and fetching) records of these partitions.
    #[napi]
    pub fn pause<'env>(
        &self,
        env: &'env Env,
        partitions: Vec<TopicPartition>,
    ) -> Result<Later<'env, ()>> {
        let partitions = tps(&partitions)?;
        let shared = Arc::clone(&self.shared);
        start(env, async move {
            shared
                .with(async |c| {
                    c.pause(&partitions);
                    Ok(())
                })
                .await
        })
    }

    /// Undoes `pause`.
    #[napi]
    pub fn resume<'env>(
        &self,
        env: &'env Env,
        partitions: Vec<TopicPartition>,
    ) -> Result<Later<'env, ()>> {
        let partitions = tps(&partitions)?;
        let shared = Arc::clone(&self.shared);
        start(env, async move {
            shared
                .with(async |c| {
                    c.resume(&partitions);
                    Ok(())
                })
                .await
        })
    }

    /// Ends waiting polls, commits (auto mode), leaves the group. Idempotent.
    #[napi]
    pub fn close<'env>(&self, env: &'env Env) -> Result<Later<'env, ()>> {
        let shared = Arc::clone(&self.shared);
        shared.closing.send_replace(true);
        start(env, async move {
            let mut slot = shared.slot.lock().await;
            match std::mem::replace(&mut *slot, Slot::Closed) {
                Slot::Open(consumer) => consumer.close().await.napi(),
                Slot::Idle | Slot::Closed => Ok(()),
            }
        })
    }
}
