//! The broker's consumer-group operations: membership with topic checks, server-side fetch
//! for stateless (HTTP) members, commits, describe with lag, list, delete and offset resets.
//!
//! Owns the glue between the coordinator and the partitions. Must not know transports.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use weir_codec::batch::{DecodeLimits, DecodedRecord, batches, decode};

use serde::{Deserialize, Serialize};
use weir_codec::ErrorCode;

use super::{
    Assignor, CommitOffset, Heartbeat, LiveGroup, MemberView, Partitions, check_group_name,
};
use crate::{Broker, BrokerError, PartitionOffsets, Slot, TenantId};

/// Where a member starts on a partition without a committed offset (or with one outside the
/// log): Kafka's `auto.offset.reset`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OffsetReset {
    /// The log start offset.
    Earliest,
    /// The high watermark: only records produced from now on.
    #[default]
    Latest,
}

/// Limits of one server-side group fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupFetchOptions {
    /// Most records returned.
    pub max_records: usize,
    /// Most bytes of batches read, over all partitions.
    pub max_bytes: usize,
    /// Long poll: how long to wait for records when none is there.
    pub wait: Duration,
    /// Start position without a usable committed offset.
    pub reset: OffsetReset,
    /// Where the member wants to resume, per (topic, partition): the next offset after the
    /// last record it received. They replace the positions the server remembers (which move
    /// when it answers, so a lost answer would skip records); partitions it does not own are
    /// ignored.
    pub resume: Vec<(String, u32, i64)>,
}

/// A record handed to a group member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// The record.
    pub record: DecodedRecord,
}

/// What a server-side group fetch returns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupFetched {
    /// The member's identity, epoch and assignment after this request.
    pub view: MemberView,
    /// Records from the member's partitions, continuing where its last fetch stopped (not
    /// in a forwarded call's JSON: they travel beside it, as bytes).
    #[serde(skip)]
    pub records: Vec<GroupRecord>,
}

/// One member, as shown by describe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberDescription {
    /// Member id.
    pub member_id: String,
    /// Static membership id.
    pub instance_id: Option<String>,
    /// Client name.
    pub client_id: String,
    /// Client address.
    pub host: String,
    /// Current epoch.
    pub member_epoch: i32,
    /// Subscribed topics.
    pub topics: Vec<String>,
    /// Owned partitions.
    pub assignment: Partitions,
    /// Partitions being given up.
    pub revoking: Partitions,
}

/// Committed offset, high watermark and lag of one partition for a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionLag {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// Next offset the group will read; `None` before its first commit.
    pub committed_offset: Option<i64>,
    /// Metadata of the commit.
    pub metadata: Option<String>,
    /// Offset after the last readable record.
    pub high_watermark: i64,
    /// `high_watermark - committed_offset`.
    pub lag: Option<i64>,
}

/// A group described.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDescription {
    /// Group name.
    pub group: String,
    /// `empty`, `stable` or `reconciling`.
    pub state: String,
    /// Group epoch.
    pub epoch: u64,
    /// Assignor in use.
    pub assignor: Assignor,
    /// Members.
    pub members: Vec<MemberDescription>,
    /// Per-partition offsets and lag.
    pub partitions: Vec<PartitionLag>,
    /// The node that coordinates the group; `None` on a node run alone.
    pub coordinator: Option<u32>,
}

impl GroupDescription {
    /// Sum of known lags.
    pub fn total_lag(&self) -> i64 {
        self.partitions.iter().filter_map(|p| p.lag).sum()
    }
}

/// Where to move a group's offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResetTo {
    /// Log start offsets.
    Earliest,
    /// High watermarks.
    Latest,
    /// First offset at or after this timestamp (ms); the high watermark when none is.
    Timestamp(i64),
    /// This offset on every partition.
    Offset(i64),
    /// Current committed offset plus this (negative to go back).
    Shift(i64),
}

/// One partition's offset before and after a reset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsetChange {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// Committed offset before.
    pub previous: Option<i64>,
    /// Committed offset after (clamped to the log).
    pub offset: i64,
}

/// Where a member's next fetch starts on one partition.
struct Position {
    topic: String,
    partition: u32,
    start: i64,
}

/// Longest a long-polling group fetch waits between two reads when some of the member's
/// partitions are led by other nodes (no local change wakes it for those).
const REMOTE_POLL: Duration = Duration::from_millis(200);

impl Broker {
    fn partition_counts(
        &self,
        tenant: &TenantId,
        topics: &BTreeSet<String>,
    ) -> BTreeMap<String, u32> {
        topics
            .iter()
            .filter_map(|t| Some((t.clone(), self.topic(tenant, t).ok()?.partition_count())))
            .collect()
    }

    /// Joins or heartbeats, at the coordinator; every subscribed topic must exist.
    pub(crate) fn group_heartbeat_here(
        &self,
        tenant: &TenantId,
        group: &str,
        hb: Heartbeat,
    ) -> Result<MemberView, BrokerError> {
        self.check_running()?;
        if hb.topics.is_empty() {
            return Err(BrokerError::InvalidRequest(
                "topics must not be empty".into(),
            ));
        }
        for topic in &hb.topics {
            self.topic(tenant, topic)?;
        }
        let groups_max = self.groups_max(tenant);
        self.groups
            .heartbeat(tenant, group, hb, groups_max, |topics| {
                self.partition_counts(tenant, topics)
            })
    }

    /// Heartbeat plus records from the member's partitions, continuing where the member's
    /// last fetch stopped (or at the committed offset). Waits up to `opts.wait` (at most half
    /// the session timeout) when there is nothing yet; a rebalance ends the wait early. Runs
    /// on the coordinator; partitions other nodes lead are read from them.
    pub(crate) async fn group_fetch_here(
        &self,
        tenant: &TenantId,
        group: &str,
        hb: Heartbeat,
        opts: GroupFetchOptions,
    ) -> Result<GroupFetched, BrokerError> {
        let mut view = self.group_heartbeat_here(tenant, group, hb.clone())?;
        let wait = opts
            .wait
            .min(Duration::from_millis(view.session_timeout_ms / 2))
            .min(Duration::from_millis(self.limits().fetch_wait_ms_max));
        let deadline = Instant::now() + wait;
        loop {
            let records = self.read_for_member(tenant, group, &view, &opts).await?;
            // A new epoch (a join, or partitions taken away) goes back at once: the member
            // must see it, and only its next request may acknowledge a revocation, so the
            // heartbeat below must never run for an epoch the member has not been told.
            let told = hb.member_epoch == Some(view.member_epoch);
            if !records.is_empty() || !told || Instant::now() >= deadline {
                return Ok(GroupFetched { view, records });
            }
            self.wait_for_change(tenant, group, &view, deadline).await;
            let again = Heartbeat {
                member_id: Some(view.member_id.clone()),
                member_epoch: Some(view.member_epoch),
                ..hb.clone()
            };
            view = self.group_heartbeat_here(tenant, group, again)?;
        }
    }

    /// Waits until a partition of the member gets records, the group changes, or `deadline`
    /// (or `REMOTE_POLL`, when another node leads some of its partitions).
    async fn wait_for_change(
        &self,
        tenant: &TenantId,
        group: &str,
        view: &MemberView,
        deadline: Instant,
    ) {
        let mut watchers = Vec::new();
        let mut remote = false;
        for (topic, parts) in &view.assignment {
            let Ok(t) = self.topic(tenant, topic) else {
                continue;
            };
            for &p in parts {
                match t.slot(i64::from(p)) {
                    Ok(Slot::Local(part)) => watchers.push(part.subscribe()),
                    Ok(Slot::Remote { .. }) => remote = true,
                    Err(_) => {}
                }
            }
        }
        let group_rx = self
            .groups
            .groups()
            .get(&(tenant.clone(), group.to_owned()))
            .map(|g| g.changed.subscribe());
        let mut group_rx = group_rx;
        let partitions = futures_any(
            watchers
                .iter_mut()
                .map(|w| Box::pin(async move { w.changed().await.is_ok() }))
                .collect(),
        );
        let group_changed = async {
            match group_rx.as_mut() {
                Some(rx) => rx.changed().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        let mut timeout = deadline.saturating_duration_since(Instant::now());
        if remote {
            timeout = timeout.min(REMOTE_POLL);
        }
        let _ = tokio::time::timeout(timeout, async {
            tokio::select! {
                _ = partitions => {}
                _ = group_changed => {}
            }
        })
        .await;
    }

    /// Reads from the member's partitions at its positions, round robin from its cursor.
    async fn read_for_member(
        &self,
        tenant: &TenantId,
        group: &str,
        view: &MemberView,
        opts: &GroupFetchOptions,
    ) -> Result<Vec<GroupRecord>, BrokerError> {
        let mut starts = self.member_positions(tenant, group, view, opts.reset)?;
        let mut resumed = BTreeSet::new();
        for p in &mut starts {
            if let Some((_, _, offset)) = opts
                .resume
                .iter()
                .find(|(t, n, _)| *t == p.topic && *n == p.partition)
            {
                p.start = *offset;
                resumed.insert((p.topic.clone(), p.partition));
            }
        }
        let mut records = Vec::new();
        let mut ends = Vec::new();
        let mut bytes_left = opts.max_bytes;
        for Position {
            topic,
            partition,
            start,
        } in starts
        {
            if records.len() >= opts.max_records || bytes_left == 0 {
                break;
            }
            let fetched = self
                .fetch(
                    tenant,
                    &topic,
                    i64::from(partition),
                    start,
                    bytes_left,
                    Duration::ZERO,
                )
                .await
                .and_then(|f| f.read());
            let fetched = match fetched {
                Ok(f) => f,
                // A position the member named itself is its mistake to hear about.
                Err(e)
                    if e.code() == ErrorCode::OffsetOutOfRange
                        && resumed.contains(&(topic.clone(), partition)) =>
                {
                    return Err(e);
                }
                Err(e) if e.code() == ErrorCode::OffsetOutOfRange => {
                    // Retention passed the position: the next fetch starts again from the
                    // committed offset or the reset policy.
                    self.groups
                        .forget_position(tenant, group, &view.member_id, &topic, partition);
                    continue;
                }
                Err(e) => return Err(e),
            };
            bytes_left = bytes_left.saturating_sub(fetched.batches.len());
            let mut next = start;
            for batch in batches(&fetched.batches) {
                let (_, raw) = batch?;
                for record in decode(raw, &DecodeLimits::default())?.1 {
                    if record.offset < start || records.len() >= opts.max_records {
                        continue;
                    }
                    next = record.offset + 1;
                    records.push(GroupRecord {
                        topic: topic.clone(),
                        partition,
                        record,
                    });
                }
            }
            if next > start {
                ends.push((topic, partition, next));
            }
        }
        self.groups.advance(tenant, group, &view.member_id, ends);
        Ok(records)
    }

    /// Every owned partition with its start offset, in fetch order. The start of a partition
    /// new to the member (its committed offset, or the reset policy's end of the log) is
    /// looked up before the group is locked: another node may lead the partition.
    fn member_positions(
        &self,
        tenant: &TenantId,
        group: &str,
        view: &MemberView,
        reset: OffsetReset,
    ) -> Result<Vec<Position>, BrokerError> {
        let mut out = Vec::new();
        for (topic, parts) in &view.assignment {
            for &p in parts {
                out.push((topic.clone(), p));
            }
        }
        let mut inits = BTreeMap::new();
        for (topic, p) in self
            .groups
            .unknown_positions(tenant, group, &view.member_id, &out)
        {
            let t = self.topic(tenant, &topic)?;
            let (o, _) = self.partition_offsets(&t, i64::from(p), None)?;
            let fallback = match reset {
                OffsetReset::Earliest => o.log_start_offset,
                OffsetReset::Latest => o.high_watermark,
            };
            let start = self
                .groups
                .committed(tenant, group, &topic, p)
                .map(|c| c.offset)
                .filter(|&c| (o.log_start_offset..=o.high_watermark).contains(&c))
                .unwrap_or(fallback);
            inits.insert((topic, p), start);
        }
        let positions =
            self.groups
                .positions(tenant, group, &view.member_id, &mut out, |topic, p| {
                    // Unknown only if another fetch of this member forgot it meanwhile: the
                    // committed offset, or the log's start (out of range resets it).
                    inits
                        .get(&(topic.to_owned(), p))
                        .copied()
                        .unwrap_or_else(|| {
                            self.groups
                                .committed(tenant, group, topic, p)
                                .map_or(0, |c| c.offset)
                        })
                });
        Ok(out
            .into_iter()
            .zip(positions)
            .map(|((topic, partition), start)| Position {
                topic,
                partition,
                start,
            })
            .collect())
    }

    /// `group_commit` at the coordinator.
    pub(crate) fn group_commit_here(
        &self,
        tenant: &TenantId,
        group: &str,
        member: Option<(&str, i32)>,
        offsets: Vec<CommitOffset>,
    ) -> Result<(), BrokerError> {
        self.check_running()?;
        if offsets.is_empty() {
            return Err(BrokerError::InvalidRequest(
                "offsets must not be empty".into(),
            ));
        }
        for o in &offsets {
            self.topic(tenant, &o.topic)?.slot(i64::from(o.partition))?;
        }
        self.groups
            .commit(tenant, group, member, offsets, self.groups_max(tenant))
    }

    /// The high watermark of each partition of `topic` (`None`: its leader could not be
    /// asked), here or at the nodes that lead them.
    fn high_watermarks(&self, tenant: &TenantId, topic: &str) -> BTreeMap<u32, Option<i64>> {
        let Ok(t) = self.topic(tenant, topic) else {
            return BTreeMap::new();
        };
        self.partition_states(&t)
            .into_iter()
            .map(|s| (s.partition, s.offsets.map(|o| o.high_watermark)))
            .collect()
    }

    /// `describe_group` at the coordinator.
    pub(crate) fn describe_group_here(
        &self,
        tenant: &TenantId,
        group: &str,
    ) -> Result<GroupDescription, BrokerError> {
        check_group_name(group)?;
        let committed = self.groups.committed_all(tenant, group);
        let live = self.groups.describe_live(tenant, group);
        let empty = || LiveGroup {
            state: "empty",
            epoch: 0,
            assignor: Assignor::default(),
            members: Vec::new(),
            subscribed: BTreeSet::new(),
        };
        let Some(LiveGroup {
            state,
            epoch,
            assignor,
            members,
            subscribed,
        }) = live.or_else(|| (!committed.is_empty()).then(empty))
        else {
            return Err(BrokerError::GroupNotFound(group.to_owned()));
        };
        let mut topics = subscribed.clone();
        topics.extend(committed.iter().map(|(k, _)| k.topic.clone()));
        let hws: BTreeMap<String, BTreeMap<u32, Option<i64>>> = topics
            .into_iter()
            .map(|t| {
                let hw = self.high_watermarks(tenant, &t);
                (t, hw)
            })
            .collect();
        let mut lags: BTreeMap<(String, u32), PartitionLag> = BTreeMap::new();
        for topic in &subscribed {
            for (&p, &hw) in &hws[topic] {
                lags.insert((topic.clone(), p), lag(topic, p, hw, None));
            }
        }
        for (k, c) in committed {
            // A topic deleted or shrunk away has no high watermark for it.
            let Some(&hw) = hws[&k.topic].get(&k.partition) else {
                continue;
            };
            lags.insert(
                (k.topic.clone(), k.partition),
                lag(&k.topic, k.partition, hw, Some(c)),
            );
        }
        Ok(GroupDescription {
            group: group.to_owned(),
            state: state.to_owned(),
            epoch,
            assignor,
            members,
            partitions: lags.into_values().collect(),
            coordinator: self.config.node_id,
        })
    }

    /// `reset_group_offsets` at the coordinator (the caller audits it).
    pub(crate) fn reset_group_offsets_here(
        &self,
        tenant: &TenantId,
        group: &str,
        to: ResetTo,
        topics: Option<Vec<String>>,
        dry_run: bool,
    ) -> Result<Vec<OffsetChange>, BrokerError> {
        check_group_name(group)?;
        let committed = self.groups.committed_all(tenant, group);
        let topics: BTreeSet<String> = match topics {
            Some(t) if !t.is_empty() => t.into_iter().collect(),
            _ => committed.iter().map(|(k, _)| k.topic.clone()).collect(),
        };
        if topics.is_empty() {
            return Err(BrokerError::InvalidRequest(
                "the group has no committed offsets: name the topics to reset".into(),
            ));
        }
        let mut changes = Vec::new();
        for topic in &topics {
            let t = self.topic(tenant, topic)?;
            for partition in 0..t.partition_count() {
                let previous = self
                    .groups
                    .committed(tenant, group, topic, partition)
                    .map(|c| c.offset);
                let timestamp = match to {
                    ResetTo::Timestamp(ts) => Some(ts),
                    _ => None,
                };
                let (o, at) = self.partition_offsets(&t, i64::from(partition), timestamp)?;
                changes.push(OffsetChange {
                    topic: topic.clone(),
                    partition,
                    previous,
                    offset: target_offset(&o, at, to, previous),
                });
            }
        }
        if !dry_run {
            let offsets = changes
                .iter()
                .map(|c| CommitOffset {
                    topic: c.topic.clone(),
                    partition: c.partition,
                    offset: c.offset,
                    metadata: String::new(),
                })
                .collect();
            self.groups.store_if_empty(tenant, group, offsets)?;
        }
        Ok(changes)
    }
}

/// A partition's lag for a group; with its high watermark unknown (its leader could not be
/// asked), the committed offset stands in for it and the lag is unknown.
fn lag(
    topic: &str,
    partition: u32,
    hw: Option<i64>,
    committed: Option<super::Committed>,
) -> PartitionLag {
    let committed_offset = committed.as_ref().map(|c| c.offset);
    PartitionLag {
        topic: topic.to_owned(),
        partition,
        committed_offset,
        metadata: committed.map(|c| c.metadata),
        high_watermark: hw.or(committed_offset).unwrap_or(0),
        lag: hw.zip(committed_offset).map(|(hw, c)| (hw - c).max(0)),
    }
}

/// Where a reset moves a partition's committed offset, from its offsets and (for a
/// timestamp) the first offset at or after it; clamped to the log.
fn target_offset(o: &PartitionOffsets, at: Option<i64>, to: ResetTo, previous: Option<i64>) -> i64 {
    let wanted = match to {
        ResetTo::Earliest => o.log_start_offset,
        ResetTo::Latest => o.high_watermark,
        ResetTo::Timestamp(_) => at.unwrap_or(o.high_watermark),
        ResetTo::Offset(n) => n,
        ResetTo::Shift(n) => previous.unwrap_or(o.log_start_offset).saturating_add(n),
    };
    wanted.clamp(o.log_start_offset, o.high_watermark)
}

/// Resolves when any of the futures resolves (never, when there are none).
async fn futures_any<F: std::future::Future<Output = bool> + Unpin>(futures: Vec<F>) {
    if futures.is_empty() {
        return std::future::pending().await;
    }
    let _ = futures_util::future::select_all(futures).await;
}
