//! gRPC Groups: the consumer-group primitives an SDK consumer uses (Heartbeat, Commit,
//! FetchCommitted, Leave) and group administration (Describe, List, ResetOffsets, Delete).
//!
//! Owns the conversion between `weir.v1` group messages and broker types. Must not hold group
//! rules: membership, fencing and offsets are the broker's, and the checks on member labels
//! and member identity are shared with REST (`dto::groups`), so both transports refuse the same things
//! with the same codes. Records are not fetched here: an SDK reads its assigned partitions
//! with Fetch.Fetch.

use std::sync::Arc;

use weir_broker::{
    Assignor as BrokerAssignor, CommitOffset, GroupDescription, Heartbeat, MemberDescription,
    MemberView, Partitions, ResetTo,
};
use weir_proto::v1::groups_server::Groups;
use weir_proto::v1::{
    Assignor, CommitRequest, CommitResponse, CommittedOffset, DeleteGroupResponse,
    FetchCommittedRequest, FetchCommittedResponse, GroupInfo, GroupRef, GroupSummary,
    HeartbeatRequest, HeartbeatResponse, LeaveRequest, LeaveResponse, ListGroupsRequest,
    ListGroupsResponse, MemberInfo, OffsetChange, PartitionLag, ResetOffsetsRequest,
    ResetOffsetsResponse, ResetTarget, TopicPartitions,
};

use super::authed;
use crate::access::authorize;
use crate::dto::groups::{committed_of, cut_label, label, member_of};
use crate::{ApiError, ApiState};
use weir_broker::{Action, Principal};

/// The Groups service.
#[derive(Debug)]
pub(crate) struct GroupsService {
    state: Arc<ApiState>,
}

impl GroupsService {
    pub(crate) fn new(state: Arc<ApiState>) -> Self {
        GroupsService { state }
    }
}

/// Where a call comes from and what it calls itself, read before the message is taken.
#[derive(Debug, Default)]
struct Caller {
    host: String,
    user_agent: String,
}

impl Caller {
    fn of<T>(request: &tonic::Request<T>) -> Self {
        Caller {
            host: request
                .remote_addr()
                .map_or_else(String::new, |a| a.ip().to_string()),
            user_agent: request
                .metadata()
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .map_or_else(String::new, cut_label),
        }
    }
}

fn wire_partition(p: u32) -> i32 {
    i32::try_from(p).unwrap_or(i32::MAX)
}

fn partition_of(p: i32) -> Result<u32, ApiError> {
    u32::try_from(p).map_err(|_| ApiError::invalid(format!("partition {p} is negative")))
}

fn topic_partitions(p: &Partitions) -> Vec<TopicPartitions> {
    p.iter()
        .filter(|(_, parts)| !parts.is_empty())
        .map(|(topic, parts)| TopicPartitions {
            topic: topic.clone(),
            partitions: parts.iter().copied().map(wire_partition).collect(),
        })
        .collect()
}

fn assignor_of(a: i32) -> Result<Option<BrokerAssignor>, ApiError> {
    match Assignor::try_from(a) {
        Ok(Assignor::Unspecified) => Ok(None),
        Ok(Assignor::Uniform) => Ok(Some(BrokerAssignor::Uniform)),
        Ok(Assignor::Range) => Ok(Some(BrokerAssignor::Range)),
        Err(_) => Err(ApiError::invalid(format!("unknown assignor {a}"))),
    }
}

fn heartbeat_response(v: MemberView) -> HeartbeatResponse {
    HeartbeatResponse {
        assignment: topic_partitions(&v.assignment),
        member_id: v.member_id,
        member_epoch: v.member_epoch,
        session_timeout_ms: v.session_timeout_ms,
    }
}

fn heartbeat(
    state: &ApiState,
    principal: &Principal,
    r: HeartbeatRequest,
    caller: Caller,
) -> Result<HeartbeatResponse, ApiError> {
    let tenant = authorize(state, principal, &r.tenant, Action::WriteGroup(&r.group))?;
    for topic in &r.topics {
        principal.authorize(&tenant, Action::ReadTopic(topic))?;
    }
    member_of(r.member_id.as_deref(), r.member_epoch)?;
    let client_id = match label("client_id", Some(r.client_id))? {
        Some(id) if !id.is_empty() => id,
        _ => caller.user_agent,
    };
    let hb = Heartbeat {
        member_id: r.member_id,
        member_epoch: r.member_epoch,
        instance_id: label("instance_id", r.instance_id)?,
        topics: r.topics,
        session_timeout_ms: r.session_timeout_ms,
        client_id,
        host: caller.host,
        assignor: assignor_of(r.assignor)?,
    };
    let view = state.broker.group_heartbeat(&tenant, &r.group, hb)?;
    Ok(heartbeat_response(view))
}

fn commit(
    state: &ApiState,
    caller: &Principal,
    r: CommitRequest,
) -> Result<CommitResponse, ApiError> {
    let tenant = authorize(state, caller, &r.tenant, Action::WriteGroup(&r.group))?;
    let member = member_of(r.member_id.as_deref(), r.member_epoch)?;
    let offsets = r
        .offsets
        .into_iter()
        .map(|o| {
            Ok(CommitOffset {
                partition: partition_of(o.partition)?,
                topic: o.topic,
                offset: o.offset,
                metadata: o.metadata,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    state
        .broker
        .group_commit(&tenant, &r.group, member, offsets)?;
    Ok(CommitResponse {})
}

fn fetch_committed(
    state: &ApiState,
    caller: &Principal,
    r: FetchCommittedRequest,
) -> Result<FetchCommittedResponse, ApiError> {
    let tenant = authorize(state, caller, &r.tenant, Action::ReadGroup(&r.group))?;
    let description = state.broker.describe_group(&tenant, &r.group)?;
    let offsets = committed_of(description)
        .into_iter()
        .filter(|c| r.topics.is_empty() || r.topics.contains(&c.topic))
        .map(|c| CommittedOffset {
            partition: wire_partition(c.partition),
            topic: c.topic,
            offset: c.offset,
            metadata: c.metadata,
        })
        .collect();
    Ok(FetchCommittedResponse { offsets })
}

fn leave(state: &ApiState, caller: &Principal, r: LeaveRequest) -> Result<LeaveResponse, ApiError> {
    let tenant = authorize(state, caller, &r.tenant, Action::WriteGroup(&r.group))?;
    state.broker.group_leave(&tenant, &r.group, &r.member_id)?;
    Ok(LeaveResponse {})
}

fn member_info(m: MemberDescription) -> MemberInfo {
    MemberInfo {
        assignment: topic_partitions(&m.assignment),
        revoking: topic_partitions(&m.revoking),
        member_id: m.member_id,
        instance_id: m.instance_id,
        client_id: m.client_id,
        host: m.host,
        member_epoch: m.member_epoch,
        topics: m.topics,
    }
}

fn group_info(d: GroupDescription) -> GroupInfo {
    let partitions = d
        .partitions
        .iter()
        .map(|p| PartitionLag {
            topic: p.topic.clone(),
            partition: wire_partition(p.partition),
            committed_offset: p.committed_offset,
            high_watermark: p.high_watermark,
            lag: p.lag,
        })
        .collect();
    GroupInfo {
        total_lag: d.total_lag(),
        group: d.group,
        state: d.state.to_owned(),
        epoch: d.epoch,
        assignor: d.assignor.name().to_owned(),
        members: d.members.into_iter().map(member_info).collect(),
        partitions,
    }
}

fn describe(state: &ApiState, caller: &Principal, r: GroupRef) -> Result<GroupInfo, ApiError> {
    let tenant = authorize(state, caller, &r.tenant, Action::ReadGroup(&r.group))?;
    Ok(group_info(state.broker.describe_group(&tenant, &r.group)?))
}

fn list(
    state: &ApiState,
    caller: &Principal,
    r: ListGroupsRequest,
) -> Result<ListGroupsResponse, ApiError> {
    let tenant = authorize(state, caller, &r.tenant, Action::ListGroups)?;
    let groups = state
        .broker
        .list_groups(&tenant)?
        .iter()
        .filter(|d| caller.allows(Action::ReadGroup(&d.group)))
        .map(|d| GroupSummary {
            group: d.group.clone(),
            state: d.state.to_owned(),
            members: u32::try_from(d.members.len()).unwrap_or(u32::MAX),
            total_lag: d.total_lag(),
        })
        .collect();
    Ok(ListGroupsResponse { groups })
}

fn reset_to(to: i32, value: i64) -> Result<ResetTo, ApiError> {
    match ResetTarget::try_from(to) {
        Ok(ResetTarget::Earliest) => Ok(ResetTo::Earliest),
        Ok(ResetTarget::Latest) => Ok(ResetTo::Latest),
        Ok(ResetTarget::Timestamp) => Ok(ResetTo::Timestamp(value)),
        Ok(ResetTarget::Offset) => Ok(ResetTo::Offset(value)),
        Ok(ResetTarget::Shift) => Ok(ResetTo::Shift(value)),
        Ok(ResetTarget::Unspecified) | Err(_) => Err(ApiError::invalid(
            "to must be RESET_TARGET_EARLIEST, _LATEST, _TIMESTAMP, _OFFSET or _SHIFT",
        )),
    }
}

fn reset_offsets(
    state: &ApiState,
    caller: &Principal,
    r: ResetOffsetsRequest,
) -> Result<ResetOffsetsResponse, ApiError> {
    let tenant = authorize(state, caller, &r.tenant, Action::WriteGroup(&r.group))?;
    let to = reset_to(r.to, r.value)?;
    let topics = (!r.topics.is_empty()).then_some(r.topics);
    let changes = state
        .broker
        .reset_group_offsets(caller, &tenant, &r.group, to, topics, r.dry_run)?;
    let offsets = changes
        .into_iter()
        .map(|c| OffsetChange {
            topic: c.topic,
            partition: wire_partition(c.partition),
            previous: c.previous,
            offset: c.offset,
        })
        .collect();
    Ok(ResetOffsetsResponse {
        dry_run: r.dry_run,
        offsets,
    })
}

fn delete(
    state: &ApiState,
    caller: &Principal,
    r: GroupRef,
) -> Result<DeleteGroupResponse, ApiError> {
    let tenant = authorize(state, caller, &r.tenant, Action::WriteGroup(&r.group))?;
    state.broker.delete_group(caller, &tenant, &r.group)?;
    Ok(DeleteGroupResponse {})
}

#[tonic::async_trait]
impl Groups for GroupsService {
    async fn heartbeat(
        &self,
        request: tonic::Request<HeartbeatRequest>,
    ) -> Result<tonic::Response<HeartbeatResponse>, tonic::Status> {
        let caller = Caller::of(&request);
        authed(
            &self.state,
            "/weir.v1.Groups/Heartbeat",
            request,
            |principal, r| async move { heartbeat(&self.state, &principal, r, caller) },
        )
        .await
    }

    async fn commit(
        &self,
        request: tonic::Request<CommitRequest>,
    ) -> Result<tonic::Response<CommitResponse>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Groups/Commit",
            request,
            |caller, r| async move { commit(&self.state, &caller, r) },
        )
        .await
    }

    async fn fetch_committed(
        &self,
        request: tonic::Request<FetchCommittedRequest>,
    ) -> Result<tonic::Response<FetchCommittedResponse>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Groups/FetchCommitted",
            request,
            |caller, r| async move { fetch_committed(&self.state, &caller, r) },
        )
        .await
    }

    async fn leave(
        &self,
        request: tonic::Request<LeaveRequest>,
    ) -> Result<tonic::Response<LeaveResponse>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Groups/Leave",
            request,
            |caller, r| async move { leave(&self.state, &caller, r) },
        )
        .await
    }

    async fn describe(
        &self,
        request: tonic::Request<GroupRef>,
    ) -> Result<tonic::Response<GroupInfo>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Groups/Describe",
            request,
            |caller, r| async move { describe(&self.state, &caller, r) },
        )
        .await
    }

    async fn list(
        &self,
        request: tonic::Request<ListGroupsRequest>,
    ) -> Result<tonic::Response<ListGroupsResponse>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Groups/List",
            request,
            |caller, r| async move { list(&self.state, &caller, r) },
        )
        .await
    }

    async fn reset_offsets(
        &self,
        request: tonic::Request<ResetOffsetsRequest>,
    ) -> Result<tonic::Response<ResetOffsetsResponse>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Groups/ResetOffsets",
            request,
            |caller, r| async move { reset_offsets(&self.state, &caller, r) },
        )
        .await
    }

    async fn delete(
        &self,
        request: tonic::Request<GroupRef>,
    ) -> Result<tonic::Response<DeleteGroupResponse>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Groups/Delete",
            request,
            |caller, r| async move { delete(&self.state, &caller, r) },
        )
        .await
    }
}
