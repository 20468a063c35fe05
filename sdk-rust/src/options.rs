//! Client settings as a host language gives them: optional, named, in milliseconds and plain
//! numbers, with enum values as names. Shared by the Python and Node bindings (and usable by
//! any program that reads settings from text), so both accept the same values, keep the same
//! defaults and refuse the same way.
//!
//! Owns the accepted option names (spelled per host: [`Spelling`]), the numbers a host may
//! pass ([`Number`]: whole numbers of milliseconds, counts, sizes), the names of enum values
//! (`FromStr` of [`Acks`], [`WhenFull`], [`AutoOffsetReset`], and [`Compression`]'s) and the
//! `Error::InvalidArgument` messages for values out of range. Must not choose a default of
//! its own: an option left unset keeps the `*Config`'s default, and the checks between
//! settings (`batch_bytes` within the buffer, idempotence with acks) stay with the builders.
//!
//! ```
//! use weir::options::{ConsumerOptions, Number, Spelling};
//!
//! let options = ConsumerOptions {
//!     group: Some("billing".into()),
//!     topics: Some(vec!["orders".into()]),
//!     auto_offset_reset: Some("earliest".into()),
//!     session_timeout_ms: Some(Number::Int(10_000)),
//!     ..ConsumerOptions::default()
//! };
//! let config = options.into_config(Spelling::Snake).unwrap();
//! assert_eq!(config.auto_offset_reset, weir::AutoOffsetReset::Earliest);
//!
//! let bad = ConsumerOptions { fetch_wait_ms: Some(Number::Float(-1.0)), ..Default::default() };
//! let error = bad.into_config(Spelling::Camel).unwrap_err();
//! assert_eq!(
//!     error.to_string(),
//!     "invalid argument: fetchWaitMs must be a number of milliseconds >= 0, not -1"
//! );
//! ```

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use crate::connection::ClientConfig;
use crate::consumer::{AutoOffsetReset, CommitMode, ConsumerConfig};
use crate::producer::{Acks, ProducerConfig, WhenFull};
use crate::{Compression, Error};

/// Largest integer a JavaScript number (an IEEE double) holds exactly, 2^53 - 1. Larger
/// `Number::Float`s are refused: they may not be the number the caller wrote.
pub const FLOAT_INTEGER_MAX: f64 = 9_007_199_254_740_991.0;

/// How a host language spells option names: the options here are named in snake_case
/// (`linger_ms`), as Rust and Python spell them; JavaScript's are camelCase (`lingerMs`).
/// Only error messages use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spelling {
    /// `linger_ms` (Rust, Python).
    Snake,
    /// `lingerMs` (JavaScript).
    Camel,
}

impl Spelling {
    /// `snake` (a snake_case name) as this spelling writes it.
    pub fn name(self, snake: &str) -> Cow<'_, str> {
        match self {
            Spelling::Snake => Cow::Borrowed(snake),
            Spelling::Camel if !snake.contains('_') => Cow::Borrowed(snake),
            Spelling::Camel => {
                let mut out = String::with_capacity(snake.len());
                let mut upper = false;
                for c in snake.chars() {
                    match c {
                        '_' => upper = true,
                        c if upper => {
                            out.push(c.to_ascii_uppercase());
                            upper = false;
                        }
                        c => out.push(c),
                    }
                }
                Cow::Owned(out)
            }
        }
    }
}

/// A number as a host language passed it: Python's `int` (`Int`, or `UInt` where the binding
/// takes an unsigned one), JavaScript's `number` (`Float`). The checks accept a float only
/// when it is a whole number of at most [`FLOAT_INTEGER_MAX`] (milliseconds may have a
/// fraction), so every host refuses the same values with the same message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A double, as JavaScript numbers are.
    Float(f64),
}

impl From<i64> for Number {
    fn from(n: i64) -> Self {
        Number::Int(n)
    }
}

impl From<u64> for Number {
    fn from(n: u64) -> Self {
        Number::UInt(n)
    }
}

impl From<usize> for Number {
    fn from(n: usize) -> Self {
        Number::UInt(u64::try_from(n).unwrap_or(u64::MAX))
    }
}

impl From<u32> for Number {
    fn from(n: u32) -> Self {
        Number::UInt(u64::from(n))
    }
}

impl From<f64> for Number {
    fn from(n: f64) -> Self {
        Number::Float(n)
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(n) => n.fmt(f),
            Number::UInt(n) => n.fmt(f),
            Number::Float(n) => n.fmt(f),
        }
    }
}

fn invalid(message: String) -> Error {
    Error::InvalidArgument(message)
}

impl Number {
    /// A number of milliseconds, not negative (`name` is the option's name as the host
    /// spells it, for the message).
    pub fn millis(self, name: &str) -> Result<Duration, Error> {
        let ms = match self {
            Number::Int(n) => u64::try_from(n).ok().map(Duration::from_millis),
            Number::UInt(n) => Some(Duration::from_millis(n)),
            Number::Float(n) if n.is_finite() && (0.0..=FLOAT_INTEGER_MAX).contains(&n) => {
                Some(Duration::from_secs_f64(n / 1000.0))
            }
            Number::Float(_) => None,
        };
        ms.ok_or_else(|| {
            invalid(format!(
                "{name} must be a number of milliseconds >= 0, not {self}"
            ))
        })
    }

    /// A count or a size: a whole number, not negative.
    pub fn count(self, name: &str) -> Result<usize, Error> {
        let n = match self {
            Number::Int(n) => u64::try_from(n).ok(),
            Number::UInt(n) => Some(n),
            Number::Float(n) if n.fract() == 0.0 && (0.0..=FLOAT_INTEGER_MAX).contains(&n) => {
                Some(n as u64)
            }
            Number::Float(_) => None,
        };
        let n =
            n.ok_or_else(|| invalid(format!("{name} must be a whole number >= 0, not {self}")))?;
        usize::try_from(n).map_err(|_| invalid(format!("{name} is too large")))
    }

    /// A whole number that may be negative (offsets, timestamps, shifts).
    pub fn integer(self, name: &str) -> Result<i64, Error> {
        match self {
            Number::Int(n) => Ok(n),
            Number::UInt(n) => {
                i64::try_from(n).map_err(|_| invalid(format!("{name} is too large")))
            }
            Number::Float(n) if n.fract() == 0.0 && n.abs() <= FLOAT_INTEGER_MAX => Ok(n as i64),
            Number::Float(_) => Err(invalid(format!(
                "{name} must be a whole number, not {self}"
            ))),
        }
    }

    /// A partition index.
    pub fn partition(self) -> Result<u32, Error> {
        u32::try_from(self.count("partition")?)
            .map_err(|_| invalid("partition is too large".to_owned()))
    }
}

/// An enum value's name that is none of the accepted ones (the `Err` of `FromStr` for
/// [`Acks`], [`WhenFull`] and [`AutoOffsetReset`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// The option, in snake_case.
    pub option: &'static str,
    /// The accepted names, as the message lists them (`none, leader or all`).
    pub expected: &'static str,
    /// What was given.
    pub given: String,
}

impl UnknownName {
    /// The error a binding raises, the option named as `spelling` writes it.
    pub fn into_error(self, spelling: Spelling) -> Error {
        invalid(format!(
            "{} must be {}, not {:?}",
            spelling.name(self.option),
            self.expected,
            self.given
        ))
    }
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} must be {}, not {:?}",
            self.option, self.expected, self.given
        )
    }
}

impl std::error::Error for UnknownName {}

/// The value of `names` (pairs of a name and its value) that `given` names, ignoring ASCII
/// case as [`Compression`]'s names do.
pub(crate) fn by_name<T: Copy>(
    names: &[(&str, T)],
    given: &str,
    option: &'static str,
    expected: &'static str,
) -> Result<T, UnknownName> {
    names
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(given))
        .map(|&(_, value)| value)
        .ok_or_else(|| UnknownName {
            option,
            expected,
            given: given.to_owned(),
        })
}

/// A codec by name (`none`, `gzip`, `snappy`, `lz4`, `zstd`; any ASCII case).
pub fn compression(name: &str, spelling: Spelling) -> Result<Compression, Error> {
    name.parse().map_err(|_| {
        UnknownName {
            option: "compression",
            expected: "none, gzip, snappy, lz4 or zstd",
            given: name.to_owned(),
        }
        .into_error(spelling)
    })
}

fn parse<T>(name: &str, spelling: Spelling) -> Result<T, Error>
where
    T: std::str::FromStr<Err = UnknownName>,
{
    name.parse()
        .map_err(|e: UnknownName| e.into_error(spelling))
}

/// Sets `field` from `value` when one was given, as milliseconds.
fn set_millis(
    field: &mut Duration,
    value: Option<Number>,
    snake: &str,
    spelling: Spelling,
) -> Result<(), Error> {
    if let Some(n) = value {
        *field = n.millis(&spelling.name(snake))?;
    }
    Ok(())
}

/// Sets `field` from `value` when one was given, as a count or size.
fn set_count(
    field: &mut usize,
    value: Option<Number>,
    snake: &str,
    spelling: Spelling,
) -> Result<(), Error> {
    if let Some(n) = value {
        *field = n.count(&spelling.name(snake))?;
    }
    Ok(())
}

/// The settings every client takes (`Admin`'s are only these).
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// gRPC address of a Weir node, or several separated by commas (the first that answers is
    /// used); default [`crate::URL_DEFAULT`].
    pub url: Option<String>,
    /// Tenant whose topics and groups to use; default [`crate::TENANT_DEFAULT`].
    pub tenant: Option<String>,
    /// API key or JWT.
    pub token: Option<String>,
    /// Bound on every unary call; default [`crate::REQUEST_TIMEOUT_DEFAULT`].
    pub request_timeout_ms: Option<Number>,
}

impl ClientOptions {
    /// The `ClientConfig` these options make.
    pub fn into_config(self, spelling: Spelling) -> Result<ClientConfig, Error> {
        let mut config = ClientConfig::default();
        if let Some(url) = self.url {
            config.url = url;
        }
        if let Some(tenant) = self.tenant {
            config.tenant = tenant;
        }
        config.token = self.token;
        set_millis(
            &mut config.request_timeout,
            self.request_timeout_ms,
            "request_timeout_ms",
            spelling,
        )?;
        Ok(config)
    }
}

/// `Producer` settings; each one unset keeps [`ProducerConfig`]'s default.
#[derive(Debug, Clone, Default)]
pub struct ProducerOptions {
    /// Where to connect and as whom.
    pub client: ClientOptions,
    /// `none`, `gzip`, `snappy`, `lz4` or `zstd`.
    pub compression: Option<String>,
    /// How long a batch waits for more records.
    pub linger_ms: Option<Number>,
    /// Size at which a batch is sent without waiting.
    pub batch_bytes: Option<Number>,
    /// Bound on the bytes sent but not yet acknowledged.
    pub buffer_bytes: Option<Number>,
    /// Batches a partition may have in flight.
    pub max_in_flight: Option<Number>,
    /// `none`, `leader` or `all` (or Kafka's `0`, `1`, `-1`).
    pub acks: Option<String>,
    /// Idempotent batches (no duplicates on retry).
    pub idempotence: Option<bool>,
    /// Bound on the time from `send` to a record's outcome.
    pub delivery_timeout_ms: Option<Number>,
    /// First wait before a retry.
    pub retry_backoff_ms: Option<Number>,
    /// Longest wait of `send` for buffer space.
    pub max_block_ms: Option<Number>,
    /// `wait` or `fail`: what `send` does when the buffer is full.
    pub when_full: Option<String>,
}

impl ProducerOptions {
    /// The `ProducerConfig` these options make; the first bad value refuses them all.
    pub fn into_config(self, spelling: Spelling) -> Result<ProducerConfig, Error> {
        let mut config = ProducerConfig {
            client: self.client.into_config(spelling)?,
            ..ProducerConfig::default()
        };
        if let Some(name) = &self.compression {
            config.compression = compression(name, spelling)?;
        }
        set_millis(&mut config.linger, self.linger_ms, "linger_ms", spelling)?;
        set_count(
            &mut config.batch_bytes,
            self.batch_bytes,
            "batch_bytes",
            spelling,
        )?;
        set_count(
            &mut config.buffer_bytes,
            self.buffer_bytes,
            "buffer_bytes",
            spelling,
        )?;
        set_count(
            &mut config.max_in_flight,
            self.max_in_flight,
            "max_in_flight",
            spelling,
        )?;
        if let Some(name) = &self.acks {
            config.acks = parse::<Acks>(name, spelling)?;
        }
        if let Some(on) = self.idempotence {
            config.idempotence = on;
        }
        set_millis(
            &mut config.delivery_timeout,
            self.delivery_timeout_ms,
            "delivery_timeout_ms",
            spelling,
        )?;
        set_millis(
            &mut config.retry_backoff,
            self.retry_backoff_ms,
            "retry_backoff_ms",
            spelling,
        )?;
        set_millis(
            &mut config.max_block,
            self.max_block_ms,
            "max_block_ms",
            spelling,
        )?;
        if let Some(name) = &self.when_full {
            config.when_full = parse::<WhenFull>(name, spelling)?;
        }
        Ok(config)
    }
}

/// `Consumer` settings; each one unset keeps [`ConsumerConfig`]'s default.
#[derive(Debug, Clone, Default)]
pub struct ConsumerOptions {
    /// Where to connect and as whom.
    pub client: ClientOptions,
    /// Consumer group; needed with `topics` and for commits.
    pub group: Option<String>,
    /// Topics to subscribe to as a group member.
    pub topics: Option<Vec<String>>,
    /// Shown in group descriptions (a binding gives its own default, e.g. `weir-node/0.1.0`).
    pub client_id: Option<String>,
    /// `earliest` or `latest`.
    pub auto_offset_reset: Option<String>,
    /// `false`: only explicit commits commit. Default true.
    pub auto_commit: Option<bool>,
    /// Time between auto commits (checked even when `auto_commit` is false).
    pub auto_commit_interval_ms: Option<Number>,
    /// Most records one poll returns.
    pub max_poll_records: Option<Number>,
    /// Bound on prefetched bytes.
    pub prefetch_bytes: Option<Number>,
    /// `max_bytes` of one fetch.
    pub fetch_bytes: Option<Number>,
    /// Long-poll wait of one fetch.
    pub fetch_wait_ms: Option<Number>,
    /// Group session timeout (the server bounds it).
    pub session_timeout_ms: Option<Number>,
    /// Heartbeat interval.
    pub heartbeat_interval_ms: Option<Number>,
}

impl ConsumerOptions {
    /// The `ConsumerConfig` these options make; the first bad value refuses them all, and
    /// `topics` without a `group` are refused here (before any connection is made).
    pub fn into_config(self, spelling: Spelling) -> Result<ConsumerConfig, Error> {
        let topics = self.topics.unwrap_or_default();
        if !topics.is_empty() && self.group.is_none() {
            return Err(invalid("topics need a group".to_owned()));
        }
        let mut config = ConsumerConfig {
            client: self.client.into_config(spelling)?,
            group: self.group,
            topics,
            ..ConsumerConfig::default()
        };
        if let Some(id) = self.client_id {
            config.client_id = id;
        }
        if let Some(name) = &self.auto_offset_reset {
            config.auto_offset_reset = parse::<AutoOffsetReset>(name, spelling)?;
        }
        let interval = self
            .auto_commit_interval_ms
            .map(|n| n.millis(&spelling.name("auto_commit_interval_ms")))
            .transpose()?;
        config.commit = match (self.auto_commit, interval) {
            (Some(false), _) => CommitMode::Manual,
            (_, None) => CommitMode::default(),
            (_, Some(interval)) => CommitMode::Auto { interval },
        };
        set_count(
            &mut config.max_poll_records,
            self.max_poll_records,
            "max_poll_records",
            spelling,
        )?;
        set_count(
            &mut config.prefetch_bytes,
            self.prefetch_bytes,
            "prefetch_bytes",
            spelling,
        )?;
        set_count(
            &mut config.fetch_bytes,
            self.fetch_bytes,
            "fetch_bytes",
            spelling,
        )?;
        set_millis(
            &mut config.fetch_wait,
            self.fetch_wait_ms,
            "fetch_wait_ms",
            spelling,
        )?;
        set_millis(
            &mut config.session_timeout,
            self.session_timeout_ms,
            "session_timeout_ms",
            spelling,
        )?;
        set_millis(
            &mut config.heartbeat_interval,
            self.heartbeat_interval_ms,
            "heartbeat_interval_ms",
            spelling,
        )?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consumer::AUTO_COMMIT_INTERVAL_DEFAULT;

    fn message(e: Error) -> String {
        match e {
            Error::InvalidArgument(m) => m,
            other => panic!("not InvalidArgument: {other:?}"),
        }
    }

    #[test]
    fn spelling_turns_snake_case_into_camel_case() {
        assert_eq!(Spelling::Snake.name("linger_ms"), "linger_ms");
        assert_eq!(Spelling::Camel.name("linger_ms"), "lingerMs");
        assert_eq!(
            Spelling::Camel.name("auto_commit_interval_ms"),
            "autoCommitIntervalMs"
        );
        assert_eq!(Spelling::Camel.name("acks"), "acks");
        assert!(matches!(Spelling::Camel.name("acks"), Cow::Borrowed(_)));
    }

    #[test]
    fn millis_accept_whole_and_fractional_milliseconds_and_refuse_the_rest() {
        assert_eq!(
            Number::Int(5).millis("x").unwrap(),
            Duration::from_millis(5)
        );
        assert_eq!(Number::UInt(0).millis("x").unwrap(), Duration::ZERO);
        assert_eq!(
            Number::Float(1.5).millis("x").unwrap(),
            Duration::from_micros(1500)
        );
        assert_eq!(
            message(Number::Int(-1).millis("linger_ms").unwrap_err()),
            "linger_ms must be a number of milliseconds >= 0, not -1"
        );
        for bad in [-1.0, f64::NAN, f64::INFINITY, FLOAT_INTEGER_MAX * 2.0] {
            assert!(Number::Float(bad).millis("lingerMs").is_err(), "{bad}");
        }
        assert_eq!(
            message(Number::Float(-1.0).millis("lingerMs").unwrap_err()),
            "lingerMs must be a number of milliseconds >= 0, not -1"
        );
    }

    #[test]
    fn counts_are_whole_numbers_not_negative() {
        assert_eq!(Number::Int(3).count("n").unwrap(), 3);
        assert_eq!(Number::Float(3.0).count("n").unwrap(), 3);
        assert_eq!(Number::from(7usize).count("n").unwrap(), 7);
        assert_eq!(
            message(Number::Float(2.5).count("maxRecords").unwrap_err()),
            "maxRecords must be a whole number >= 0, not 2.5"
        );
        assert_eq!(
            message(Number::Int(-2).count("batch_bytes").unwrap_err()),
            "batch_bytes must be a whole number >= 0, not -2"
        );
        assert!(Number::Float(f64::NAN).count("n").is_err());
        assert!(Number::Float(FLOAT_INTEGER_MAX + 2.0).count("n").is_err());
    }

    #[test]
    fn integers_and_partitions() {
        assert_eq!(Number::Float(-7.0).integer("offset").unwrap(), -7);
        assert_eq!(Number::Int(i64::MIN).integer("offset").unwrap(), i64::MIN);
        assert_eq!(
            message(Number::UInt(u64::MAX).integer("offset").unwrap_err()),
            "offset is too large"
        );
        assert_eq!(
            message(Number::Float(0.5).integer("offset").unwrap_err()),
            "offset must be a whole number, not 0.5"
        );
        assert_eq!(Number::Float(4.0).partition().unwrap(), 4);
        assert_eq!(
            message(Number::Float(5e9).partition().unwrap_err()),
            "partition is too large"
        );
        assert!(Number::Float(f64::NAN).partition().is_err());
    }

    #[test]
    fn enum_names_ignore_case_and_name_what_is_accepted() {
        assert_eq!("ALL".parse::<Acks>().unwrap(), Acks::All);
        assert_eq!("-1".parse::<Acks>().unwrap(), Acks::All);
        assert_eq!("1".parse::<Acks>().unwrap(), Acks::Leader);
        assert_eq!("0".parse::<Acks>().unwrap(), Acks::None);
        assert_eq!("fail".parse::<WhenFull>().unwrap(), WhenFull::Fail);
        assert_eq!(
            "Earliest".parse::<AutoOffsetReset>().unwrap(),
            AutoOffsetReset::Earliest
        );
        let e = "most".parse::<Acks>().unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"acks must be none, leader or all, not "most""#
        );
        let e = "oldest".parse::<AutoOffsetReset>().unwrap_err();
        assert_eq!(
            message(e.into_error(Spelling::Camel)),
            r#"autoOffsetReset must be earliest or latest, not "oldest""#
        );
        assert_eq!(
            message(compression("brotli", Spelling::Snake).unwrap_err()),
            r#"compression must be none, gzip, snappy, lz4 or zstd, not "brotli""#
        );
        assert_eq!(
            compression("ZSTD", Spelling::Camel).unwrap(),
            Compression::Zstd
        );
    }

    #[test]
    fn unset_options_keep_the_sdk_defaults() {
        let producer = ProducerOptions::default()
            .into_config(Spelling::Snake)
            .unwrap();
        let defaults = ProducerConfig::default();
        assert_eq!(producer.linger, defaults.linger);
        assert_eq!(producer.acks, defaults.acks);
        assert_eq!(producer.compression, defaults.compression);
        assert_eq!(producer.when_full, defaults.when_full);
        assert_eq!(producer.idempotence, defaults.idempotence);
        assert_eq!(producer.client.url, crate::URL_DEFAULT);
        let consumer = ConsumerOptions::default()
            .into_config(Spelling::Camel)
            .unwrap();
        let defaults = ConsumerConfig::default();
        assert_eq!(consumer.commit, defaults.commit);
        assert_eq!(consumer.max_poll_records, defaults.max_poll_records);
        assert_eq!(consumer.session_timeout, defaults.session_timeout);
        assert_eq!(consumer.auto_offset_reset, defaults.auto_offset_reset);
        assert_eq!(consumer.client_id, defaults.client_id);
        assert_eq!(
            consumer.client.request_timeout,
            crate::REQUEST_TIMEOUT_DEFAULT
        );
    }

    #[test]
    fn given_options_reach_the_config() {
        let producer = ProducerOptions {
            client: ClientOptions {
                url: Some("http://h:1".into()),
                tenant: Some("t".into()),
                token: Some("k".into()),
                request_timeout_ms: Some(Number::Int(2000)),
            },
            compression: Some("lz4".into()),
            linger_ms: Some(Number::Float(20.0)),
            batch_bytes: Some(Number::UInt(1024)),
            buffer_bytes: Some(Number::UInt(4096)),
            max_in_flight: Some(Number::Int(2)),
            acks: Some("all".into()),
            idempotence: Some(false),
            delivery_timeout_ms: Some(Number::Int(9000)),
            retry_backoff_ms: Some(Number::Int(7)),
            max_block_ms: Some(Number::Int(8)),
            when_full: Some("fail".into()),
        }
        .into_config(Spelling::Snake)
        .unwrap();
        assert_eq!(
            (
                producer.client.url.as_str(),
                producer.client.tenant.as_str()
            ),
            ("http://h:1", "t")
        );
        assert_eq!(producer.client.token.as_deref(), Some("k"));
        assert_eq!(producer.client.request_timeout, Duration::from_secs(2));
        assert_eq!(producer.compression, Compression::Lz4);
        assert_eq!(producer.linger, Duration::from_millis(20));
        assert_eq!((producer.batch_bytes, producer.buffer_bytes), (1024, 4096));
        assert_eq!(producer.max_in_flight, 2);
        assert_eq!(producer.acks, Acks::All);
        assert!(!producer.idempotence);
        assert_eq!(producer.delivery_timeout, Duration::from_secs(9));
        assert_eq!(producer.retry_backoff, Duration::from_millis(7));
        assert_eq!(producer.max_block, Duration::from_millis(8));
        assert_eq!(producer.when_full, WhenFull::Fail);

        let consumer = ConsumerOptions {
            group: Some("g".into()),
            topics: Some(vec!["a".into()]),
            client_id: Some("me".into()),
            auto_offset_reset: Some("earliest".into()),
            auto_commit_interval_ms: Some(Number::Int(250)),
            max_poll_records: Some(Number::Int(10)),
            prefetch_bytes: Some(Number::Int(1 << 20)),
            fetch_bytes: Some(Number::Int(1 << 16)),
            fetch_wait_ms: Some(Number::Int(100)),
            session_timeout_ms: Some(Number::Int(6000)),
            heartbeat_interval_ms: Some(Number::Int(500)),
            ..ConsumerOptions::default()
        }
        .into_config(Spelling::Snake)
        .unwrap();
        assert_eq!(consumer.group.as_deref(), Some("g"));
        assert_eq!(consumer.topics, ["a"]);
        assert_eq!(consumer.client_id, "me");
        assert_eq!(consumer.auto_offset_reset, AutoOffsetReset::Earliest);
        assert_eq!(
            consumer.commit,
            CommitMode::Auto {
                interval: Duration::from_millis(250)
            }
        );
        assert_eq!(consumer.max_poll_records, 10);
        assert_eq!(
            (consumer.prefetch_bytes, consumer.fetch_bytes),
            (1 << 20, 1 << 16)
        );
        assert_eq!(consumer.fetch_wait, Duration::from_millis(100));
        assert_eq!(consumer.session_timeout, Duration::from_secs(6));
        assert_eq!(consumer.heartbeat_interval, Duration::from_millis(500));
    }

    #[test]
    fn auto_commit_off_is_manual_whatever_the_interval_but_the_interval_is_checked() {
        let manual = ConsumerOptions {
            auto_commit: Some(false),
            auto_commit_interval_ms: Some(Number::Int(10)),
            ..ConsumerOptions::default()
        };
        assert_eq!(
            manual.into_config(Spelling::Snake).unwrap().commit,
            CommitMode::Manual
        );
        let auto = ConsumerOptions {
            auto_commit: Some(true),
            ..ConsumerOptions::default()
        };
        assert_eq!(
            auto.into_config(Spelling::Snake).unwrap().commit,
            CommitMode::Auto {
                interval: AUTO_COMMIT_INTERVAL_DEFAULT
            }
        );
        let bad = ConsumerOptions {
            auto_commit: Some(false),
            auto_commit_interval_ms: Some(Number::Float(-5.0)),
            ..ConsumerOptions::default()
        };
        assert_eq!(
            message(bad.into_config(Spelling::Camel).unwrap_err()),
            "autoCommitIntervalMs must be a number of milliseconds >= 0, not -5"
        );
    }

    #[test]
    fn bad_values_are_refused_with_the_hosts_option_names() {
        let consumer = |options: ConsumerOptions, spelling| {
            message(options.into_config(spelling).unwrap_err())
        };
        assert_eq!(
            consumer(
                ConsumerOptions {
                    topics: Some(vec!["t".into()]),
                    ..ConsumerOptions::default()
                },
                Spelling::Snake
            ),
            "topics need a group"
        );
        assert_eq!(
            consumer(
                ConsumerOptions {
                    session_timeout_ms: Some(Number::Int(-1)),
                    ..ConsumerOptions::default()
                },
                Spelling::Snake
            ),
            "session_timeout_ms must be a number of milliseconds >= 0, not -1"
        );
        assert_eq!(
            consumer(
                ConsumerOptions {
                    auto_offset_reset: Some("oldest".into()),
                    ..ConsumerOptions::default()
                },
                Spelling::Snake
            ),
            r#"auto_offset_reset must be earliest or latest, not "oldest""#
        );
        let producer = |options: ProducerOptions, spelling| {
            message(options.into_config(spelling).unwrap_err())
        };
        assert_eq!(
            producer(
                ProducerOptions {
                    when_full: Some("block".into()),
                    ..ProducerOptions::default()
                },
                Spelling::Camel
            ),
            r#"whenFull must be wait or fail, not "block""#
        );
        assert_eq!(
            producer(
                ProducerOptions {
                    acks: Some("2".into()),
                    ..ProducerOptions::default()
                },
                Spelling::Snake
            ),
            r#"acks must be none, leader or all, not "2""#
        );
        assert_eq!(
            producer(
                ProducerOptions {
                    client: ClientOptions {
                        request_timeout_ms: Some(Number::Float(f64::NAN)),
                        ..ClientOptions::default()
                    },
                    ..ProducerOptions::default()
                },
                Spelling::Camel
            ),
            "requestTimeoutMs must be a number of milliseconds >= 0, not NaN"
        );
        assert_eq!(
            producer(
                ProducerOptions {
                    max_in_flight: Some(Number::Float(1.5)),
                    ..ProducerOptions::default()
                },
                Spelling::Camel
            ),
            "maxInFlight must be a whole number >= 0, not 1.5"
        );
    }
}
