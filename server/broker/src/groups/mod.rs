//! Consumer groups: a coordinator with server-side assignment (Kafka KIP-848 style), durable
//! committed offsets, and lag.
//!
//! Members heartbeat with the topics they subscribe to; the coordinator computes the target
//! assignment and hands it out incrementally (`state.rs`); member epochs fence zombies;
//! silent members expire after their session timeout. Committed offsets live in `offsets.rs`.
//! Must not know transports: REST's stateless group fetch and the SDKs' heartbeat both call in
//! here.

mod api;
pub mod assignor;
mod offsets;
mod route;
mod state;

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{BuildHasher, Hasher, RandomState};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub use api::{
    GroupDescription, GroupFetchOptions, GroupFetched, GroupRecord, MemberDescription,
    OffsetChange, OffsetReset, PartitionLag, ResetTo,
};
pub use assignor::Assignor;
pub use offsets::{Committed, OFFSETS_SNAPSHOT_RECORDS, OffsetKey};
pub use route::{GroupAnswer, GroupCall, OFFSETS_SHARDS, offsets_shard};
pub use state::Partitions;

use offsets::OffsetStore;
use state::{Group, Member};

use crate::{BrokerError, TenantId};

/// Named limits of consumer groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupLimits {
    /// Most members in one group.
    pub members_max: usize,
    /// Most groups (live or with committed offsets) per tenant.
    pub groups_max: usize,
    /// Largest metadata string on a committed offset, in bytes.
    pub offset_metadata_bytes_max: usize,
    /// Session timeout when a member does not ask for one, in milliseconds.
    pub session_timeout_ms_default: u64,
    /// Shortest session timeout a member may ask for.
    pub session_timeout_ms_min: u64,
    /// Longest session timeout a member may ask for.
    pub session_timeout_ms_max: u64,
}

impl Default for GroupLimits {
    fn default() -> Self {
        GroupLimits {
            members_max: 1_000,
            groups_max: 10_000,
            offset_metadata_bytes_max: 4_096,
            session_timeout_ms_default: 30_000,
            session_timeout_ms_min: 1_000,
            session_timeout_ms_max: 300_000,
        }
    }
}

/// A heartbeat, which is also how a member joins (no `member_id`) and updates its
/// subscription.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Heartbeat {
    /// The id the group gave this member; `None` to join.
    pub member_id: Option<String>,
    /// The epoch of the member's last response; required with `member_id`.
    pub member_epoch: Option<i32>,
    /// Static membership: a restart with the same id within the session timeout gets the same
    /// partitions back without a rebalance.
    pub instance_id: Option<String>,
    /// Topics subscribed to.
    pub topics: Vec<String>,
    /// Session timeout (ms); the group's default when absent.
    pub session_timeout_ms: Option<u64>,
    /// Free-form client name, shown in describe.
    pub client_id: String,
    /// Where the member connects from, shown in describe.
    pub host: String,
    /// Assignor for a new group (ignored afterwards).
    pub assignor: Option<Assignor>,
}

/// What a member learns from a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemberView {
    /// The member's id.
    pub member_id: String,
    /// Send this epoch with the next request.
    pub member_epoch: i32,
    /// Partitions the member owns now; it must stop reading any others.
    pub assignment: Partitions,
    /// Session timeout in force (ms).
    pub session_timeout_ms: u64,
}

/// One offset to commit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommitOffset {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// Next offset to read.
    pub offset: i64,
    /// Free-form text kept with the offset.
    pub metadata: String,
}

/// A group with members, as describe shows it.
#[derive(Debug)]
pub(crate) struct LiveGroup {
    pub(crate) state: &'static str,
    pub(crate) epoch: u64,
    pub(crate) assignor: Assignor,
    pub(crate) members: Vec<MemberDescription>,
    pub(crate) subscribed: BTreeSet<String>,
}

/// The coordinator of every group on this node.
#[derive(Debug)]
pub struct Coordinator {
    limits: GroupLimits,
    groups: Mutex<BTreeMap<(TenantId, String), Group>>,
    offsets: Mutex<OffsetStore>,
}

/// The spelling rule of group names: as topic names.
pub fn check_group_name(name: &str) -> Result<(), BrokerError> {
    crate::TopicName::parse(name)
        .map(|_| ())
        .map_err(|_| BrokerError::InvalidName {
            kind: "group",
            name: name.to_owned(),
            rule: "1 to 249 characters of a-z, A-Z, 0-9, '.', '_' and '-', not '.' or '..'",
        })
}

/// A member id: 128 bits from the process's random hasher keys and a counter.
fn random_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut first = RandomState::new().build_hasher();
    first.write_u64(NEXT.fetch_add(1, Ordering::Relaxed));
    let a = first.finish();
    let mut second = RandomState::new().build_hasher();
    second.write_u64(a);
    format!("{a:016x}{:016x}", second.finish())
}

impl Coordinator {
    /// Opens the committed offsets under `dir`.
    pub fn open(dir: &Path, limits: GroupLimits) -> Result<Coordinator, BrokerError> {
        Ok(Coordinator {
            limits,
            groups: Mutex::new(BTreeMap::new()),
            offsets: Mutex::new(OffsetStore::open(dir)?),
        })
    }

    /// The limits in force.
    pub fn limits(&self) -> &GroupLimits {
        &self.limits
    }

    pub(crate) fn groups(&self) -> MutexGuard<'_, BTreeMap<(TenantId, String), Group>> {
        self.groups.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn offsets(&self) -> MutexGuard<'_, OffsetStore> {
        self.offsets.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn session_timeout(&self, asked: Option<u64>) -> Result<Duration, BrokerError> {
        let l = &self.limits;
        let ms = asked.unwrap_or(l.session_timeout_ms_default);
        if !(l.session_timeout_ms_min..=l.session_timeout_ms_max).contains(&ms) {
            return Err(BrokerError::InvalidSessionTimeout {
                given: ms,
                min: l.session_timeout_ms_min,
                max: l.session_timeout_ms_max,
            });
        }
        Ok(Duration::from_millis(ms))
    }

    /// Joins, heartbeats or updates a member; `counts` gives the partition count of each
    /// subscribed topic (absent = the topic does not exist).
    pub(crate) fn heartbeat(
        &self,
        tenant: &TenantId,
        group: &str,
        hb: Heartbeat,
        groups_max: usize,
        counts: impl Fn(&BTreeSet<String>) -> BTreeMap<String, u32>,
    ) -> Result<MemberView, BrokerError> {
        check_group_name(group)?;
        let timeout = self.session_timeout(hb.session_timeout_ms)?;
        let now = Instant::now();
        let mut groups = self.groups();
        let key = (tenant.clone(), group.to_owned());
        if !groups.contains_key(&key) {
            check_group_count(
                &self.names_locked(&groups, tenant),
                tenant,
                group,
                groups_max,
            )?;
        }
        let g = groups
            .entry(key)
            .or_insert_with(|| Group::new(hb.assignor.unwrap_or_default()));
        g.expire(now);
        let id = self.identify(g, &hb, timeout, now)?;
        let topics: BTreeSet<String> = hb.topics.iter().cloned().collect();
        let member = g.members.get_mut(&id).expect("identified member exists");
        member.last_seen = now;
        member.session_timeout = timeout;
        member.client_id = hb.client_id;
        member.host = hb.host;
        let resubscribed = member.topics != topics;
        member.topics = topics;
        if resubscribed {
            g.bump();
        }
        if hb.member_id.is_some() {
            g.ack_revocations(&id);
        }
        g.refresh_target(counts(&g.subscribed()));
        g.reconcile(&id);
        Ok(view(&g.members[&id]))
    }

    /// Names of `tenant`'s groups: live ones and those with committed offsets.
    pub(crate) fn names(&self, tenant: &TenantId) -> BTreeSet<String> {
        self.names_locked(&self.groups(), tenant)
    }

    fn names_locked(
        &self,
        groups: &BTreeMap<(TenantId, String), Group>,
        tenant: &TenantId,
    ) -> BTreeSet<String> {
        let mut names: BTreeSet<String> =
            self.offsets().groups(tenant.as_str()).into_iter().collect();
        names.extend(
            groups
                .iter()
                .filter(|((t, _), g)| t == tenant && !g.members.is_empty())
                .map(|((_, g), _)| g.clone()),
        );
        names
    }

    /// The member a heartbeat speaks for: joined, taken over (static membership) or checked.
    fn identify(
        &self,
        g: &mut Group,
        hb: &Heartbeat,
        timeout: Duration,
        now: Instant,
    ) -> Result<String, BrokerError> {
        if let Some(id) = &hb.member_id {
            let member = g
                .members
                .get(id)
                .ok_or_else(|| BrokerError::UnknownMember(id.clone()))?;
            if hb.member_epoch != Some(member.epoch) {
                return Err(BrokerError::StaleMemberEpoch {
                    member: id.clone(),
                    given: hb.member_epoch,
                    current: member.epoch,
                });
            }
            return Ok(id.clone());
        }
        if let Some(instance) = &hb.instance_id
            && let Some(m) = g
                .members
                .values_mut()
                .find(|m| m.instance_id.as_ref() == Some(instance))
        {
            // A restart of a static member: same id and partitions; the old process is fenced
            // by the new epoch, and reading restarts from the committed offsets.
            m.epoch += 1;
            m.positions.clear();
            return Ok(m.id.clone());
        }
        if g.members.len() >= self.limits.members_max {
            return Err(BrokerError::GroupMaxSizeReached(self.limits.members_max));
        }
        let id = random_id();
        let mut member = Member::new(id.clone(), timeout, now);
        member.instance_id = hb.instance_id.clone();
        g.members.insert(id.clone(), member);
        g.bump();
        Ok(id)
    }

    /// Removes a member at once; its partitions go to the others.
    pub fn leave(
        &self,
        tenant: &TenantId,
        group: &str,
        member_id: &str,
    ) -> Result<(), BrokerError> {
        let mut groups = self.groups();
        let g = groups
            .get_mut(&(tenant.clone(), group.to_owned()))
            .ok_or_else(|| BrokerError::UnknownMember(member_id.to_owned()))?;
        g.remove(member_id)
            .map(|_| ())
            .ok_or_else(|| BrokerError::UnknownMember(member_id.to_owned()))
    }

    /// Removes expired members of every group, and groups left without members; returns how
    /// many members expired.
    pub fn expire_all(&self) -> usize {
        let now = Instant::now();
        let mut groups = self.groups();
        let expired = groups.values_mut().map(|g| g.expire(now)).sum();
        groups.retain(|_, g| !g.members.is_empty());
        expired
    }

    /// Start positions of a member's partitions, rotated so each fetch starts one partition
    /// further (no partition starves); `init` gives the start of a partition new to it.
    pub(crate) fn positions(
        &self,
        tenant: &TenantId,
        group: &str,
        member_id: &str,
        parts: &mut [(String, u32)],
        init: impl Fn(&str, u32) -> i64,
    ) -> Vec<i64> {
        let mut groups = self.groups();
        let Some(m) = groups
            .get_mut(&(tenant.clone(), group.to_owned()))
            .and_then(|g| g.members.get_mut(member_id))
        else {
            return Vec::new();
        };
        if !parts.is_empty() {
            let n = parts.len();
            parts.rotate_left(m.cursor % n);
            m.cursor = m.cursor.wrapping_add(1);
        }
        parts
            .iter()
            .map(|(t, p)| {
                *m.positions
                    .entry((t.clone(), *p))
                    .or_insert_with(|| init(t, *p))
            })
            .collect()
    }

    /// Which of `parts` the member has no position on yet.
    pub(crate) fn unknown_positions(
        &self,
        tenant: &TenantId,
        group: &str,
        member_id: &str,
        parts: &[(String, u32)],
    ) -> Vec<(String, u32)> {
        let groups = self.groups();
        let Some(m) = groups
            .get(&(tenant.clone(), group.to_owned()))
            .and_then(|g| g.members.get(member_id))
        else {
            return Vec::new();
        };
        parts
            .iter()
            .filter(|k| !m.positions.contains_key(*k))
            .cloned()
            .collect()
    }

    /// Moves a member's positions past the records it was handed.
    pub(crate) fn advance(
        &self,
        tenant: &TenantId,
        group: &str,
        member_id: &str,
        ends: Vec<(String, u32, i64)>,
    ) {
        let mut groups = self.groups();
        if let Some(m) = groups
            .get_mut(&(tenant.clone(), group.to_owned()))
            .and_then(|g| g.members.get_mut(member_id))
        {
            for (t, p, next) in ends {
                if m.owns(&t, p) {
                    m.positions.insert((t, p), next);
                }
            }
        }
    }

    /// Drops a member's position on a partition; its next fetch starts where a new owner
    /// would.
    pub(crate) fn forget_position(
        &self,
        tenant: &TenantId,
        group: &str,
        member_id: &str,
        topic: &str,
        partition: u32,
    ) {
        let mut groups = self.groups();
        if let Some(m) = groups
            .get_mut(&(tenant.clone(), group.to_owned()))
            .and_then(|g| g.members.get_mut(member_id))
        {
            m.positions.remove(&(topic.to_owned(), partition));
        }
    }

    /// State, epoch, assignor, members and subscribed topics of a group with members.
    pub(crate) fn describe_live(&self, tenant: &TenantId, group: &str) -> Option<LiveGroup> {
        let mut groups = self.groups();
        let g = groups.get_mut(&(tenant.clone(), group.to_owned()))?;
        g.expire(Instant::now());
        if g.members.is_empty() {
            return None;
        }
        let members = g
            .members
            .values()
            .map(|m| MemberDescription {
                member_id: m.id.clone(),
                instance_id: m.instance_id.clone(),
                client_id: m.client_id.clone(),
                host: m.host.clone(),
                member_epoch: m.epoch,
                topics: m.topics.iter().cloned().collect(),
                assignment: m.assigned.clone(),
                revoking: m.revoking.clone(),
            })
            .collect();
        Some(LiveGroup {
            state: g.state(),
            epoch: g.epoch,
            assignor: g.assignor,
            members,
            subscribed: g.subscribed(),
        })
    }

    /// Deletes a group without members and its offsets.
    pub(crate) fn delete(&self, tenant: &TenantId, group: &str) -> Result<(), BrokerError> {
        let mut groups = self.groups();
        let key_ = (tenant.clone(), group.to_owned());
        if groups.get(&key_).is_some_and(|g| !g.members.is_empty()) {
            return Err(BrokerError::GroupNotEmpty(group.to_owned()));
        }
        let keys: Vec<OffsetKey> = self
            .offsets()
            .group(tenant.as_str(), group)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        if keys.is_empty() && !groups.contains_key(&key_) {
            return Err(BrokerError::GroupNotFound(group.to_owned()));
        }
        groups.remove(&key_);
        self.offsets().delete(keys)
    }

    /// Stores offsets if the group has no members (checked under the same lock).
    pub(crate) fn store_if_empty(
        &self,
        tenant: &TenantId,
        group: &str,
        offsets: Vec<CommitOffset>,
    ) -> Result<(), BrokerError> {
        let groups = self.groups();
        if groups
            .get(&(tenant.clone(), group.to_owned()))
            .is_some_and(|g| !g.members.is_empty())
        {
            return Err(BrokerError::GroupNotEmpty(group.to_owned()));
        }
        self.store(tenant, group, offsets)
    }

    /// Deletes every group's offsets for a topic of the tenant.
    pub(crate) fn forget_topic(&self, tenant: &TenantId, topic: &str) -> Result<(), BrokerError> {
        let mut offsets = self.offsets();
        let keys = offsets.topic_keys(tenant.as_str(), topic);
        offsets.delete(keys)
    }

    /// Commits offsets, all or nothing. With a member id, the member must be current and own
    /// every partition; without one, the group must have no members.
    pub(crate) fn commit(
        &self,
        tenant: &TenantId,
        group: &str,
        member: Option<(&str, i32)>,
        offsets: Vec<CommitOffset>,
        groups_max: usize,
    ) -> Result<(), BrokerError> {
        check_group_name(group)?;
        let mut groups = self.groups();
        let live = groups.get_mut(&(tenant.clone(), group.to_owned()));
        match (member, live) {
            (Some((id, epoch)), Some(g)) => {
                g.expire(Instant::now());
                let m = g
                    .members
                    .get(id)
                    .ok_or_else(|| BrokerError::UnknownMember(id.to_owned()))?;
                if m.epoch != epoch {
                    return Err(BrokerError::StaleMemberEpoch {
                        member: id.to_owned(),
                        given: Some(epoch),
                        current: m.epoch,
                    });
                }
                if let Some(o) = offsets.iter().find(|o| !m.owns(&o.topic, o.partition)) {
                    return Err(BrokerError::PartitionNotAssigned {
                        topic: o.topic.clone(),
                        partition: o.partition,
                    });
                }
            }
            (Some((id, _)), None) => return Err(BrokerError::UnknownMember(id.to_owned())),
            (None, Some(g)) if !g.members.is_empty() => {
                return Err(BrokerError::GroupNotEmpty(group.to_owned()));
            }
            (None, _) => check_group_count(
                &self.names_locked(&groups, tenant),
                tenant,
                group,
                groups_max,
            )?,
        }
        self.store(tenant, group, offsets)
    }

    /// Writes offsets without membership checks (after validation by the caller).
    pub(crate) fn store(
        &self,
        tenant: &TenantId,
        group: &str,
        offsets: Vec<CommitOffset>,
    ) -> Result<(), BrokerError> {
        let max = self.limits.offset_metadata_bytes_max;
        if let Some(o) = offsets.iter().find(|o| o.metadata.len() > max) {
            return Err(BrokerError::OffsetMetadataTooLarge {
                size: o.metadata.len(),
                max,
            });
        }
        if let Some(o) = offsets.iter().find(|o| o.offset < 0) {
            return Err(BrokerError::InvalidRequest(format!(
                "offset {} for {}/{} is negative",
                o.offset, o.topic, o.partition
            )));
        }
        let entries = offsets
            .into_iter()
            .map(|o| {
                (
                    key(tenant, group, &o.topic, o.partition),
                    o.offset,
                    o.metadata,
                )
            })
            .collect();
        self.offsets().commit(entries)
    }

    /// The committed offset of one partition.
    pub fn committed(
        &self,
        tenant: &TenantId,
        group: &str,
        topic: &str,
        partition: u32,
    ) -> Option<Committed> {
        self.offsets()
            .get(&key(tenant, group, topic, partition))
            .cloned()
    }

    /// Every committed offset of a group.
    pub fn committed_all(&self, tenant: &TenantId, group: &str) -> Vec<(OffsetKey, Committed)> {
        self.offsets().group(tenant.as_str(), group)
    }

    /// Snapshots offsets and closes their log.
    pub fn shutdown(&self) -> Result<(), BrokerError> {
        self.offsets().shutdown()
    }
}

pub(crate) fn key(tenant: &TenantId, group: &str, topic: &str, partition: u32) -> OffsetKey {
    OffsetKey {
        tenant: tenant.to_string(),
        group: group.to_owned(),
        topic: topic.to_owned(),
        partition,
    }
}

fn view(m: &Member) -> MemberView {
    MemberView {
        member_id: m.id.clone(),
        member_epoch: m.epoch,
        assignment: m.assigned.clone(),
        session_timeout_ms: u64::try_from(m.session_timeout.as_millis()).unwrap_or(u64::MAX),
    }
}

fn check_group_count(
    names: &BTreeSet<String>,
    tenant: &TenantId,
    group: &str,
    groups_max: usize,
) -> Result<(), BrokerError> {
    if names.contains(group) || names.len() < groups_max {
        return Ok(());
    }
    Err(BrokerError::CountQuotaExceeded(format!(
        "tenant {tenant} may have {groups_max} consumer groups and has {}",
        names.len()
    )))
}
