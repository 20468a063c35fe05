//! `Producer` (sync, `send` returns a `SendFuture`) and its asyncio methods (`send_async`,
//! `flush_async`, `close_async`, used by `weir.aio.Producer`), over `weir::Producer`.
//!
//! Owns turning Python arguments into a `ProducerRecord` and the delivery future's Python
//! face. Must not batch, partition, compress or retry: `weir::Producer` does. A record is
//! queued during the `send` call itself (polled once with the GIL held; only a full buffer
//! makes `send` wait, with the GIL released), so records are queued in call order.

use futures_util::FutureExt;
use futures_util::future::Shared;
use pyo3::prelude::*;
use std::pin::Pin;
use std::sync::Arc;

use weir::options::Number;

use crate::convert::{self, HeadersArg, KeyArg, ValueArg};
use crate::errors::{IntoPyResult, timed_out, to_py};
use crate::runtime::{awaitable, now, seconds, wait, wait_for};

/// Where a record was stored.
#[pyclass(module = "weir._weir", frozen, get_all, eq)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMetadata {
    /// Topic the record was sent to.
    topic: String,
    /// Partition it was stored in.
    partition: u32,
    /// Its offset in the partition (-1 with `acks="none"`).
    offset: i64,
    /// Its timestamp, milliseconds since the Unix epoch.
    timestamp: i64,
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

#[pymethods]
impl RecordMetadata {
    fn __repr__(&self) -> String {
        format!(
            "RecordMetadata(topic={:?}, partition={}, offset={}, timestamp={})",
            self.topic, self.partition, self.offset, self.timestamp
        )
    }
}

type Delivery = Shared<weir::Delivery>;

/// The outcome of one `Producer.send`: resolves once the record is stored (or failed for
/// good, after the producer's retries).
#[pyclass(module = "weir._weir", frozen)]
#[derive(Debug)]
pub struct SendFuture {
    delivery: Delivery,
}

#[pymethods]
impl SendFuture {
    /// Waits (at most `timeout` seconds; `None` waits as long as it takes, up to the
    /// producer's `delivery_timeout_ms`) and returns the `RecordMetadata`. Raises the
    /// delivery's `WeirError`, or `weir.Timeout` when `timeout` passed first (the record may
    /// still be delivered later).
    #[pyo3(signature = (timeout=None))]
    fn result(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<RecordMetadata> {
        let limit = seconds(timeout, "timeout")?;
        match wait_for(py, self.delivery.clone(), limit)? {
            Some(outcome) => outcome.map(RecordMetadata::from).py(),
            None => Err(timed_out(
                "waiting for the delivery",
                limit.unwrap_or_default(),
            )),
        }
    }

    /// Waits like `result` and returns the delivery's exception, or `None` when the record
    /// was stored.
    #[pyo3(signature = (timeout=None))]
    fn exception(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<PyErr>> {
        let limit = seconds(timeout, "timeout")?;
        match wait_for(py, self.delivery.clone(), limit)? {
            Some(Ok(_)) => Ok(None),
            Some(Err(e)) => Ok(Some(to_py(e))),
            None => Err(timed_out(
                "waiting for the delivery",
                limit.unwrap_or_default(),
            )),
        }
    }

    /// Whether the outcome is known (stored or failed); never waits.
    fn done(&self) -> bool {
        let mut delivery = std::pin::pin!(self.delivery.clone());
        now(delivery.as_mut()).is_some()
    }

    fn __repr__(&self) -> String {
        format!("SendFuture(done={})", self.done())
    }
}

/// Sends records to topics in batches; every setting not given keeps the Rust SDK's default.
/// Use as a context manager (`with weir.Producer(...) as p:`) or call `close()`.
#[pyclass(module = "weir._weir", frozen)]
#[derive(Debug)]
pub struct Producer {
    inner: weir::Producer,
    /// Queues `_send_async` calls in call order: a send that must wait (metadata, a full
    /// buffer) holds it, and the sends after it wait in line (tokio's lock is first come,
    /// first served, and each call takes its place during the call).
    order: Arc<tokio::sync::Mutex<()>>,
}

impl Producer {
    fn record(
        topic: String,
        value: Option<ValueArg>,
        key: Option<KeyArg>,
        headers: Option<HeadersArg>,
        partition: Option<u32>,
        timestamp: Option<i64>,
    ) -> weir::ProducerRecord {
        weir::ProducerRecord {
            topic,
            key: key.map(|k| k.0),
            value: value.map(|v| v.0),
            headers: headers.unwrap_or_default().0,
            partition,
            timestamp,
        }
    }
}

#[pymethods]
impl Producer {
    /// Connects to `url` (the gRPC address of a Weir node) and gets a producer id.
    ///
    /// `compression` is `"none"`, `"gzip"`, `"snappy"`, `"lz4"` or `"zstd"`; `acks` is
    /// `"leader"`, `"all"` or `"none"`; `when_full` is `"wait"` (up to `max_block_ms`) or
    /// `"fail"` (raise `weir.BufferFull`).
    #[new]
    #[pyo3(signature = (
        *,
        url = weir::URL_DEFAULT.to_owned(),
        tenant = weir::TENANT_DEFAULT.to_owned(),
        token = None,
        compression = None,
        linger_ms = None,
        batch_bytes = None,
        buffer_bytes = None,
        max_in_flight = None,
        acks = None,
        idempotence = true,
        delivery_timeout_ms = None,
        retry_backoff_ms = None,
        max_block_ms = None,
        when_full = None,
        request_timeout_ms = 30_000,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        url: String,
        tenant: String,
        token: Option<String>,
        compression: Option<&str>,
        linger_ms: Option<i64>,
        batch_bytes: Option<usize>,
        buffer_bytes: Option<usize>,
        max_in_flight: Option<usize>,
        acks: Option<&Bound<'_, PyAny>>,
        idempotence: bool,
        delivery_timeout_ms: Option<i64>,
        retry_backoff_ms: Option<i64>,
        max_block_ms: Option<i64>,
        when_full: Option<&str>,
        request_timeout_ms: i64,
    ) -> PyResult<Self> {
        let config = weir::options::ProducerOptions {
            client: convert::client_options(url, tenant, token, request_timeout_ms),
            compression: compression.map(str::to_owned),
            linger_ms: linger_ms.map(Number::from),
            batch_bytes: batch_bytes.map(Number::from),
            buffer_bytes: buffer_bytes.map(Number::from),
            max_in_flight: max_in_flight.map(Number::from),
            acks: acks.map(convert::acks).transpose()?,
            idempotence: Some(idempotence),
            delivery_timeout_ms: delivery_timeout_ms.map(Number::from),
            retry_backoff_ms: retry_backoff_ms.map(Number::from),
            max_block_ms: max_block_ms.map(Number::from),
            when_full: when_full.map(str::to_owned),
        }
        .into_config(convert::SPELLING)
        .py()?;
        let inner = wait(py, weir::Producer::builder().config(config).build())?.py()?;
        Ok(Producer {
            inner,
            order: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// Queues a record for its partition's next batch and returns its `SendFuture`.
    ///
    /// `value` and `key` may be bytes or str (UTF-8); a dict or list value is sent as JSON.
    /// `headers` is a dict of name → bytes/str/None or a list of `(name, value)` pairs. An
    /// explicit `partition` wins over the key; `timestamp` is milliseconds since the epoch.
    /// Raises at once for an unknown topic (`weir.TopicNotFound`), a closed producer or a
    /// full buffer with `when_full="fail"`.
    #[pyo3(signature = (topic, value=None, *, key=None, headers=None, partition=None, timestamp=None))]
    #[allow(clippy::too_many_arguments)]
    fn send(
        &self,
        py: Python<'_>,
        topic: String,
        value: Option<ValueArg>,
        key: Option<KeyArg>,
        headers: Option<HeadersArg>,
        partition: Option<u32>,
        timestamp: Option<i64>,
    ) -> PyResult<SendFuture> {
        let record = Producer::record(topic, value, key, headers, partition, timestamp);
        let mut queued = std::pin::pin!(self.inner.send(record));
        let delivery = match now(queued.as_mut()) {
            Some(outcome) => outcome,
            None => wait(py, queued)?,
        }
        .py()?;
        Ok(SendFuture {
            delivery: delivery.shared(),
        })
    }

    /// Sends every batch now and waits until every record sent before is stored or failed;
    /// raises `weir.Timeout` after `timeout` seconds (`None`: no limit).
    #[pyo3(signature = (timeout=None))]
    fn flush(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<()> {
        let limit = seconds(timeout, "timeout")?;
        match wait_for(py, self.inner.flush(), limit)? {
            Some(outcome) => outcome.py(),
            None => Err(timed_out("flush", limit.unwrap_or_default())),
        }
    }

    /// Flushes, then stops the producer; later sends raise `weir.Closed`. Idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        wait(py, self.inner.close())?.py()
    }

    /// `send` for asyncio (used by `weir.aio.Producer`): queues the record now and returns an
    /// awaitable of its `RecordMetadata`.
    #[pyo3(signature = (topic, value=None, *, key=None, headers=None, partition=None, timestamp=None))]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(name = "_send_async")]
    fn send_async<'py>(
        &self,
        py: Python<'py>,
        topic: String,
        value: Option<ValueArg>,
        key: Option<KeyArg>,
        headers: Option<HeadersArg>,
        partition: Option<u32>,
        timestamp: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let record = Producer::record(topic, value, key, headers, partition, timestamp);
        let producer = self.inner.clone();
        let order = Arc::clone(&self.order);
        let mut fut: Pin<Box<_>> = Box::pin(async move {
            let turn = order.lock().await;
            let delivery = producer.send(record).await.map_err(to_py)?;
            drop(turn);
            delivery.await.map(RecordMetadata::from).map_err(to_py)
        });
        // Queue the record during this call, so records are queued in call order.
        match now(fut.as_mut()) {
            Some(Err(e)) => Err(e),
            Some(Ok(meta)) => awaitable(py, async move { Ok(meta) }),
            None => awaitable(py, fut),
        }
    }

    /// `flush` for asyncio: an awaitable.
    #[pyo3(name = "_flush_async")]
    fn flush_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let producer = self.inner.clone();
        awaitable(py, async move { producer.flush().await.map_err(to_py) })
    }

    /// `close` for asyncio: an awaitable.
    #[pyo3(name = "_close_async")]
    fn close_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let producer = self.inner.clone();
        awaitable(py, async move { producer.close().await.map_err(to_py) })
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// Closes the producer (flushing what was sent).
    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }
}
