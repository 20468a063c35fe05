//! The broker's consumer-group operations: membership with topic checks, server-side fetch
//! for stateless (HTTP) members, commits, describe with lag, list, delete and offset resets.
//!
//! Owns the glue between the coordinator and the partitions. Must not know transports.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weir_codec::batch::{DecodeLimits, DecodedRecord, batches, decode};

use super::{
    Assignor, CommitOffset, Heartbeat, LiveGroup, MemberView, Partitions, check_group_name,
};
use crate::{Broker, BrokerError, Partition, Principal, TenantId};

/// Where a member starts on a partition without a committed offset (or with one outside the
/// log): Kafka's `auto.offset.reset`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OffsetReset {
    /// The log start offset.
    Earliest,
    /// The high watermark: only records produced from now on.
    #[default]
    Latest,
}

/// Limits of one server-side group fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone)]
pub struct GroupFetched {
    /// The member's identity, epoch and assignment after this request.
    pub view: MemberView,
    /// Records from the member's partitions, continuing where its last fetch stopped.
    pub records: Vec<GroupRecord>,
}

/// One member, as shown by describe.
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    /// Group name.
    pub group: String,
    /// `empty`, `stable` or `reconciling`.
    pub state: &'static str,
    /// Group epoch.
    pub epoch: u64,
    /// Assignor in use.
    pub assignor: Assignor,
    /// Members.
    pub members: Vec<MemberDescription>,
    /// Per-partition offsets and lag.
    pub partitions: Vec<PartitionLag>,
}

impl GroupDescription {
    /// Sum of known lags.
    pub fn total_lag(&self) -> i64 {
        self.partitions.iter().filter_map(|p| p.lag).sum()
    }
}

/// Where to move a group's offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
    handle: Arc<Partition>,
    start: i64,
}

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

    /// Joins or heartbeats; every subscribed topic must exist.
    pub fn group_heartbeat(
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
    /// the session timeout) when there is nothing yet; a rebalance ends the wait early.
    pub async fn group_fetch(
        &self,
        tenant: &TenantId,
        group: &str,
        hb: Heartbeat,
        opts: GroupFetchOptions,
    ) -> Result<GroupFetched, BrokerError> {
        let mut view = self.group_heartbeat(tenant, group, hb.clone())?;
        let wait = opts
            .wait
            .min(Duration::from_millis(view.session_timeout_ms / 2))
            .min(Duration::from_millis(self.limits().fetch_wait_ms_max));
        let deadline = Instant::now() + wait;
        loop {
            let records = self.read_for_member(tenant, group, &view, &opts)?;
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
            view = self.group_heartbeat(tenant, group, again)?;
        }
    }

    /// Waits until a partition of the member gets records, the group changes, or `deadline`.
    async fn wait_for_change(
        &self,
        tenant: &TenantId,
        group: &str,
        view: &MemberView,
        deadline: Instant,
    ) {
        let mut watchers = Vec::new();
        for (topic, parts) in &view.assignment {
            let Ok(t) = self.topic(tenant, topic) else {
                continue;
            };
            for &p in parts {
                if let Ok(part) = t.partition(i64::from(p)) {
                    watchers.push(part.subscribe());
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
        let timeout = deadline.saturating_duration_since(Instant::now());
        let _ = tokio::time::timeout(timeout, async {
            tokio::select! {
                _ = partitions => {}
                _ = group_changed => {}
            }
        })
        .await;
    }

    /// Reads from the member's partitions at its positions, round robin from its cursor.
    fn read_for_member(
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
            handle: part,
            start,
        } in starts
        {
            if records.len() >= opts.max_records || bytes_left == 0 {
                break;
            }
            let fetched = match part.read(start, bytes_left) {
                Ok(f) => f,
                // A position the member named itself is its mistake to hear about.
                Err(e @ BrokerError::OffsetOutOfRange { .. })
                    if resumed.contains(&(topic.clone(), partition)) =>
                {
                    return Err(e);
                }
                Err(BrokerError::OffsetOutOfRange { .. }) => {
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

    /// Every owned partition with its start offset, in fetch order.
    fn member_positions(
        &self,
        tenant: &TenantId,
        group: &str,
        view: &MemberView,
        reset: OffsetReset,
    ) -> Result<Vec<Position>, BrokerError> {
        let mut out = Vec::new();
        for (topic, parts) in &view.assignment {
            let t = self.topic(tenant, topic)?;
            for &p in parts {
                out.push((topic.clone(), p, t.partition(i64::from(p))?));
            }
        }
        let positions = self.groups.positions(
            tenant,
            group,
            &view.member_id,
            &mut out,
            |topic, p, part| {
                let o = part.offsets();
                let fallback = match reset {
                    OffsetReset::Earliest => o.log_start_offset,
                    OffsetReset::Latest => o.high_watermark,
                };
                self.groups
                    .committed(tenant, group, topic, p)
                    .map(|c| c.offset)
                    .filter(|&c| (o.log_start_offset..=o.high_watermark).contains(&c))
                    .unwrap_or(fallback)
            },
        );
        Ok(out
            .into_iter()
            .zip(positions)
            .map(|((topic, partition, handle), start)| Position {
                topic,
                partition,
                handle,
                start,
            })
            .collect())
    }

    /// Commits offsets for a group, as a member (`Some((member_id, epoch))`) or, for a group
    /// without members, directly. Topics and partitions must exist.
    pub fn group_commit(
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
            self.topic(tenant, &o.topic)?
                .partition(i64::from(o.partition))?;
        }
        self.groups
            .commit(tenant, group, member, offsets, self.groups_max(tenant))
    }

    /// A member leaves; its partitions move to the others at once.
    pub fn group_leave(
        &self,
        tenant: &TenantId,
        group: &str,
        member_id: &str,
    ) -> Result<(), BrokerError> {
        self.groups.leave(tenant, group, member_id)
    }

    /// State, members, and per-partition committed offset, high watermark and lag.
    pub fn describe_group(
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
        let mut lags: BTreeMap<(String, u32), PartitionLag> = BTreeMap::new();
        for topic in &subscribed {
            let Ok(t) = self.topic(tenant, topic) else {
                continue;
            };
            for part in t.partitions() {
                let hw = part.offsets().high_watermark;
                lags.insert(
                    (topic.clone(), part.index()),
                    lag(topic, part.index(), hw, None),
                );
            }
        }
        for (k, c) in committed {
            let Ok(part) = self
                .topic(tenant, &k.topic)
                .and_then(|t| t.partition(i64::from(k.partition)))
            else {
                continue; // topic deleted or shrunk away
            };
            let hw = part.offsets().high_watermark;
            lags.insert(
                (k.topic.clone(), k.partition),
                lag(&k.topic, k.partition, hw, Some(c)),
            );
        }
        Ok(GroupDescription {
            group: group.to_owned(),
            state,
            epoch,
            assignor,
            members,
            partitions: lags.into_values().collect(),
        })
    }

    /// Groups of a tenant (live or with committed offsets), described.
    pub fn list_groups(&self, tenant: &TenantId) -> Result<Vec<GroupDescription>, BrokerError> {
        let mut names: BTreeSet<String> = self
            .groups
            .offsets()
            .groups(tenant.as_str())
            .into_iter()
            .collect();
        names.extend(self.groups.live_names(tenant));
        names
            .iter()
            .filter_map(|g| match self.describe_group(tenant, g) {
                Err(BrokerError::GroupNotFound(_)) => None,
                other => Some(other),
            })
            .collect()
    }

    /// Deletes an empty group and its committed offsets.
    pub fn delete_group(
        &self,
        by: &Principal,
        tenant: &TenantId,
        group: &str,
    ) -> Result<(), BrokerError> {
        check_group_name(group)?;
        self.groups.delete(tenant, group)?;
        self.audit
            .record(by, "group.delete", tenant.as_str(), group);
        Ok(())
    }

    /// Moves the committed offsets of an empty group (or, with `dry_run`, only shows the
    /// result). `topics` defaults to the topics the group has offsets for.
    pub fn reset_group_offsets(
        &self,
        by: &Principal,
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
            for part in self.topic(tenant, topic)?.partitions() {
                let previous = self
                    .groups
                    .committed(tenant, group, topic, part.index())
                    .map(|c| c.offset);
                let offset = target_offset(&part, to, previous)?;
                changes.push(OffsetChange {
                    topic: topic.clone(),
                    partition: part.index(),
                    previous,
                    offset,
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
            self.audit
                .record(by, "group.reset_offsets", tenant.as_str(), group);
        }
        Ok(changes)
    }

    /// Forgets a deleted topic's committed offsets in every group of the tenant.
    pub(crate) fn forget_topic_offsets(
        &self,
        tenant: &TenantId,
        topic: &str,
    ) -> Result<(), BrokerError> {
        self.groups.forget_topic(tenant, topic)
    }
}

fn lag(topic: &str, partition: u32, hw: i64, committed: Option<super::Committed>) -> PartitionLag {
    PartitionLag {
        topic: topic.to_owned(),
        partition,
        committed_offset: committed.as_ref().map(|c| c.offset),
        metadata: committed.map(|c| c.metadata),
        high_watermark: hw,
        lag: None,
    }
    .with_lag()
}

impl PartitionLag {
    fn with_lag(mut self) -> Self {
        self.lag = self
            .committed_offset
            .map(|c| (self.high_watermark - c).max(0));
        self
    }
}

fn target_offset(part: &Partition, to: ResetTo, previous: Option<i64>) -> Result<i64, BrokerError> {
    let o = part.offsets();
    let wanted = match to {
        ResetTo::Earliest => o.log_start_offset,
        ResetTo::Latest => o.high_watermark,
        ResetTo::Timestamp(ts) => part.offset_for_timestamp(ts)?.unwrap_or(o.high_watermark),
        ResetTo::Offset(n) => n,
        ResetTo::Shift(n) => previous.unwrap_or(o.log_start_offset).saturating_add(n),
    };
    Ok(wanted.clamp(o.log_start_offset, o.high_watermark))
}

/// Resolves when any of the futures resolves (never, when there are none).
async fn futures_any<F: std::future::Future<Output = bool> + Unpin>(futures: Vec<F>) {
    if futures.is_empty() {
        return std::future::pending().await;
    }
    let _ = futures_util::future::select_all(futures).await;
}
