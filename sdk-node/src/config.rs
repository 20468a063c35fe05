//! JavaScript options → SDK settings: `ClientConfig`, `ProducerConfig`, `ConsumerConfig`.
//!
//! Owns the option objects napi reads (camelCase fields in JavaScript) and their hand-over to
//! `weir::options`, which owns the defaults, the checks of every value and the
//! `INVALID_ARGUMENT` messages, shared with the Python binding. Must not check or default a
//! setting itself: an option left unset keeps the SDK's default.

use std::time::Duration;

use napi::Result;
use napi_derive::napi;
use weir::options::{self, Number, Spelling};

use crate::error::IntoNapi;

/// How JavaScript spells option names in messages (`lingerMs`).
pub(crate) const SPELLING: Spelling = Spelling::Camel;

/// What `Consumer` reports as its `client_id` when not told.
const CLIENT_ID_DEFAULT: &str = concat!("weir-node/", env!("CARGO_PKG_VERSION"));

/// Options every client takes.
#[napi(object, object_to_js = false)]
#[derive(Debug, Default)]
pub struct ClientOptions {
    /// gRPC address of a Weir node.
    pub url: Option<String>,
    /// Tenant whose topics and groups to use.
    pub tenant: Option<String>,
    /// API key or JWT.
    pub token: Option<String>,
    /// Bound on every unary call.
    pub request_timeout_ms: Option<f64>,
}

/// A number of milliseconds: finite and not negative.
pub(crate) fn millis(value: Option<f64>, name: &str) -> Result<Option<Duration>> {
    value
        .map(|ms| Number::Float(ms).millis(name))
        .transpose()
        .napi()
}

/// A count or size: a whole number, not negative.
pub(crate) fn count(value: Option<f64>, name: &str) -> Result<Option<usize>> {
    value
        .map(|n| Number::Float(n).count(name))
        .transpose()
        .napi()
}

/// A whole number that may be negative (offsets, timestamps, shifts).
pub(crate) fn integer(value: f64, name: &str) -> Result<i64> {
    Number::Float(value).integer(name).napi()
}

/// A partition index.
pub(crate) fn partition(value: f64) -> Result<u32> {
    Number::Float(value).partition().napi()
}

fn numbers(value: Option<f64>) -> Option<Number> {
    value.map(Number::Float)
}

impl ClientOptions {
    fn shared(self) -> options::ClientOptions {
        options::ClientOptions {
            url: self.url,
            tenant: self.tenant,
            token: self.token,
            request_timeout_ms: numbers(self.request_timeout_ms),
        }
    }

    pub(crate) fn config(self) -> Result<weir::ClientConfig> {
        self.shared().into_config(SPELLING).napi()
    }
}

/// `Producer` options; unset ones keep the Rust SDK's defaults.
#[napi(object, object_to_js = false)]
#[derive(Debug, Default)]
pub struct ProducerOptions {
    pub url: Option<String>,
    pub tenant: Option<String>,
    pub token: Option<String>,
    pub request_timeout_ms: Option<f64>,
    /// "none", "gzip", "snappy", "lz4" or "zstd".
    pub compression: Option<String>,
    pub linger_ms: Option<f64>,
    pub batch_bytes: Option<f64>,
    pub buffer_bytes: Option<f64>,
    pub max_in_flight: Option<f64>,
    /// "none", "leader" or "all".
    pub acks: Option<String>,
    pub idempotence: Option<bool>,
    pub delivery_timeout_ms: Option<f64>,
    pub retry_backoff_ms: Option<f64>,
    pub max_block_ms: Option<f64>,
    /// "wait" or "fail".
    pub when_full: Option<String>,
}

impl ProducerOptions {
    pub(crate) fn config(self) -> Result<weir::ProducerConfig> {
        options::ProducerOptions {
            client: ClientOptions {
                url: self.url,
                tenant: self.tenant,
                token: self.token,
                request_timeout_ms: self.request_timeout_ms,
            }
            .shared(),
            compression: self.compression,
            linger_ms: numbers(self.linger_ms),
            batch_bytes: numbers(self.batch_bytes),
            buffer_bytes: numbers(self.buffer_bytes),
            max_in_flight: numbers(self.max_in_flight),
            acks: self.acks,
            idempotence: self.idempotence,
            delivery_timeout_ms: numbers(self.delivery_timeout_ms),
            retry_backoff_ms: numbers(self.retry_backoff_ms),
            max_block_ms: numbers(self.max_block_ms),
            when_full: self.when_full,
        }
        .into_config(SPELLING)
        .napi()
    }
}

/// `Consumer` options; unset ones keep the Rust SDK's defaults.
#[napi(object, object_to_js = false)]
#[derive(Debug, Default)]
pub struct ConsumerOptions {
    pub url: Option<String>,
    pub tenant: Option<String>,
    pub token: Option<String>,
    pub request_timeout_ms: Option<f64>,
    pub group: Option<String>,
    pub topics: Option<Vec<String>>,
    pub client_id: Option<String>,
    /// "earliest" or "latest".
    pub auto_offset_reset: Option<String>,
    pub auto_commit: Option<bool>,
    pub auto_commit_interval_ms: Option<f64>,
    pub max_poll_records: Option<f64>,
    pub prefetch_bytes: Option<f64>,
    pub fetch_bytes: Option<f64>,
    pub fetch_wait_ms: Option<f64>,
    pub session_timeout_ms: Option<f64>,
    pub heartbeat_interval_ms: Option<f64>,
}

impl ConsumerOptions {
    pub(crate) fn config(self) -> Result<weir::ConsumerConfig> {
        options::ConsumerOptions {
            client: ClientOptions {
                url: self.url,
                tenant: self.tenant,
                token: self.token,
                request_timeout_ms: self.request_timeout_ms,
            }
            .shared(),
            group: self.group,
            topics: self.topics,
            client_id: Some(
                self.client_id
                    .unwrap_or_else(|| CLIENT_ID_DEFAULT.to_owned()),
            ),
            auto_offset_reset: self.auto_offset_reset,
            auto_commit: self.auto_commit,
            auto_commit_interval_ms: numbers(self.auto_commit_interval_ms),
            max_poll_records: numbers(self.max_poll_records),
            prefetch_bytes: numbers(self.prefetch_bytes),
            fetch_bytes: numbers(self.fetch_bytes),
            fetch_wait_ms: numbers(self.fetch_wait_ms),
            session_timeout_ms: numbers(self.session_timeout_ms),
            heartbeat_interval_ms: numbers(self.heartbeat_interval_ms),
        }
        .into_config(SPELLING)
        .napi()
    }
}
