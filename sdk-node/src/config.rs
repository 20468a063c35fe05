//! JavaScript options → SDK settings: `ClientConfig`, `ProducerConfig`, `ConsumerConfig`.
//!
//! Owns the accepted option names (camelCase in JavaScript), their units (milliseconds and
//! bytes) and the `INVALID_ARGUMENT` refusals of values out of range. Must not choose
//! anything the Rust SDK chooses: an option left unset keeps the SDK's default.

use std::time::Duration;

use napi::Result;
use napi_derive::napi;

use crate::error::invalid;

/// Largest integer a JavaScript number holds exactly.
const JS_INTEGER_MAX: f64 = 9_007_199_254_740_991.0;

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
    match value {
        None => Ok(None),
        Some(ms) if ms.is_finite() && (0.0..=JS_INTEGER_MAX).contains(&ms) => {
            Ok(Some(Duration::from_secs_f64(ms / 1000.0)))
        }
        Some(ms) => Err(invalid(format!(
            "{name} must be a number of milliseconds >= 0, not {ms}"
        ))),
    }
}

/// A count or size: a whole number, not negative.
pub(crate) fn count(value: Option<f64>, name: &str) -> Result<Option<usize>> {
    match value {
        None => Ok(None),
        Some(n) if n.fract() == 0.0 && (0.0..=JS_INTEGER_MAX).contains(&n) => {
            usize::try_from(n as u64)
                .map(Some)
                .map_err(|_| invalid(format!("{name} is too large")))
        }
        Some(n) => Err(invalid(format!(
            "{name} must be a whole number >= 0, not {n}"
        ))),
    }
}

/// A whole number that may be negative (offsets, timestamps, shifts).
pub(crate) fn integer(value: f64, name: &str) -> Result<i64> {
    if value.fract() == 0.0 && value.abs() <= JS_INTEGER_MAX {
        Ok(value as i64)
    } else {
        Err(invalid(format!(
            "{name} must be a whole number, not {value}"
        )))
    }
}

/// A partition index.
pub(crate) fn partition(value: f64) -> Result<u32> {
    count(Some(value), "partition")?
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| invalid("partition is too large"))
}

impl ClientOptions {
    pub(crate) fn config(&self) -> Result<weir::ClientConfig> {
        let mut config = weir::ClientConfig::default();
        if let Some(url) = &self.url {
            config.url.clone_from(url);
        }
        if let Some(tenant) = &self.tenant {
            config.tenant.clone_from(tenant);
        }
        config.token.clone_from(&self.token);
        if let Some(timeout) = millis(self.request_timeout_ms, "requestTimeoutMs")? {
            config.request_timeout = timeout;
        }
        Ok(config)
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

/// A codec by name, as the Rust SDK and the Python binding name them (`None` is "none").
fn compression(name: Option<&str>) -> Result<weir::Compression> {
    let Some(name) = name else {
        return Ok(weir::Compression::None);
    };
    name.parse().map_err(|_| {
        invalid(format!(
            "compression must be none, gzip, snappy, lz4 or zstd, not {name:?}"
        ))
    })
}

fn acks(name: &str) -> Result<weir::Acks> {
    Ok(match name {
        "none" => weir::Acks::None,
        "leader" => weir::Acks::Leader,
        "all" => weir::Acks::All,
        other => {
            return Err(invalid(format!(
                "acks must be none, leader or all, not {other:?}"
            )));
        }
    })
}

impl ProducerOptions {
    pub(crate) fn config(&self) -> Result<weir::ProducerConfig> {
        let client = ClientOptions {
            url: self.url.clone(),
            tenant: self.tenant.clone(),
            token: self.token.clone(),
            request_timeout_ms: self.request_timeout_ms,
        };
        let mut config = weir::ProducerConfig {
            client: client.config()?,
            compression: compression(self.compression.as_deref())?,
            ..weir::ProducerConfig::default()
        };
        if let Some(linger) = millis(self.linger_ms, "lingerMs")? {
            config.linger = linger;
        }
        if let Some(n) = count(self.batch_bytes, "batchBytes")? {
            config.batch_bytes = n;
        }
        if let Some(n) = count(self.buffer_bytes, "bufferBytes")? {
            config.buffer_bytes = n;
        }
        if let Some(n) = count(self.max_in_flight, "maxInFlight")? {
            config.max_in_flight = n;
        }
        if let Some(name) = &self.acks {
            config.acks = acks(name)?;
        }
        if let Some(on) = self.idempotence {
            config.idempotence = on;
        }
        if let Some(t) = millis(self.delivery_timeout_ms, "deliveryTimeoutMs")? {
            config.delivery_timeout = t;
        }
        if let Some(t) = millis(self.retry_backoff_ms, "retryBackoffMs")? {
            config.retry_backoff = t;
        }
        if let Some(t) = millis(self.max_block_ms, "maxBlockMs")? {
            config.max_block = t;
        }
        config.when_full = match self.when_full.as_deref() {
            None | Some("wait") => weir::WhenFull::Wait,
            Some("fail") => weir::WhenFull::Fail,
            Some(other) => {
                return Err(invalid(format!(
                    "whenFull must be wait or fail, not {other:?}"
                )));
            }
        };
        Ok(config)
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
    pub(crate) fn config(&self) -> Result<weir::ConsumerConfig> {
        let client = ClientOptions {
            url: self.url.clone(),
            tenant: self.tenant.clone(),
            token: self.token.clone(),
            request_timeout_ms: self.request_timeout_ms,
        };
        let mut config = weir::ConsumerConfig {
            client: client.config()?,
            group: self.group.clone(),
            topics: self.topics.clone().unwrap_or_default(),
            client_id: concat!("weir-node/", env!("CARGO_PKG_VERSION")).to_owned(),
            ..weir::ConsumerConfig::default()
        };
        if let Some(id) = &self.client_id {
            config.client_id.clone_from(id);
        }
        config.auto_offset_reset = match self.auto_offset_reset.as_deref() {
            None | Some("latest") => weir::AutoOffsetReset::Latest,
            Some("earliest") => weir::AutoOffsetReset::Earliest,
            Some(other) => {
                return Err(invalid(format!(
                    "autoOffsetReset must be earliest or latest, not {other:?}"
                )));
            }
        };
        let interval = millis(self.auto_commit_interval_ms, "autoCommitIntervalMs")?;
        config.commit = match self.auto_commit {
            Some(false) => weir::CommitMode::Manual,
            _ => weir::CommitMode::Auto {
                interval: interval.unwrap_or(weir::consumer::AUTO_COMMIT_INTERVAL_DEFAULT),
            },
        };
        if let Some(n) = count(self.max_poll_records, "maxPollRecords")? {
            config.max_poll_records = n;
        }
        if let Some(n) = count(self.prefetch_bytes, "prefetchBytes")? {
            config.prefetch_bytes = n;
        }
        if let Some(n) = count(self.fetch_bytes, "fetchBytes")? {
            config.fetch_bytes = n;
        }
        if let Some(t) = millis(self.fetch_wait_ms, "fetchWaitMs")? {
            config.fetch_wait = t;
        }
        if let Some(t) = millis(self.session_timeout_ms, "sessionTimeoutMs")? {
            config.session_timeout = t;
        }
        if let Some(t) = millis(self.heartbeat_interval_ms, "heartbeatIntervalMs")? {
            config.heartbeat_interval = t;
        }
        Ok(config)
    }
}
