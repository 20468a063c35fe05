//! `Consumer`: reads records of assigned partitions, as a member of a consumer group
//! (`subscribe`) or on partitions it picks itself (`assign`), with auto or manual commits.
//!
//! Owns the public consumer API (builder, poll, stream, commit, seek, pause/resume, close)
//! and what poll does: hand out prefetched records in offset order per partition and, in auto
//! mode, commit the positions of records already handed out (at-least-once: a record is
//! committed only after poll returned it). Fetching is `fetcher.rs`, membership `group.rs`.
//!
//! Rebalance callbacks (`RebalanceListener`) run on the consumer's background group task;
//! they must be quick and must not block. `handoff.rs` has what code running elsewhere (the
//! Python and Node bindings) uses to take the consumer's output over: `RebalanceEvents`,
//! `PollSlices`, `max_records`, `PollBuffer`.

mod commit;
mod fetcher;
mod group;
mod handoff;
mod state;

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use weir_proto::batch::{DecodedRecord, Header};

pub use fetcher::FETCH_RETRY_BACKOFF;
pub use handoff::{PollBuffer, PollSlices, RebalanceEvent, RebalanceEvents, max_records};

use crate::Error;
use crate::admin::OffsetSpec;
use crate::connection::{ClientConfig, Connection};
use state::Shared;

/// Default bound on records one `poll` returns.
pub const MAX_POLL_RECORDS_DEFAULT: usize = 500;
/// Default bound on prefetched, not yet polled bytes (all partitions). Each partition's
/// fetcher may overshoot it by one fetch (`fetch_bytes`).
pub const PREFETCH_BYTES_DEFAULT: usize = 16 << 20;
/// Default `max_bytes` of one fetch.
pub const FETCH_BYTES_DEFAULT: usize = 1 << 20;
/// Default long-poll wait of one fetch when no record is there yet.
pub const FETCH_WAIT_DEFAULT: Duration = Duration::from_millis(500);
/// Default group session timeout (the server's default).
pub const SESSION_TIMEOUT_DEFAULT: Duration = Duration::from_secs(30);
/// Default heartbeat interval (capped at a third of the session timeout).
pub const HEARTBEAT_INTERVAL_DEFAULT: Duration = Duration::from_secs(3);
/// Default interval of auto commits.
pub const AUTO_COMMIT_INTERVAL_DEFAULT: Duration = Duration::from_secs(5);
/// How long `close` waits for the group task to stop.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one wait of `stream` polls before it polls again.
const STREAM_POLL: Duration = Duration::from_secs(1);
/// Bytes counted per record on top of key, value and headers, for the prefetch bound.
const RECORD_OVERHEAD_BYTES: usize = 21;

/// A partition of a topic.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicPartition {
    /// Topic name.
    pub topic: String,
    /// Partition index.
    pub partition: u32,
}

impl TopicPartition {
    /// A topic partition.
    pub fn new(topic: impl Into<String>, partition: u32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.topic, self.partition)
    }
}

/// A record read from a partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerRecord {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// Offset.
    pub offset: i64,
    /// Timestamp (ms since the Unix epoch).
    pub timestamp: i64,
    /// Key; `None` is Kafka's null key.
    pub key: Option<Bytes>,
    /// Value; `None` is a tombstone.
    pub value: Option<Bytes>,
    /// Headers, in order.
    pub headers: Vec<Header>,
}

impl ConsumerRecord {
    fn from_decoded(tp: &TopicPartition, r: DecodedRecord) -> Self {
        ConsumerRecord {
            topic: tp.topic.clone(),
            partition: tp.partition,
            offset: r.offset,
            timestamp: r.timestamp,
            key: r.key,
            value: r.value,
            headers: r.headers,
        }
    }

    /// Bytes counted against the prefetch bound.
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

/// Where a partition without a committed offset starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AutoOffsetReset {
    /// The oldest stored record.
    Earliest,
    /// The next record produced.
    #[default]
    Latest,
}

impl std::str::FromStr for AutoOffsetReset {
    type Err = crate::options::UnknownName;

    /// `earliest` or `latest`, in any ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const NAMES: [(&str, AutoOffsetReset); 2] = [
            ("earliest", AutoOffsetReset::Earliest),
            ("latest", AutoOffsetReset::Latest),
        ];
        crate::options::by_name(&NAMES, s, "auto_offset_reset", "earliest or latest")
    }
}

/// How offsets are committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitMode {
    /// `poll` commits the positions of records it handed out, at most once per `interval`;
    /// revocations and `close` commit too.
    Auto {
        /// Time between two commits.
        interval: Duration,
    },
    /// Only `commit` and `commit_offsets` commit.
    Manual,
}

impl Default for CommitMode {
    fn default() -> Self {
        CommitMode::Auto {
            interval: AUTO_COMMIT_INTERVAL_DEFAULT,
        }
    }
}

/// Told about partitions given to and taken from a group member. Called on the consumer's
/// background task: keep it quick.
pub trait RebalanceListener: Send + Sync + fmt::Debug {
    /// Partitions now assigned (their fetchers have started).
    fn assigned(&self, partitions: &[TopicPartition]) {
        let _ = partitions;
    }
    /// Partitions taken away (already committed in auto mode; no more records are handed out
    /// for them), or lost because the group fenced this member.
    fn revoked(&self, partitions: &[TopicPartition]) {
        let _ = partitions;
    }
}

/// The listener used when none is given.
#[derive(Debug)]
struct NoListener;

impl RebalanceListener for NoListener {}

/// Every consumer setting; `ConsumerBuilder` fills it.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// Where to connect and as whom.
    pub client: ClientConfig,
    /// Consumer group; needed for `subscribe` and commits.
    pub group: Option<String>,
    /// Topics to subscribe to (group mode); empty for `assign`.
    pub topics: Vec<String>,
    /// Shown in group descriptions.
    pub client_id: String,
    /// Where partitions without a committed offset start.
    pub auto_offset_reset: AutoOffsetReset,
    /// Auto or manual commits.
    pub commit: CommitMode,
    /// Most records one poll returns.
    pub max_poll_records: usize,
    /// Bound on prefetched bytes.
    pub prefetch_bytes: usize,
    /// `max_bytes` of one fetch.
    pub fetch_bytes: usize,
    /// Long-poll wait of one fetch.
    pub fetch_wait: Duration,
    /// Group session timeout.
    pub session_timeout: Duration,
    /// Heartbeat interval.
    pub heartbeat_interval: Duration,
    /// Static membership: a stable id for this instance (e.g. its pod name). A restarted
    /// instance with the same id takes its partitions back within the session timeout,
    /// without a rebalance of the others.
    pub instance_id: Option<String>,
    /// How the group shares partitions (the group's first member decides).
    pub assignor: Assignor,
}

/// How a group shares partitions among its members.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Assignor {
    /// The server's default (`Uniform`).
    #[default]
    ServerDefault,
    /// Sticky and balanced to ±1 partition, moving as few partitions as possible.
    Uniform,
    /// Kafka's range assignor: contiguous ranges of each topic's partitions.
    Range,
}

impl Assignor {
    pub(crate) fn wire(self) -> i32 {
        use weir_proto::v1::Assignor as Wire;
        match self {
            Assignor::ServerDefault => Wire::Unspecified as i32,
            Assignor::Uniform => Wire::Uniform as i32,
            Assignor::Range => Wire::Range as i32,
        }
    }
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            client: ClientConfig::default(),
            group: None,
            topics: Vec::new(),
            client_id: concat!("weir-rust/", env!("CARGO_PKG_VERSION")).to_owned(),
            auto_offset_reset: AutoOffsetReset::Latest,
            commit: CommitMode::default(),
            max_poll_records: MAX_POLL_RECORDS_DEFAULT,
            prefetch_bytes: PREFETCH_BYTES_DEFAULT,
            fetch_bytes: FETCH_BYTES_DEFAULT,
            fetch_wait: FETCH_WAIT_DEFAULT,
            session_timeout: SESSION_TIMEOUT_DEFAULT,
            heartbeat_interval: HEARTBEAT_INTERVAL_DEFAULT,
            instance_id: None,
            assignor: Assignor::default(),
        }
    }
}

impl ConsumerConfig {
    fn check(&self) -> Result<(), Error> {
        let bad = |what: &str| Err(Error::InvalidArgument(what.to_owned()));
        if !self.topics.is_empty() && self.group.is_none() {
            return bad("subscribe needs a group");
        }
        if self.max_poll_records == 0 || self.prefetch_bytes == 0 || self.fetch_bytes == 0 {
            return bad("max_poll_records, prefetch_bytes and fetch_bytes must be above 0");
        }
        if self.heartbeat_interval.is_zero() || self.session_timeout.is_zero() {
            return bad("heartbeat_interval and session_timeout must be above 0");
        }
        Ok(())
    }
}

/// Builds a `Consumer`; every setting has a default (see `ConsumerConfig`).
#[derive(Debug, Default)]
pub struct ConsumerBuilder {
    config: ConsumerConfig,
    listener: Option<Arc<dyn RebalanceListener>>,
}

impl ConsumerBuilder {
    /// gRPC address of a Weir node.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.config.client.url = url.into();
        self
    }
    /// Tenant to read from.
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
    /// Consumer group.
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.config.group = Some(group.into());
        self
    }
    /// Topics to subscribe to as a group member.
    pub fn subscribe<I, S>(mut self, topics: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.topics = topics.into_iter().map(Into::into).collect();
        self
    }
    /// Name shown in group descriptions.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.config.client_id = id.into();
        self
    }
    /// Start of partitions without a committed offset.
    pub fn auto_offset_reset(mut self, reset: AutoOffsetReset) -> Self {
        self.config.auto_offset_reset = reset;
        self
    }
    /// Auto or manual commits.
    pub fn commit(mut self, mode: CommitMode) -> Self {
        self.config.commit = mode;
        self
    }
    /// Most records one poll returns.
    pub fn max_poll_records(mut self, n: usize) -> Self {
        self.config.max_poll_records = n;
        self
    }
    /// Bound on prefetched bytes.
    pub fn prefetch_bytes(mut self, bytes: usize) -> Self {
        self.config.prefetch_bytes = bytes;
        self
    }
    /// `max_bytes` of one fetch.
    pub fn fetch_bytes(mut self, bytes: usize) -> Self {
        self.config.fetch_bytes = bytes;
        self
    }
    /// Long-poll wait of one fetch.
    pub fn fetch_wait(mut self, wait: Duration) -> Self {
        self.config.fetch_wait = wait;
        self
    }
    /// Group session timeout.
    pub fn session_timeout(mut self, timeout: Duration) -> Self {
        self.config.session_timeout = timeout;
        self
    }
    /// Heartbeat interval.
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.config.heartbeat_interval = interval;
        self
    }

    /// Static membership: a stable id for this instance (see `ConsumerConfig::instance_id`).
    pub fn instance_id(mut self, id: impl Into<String>) -> Self {
        self.config.instance_id = Some(id.into());
        self
    }

    /// How the group shares partitions.
    pub fn assignor(mut self, assignor: Assignor) -> Self {
        self.config.assignor = assignor;
        self
    }

    /// Rebalance callbacks.
    pub fn listener(mut self, listener: impl RebalanceListener + 'static) -> Self {
        self.listener = Some(Arc::new(listener));
        self
    }
    /// All settings at once (keeps a listener set before).
    pub fn config(mut self, config: ConsumerConfig) -> Self {
        self.config = config;
        self
    }

    /// Checks the settings, connects and, with a subscription, joins the group (the first
    /// heartbeat; an unknown topic fails here with `TOPIC_NOT_FOUND`).
    pub async fn build(self) -> Result<Consumer, Error> {
        self.config.check()?;
        let conn = Connection::open(self.config.client.clone()).await?;
        let shared = Shared::new(conn, self.config);
        let listener = self.listener.unwrap_or_else(|| Arc::new(NoListener));
        let (stop, stop_rx) = watch::channel(false);
        let mut group_task = None;
        if !shared.config.topics.is_empty() {
            group::join(&shared, listener.as_ref()).await?;
            let task = group::run(Arc::clone(&shared), Arc::clone(&listener), stop_rx);
            group_task = Some(tokio::spawn(task));
        }
        let next_commit = match shared.config.commit {
            CommitMode::Auto { interval } => Some(Instant::now() + interval),
            CommitMode::Manual => None,
        };
        Ok(Consumer {
            shared,
            listener,
            stop,
            group_task,
            next_commit,
        })
    }
}

/// Reads records. Poll it from one task; it is not `Clone`.
#[derive(Debug)]
pub struct Consumer {
    shared: Arc<Shared>,
    listener: Arc<dyn RebalanceListener>,
    stop: watch::Sender<bool>,
    group_task: Option<JoinHandle<()>>,
    next_commit: Option<Instant>,
}

impl Consumer {
    /// A builder with default settings.
    pub fn builder() -> ConsumerBuilder {
        ConsumerBuilder::default()
    }

    /// Reads `partitions` without group membership (replacing any earlier `assign`). They
    /// start at the group's committed offsets when a group is set, else at
    /// `auto_offset_reset`; `seek` moves them.
    pub fn assign(&mut self, partitions: &[TopicPartition]) -> Result<(), Error> {
        if self.group_task.is_some() {
            return Err(Error::InvalidArgument(
                "assign cannot be used with subscribe".into(),
            ));
        }
        {
            let mut state = self.shared.lock();
            let gone: Vec<TopicPartition> = state
                .parts
                .keys()
                .filter(|tp| !partitions.contains(tp))
                .cloned()
                .collect();
            for tp in &gone {
                state.remove(tp);
            }
        }
        for tp in partitions {
            group::start(&self.shared, tp.clone());
        }
        Ok(())
    }

    /// The partitions this consumer reads now.
    pub fn assignment(&self) -> Vec<TopicPartition> {
        self.shared.lock().parts.keys().cloned().collect()
    }

    /// Waits up to `timeout` for records and returns those ready (at most
    /// `max_poll_records`); an empty list when none came in time. In auto mode, commits the
    /// positions of earlier handed-out records when the commit interval has passed.
    pub async fn poll(&mut self, timeout: Duration) -> Result<Vec<ConsumerRecord>, Error> {
        let max = self.shared.config.max_poll_records;
        self.poll_up_to(timeout, max).await
    }

    /// `poll` handing out at most `max_records` records (at least 1, at most
    /// `max_poll_records`). For callers that pass records on one at a time (iterators in
    /// other languages): a record counts as handed out, and so as committable, once a poll
    /// returned it, so they should not take more than they pass on.
    pub async fn poll_up_to(
        &mut self,
        timeout: Duration,
        max_records: usize,
    ) -> Result<Vec<ConsumerRecord>, Error> {
        self.poll_records(timeout, max_records, false).await
    }

    /// `poll_up_to` for callers that poll ahead and pass the records on one at a time later
    /// (iterators in other languages): until their next poll or `put_back`, a commit made
    /// behind their back (auto mode, when a rebalance takes a partition away) stops where
    /// these records begin, so none of them is committed before it was passed on. Records
    /// passed on before the revocation may then be read again by the partition's next
    /// owner (at least once).
    pub async fn poll_ahead(
        &mut self,
        timeout: Duration,
        max_records: usize,
    ) -> Result<Vec<ConsumerRecord>, Error> {
        self.poll_records(timeout, max_records, true).await
    }

    async fn poll_records(
        &mut self,
        timeout: Duration,
        max_records: usize,
        ahead: bool,
    ) -> Result<Vec<ConsumerRecord>, Error> {
        let max = max_records.clamp(1, self.shared.config.max_poll_records);
        let deadline = Instant::now() + timeout;
        // Polling again means what the last poll handed out was passed on.
        self.shared.lock().passed_on();
        self.auto_commit().await?;
        loop {
            let notified = self.shared.data.notified();
            {
                let mut state = self.shared.lock();
                if let Some(e) = state.error.take() {
                    return Err(e);
                }
                let records = state.take(max, ahead);
                if !records.is_empty() {
                    drop(state);
                    self.shared.room.notify_waiters();
                    return Ok(records);
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    /// Gives back records a poll handed out that the caller did not pass on (an iterator
    /// that polled ahead and stopped): the next poll hands them out again, and until then
    /// commits count them as not handed out. `records` are the last ones polls handed out
    /// from their partitions, in order. A partition sought, revoked or polled again since
    /// takes nothing back. Every other record `poll_ahead` handed out counts as passed on
    /// (with no records: all of them).
    pub fn put_back(&mut self, records: Vec<ConsumerRecord>) {
        self.shared.lock().put_back(records);
        self.shared.data.notify_waiters();
    }

    /// Records one at a time, as a `Stream` that waits as long as it takes.
    pub fn stream(&mut self) -> impl Stream<Item = Result<ConsumerRecord, Error>> + '_ {
        futures_util::stream::unfold(
            (self, VecDeque::new()),
            |(consumer, mut buffered)| async move {
                loop {
                    if let Some(record) = buffered.pop_front() {
                        return Some((Ok(record), (consumer, buffered)));
                    }
                    match consumer.poll(STREAM_POLL).await {
                        Ok(records) => buffered.extend(records),
                        Err(e) => return Some((Err(e), (consumer, buffered))),
                    }
                }
            },
        )
    }

    async fn auto_commit(&mut self) -> Result<(), Error> {
        let (CommitMode::Auto { interval }, Some(at)) =
            (self.shared.config.commit, self.next_commit)
        else {
            return Ok(());
        };
        if Instant::now() < at || self.shared.config.group.is_none() {
            return Ok(());
        }
        self.next_commit = Some(Instant::now() + interval);
        match self.commit_handed_out().await {
            Ok(()) => Ok(()),
            Err(e) if e.is_retryable() || matches!(e, Error::InvalidArgument(_)) => {
                tracing::debug!(error = %e, "auto commit failed");
                Ok(())
            }
            Err(e) if e.code().is_some_and(is_rebalance) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn commit_handed_out(&self) -> Result<(), Error> {
        let positions = self.shared.lock().uncommitted();
        if positions.is_empty() {
            return Ok(());
        }
        commit::send(&self.shared, &positions).await
    }

    /// Commits the positions of every record handed out so far (manual mode or any time),
    /// and returns once the server stored them.
    pub async fn commit(&mut self) -> Result<(), Error> {
        self.commit_handed_out().await
    }

    /// Starts committing the positions of every record handed out so far and returns at
    /// once; the handle yields the outcome. Commits started later may finish first: a failed
    /// one is not retried (the next commit covers it), as with Kafka's `commitAsync`.
    pub fn commit_async(&mut self) -> tokio::task::JoinHandle<Result<(), Error>> {
        let positions = self.shared.lock().uncommitted();
        let shared = Arc::clone(&self.shared);
        tokio::spawn(async move {
            if positions.is_empty() {
                return Ok(());
            }
            commit::send(&shared, &positions).await
        })
    }

    /// Commits these offsets (the next offset to read, per partition).
    pub async fn commit_offsets(&mut self, offsets: &[(TopicPartition, i64)]) -> Result<(), Error> {
        commit::send(&self.shared, offsets).await
    }

    /// The group's committed offset of `tp` (`None` when nothing was committed).
    pub async fn committed(&self, tp: &TopicPartition) -> Result<Option<i64>, Error> {
        let Some(group) = &self.shared.config.group else {
            return Err(Error::InvalidArgument(
                "committed needs a consumer group".into(),
            ));
        };
        fetcher::committed(&self.shared, group, tp).await
    }

    /// The offset of the next record `poll` will hand out from `tp` (`None` before its start
    /// position is known or when it is not assigned).
    pub fn position(&self, tp: &TopicPartition) -> Option<i64> {
        self.shared.lock().parts.get(tp).and_then(|p| p.position)
    }

    /// Makes `tp` continue at `offset`; prefetched records of `tp` are dropped.
    pub fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<(), Error> {
        {
            let mut state = self.shared.lock();
            if !state.parts.contains_key(tp) {
                return Err(Error::InvalidArgument(format!("{tp} is not assigned")));
            }
            state.clear_queue(tp);
            let part = state.parts.get_mut(tp).expect("checked above");
            part.position = Some(offset);
            part.fetch_offset = Some(offset);
            part.generation += 1;
        }
        self.shared.room.notify_waiters();
        Ok(())
    }

    /// Makes `tp` continue at its first record at or after `timestamp` (ms since the epoch),
    /// or at its end when there is none.
    pub async fn seek_to_timestamp(
        &mut self,
        tp: &TopicPartition,
        timestamp: i64,
    ) -> Result<(), Error> {
        let offset =
            fetcher::offset_for(&self.shared, tp, OffsetSpec::Timestamp(timestamp)).await?;
        self.seek(tp, offset)
    }

    /// Stops fetching and handing out records of these partitions until `resume`.
    pub fn pause(&mut self, partitions: &[TopicPartition]) {
        self.set_paused(partitions, true);
    }

    /// Undoes `pause`.
    pub fn resume(&mut self, partitions: &[TopicPartition]) {
        self.set_paused(partitions, false);
        self.shared.room.notify_waiters();
        self.shared.data.notify_waiters();
    }

    fn set_paused(&mut self, partitions: &[TopicPartition], paused: bool) {
        let mut state = self.shared.lock();
        for tp in partitions {
            if let Some(part) = state.parts.get_mut(tp) {
                part.paused = paused;
            }
        }
    }

    /// Stops the group task, commits handed-out positions (auto mode), tells the listener its
    /// partitions are revoked, leaves the group and stops every fetcher.
    pub async fn close(mut self) -> Result<(), Error> {
        let _ = self.stop.send(true);
        if let Some(task) = self.group_task.take() {
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, task).await;
        }
        let mut result = Ok(());
        if matches!(self.shared.config.commit, CommitMode::Auto { .. })
            && self.shared.config.group.is_some()
        {
            result = self.commit_handed_out().await;
        }
        let held = self.assignment();
        if !self.shared.config.topics.is_empty() && !held.is_empty() {
            self.listener.revoked(&held);
        }
        let left = group::leave(&self.shared).await;
        self.shared.lock().parts.clear();
        result.and(left)
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = &self.group_task {
            task.abort();
        }
        self.shared.lock().parts.clear();
    }
}

/// Codes a commit gets while the group moves partitions around; the next commit fixes it.
fn is_rebalance(code: weir_proto::ErrorCode) -> bool {
    use weir_proto::ErrorCode;
    matches!(
        code,
        ErrorCode::PartitionNotAssigned | ErrorCode::StaleMemberEpoch | ErrorCode::UnknownMember
    )
}
