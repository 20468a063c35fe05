//! Where a group's calls are served. Each group hashes to one of `OFFSETS_SHARDS` shards (the
//! partitions of Kafka's `__consumer_offsets`), and the node the metadata places that shard
//! on is the group's coordinator: it holds the group's members and keeps its committed
//! offsets. A call made on another node is forwarded there whole (`Remote::group`), so every
//! node gives the same answer. A node run alone coordinates every group.
//!
//! Owns the shard of a group, the lazy placement of shards, the shape of a forwarded group
//! call and its dispatch on the coordinator. Must not know transports.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use weir_codec::partitioner::partition_for_key;

use super::api::{GroupDescription, GroupFetchOptions, GroupFetched, OffsetChange, ResetTo};
use super::{CommitOffset, Heartbeat, MemberView, check_group_name};
use crate::metadata::CoordinatorCmd;
use crate::{Broker, BrokerError, Principal, Remote, TenantId};

/// Shards of group coordination: a fixed count (changing it would move every group), as
/// Kafka's `offsets.topic.num.partitions`.
pub const OFFSETS_SHARDS: u32 = 50;

/// The shard of group coordination `tenant`'s group `group` belongs to.
pub fn offsets_shard(tenant: &TenantId, group: &str) -> u32 {
    let key = format!("{tenant}/{group}");
    partition_for_key(key.as_bytes(), OFFSETS_SHARDS).expect("OFFSETS_SHARDS is not zero")
}

/// A group call another node forwards to the group's coordinator (an internal message
/// between nodes of one Weir version, not a public contract).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum GroupCall {
    Heartbeat {
        group: String,
        heartbeat: Heartbeat,
    },
    Fetch {
        group: String,
        heartbeat: Heartbeat,
        options: GroupFetchOptions,
    },
    Commit {
        group: String,
        member: Option<(String, i32)>,
        offsets: Vec<CommitOffset>,
    },
    Leave {
        group: String,
        member_id: String,
    },
    Describe {
        group: String,
    },
    Delete {
        group: String,
    },
    Reset {
        group: String,
        to: ResetTo,
        topics: Option<Vec<String>>,
        dry_run: bool,
    },
    /// The names of the tenant's groups this node coordinates.
    Names,
}

/// What the coordinator answers to a `GroupCall`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum GroupAnswer {
    Member(MemberView),
    /// The records travel beside the JSON (see `GroupFetched::records`).
    Fetched(GroupFetched),
    Done,
    Described(GroupDescription),
    Reset(Vec<OffsetChange>),
    Names(Vec<String>),
}

/// Where a group's calls are served.
enum Coordinates {
    Here,
    There(u32, Arc<dyn Remote>),
}

fn unexpected(answer: &GroupAnswer) -> BrokerError {
    BrokerError::Internal(format!("the coordinator answered {answer:?}"))
}

impl Broker {
    /// Where `tenant`'s group `group` is coordinated; places its shard first when it is not
    /// yet (on the live node coordinating the fewest shards).
    fn coordinates(&self, tenant: &TenantId, group: &str) -> Result<Coordinates, BrokerError> {
        check_group_name(group)?;
        let Some(here) = self.config.node_id else {
            return Ok(Coordinates::Here);
        };
        let shard = offsets_shard(tenant, group);
        let unavailable = |node| BrokerError::CoordinatorUnavailable {
            group: group.to_owned(),
            node,
        };
        if self.image().coordinator(shard).is_none() {
            let placed = self.propose(|image| {
                let node = image
                    .coordinator_for_new_shard()
                    .ok_or_else(|| unavailable(None))?;
                Ok(CoordinatorCmd::Place {
                    shard,
                    replicas: vec![node],
                }
                .into())
            });
            // A placement committed means this node's image holds the shard's (perhaps
            // another node's, committed first); a refusal may still have raced one.
            if let Err(e) = placed
                && self.image().coordinator(shard).is_none()
            {
                return Err(e);
            }
        }
        let image = self.image();
        let leader = image.coordinator(shard).ok_or_else(|| unavailable(None))?;
        if leader == here {
            return Ok(Coordinates::Here);
        }
        if image.nodes().get(&leader).is_none_or(|n| n.fenced) {
            return Err(unavailable(Some(leader)));
        }
        let remote = self.remote.get().ok_or_else(|| unavailable(Some(leader)))?;
        metrics::counter!("weir_forwarded_requests_total").increment(1);
        Ok(Coordinates::There(leader, remote.clone()))
    }

    /// Asks node `node` to serve `call`, blocking this thread until it answers.
    fn ask_coordinator(
        remote: &Arc<dyn Remote>,
        node: u32,
        tenant: &TenantId,
        call: GroupCall,
    ) -> Result<GroupAnswer, BrokerError> {
        let answer = remote.group(node, tenant.clone(), call);
        tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(answer))
    }

    /// Serves `call` for a group this node coordinates (what another node forwards): never
    /// forwarded again.
    pub async fn serve_group_call(
        &self,
        tenant: &TenantId,
        call: GroupCall,
    ) -> Result<GroupAnswer, BrokerError> {
        Ok(match call {
            GroupCall::Heartbeat { group, heartbeat } => {
                GroupAnswer::Member(self.group_heartbeat_here(tenant, &group, heartbeat)?)
            }
            GroupCall::Fetch {
                group,
                heartbeat,
                options,
            } => GroupAnswer::Fetched(
                self.group_fetch_here(tenant, &group, heartbeat, options)
                    .await?,
            ),
            GroupCall::Commit {
                group,
                member,
                offsets,
            } => {
                let member = member.as_ref().map(|(id, epoch)| (id.as_str(), *epoch));
                self.group_commit_here(tenant, &group, member, offsets)?;
                GroupAnswer::Done
            }
            GroupCall::Leave { group, member_id } => {
                self.groups.leave(tenant, &group, &member_id)?;
                GroupAnswer::Done
            }
            GroupCall::Describe { group } => {
                GroupAnswer::Described(self.describe_group_here(tenant, &group)?)
            }
            GroupCall::Delete { group } => {
                check_group_name(&group)?;
                self.groups.delete(tenant, &group)?;
                GroupAnswer::Done
            }
            GroupCall::Reset {
                group,
                to,
                topics,
                dry_run,
            } => GroupAnswer::Reset(
                self.reset_group_offsets_here(tenant, &group, to, topics, dry_run)?,
            ),
            GroupCall::Names => GroupAnswer::Names(self.groups.names(tenant).into_iter().collect()),
        })
    }

    /// Joins or heartbeats; every subscribed topic must exist.
    pub fn group_heartbeat(
        &self,
        tenant: &TenantId,
        group: &str,
        hb: Heartbeat,
    ) -> Result<MemberView, BrokerError> {
        match self.coordinates(tenant, group)? {
            Coordinates::Here => self.group_heartbeat_here(tenant, group, hb),
            Coordinates::There(node, remote) => {
                let call = GroupCall::Heartbeat {
                    group: group.to_owned(),
                    heartbeat: hb,
                };
                match Self::ask_coordinator(&remote, node, tenant, call)? {
                    GroupAnswer::Member(view) => Ok(view),
                    other => Err(unexpected(&other)),
                }
            }
        }
    }

    /// Heartbeat plus records from the member's partitions (see `group_fetch_here`), at the
    /// group's coordinator.
    pub async fn group_fetch(
        &self,
        tenant: &TenantId,
        group: &str,
        hb: Heartbeat,
        opts: GroupFetchOptions,
    ) -> Result<GroupFetched, BrokerError> {
        match self.coordinates(tenant, group)? {
            Coordinates::Here => self.group_fetch_here(tenant, group, hb, opts).await,
            Coordinates::There(node, remote) => {
                let call = GroupCall::Fetch {
                    group: group.to_owned(),
                    heartbeat: hb,
                    options: opts,
                };
                match remote.group(node, tenant.clone(), call).await? {
                    GroupAnswer::Fetched(fetched) => Ok(fetched),
                    other => Err(unexpected(&other)),
                }
            }
        }
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
        match self.coordinates(tenant, group)? {
            Coordinates::Here => self.group_commit_here(tenant, group, member, offsets),
            Coordinates::There(node, remote) => {
                let call = GroupCall::Commit {
                    group: group.to_owned(),
                    member: member.map(|(id, epoch)| (id.to_owned(), epoch)),
                    offsets,
                };
                Self::ask_coordinator(&remote, node, tenant, call).map(|_| ())
            }
        }
    }

    /// A member leaves; its partitions move to the others at once.
    pub fn group_leave(
        &self,
        tenant: &TenantId,
        group: &str,
        member_id: &str,
    ) -> Result<(), BrokerError> {
        match self.coordinates(tenant, group)? {
            Coordinates::Here => self.groups.leave(tenant, group, member_id),
            Coordinates::There(node, remote) => {
                let call = GroupCall::Leave {
                    group: group.to_owned(),
                    member_id: member_id.to_owned(),
                };
                Self::ask_coordinator(&remote, node, tenant, call).map(|_| ())
            }
        }
    }

    /// State, members, and per-partition committed offset, high watermark and lag.
    pub fn describe_group(
        &self,
        tenant: &TenantId,
        group: &str,
    ) -> Result<GroupDescription, BrokerError> {
        match self.coordinates(tenant, group)? {
            Coordinates::Here => self.describe_group_here(tenant, group),
            Coordinates::There(node, remote) => {
                let call = GroupCall::Describe {
                    group: group.to_owned(),
                };
                match Self::ask_coordinator(&remote, node, tenant, call)? {
                    GroupAnswer::Described(d) => Ok(d),
                    other => Err(unexpected(&other)),
                }
            }
        }
    }

    /// Names of `tenant`'s groups (live or with committed offsets) on every node that
    /// coordinates some.
    pub fn group_names(&self, tenant: &TenantId) -> Result<BTreeSet<String>, BrokerError> {
        let mut names = self.groups.names(tenant);
        let Some(here) = self.config.node_id else {
            return Ok(names);
        };
        let image = self.image();
        let coordinators: BTreeSet<u32> = image
            .coordinators()
            .values()
            .filter_map(|r| r.first().copied())
            .filter(|&n| n != here && image.nodes().get(&n).is_some_and(|s| !s.fenced))
            .collect();
        let Some(remote) = self.remote.get() else {
            return Ok(names);
        };
        for node in coordinators {
            match Self::ask_coordinator(remote, node, tenant, GroupCall::Names)? {
                GroupAnswer::Names(more) => names.extend(more),
                other => return Err(unexpected(&other)),
            }
        }
        Ok(names)
    }

    /// Groups of a tenant (live or with committed offsets), described.
    pub fn list_groups(&self, tenant: &TenantId) -> Result<Vec<GroupDescription>, BrokerError> {
        self.group_names(tenant)?
            .iter()
            .filter_map(|g| match self.describe_group(tenant, g) {
                // Gone since it was named (here, or at its coordinator).
                Err(e) if e.code() == weir_codec::ErrorCode::GroupNotFound => None,
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
        match self.coordinates(tenant, group)? {
            Coordinates::Here => self.groups.delete(tenant, group)?,
            Coordinates::There(node, remote) => {
                let call = GroupCall::Delete {
                    group: group.to_owned(),
                };
                Self::ask_coordinator(&remote, node, tenant, call)?;
            }
        }
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
        let changes = match self.coordinates(tenant, group)? {
            Coordinates::Here => {
                self.reset_group_offsets_here(tenant, group, to, topics, dry_run)?
            }
            Coordinates::There(node, remote) => {
                let call = GroupCall::Reset {
                    group: group.to_owned(),
                    to,
                    topics,
                    dry_run,
                };
                match Self::ask_coordinator(&remote, node, tenant, call)? {
                    GroupAnswer::Reset(changes) => changes,
                    other => return Err(unexpected(&other)),
                }
            }
        };
        if !dry_run {
            self.audit
                .record(by, "group.reset_offsets", tenant.as_str(), group);
        }
        Ok(changes)
    }

    /// Claims the shards of group coordination this node kept offsets for while it ran alone
    /// and no node coordinates yet (a node run alone that became the first node of a
    /// cluster): they stay where their offsets are. Returns how many it claimed.
    pub fn claim_coordinators(&self) -> Result<usize, BrokerError> {
        let Some(here) = self.config.node_id else {
            return Ok(0);
        };
        let shards: BTreeSet<u32> = self
            .groups
            .offsets()
            .all_groups()
            .into_iter()
            .filter_map(|(tenant, group)| {
                Some(offsets_shard(&TenantId::parse(&tenant).ok()?, &group))
            })
            .collect();
        let mut claimed = 0;
        for shard in shards {
            if self.image().coordinator(shard).is_some() {
                continue;
            }
            let placed = self.propose(|_| {
                Ok(CoordinatorCmd::Place {
                    shard,
                    replicas: vec![here],
                }
                .into())
            });
            match placed {
                Ok(_) if self.image().coordinator(shard) == Some(here) => claimed += 1,
                Err(e) if self.image().coordinator(shard).is_none() => return Err(e),
                _ => {}
            }
        }
        Ok(claimed)
    }
}
