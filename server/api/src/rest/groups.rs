//! REST consumer groups: `/v1/tenants/{tenant}/groups[/{group}[/...]]` — fetch as a member
//! (join, heartbeat and long poll in one call), commit, committed offsets, leave, list,
//! describe with lag, offset reset and delete.
//!
//! Owns the group DTOs and their conversion to and from broker types, and the checks every
//! transport applies to member labels (`client_id`, `instance_id`, host). Must not hold group
//! rules: membership, assignment, fencing and offsets are the broker's; gRPC (`grpc/groups.rs`)
//! calls the same broker functions with the same helpers from here.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use weir_broker::{
    Assignor, CommitOffset, GroupDescription, GroupFetchOptions, GroupFetched, GroupRecord,
    Heartbeat, MemberDescription, OffsetChange, OffsetReset, PartitionLag, Partitions, ResetTo,
};

use super::extract::Caller;
use super::extract::{ApiPath, LaterJson};
use super::records::{FETCH_RECORDS_DEFAULT, RecordDto, ValueFormat, record_dto};
use super::topics::TenantPath;
use crate::access::{amount, authorize, hold};
use crate::dto::FETCH_BYTES_DEFAULT;
use crate::dto::groups::{CommittedOffsetDto, committed_of, cut_label, label, member_of};
use crate::dto::ints;
use crate::{ApiError, ApiState, Problem};
use weir_broker::{Action, Rate};

/// Where a member with no committed offset starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AutoOffsetReset {
    /// The oldest record still stored.
    Earliest,
    /// Only records produced from now on (the default).
    Latest,
}

/// Strategy computing a new group's assignment (ignored for an existing group).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AssignorName {
    /// Sticky and balanced (the default).
    Uniform,
    /// Kafka's range assignor: contiguous ranges per topic.
    Range,
}

impl From<Assignor> for AssignorName {
    fn from(a: Assignor) -> Self {
        match a {
            Assignor::Uniform => AssignorName::Uniform,
            Assignor::Range => AssignorName::Range,
        }
    }
}

/// Where a group stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GroupState {
    /// No live members.
    Empty,
    /// Every member holds exactly its target assignment.
    Stable,
    /// Partitions are being revoked or handed out.
    Reconciling,
}

impl GroupState {
    /// The state the broker names (`empty`, `stable`, `reconciling`).
    fn of(name: &str) -> Self {
        match name {
            "empty" => GroupState::Empty,
            "stable" => GroupState::Stable,
            _ => GroupState::Reconciling,
        }
    }
}

impl From<AssignorName> for Assignor {
    fn from(a: AssignorName) -> Self {
        match a {
            AssignorName::Uniform => Assignor::Uniform,
            AssignorName::Range => Assignor::Range,
        }
    }
}

/// Body of a group fetch. Without `member_id` it joins; with it (and `member_epoch` from the
/// last response) it heartbeats. Every call is a heartbeat. `member_id` and `member_epoch`
/// come together or not at all (stated with `if`/`then`: a `null` counts as absent).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupFetchRequest {
    /// Topics to consume: at least one; they must exist.
    #[schema(min_items = 1)]
    pub topics: Vec<String>,
    /// The id from an earlier response; absent to join. Requires `member_epoch`.
    pub member_id: Option<String>,
    /// The `member_epoch` of the last response. Requires `member_id`.
    #[serde(default, deserialize_with = "ints::optional")]
    pub member_epoch: Option<i32>,
    /// Static membership: rejoining with the same id gets the same partitions back. At most
    /// 256 characters.
    #[schema(max_length = 256)]
    pub instance_id: Option<String>,
    /// Client name shown in describe; the User-Agent when absent. At most 256 characters.
    #[schema(max_length = 256)]
    pub client_id: Option<String>,
    /// Most records to return (default 100, at most the server's `fetch_records_max`, 10000
    /// unless configured otherwise).
    #[serde(default, deserialize_with = "ints::optional")]
    #[schema(value_type = Option<u64>, minimum = 1, maximum = 10000)]
    pub max_records: Option<usize>,
    /// Most bytes of batches to read over all partitions (default 1 MiB; 0 reads one batch;
    /// cut to the server's `fetch_bytes_max`).
    #[serde(default, deserialize_with = "ints::optional")]
    #[schema(value_type = Option<u64>)]
    pub max_bytes: Option<usize>,
    /// Wait up to this long for records (long poll). The wait is cut to half the session
    /// timeout and to the server's `fetch_wait_ms_max` (30000 unless configured otherwise):
    /// a larger value is accepted and waits that long.
    #[serde(default, deserialize_with = "ints::optional")]
    pub wait_ms: Option<u64>,
    /// Session timeout: a member silent for longer loses its partitions. Between the
    /// server's `session_timeout_ms_min` and `session_timeout_ms_max` (1000 and 300000 unless
    /// configured otherwise); the server's default (30000 unless configured otherwise) when
    /// absent.
    #[serde(default, deserialize_with = "ints::optional")]
    #[schema(minimum = 1000, maximum = 300000)]
    pub session_timeout_ms: Option<u64>,
    /// Where to start without a committed offset (default `latest`).
    pub auto_offset_reset: Option<AutoOffsetReset>,
    /// Assignor of a new group (default `uniform`).
    pub assignor: Option<AssignorName>,
    /// Where to resume, per partition: the next offset after the last record received. The
    /// server otherwise continues where its previous answer ended, so an answer lost on the
    /// way would skip records; sending positions makes a retried request harmless.
    /// Partitions the member does not own are ignored.
    #[serde(default)]
    pub positions: Vec<ResumeDto>,
}

/// A resume point of one partition.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumeDto {
    /// Topic.
    pub topic: String,
    /// Partition.
    #[serde(deserialize_with = "ints::whole")]
    pub partition: u32,
    /// The next offset to read.
    #[serde(deserialize_with = "ints::whole")]
    pub offset: i64,
}

/// Partitions of one topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TopicPartitionsDto {
    /// Topic name.
    pub topic: String,
    /// Partition numbers, ascending.
    pub partitions: Vec<u32>,
}

/// A record handed to a group member: the partition fetch's record plus its topic and
/// partition, both always set. The fields after them are those of `RecordDto`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupRecordDto {
    /// Topic of the record.
    pub topic: String,
    /// Partition of the record.
    pub partition: u32,
    /// Offset in the partition.
    pub offset: i64,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// Key as UTF-8 text; null when absent or binary.
    pub key: Option<String>,
    /// Key as base64 when it is not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key_b64: Option<String>,
    /// The value as any JSON (format `json`: object, array, string, number, boolean) or as
    /// text (format `string`); null otherwise.
    #[schema(value_type = Value)]
    pub value: Option<serde_json::Value>,
    /// The value as base64 (format `binary`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub value_b64: Option<String>,
    /// How the value is shown.
    pub value_format: ValueFormat,
    /// Headers with UTF-8 values.
    pub headers: BTreeMap<String, String>,
    /// Headers whose values are not UTF-8, base64.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub headers_b64: BTreeMap<String, String>,
}

impl GroupRecordDto {
    /// A partition fetch's record with its topic and partition.
    fn new(topic: String, partition: u32, r: RecordDto) -> Self {
        GroupRecordDto {
            topic,
            partition,
            offset: r.offset,
            timestamp: r.timestamp,
            key: r.key,
            key_b64: r.key_b64,
            value: r.value,
            value_b64: r.value_b64,
            value_format: r.value_format,
            headers: r.headers,
            headers_b64: r.headers_b64,
        }
    }
}

/// Response of a group fetch.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupFetchResponse {
    /// Send this with every later request.
    pub member_id: String,
    /// Send this with the next request (and with commits).
    pub member_epoch: i32,
    /// Session timeout in force (ms): call again well within it.
    pub session_timeout_ms: u64,
    /// Partitions the member owns now; it must stop processing any others.
    pub assignment: Vec<TopicPartitionsDto>,
    /// Records from the member's partitions, continuing where its last fetch stopped.
    pub records: Vec<GroupRecordDto>,
    /// How long the server held this response for the tenant's fetch quota, in ms.
    pub throttle_time_ms: u64,
}

/// One offset to commit: the next offset to read.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitOffsetDto {
    /// Topic name.
    pub topic: String,
    /// Partition number.
    #[serde(deserialize_with = "ints::whole")]
    pub partition: u32,
    /// Next offset the group will read (last processed + 1); not negative. An offset past the
    /// high watermark is stored as given.
    #[serde(deserialize_with = "ints::whole")]
    #[schema(minimum = 0)]
    pub offset: i64,
    /// Free-form text kept with the offset: at most the server's `offset_metadata_bytes_max`
    /// (4096 unless configured otherwise) bytes of UTF-8.
    pub metadata: Option<String>,
}

/// Body of a commit. As a member, give `member_id` and `member_epoch` (together or not at
/// all; a `null` counts as absent); without them the group must have no members.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitRequest {
    /// Committing member. Requires `member_epoch`.
    pub member_id: Option<String>,
    /// Its current epoch. Requires `member_id`.
    #[serde(default, deserialize_with = "ints::optional")]
    pub member_epoch: Option<i32>,
    /// Offsets, committed all or nothing: at least one.
    #[schema(min_items = 1)]
    pub offsets: Vec<CommitOffsetDto>,
}

/// The committed offsets of a group.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CommittedOffsets {
    /// Group name.
    pub group: String,
    /// Offsets by topic and partition.
    pub offsets: Vec<CommittedOffsetDto>,
}

/// A group in a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupSummaryDto {
    /// Group name.
    pub group: String,
    /// Where the group stands.
    pub state: GroupState,
    /// Live members.
    pub members: usize,
    /// Sum of the partitions' lags.
    pub total_lag: i64,
}

/// The groups of a tenant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupList {
    /// Groups with members or committed offsets, by name.
    pub groups: Vec<GroupSummaryDto>,
}

/// A member of a group.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberDto {
    /// Member id.
    pub member_id: String,
    /// Static membership id.
    pub instance_id: Option<String>,
    /// Client name.
    pub client_id: String,
    /// Address the member last called from.
    pub host: String,
    /// Current epoch.
    pub member_epoch: i32,
    /// Subscribed topics.
    pub topics: Vec<String>,
    /// Owned partitions.
    pub assignment: Vec<TopicPartitionsDto>,
    /// Partitions being given up (owned until the member's next request).
    pub revoking: Vec<TopicPartitionsDto>,
}

/// Committed offset, high watermark and lag of one partition.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PartitionLagDto {
    /// Topic name.
    pub topic: String,
    /// Partition number.
    pub partition: u32,
    /// Next offset the group will read; null before the first commit.
    pub committed_offset: Option<i64>,
    /// Offset after the last readable record.
    pub high_watermark: i64,
    /// `high_watermark - committed_offset`; null before the first commit.
    pub lag: Option<i64>,
}

/// A group described.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupDetailDto {
    /// Group name.
    pub group: String,
    /// Where the group stands.
    pub state: GroupState,
    /// Group epoch: bumped on every membership or subscription change.
    pub epoch: u64,
    /// Assignor in use.
    pub assignor: AssignorName,
    /// Live members.
    pub members: Vec<MemberDto>,
    /// Partitions subscribed to or committed.
    pub partitions: Vec<PartitionLagDto>,
    /// Sum of the partitions' lags.
    pub total_lag: i64,
    /// The node that coordinates the group (holds its members and committed offsets);
    /// absent on a node run alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinator: Option<u32>,
}

/// Where a reset moves offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResetToName {
    /// The oldest stored offset.
    Earliest,
    /// The high watermark.
    Latest,
    /// The first record at or after `timestamp`.
    Timestamp,
    /// `offset` on every partition.
    Offset,
    /// The committed offset plus `shift`.
    Shift,
}

/// Body of an offset reset. Give the field named by `to` (`timestamp`, `offset` or `shift`)
/// and no other of the three (`earliest` and `latest` take none); the schema states this
/// with `if`/`then`. Targets are clamped to the log.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// Where to move offsets.
    pub to: ResetToName,
    /// Milliseconds since the epoch, for `to = timestamp` (and only then).
    #[serde(default, deserialize_with = "ints::optional")]
    pub timestamp: Option<i64>,
    /// The offset, for `to = offset` (and only then).
    #[serde(default, deserialize_with = "ints::optional")]
    pub offset: Option<i64>,
    /// How far to move (negative goes back), for `to = shift` (and only then).
    #[serde(default, deserialize_with = "ints::optional")]
    pub shift: Option<i64>,
    /// Topics to reset; the group's committed topics when absent.
    pub topics: Option<Vec<String>>,
    /// Only show the result.
    #[serde(default)]
    pub dry_run: bool,
}

/// One partition's offset before and after a reset.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OffsetChangeDto {
    /// Topic name.
    pub topic: String,
    /// Partition number.
    pub partition: u32,
    /// Committed offset before; null when there was none.
    pub previous: Option<i64>,
    /// Committed offset after.
    pub offset: i64,
}

/// Result of an offset reset.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResetResponse {
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Every partition reset.
    pub offsets: Vec<OffsetChangeDto>,
}

/// Path of a group.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct GroupPath {
    /// Tenant name.
    pub tenant: String,
    /// Group name.
    pub group: String,
}

/// Path of a group member.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MemberPath {
    /// Tenant name.
    pub tenant: String,
    /// Group name.
    pub group: String,
    /// Member id.
    pub member_id: String,
}

/// Partitions by topic as DTOs, leaving out topics without partitions.
pub(crate) fn topic_partitions(p: &Partitions) -> Vec<TopicPartitionsDto> {
    p.iter()
        .filter(|(_, parts)| !parts.is_empty())
        .map(|(topic, parts)| TopicPartitionsDto {
            topic: topic.clone(),
            partitions: parts.iter().copied().collect(),
        })
        .collect()
}

/// The caller's address: the socket's IP, else the first `X-Forwarded-For` entry, else empty.
fn host_of(connect: Option<SocketAddr>, headers: &HeaderMap) -> String {
    if let Some(addr) = connect {
        return addr.ip().to_string();
    }
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map_or_else(String::new, |v| cut_label(v.trim()))
}

fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map_or_else(String::new, cut_label)
}

fn fetch_options(
    state: &ApiState,
    body: &GroupFetchRequest,
) -> Result<GroupFetchOptions, ApiError> {
    let max_records = body.max_records.unwrap_or(FETCH_RECORDS_DEFAULT);
    let records_max = state.limits.fetch_records_max;
    if max_records == 0 || max_records > records_max {
        return Err(ApiError::invalid(format!(
            "max_records must be between 1 and fetch_records_max {records_max}"
        )));
    }
    let bytes_max = state.broker.limits().fetch_bytes_max;
    let max_bytes = body.max_bytes.unwrap_or(FETCH_BYTES_DEFAULT);
    Ok(GroupFetchOptions {
        max_records,
        max_bytes: max_bytes.clamp(1, bytes_max),
        wait: Duration::from_millis(body.wait_ms.unwrap_or(0)),
        reset: match body.auto_offset_reset {
            Some(AutoOffsetReset::Earliest) => OffsetReset::Earliest,
            Some(AutoOffsetReset::Latest) | None => OffsetReset::Latest,
        },
        resume: body
            .positions
            .iter()
            .map(|p| (p.topic.clone(), p.partition, p.offset))
            .collect(),
    })
}

fn heartbeat_of(
    body: GroupFetchRequest,
    headers: &HeaderMap,
    host: String,
) -> Result<Heartbeat, ApiError> {
    member_of(body.member_id.as_deref(), body.member_epoch)?;
    let client_id = label("client_id", body.client_id)?.unwrap_or_else(|| user_agent(headers));
    Ok(Heartbeat {
        member_id: body.member_id,
        member_epoch: body.member_epoch,
        instance_id: label("instance_id", body.instance_id)?,
        topics: body.topics,
        session_timeout_ms: body.session_timeout_ms,
        client_id,
        host,
        assignor: body.assignor.map(Assignor::from),
    })
}

fn group_record(r: GroupRecord) -> GroupRecordDto {
    GroupRecordDto::new(r.topic, r.partition, record_dto(r.record, None))
}

fn fetch_response(f: GroupFetched, throttle_time_ms: u64) -> GroupFetchResponse {
    GroupFetchResponse {
        throttle_time_ms,
        assignment: topic_partitions(&f.view.assignment),
        member_id: f.view.member_id,
        member_epoch: f.view.member_epoch,
        session_timeout_ms: f.view.session_timeout_ms,
        records: f.records.into_iter().map(group_record).collect(),
    }
}

fn member_dto(m: MemberDescription) -> MemberDto {
    MemberDto {
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

fn lag_dto(p: PartitionLag) -> PartitionLagDto {
    PartitionLagDto {
        topic: p.topic,
        partition: p.partition,
        committed_offset: p.committed_offset,
        high_watermark: p.high_watermark,
        lag: p.lag,
    }
}

fn detail_dto(d: GroupDescription) -> GroupDetailDto {
    GroupDetailDto {
        total_lag: d.total_lag(),
        group: d.group,
        state: GroupState::of(&d.state),
        epoch: d.epoch,
        assignor: d.assignor.into(),
        members: d.members.into_iter().map(member_dto).collect(),
        partitions: d.partitions.into_iter().map(lag_dto).collect(),
        coordinator: d.coordinator,
    }
}

fn summary_dto(d: &GroupDescription) -> GroupSummaryDto {
    GroupSummaryDto {
        group: d.group.clone(),
        state: GroupState::of(&d.state),
        members: d.members.len(),
        total_lag: d.total_lag(),
    }
}

fn reset_to(body: &ResetRequest) -> Result<ResetTo, ApiError> {
    let given = (body.timestamp, body.offset, body.shift);
    let to = match (body.to, given) {
        (ResetToName::Earliest, (None, None, None)) => ResetTo::Earliest,
        (ResetToName::Latest, (None, None, None)) => ResetTo::Latest,
        (ResetToName::Timestamp, (Some(ts), None, None)) => ResetTo::Timestamp(ts),
        (ResetToName::Offset, (None, Some(o), None)) => ResetTo::Offset(o),
        (ResetToName::Shift, (None, None, Some(s))) => ResetTo::Shift(s),
        _ => {
            return Err(ApiError::invalid(
                "give timestamp, offset or shift exactly when `to` names it",
            ));
        }
    };
    Ok(to)
}

fn change_dto(c: OffsetChange) -> OffsetChangeDto {
    OffsetChangeDto {
        topic: c.topic,
        partition: c.partition,
        previous: c.previous,
        offset: c.offset,
    }
}

/// Fetch records as a group member; the first call (no `member_id`) joins, every call
/// heartbeats.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/groups/{group}/fetch", tag = "groups",
    params(GroupPath), request_body = GroupFetchRequest,
    responses(
        (status = 200, description = "The member's assignment and records", body = GroupFetchResponse),
        (status = 400, description = "`INVALID_REQUEST` (a malformed body: member_id without member_epoch, a label too long, max_records out of range; a bad tenant or group name) or `INVALID_SESSION_TIMEOUT` (session_timeout_ms outside the server's `session_timeout_ms_min` to `session_timeout_ms_max`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND` or `TOPIC_NOT_FOUND` (a subscribed topic)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`UNKNOWN_MEMBER` or `STALE_MEMBER_EPOCH` (join again), `GROUP_MAX_SIZE_REACHED`, or `COUNT_QUOTA_EXCEEDED` (a new group past the tenant's `groups` quota)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn group_fetch(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<GroupPath>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: LaterJson<GroupFetchRequest>,
) -> Result<axum::Json<GroupFetchResponse>, ApiError> {
    let tenant = authorize(
        &state,
        &caller,
        &path.tenant,
        Action::WriteGroup(&path.group),
    )?;
    let body = body.parse()?;
    let opts = fetch_options(&state, &body)?;
    let host = host_of(connect.map(|Extension(ConnectInfo(a))| a), &headers);
    let hb = heartbeat_of(body, &headers, host)?;
    for topic in &hb.topics {
        caller.authorize(&tenant, Action::ReadTopic(topic))?;
    }
    state.broker.check_rate(&tenant, Rate::Fetch)?;
    let fetched = state
        .broker
        .group_fetch(&tenant, &path.group, hb, opts)
        .await?;
    let bytes: usize = fetched
        .records
        .iter()
        .map(|r| {
            let len = |b: &Option<bytes::Bytes>| b.as_ref().map_or(0, bytes::Bytes::len);
            len(&r.record.key) + len(&r.record.value)
        })
        .sum();
    let held = hold(&state, &tenant, Rate::Fetch, amount(bytes)).await;
    Ok(axum::Json(fetch_response(fetched, held)))
}

/// Commit offsets, all or nothing.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/groups/{group}/offsets", tag = "groups",
    params(GroupPath), request_body = CommitRequest,
    responses(
        (status = 204, description = "Committed"),
        (status = 400, description = "`INVALID_REQUEST`: a malformed body (member_id without member_epoch, a negative offset), or a bad tenant or group name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND`, `TOPIC_NOT_FOUND` or `PARTITION_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`UNKNOWN_MEMBER`, `STALE_MEMBER_EPOCH`, `PARTITION_NOT_ASSIGNED`, `GROUP_NOT_EMPTY` (a commit without a member while members are live), or `COUNT_QUOTA_EXCEEDED` (a new group past the tenant's `groups` quota)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`OFFSET_METADATA_TOO_LARGE` (an offset's metadata past `offset_metadata_bytes_max`) or `REQUEST_TOO_LARGE` (the body is larger than `request_bytes_max`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn commit(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<GroupPath>,
    body: LaterJson<CommitRequest>,
) -> Result<StatusCode, ApiError> {
    let tenant = authorize(
        &state,
        &caller,
        &path.tenant,
        Action::WriteGroup(&path.group),
    )?;
    let body = body.parse()?;
    let member = member_of(body.member_id.as_deref(), body.member_epoch)?;
    let offsets = body
        .offsets
        .into_iter()
        .map(|o| CommitOffset {
            topic: o.topic,
            partition: o.partition,
            offset: o.offset,
            metadata: o.metadata.unwrap_or_default(),
        })
        .collect();
    state
        .broker
        .group_commit(&tenant, &path.group, member, offsets)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The committed offsets of a group.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/groups/{group}/offsets", tag = "groups",
    params(GroupPath),
    responses(
        (status = 200, description = "Committed offsets", body = CommittedOffsets),
        (status = 400, description = "`INVALID_REQUEST`: a bad tenant or group name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND` or `GROUP_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn committed(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<GroupPath>,
) -> Result<axum::Json<CommittedOffsets>, ApiError> {
    let tenant = authorize(
        &state,
        &caller,
        &path.tenant,
        Action::ReadGroup(&path.group),
    )?;
    let description = state.broker.describe_group(&tenant, &path.group)?;
    Ok(axum::Json(CommittedOffsets {
        group: path.group,
        offsets: committed_of(description),
    }))
}

/// Leave a group: the member's partitions go to the others at once.
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/groups/{group}/members/{member_id}",
    tag = "groups", params(MemberPath),
    responses(
        (status = 204, description = "Left"),
        (status = 400, description = "`INVALID_REQUEST`: a bad tenant name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`UNKNOWN_MEMBER`: no such member in the group (also when there is no such group)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn leave(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<MemberPath>,
) -> Result<StatusCode, ApiError> {
    let tenant = authorize(
        &state,
        &caller,
        &path.tenant,
        Action::WriteGroup(&path.group),
    )?;
    state
        .broker
        .group_leave(&tenant, &path.group, &path.member_id)?;
    Ok(StatusCode::NO_CONTENT)
}

/// List groups with their state, member count and lag.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/groups", tag = "groups", params(TenantPath),
    responses(
        (status = 200, description = "Groups of the tenant", body = GroupList),
        (status = 400, description = "`INVALID_REQUEST`: a bad tenant name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_groups(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<TenantPath>,
) -> Result<axum::Json<GroupList>, ApiError> {
    let tenant = authorize(&state, &caller, &path.tenant, Action::ListGroups)?;
    let groups = state.broker.list_groups(&tenant)?;
    Ok(axum::Json(GroupList {
        groups: groups
            .iter()
            .filter(|g| caller.allows(Action::ReadGroup(&g.group)))
            .map(summary_dto)
            .collect(),
    }))
}

/// Describe a group: members with their assignments, and per-partition lag.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/groups/{group}", tag = "groups",
    params(GroupPath),
    responses(
        (status = 200, description = "The group", body = GroupDetailDto),
        (status = 400, description = "`INVALID_REQUEST`: a bad tenant or group name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND` or `GROUP_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn describe_group(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<GroupPath>,
) -> Result<axum::Json<GroupDetailDto>, ApiError> {
    let tenant = authorize(
        &state,
        &caller,
        &path.tenant,
        Action::ReadGroup(&path.group),
    )?;
    let description = state.broker.describe_group(&tenant, &path.group)?;
    Ok(axum::Json(detail_dto(description)))
}

/// Move the committed offsets of a group without members (or preview with `dry_run`).
#[utoipa::path(post, path = "/v1/tenants/{tenant}/groups/{group}/offsets:reset", tag = "groups",
    params(GroupPath), request_body = ResetRequest,
    responses(
        (status = 200, description = "Offsets before and after", body = ResetResponse),
        (status = 400, description = "`INVALID_REQUEST`: `to` without its field or with another, no topics named for a group without commits, or a bad tenant or group name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND` or `TOPIC_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`GROUP_NOT_EMPTY`: the group has live members", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn reset_offsets(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<GroupPath>,
    body: LaterJson<ResetRequest>,
) -> Result<axum::Json<ResetResponse>, ApiError> {
    let tenant = authorize(
        &state,
        &caller,
        &path.tenant,
        Action::WriteGroup(&path.group),
    )?;
    let body = body.parse()?;
    let to = reset_to(&body)?;
    let changes = state.broker.reset_group_offsets(
        &caller,
        &tenant,
        &path.group,
        to,
        body.topics,
        body.dry_run,
    )?;
    Ok(axum::Json(ResetResponse {
        dry_run: body.dry_run,
        offsets: changes.into_iter().map(change_dto).collect(),
    }))
}

/// Delete a group without members, and its committed offsets.
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/groups/{group}", tag = "groups",
    params(GroupPath),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "`INVALID_REQUEST`: a bad tenant or group name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND` or `GROUP_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`GROUP_NOT_EMPTY`: the group has live members", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn delete_group(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<GroupPath>,
) -> Result<StatusCode, ApiError> {
    let tenant = authorize(
        &state,
        &caller,
        &path.tenant,
        Action::WriteGroup(&path.group),
    )?;
    state.broker.delete_group(&caller, &tenant, &path.group)?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reset(to: ResetToName, timestamp: Option<i64>, offset: Option<i64>) -> ResetRequest {
        ResetRequest {
            to,
            timestamp,
            offset,
            shift: None,
            topics: None,
            dry_run: false,
        }
    }

    #[test]
    fn reset_needs_exactly_the_field_it_names() {
        let ok = reset(ResetToName::Timestamp, Some(5), None);
        assert_eq!(reset_to(&ok).unwrap(), ResetTo::Timestamp(5));
        assert_eq!(
            reset_to(&reset(ResetToName::Earliest, None, None)).unwrap(),
            ResetTo::Earliest
        );
        assert!(reset_to(&reset(ResetToName::Offset, None, None)).is_err());
        assert!(reset_to(&reset(ResetToName::Latest, None, Some(3))).is_err());
        assert!(reset_to(&reset(ResetToName::Timestamp, Some(1), Some(3))).is_err());
    }
}
