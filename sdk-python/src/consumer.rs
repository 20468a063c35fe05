//! `Consumer` (sync: `poll`, iteration, commits, positions, close) and its asyncio methods
//! (`poll_async`, `commit_async`, `close_async`, used by `weir.aio.Consumer`), over
//! `weir::Consumer`; `Record` and `TopicPartition`.
//!
//! Owns the lock around the Rust consumer (one call at a time; blocking calls hold it for at
//! most one `SIGNAL_CHECK` slice, so `close()` from another thread is prompt), and running
//! the assignment callbacks: the Rust SDK reports changes on its background task, where no
//! Python code may run, so they wait in a `weir::RebalanceEvents` queue and the callbacks run
//! in the thread that polls (as Kafka's Java client runs them inside `poll`). The queue, the
//! poll's slices (`PollSlices`, `max_records`) and the settings' checks (`weir::options`) are
//! the Rust SDK's, shared with the Node binding. Must not fetch, commit or track positions
//! itself: `weir::Consumer` does. Iteration takes one record per Rust poll
//! (`poll_up_to(.., 1)`), so a record counts as handed out (and committable) only once the
//! iterator gave it to the application.

use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList};
use weir::consumer::{PollSlices, RebalanceEvent, RebalanceEvents};
use weir::options::Number;

use crate::convert::{self, headers_to_py};
use crate::errors::{IntoPyResult, closed, timed_out, to_py};
use crate::runtime::{SIGNAL_CHECK, awaitable, now, seconds, wait, wait_for};

/// A partition of a topic. Hashable and ordered; `(topic, partition)` tuples are accepted
/// wherever a `TopicPartition` is.
#[pyclass(module = "weir._weir", frozen, eq, hash, ord, get_all)]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// Topic name.
    topic: String,
    /// Partition index.
    partition: u32,
}

#[pymethods]
impl TopicPartition {
    #[new]
    fn new(topic: String, partition: u32) -> Self {
        TopicPartition { topic, partition }
    }

    fn __repr__(&self) -> String {
        format!(
            "TopicPartition(topic={:?}, partition={})",
            self.topic, self.partition
        )
    }
}

impl From<weir::TopicPartition> for TopicPartition {
    fn from(tp: weir::TopicPartition) -> Self {
        TopicPartition {
            topic: tp.topic,
            partition: tp.partition,
        }
    }
}

impl From<&TopicPartition> for weir::TopicPartition {
    fn from(tp: &TopicPartition) -> Self {
        weir::TopicPartition::new(tp.topic.clone(), tp.partition)
    }
}

/// A `TopicPartition` or a `(topic, partition)` tuple.
#[derive(Debug)]
pub(crate) struct TpArg(pub(crate) weir::TopicPartition);

impl<'a, 'py> FromPyObject<'a, 'py> for TpArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(tp) = obj.cast::<TopicPartition>() {
            return Ok(TpArg(tp.get().into()));
        }
        match obj.extract::<(String, u32)>() {
            Ok((topic, partition)) => Ok(TpArg(weir::TopicPartition::new(topic, partition))),
            Err(_) => Err(PyTypeError::new_err(
                "expected a TopicPartition or a (topic, partition) tuple",
            )),
        }
    }
}

/// A list of `TopicPartition`s (or tuples).
fn tps(list: Vec<TpArg>) -> Vec<weir::TopicPartition> {
    list.into_iter().map(|t| t.0).collect()
}

/// A record read from a partition.
#[pyclass(module = "weir._weir", frozen)]
#[derive(Debug)]
pub struct Record {
    inner: weir::ConsumerRecord,
}

#[pymethods]
impl Record {
    /// Topic the record was read from.
    #[getter]
    fn topic(&self) -> &str {
        &self.inner.topic
    }

    /// Partition it was read from.
    #[getter]
    fn partition(&self) -> u32 {
        self.inner.partition
    }

    /// Its offset in the partition.
    #[getter]
    fn offset(&self) -> i64 {
        self.inner.offset
    }

    /// Its timestamp, milliseconds since the Unix epoch.
    #[getter]
    fn timestamp(&self) -> i64 {
        self.inner.timestamp
    }

    /// The key as bytes, or `None` (a null key).
    #[getter]
    fn key<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.inner.key.as_ref().map(|k| PyBytes::new(py, k))
    }

    /// The value as bytes, or `None` (a tombstone).
    #[getter]
    fn value<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.inner.value.as_ref().map(|v| PyBytes::new(py, v))
    }

    /// Headers as a list of `(name, value)` pairs, in order (names may repeat).
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        headers_to_py(py, &self.inner.headers)
    }

    /// The value decoded as UTF-8 text (`None` for a tombstone).
    fn text(&self, py: Python<'_>) -> PyResult<Option<&str>> {
        match &self.inner.value {
            None => Ok(None),
            Some(v) => std::str::from_utf8(v)
                .map(Some)
                .map_err(|e| pyo3::exceptions::PyUnicodeDecodeError::new_err_from_utf8(py, v, e)),
        }
    }

    /// The value parsed as JSON (`json.loads`), e.g. a dict sent by `Producer.send`.
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let Some(value) = &self.inner.value else {
            return Ok(py.None().into_bound(py));
        };
        static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        LOADS
            .import(py, "json", "loads")?
            .call1((PyBytes::new(py, value),))
    }

    fn __repr__(&self) -> String {
        format!(
            "Record(topic={:?}, partition={}, offset={}, timestamp={}, key={}, value={} bytes)",
            self.inner.topic,
            self.inner.partition,
            self.inner.offset,
            self.inner.timestamp,
            self.inner
                .key
                .as_ref()
                .map_or("None".to_owned(), |k| format!("{k:?}")),
            self.inner.value.as_ref().map_or(0, |v| v.len()),
        )
    }
}

fn records(list: Vec<weir::ConsumerRecord>) -> Vec<Record> {
    list.into_iter().map(|inner| Record { inner }).collect()
}

/// What the consumer reports as its `client_id` when not told.
const CLIENT_ID_DEFAULT: &str = concat!("weir-python/", env!("CARGO_PKG_VERSION"));

/// The outcome of a commit the Rust SDK runs on its own task, shared by every wait on it.
type Commit = Shared<BoxFuture<'static, Result<(), weir::Error>>>;

/// The outcome of one `Consumer.commit_async`: resolves once the server stored the offsets,
/// or the commit failed (it is not retried; a later commit covers it).
#[pyclass(module = "weir._weir", frozen)]
pub struct CommitFuture {
    commit: Commit,
}

impl std::fmt::Debug for CommitFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommitFuture")
            .field("done", &self.done())
            .finish()
    }
}

#[pymethods]
impl CommitFuture {
    /// Waits (at most `timeout` seconds; `None` waits as long as it takes, up to the
    /// consumer's `request_timeout_ms`) for the commit. Raises its `WeirError`, or
    /// `weir.Timeout` when `timeout` passed first (the commit may still complete later).
    #[pyo3(signature = (timeout=None))]
    fn result(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<()> {
        let limit = seconds(timeout, "timeout")?;
        match wait_for(py, self.commit.clone(), limit)? {
            Some(outcome) => outcome.py(),
            None => Err(timed_out(
                "waiting for the commit",
                limit.unwrap_or_default(),
            )),
        }
    }

    /// Waits like `result` and returns the commit's exception, or `None` when the offsets
    /// were stored.
    #[pyo3(signature = (timeout=None))]
    fn exception(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<PyErr>> {
        let limit = seconds(timeout, "timeout")?;
        match wait_for(py, self.commit.clone(), limit)? {
            Some(Ok(())) => Ok(None),
            Some(Err(e)) => Ok(Some(to_py(e))),
            None => Err(timed_out(
                "waiting for the commit",
                limit.unwrap_or_default(),
            )),
        }
    }

    /// Whether the outcome is known (stored or failed); never waits.
    fn done(&self) -> bool {
        let mut commit = std::pin::pin!(self.commit.clone());
        now(commit.as_mut()).is_some()
    }

    fn __repr__(&self) -> String {
        let done = if self.done() { "True" } else { "False" };
        format!("CommitFuture(done={done})")
    }
}

/// What the sync and async faces share.
#[derive(Debug)]
struct Core {
    consumer: tokio::sync::Mutex<Option<weir::Consumer>>,
    /// Assignment changes the SDK reported, for the callbacks.
    events: RebalanceEvents,
    /// The consumer's `max_poll_records`: a poll's `max_records` when none is given.
    max_poll_records: usize,
    /// Set by `close` before it waits for the lock, so pollers stop at their next slice.
    closing: AtomicBool,
}

impl Core {
    /// One Rust poll under the lock (`max` records at most); `Ok(None)` once the consumer is
    /// closed.
    async fn poll(
        &self,
        timeout: Duration,
        max: usize,
    ) -> PyResult<Option<Vec<weir::ConsumerRecord>>> {
        let mut guard = self.consumer.lock().await;
        let Some(consumer) = guard.as_mut() else {
            return Ok(None);
        };
        let polled = consumer.poll_up_to(timeout, max).await;
        polled.map(Some).map_err(to_py)
    }

    /// `max_records` of a poll from Python (none: `max_poll_records`).
    fn max_records(&self, max_records: Option<usize>) -> PyResult<usize> {
        weir::consumer::max_records(
            max_records.map(Number::from),
            self.max_poll_records,
            "max_records",
        )
        .py()
    }

    async fn commit(&self, offsets: Option<Vec<(weir::TopicPartition, i64)>>) -> PyResult<()> {
        let mut guard = self.consumer.lock().await;
        let consumer = guard.as_mut().ok_or_else(|| closed("consumer"))?;
        match offsets {
            None => consumer.commit().await.map_err(to_py),
            Some(offsets) => consumer.commit_offsets(&offsets).await.map_err(to_py),
        }
    }

    async fn close(&self) -> PyResult<()> {
        self.closing.store(true, Ordering::Release);
        let consumer = self.consumer.lock().await.take();
        match consumer {
            Some(consumer) => consumer.close().await.map_err(to_py),
            None => Ok(()),
        }
    }
}

/// Commit offsets from Python: a dict of TopicPartition (or tuple) → next offset to read, or
/// a list of `(TopicPartition, offset)` pairs.
fn commit_offsets(
    offsets: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<Vec<(weir::TopicPartition, i64)>>> {
    let Some(offsets) = offsets else {
        return Ok(None);
    };
    let mut out = Vec::new();
    if let Ok(dict) = offsets.cast::<PyDict>() {
        for (k, v) in dict.iter() {
            out.push((k.extract::<TpArg>()?.0, v.extract::<i64>()?));
        }
    } else {
        for item in offsets.try_iter()? {
            let (tp, offset): (TpArg, i64) = item?.extract()?;
            out.push((tp.0, offset));
        }
    }
    Ok(Some(out))
}

/// Reads records of the partitions it is assigned, as a member of `group` subscribed to
/// `topics`, or of partitions given to `assign()`. Every setting not given keeps the Rust
/// SDK's default. Use as a context manager or call `close()` (it commits in auto mode and
/// leaves the group at once, so the partitions move to the other members).
#[pyclass(module = "weir._weir", frozen)]
#[derive(Debug)]
pub struct Consumer {
    core: Arc<Core>,
    on_assign: Option<Py<PyAny>>,
    on_revoke: Option<Py<PyAny>>,
}

#[pymethods]
impl Consumer {
    /// Connects and, with `topics`, joins `group` (an unknown topic raises
    /// `weir.TopicNotFound` here, a `session_timeout_ms` outside the server's bounds
    /// `weir.InvalidSessionTimeout`).
    ///
    /// `auto_offset_reset` is `"earliest"` or `"latest"` (where partitions without a committed
    /// offset start). With `auto_commit=True` the positions of records already handed out are
    /// committed every `auto_commit_interval_ms`, on revocation and on close; with `False`
    /// only `commit()` commits. `on_assign` / `on_revoke` are called with a list of
    /// `TopicPartition` in the thread that polls, during `poll()`, iteration or `close()`,
    /// after the change took effect.
    #[new]
    #[pyo3(signature = (
        *,
        url = weir::URL_DEFAULT.to_owned(),
        tenant = weir::TENANT_DEFAULT.to_owned(),
        token = None,
        group = None,
        topics = None,
        auto_commit = true,
        auto_commit_interval_ms = None,
        auto_offset_reset = "latest",
        client_id = None,
        max_poll_records = None,
        prefetch_bytes = None,
        fetch_bytes = None,
        fetch_wait_ms = None,
        session_timeout_ms = None,
        heartbeat_interval_ms = None,
        request_timeout_ms = 30_000,
        on_assign = None,
        on_revoke = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        url: String,
        tenant: String,
        token: Option<String>,
        group: Option<String>,
        topics: Option<Vec<String>>,
        auto_commit: bool,
        auto_commit_interval_ms: Option<i64>,
        auto_offset_reset: &str,
        client_id: Option<String>,
        max_poll_records: Option<usize>,
        prefetch_bytes: Option<usize>,
        fetch_bytes: Option<usize>,
        fetch_wait_ms: Option<i64>,
        session_timeout_ms: Option<i64>,
        heartbeat_interval_ms: Option<i64>,
        request_timeout_ms: i64,
        on_assign: Option<Py<PyAny>>,
        on_revoke: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        for (name, callback) in [("on_assign", &on_assign), ("on_revoke", &on_revoke)] {
            if let Some(cb) = callback
                && !cb.bind(py).is_callable()
            {
                return Err(PyTypeError::new_err(format!("{name} must be callable")));
            }
        }
        let config = weir::options::ConsumerOptions {
            client: convert::client_options(url, tenant, token, request_timeout_ms),
            group,
            topics,
            client_id: Some(client_id.unwrap_or_else(|| CLIENT_ID_DEFAULT.to_owned())),
            auto_offset_reset: Some(auto_offset_reset.to_owned()),
            auto_commit: Some(auto_commit),
            auto_commit_interval_ms: auto_commit_interval_ms.map(Number::from),
            max_poll_records: max_poll_records.map(Number::from),
            prefetch_bytes: prefetch_bytes.map(Number::from),
            fetch_bytes: fetch_bytes.map(Number::from),
            fetch_wait_ms: fetch_wait_ms.map(Number::from),
            session_timeout_ms: session_timeout_ms.map(Number::from),
            heartbeat_interval_ms: heartbeat_interval_ms.map(Number::from),
        }
        .into_config(convert::SPELLING)
        .py()?;
        let events = RebalanceEvents::new();
        let max_poll_records = config.max_poll_records;
        let builder = weir::Consumer::builder()
            .config(config)
            .listener(events.clone());
        let consumer = wait(py, builder.build())?.py()?;
        Ok(Consumer {
            core: Arc::new(Core {
                consumer: tokio::sync::Mutex::new(Some(consumer)),
                events,
                max_poll_records,
                closing: AtomicBool::new(false),
            }),
            on_assign,
            on_revoke,
        })
    }

    /// Waits up to `timeout_ms` for records and returns those ready (at most
    /// `max_records`, default the consumer's `max_poll_records`), or an empty list. Runs
    /// pending `on_assign`/`on_revoke` callbacks first. Raises `weir.Closed` after `close()`.
    #[pyo3(signature = (timeout_ms=1000, max_records=None))]
    fn poll(
        &self,
        py: Python<'_>,
        timeout_ms: i64,
        max_records: Option<usize>,
    ) -> PyResult<Vec<Record>> {
        let timeout = convert::millis(timeout_ms, "timeout_ms")?;
        let max = self.core.max_records(max_records)?;
        match self.poll_until(py, PollSlices::new(Some(timeout), SIGNAL_CHECK), max)? {
            None => Err(closed("consumer")),
            Some(list) => Ok(records(list)),
        }
    }

    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// The next record, waiting as long as it takes; stops once the consumer is closed.
    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Record>> {
        let next = self.poll_until(py, PollSlices::new(None, SIGNAL_CHECK), 1)?;
        Ok(next
            .and_then(|mut list| list.pop())
            .map(|inner| Record { inner }))
    }

    /// Commits offsets: with no argument, the positions of every record handed out so far;
    /// else a dict (or list of pairs) of TopicPartition → next offset to read.
    #[pyo3(signature = (offsets=None))]
    fn commit(&self, py: Python<'_>, offsets: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let offsets = commit_offsets(offsets)?;
        let core = Arc::clone(&self.core);
        wait(py, async move { core.commit(offsets).await })?
    }

    /// Starts committing the positions of every record handed out so far and returns at once
    /// with a `CommitFuture` of the outcome (the Rust SDK's `commit_async`). Commits started
    /// later may finish first, and a failed one is not retried (the next commit covers it),
    /// as with Kafka's `commitAsync`. Raises `weir.Closed` after `close()`.
    fn commit_async(&self, py: Python<'_>) -> PyResult<CommitFuture> {
        let started = self.with(py, |c| Ok(c.commit_async()))?;
        let commit = async move {
            // The task ends only by finishing, unless the runtime itself shuts down.
            started
                .await
                .unwrap_or(Err(weir::Error::Closed("consumer")))
        };
        Ok(CommitFuture {
            commit: commit.boxed().shared(),
        })
    }

    /// The group's committed offset of a partition (the next offset to read), or `None`.
    fn committed(&self, py: Python<'_>, partition: TpArg) -> PyResult<Option<i64>> {
        let core = Arc::clone(&self.core);
        wait(py, async move {
            let guard = core.consumer.lock().await;
            let consumer = guard.as_ref().ok_or_else(|| closed("consumer"))?;
            consumer.committed(&partition.0).await.map_err(to_py)
        })?
    }

    /// The offset of the next record `poll` hands out from a partition (`None` before its
    /// start is known or when it is not assigned).
    fn position(&self, py: Python<'_>, partition: TpArg) -> PyResult<Option<i64>> {
        self.with(py, move |c| Ok(c.position(&partition.0)))
    }

    /// The partitions this consumer reads now.
    fn assignment(&self, py: Python<'_>) -> PyResult<Vec<TopicPartition>> {
        self.with(py, |c| {
            Ok(c.assignment()
                .into_iter()
                .map(TopicPartition::from)
                .collect())
        })
    }

    /// Reads these partitions without group membership (not with `topics`); they start at
    /// the group's committed offsets when a group is set, else at `auto_offset_reset`.
    fn assign(&self, py: Python<'_>, partitions: Vec<TpArg>) -> PyResult<()> {
        let partitions = tps(partitions);
        self.with(py, move |c| c.assign(&partitions).py())
    }

    /// Continues a partition at `offset`; records fetched ahead are dropped.
    fn seek(&self, py: Python<'_>, partition: TpArg, offset: i64) -> PyResult<()> {
        self.with(py, move |c| c.seek(&partition.0, offset).py())
    }

    /// Continues a partition at its first record at or after `timestamp` (milliseconds since
    /// the epoch), or at its end when there is none.
    fn seek_to_timestamp(&self, py: Python<'_>, partition: TpArg, timestamp: i64) -> PyResult<()> {
        let core = Arc::clone(&self.core);
        wait(py, async move {
            let mut guard = core.consumer.lock().await;
            let consumer = guard.as_mut().ok_or_else(|| closed("consumer"))?;
            consumer
                .seek_to_timestamp(&partition.0, timestamp)
                .await
                .map_err(to_py)
        })?
    }

    /// Stops fetching and handing out records of these partitions until `resume`.
    fn pause(&self, py: Python<'_>, partitions: Vec<TpArg>) -> PyResult<()> {
        let partitions = tps(partitions);
        self.with(py, move |c| {
            c.pause(&partitions);
            Ok(())
        })
    }

    /// Undoes `pause`.
    fn resume(&self, py: Python<'_>, partitions: Vec<TpArg>) -> PyResult<()> {
        let partitions = tps(partitions);
        self.with(py, move |c| {
            c.resume(&partitions);
            Ok(())
        })
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.core.closing.load(Ordering::Acquire)
    }

    /// Commits handed-out positions (auto mode), leaves the group and stops fetching; runs
    /// the last `on_revoke`. Later calls do nothing.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let core = Arc::clone(&self.core);
        let closed = wait(py, async move { core.close().await });
        let callbacks = self.run_callbacks(py);
        closed??;
        callbacks
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// Closes the consumer.
    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    /// `poll` for asyncio (used by `weir.aio.Consumer`): the records when some are ready
    /// now, else an awaitable of the list (empty after `timeout_ms`). Raises `weir.Closed`
    /// after `close()`. Callbacks are not run: see `take_assignment_changes`.
    #[pyo3(signature = (timeout_ms=1000, max_records=None))]
    #[pyo3(name = "_poll_async")]
    fn poll_async<'py>(
        &self,
        py: Python<'py>,
        timeout_ms: i64,
        max_records: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let timeout = convert::millis(timeout_ms, "timeout_ms")?;
        let max = self.core.max_records(max_records)?;
        let core = Arc::clone(&self.core);
        let mut fut: Pin<Box<_>> = Box::pin(async move {
            match core.poll(timeout, max).await? {
                Some(list) => Ok(records(list)),
                None => Err(closed("consumer")),
            }
        });
        match now(fut.as_mut()) {
            Some(list) => Ok(list?.into_pyobject(py)?.into_any()),
            None => awaitable(py, fut),
        }
    }

    /// `commit` for asyncio: an awaitable.
    #[pyo3(signature = (offsets=None))]
    #[pyo3(name = "_commit_async")]
    fn commit_awaitable<'py>(
        &self,
        py: Python<'py>,
        offsets: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let offsets = commit_offsets(offsets)?;
        let core = Arc::clone(&self.core);
        awaitable(py, async move { core.commit(offsets).await })
    }

    /// `close` for asyncio: an awaitable (callbacks are not run: see
    /// `take_assignment_changes`).
    #[pyo3(name = "_close_async")]
    fn close_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let core = Arc::clone(&self.core);
        awaitable(py, async move { core.close().await })
    }

    /// Assignment changes not yet given to callbacks, oldest first, as `("assigned" |
    /// "revoked", [TopicPartition, ...])`; taking them clears them (for `weir.aio`, which runs
    /// its callbacks on the event loop).
    #[pyo3(name = "_take_assignment_changes")]
    fn take_assignment_changes(&self) -> Vec<(&'static str, Vec<TopicPartition>)> {
        self.core
            .events
            .take()
            .into_iter()
            .map(|event| match event {
                RebalanceEvent::Assigned(list) => ("assigned", to_py_tps(list)),
                RebalanceEvent::Revoked(list) => ("revoked", to_py_tps(list)),
            })
            .collect()
    }
}

fn to_py_tps(list: Vec<weir::TopicPartition>) -> Vec<TopicPartition> {
    list.into_iter().map(TopicPartition::from).collect()
}

impl Consumer {
    /// Polls in `slices` (of `SIGNAL_CHECK`), running callbacks and checking for signals
    /// between them, until records come, the deadline passes (an empty list) or the consumer
    /// closes (`None`).
    fn poll_until(
        &self,
        py: Python<'_>,
        slices: PollSlices,
        max_records: usize,
    ) -> PyResult<Option<Vec<weir::ConsumerRecord>>> {
        loop {
            self.run_callbacks(py)?;
            if self.core.closing.load(Ordering::Acquire) {
                return Ok(None);
            }
            let polled = self.poll_slice(py, slices.next_slice(), max_records)?;
            self.run_callbacks(py)?;
            match polled.map(|list| slices.settle(list)) {
                None => return Ok(None),
                Some(ControlFlow::Break(list)) => return Ok(Some(list)),
                Some(ControlFlow::Continue(())) => py.check_signals()?,
            }
        }
    }

    /// One Rust poll of at most `slice` (fast path: records ready now, GIL held).
    fn poll_slice(
        &self,
        py: Python<'_>,
        slice: Duration,
        max: usize,
    ) -> PyResult<Option<Vec<weir::ConsumerRecord>>> {
        let core = Arc::clone(&self.core);
        let mut fut = std::pin::pin!(async move { core.poll(slice, max).await });
        match now(fut.as_mut()) {
            Some(out) => out,
            None => wait(py, fut)?,
        }
    }

    /// Runs `f` on the consumer under its lock (waiting for a poll slice in another thread).
    fn with<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut weir::Consumer) -> PyResult<R> + Send,
    ) -> PyResult<R> {
        let core = Arc::clone(&self.core);
        let mut fut = std::pin::pin!(async move {
            let mut guard = core.consumer.lock().await;
            match guard.as_mut() {
                Some(consumer) => f(consumer),
                None => Err(closed("consumer")),
            }
        });
        match now(fut.as_mut()) {
            Some(out) => out,
            None => wait(py, fut)?,
        }
    }

    /// Calls `on_assign` / `on_revoke` for queued changes; raises the first exception a
    /// callback raised (after running the others).
    fn run_callbacks(&self, py: Python<'_>) -> PyResult<()> {
        if self.on_assign.is_none() && self.on_revoke.is_none() {
            self.core.events.clear();
            return Ok(());
        }
        let mut first_error = None;
        for event in self.core.events.take() {
            let (callback, list) = match event {
                RebalanceEvent::Assigned(list) => (&self.on_assign, list),
                RebalanceEvent::Revoked(list) => (&self.on_revoke, list),
            };
            let Some(callback) = callback else { continue };
            let arg = PyList::new(py, to_py_tps(list))?;
            if let Err(e) = callback.bind(py).call1((arg,)) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
