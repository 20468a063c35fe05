//! `GET /v1/cluster`: what this node knows of its cluster (or that it runs alone);
//! `POST /v1/cluster/nodes` and `DELETE /v1/cluster/nodes/{node_id}` change its members.
//!
//! Owns the REST shape of a node's cluster view and of membership changes. Must not know
//! Raft: the binary hands in a `ClusterView` (weir-api does not depend on the cluster crate).

use std::pin::Pin;
use std::sync::Arc;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use weir_broker::Principal;
use weir_proto::ErrorCode;

use crate::ApiState;
use crate::error::{ApiError, Problem};
use crate::rest::extract::{ApiPath, Caller, LaterJson};

/// A node's view of the metadata quorum, as the binary reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterStatus {
    /// This node's id.
    pub node_id: u32,
    /// `leader`, `follower`, `candidate`, `learner` or `shutdown`.
    pub role: String,
    /// The controller (the Raft leader), when known.
    pub controller: Option<u32>,
    /// Raft term.
    pub term: u64,
    /// Last index in this node's log.
    pub last_log_index: Option<u64>,
    /// Last index applied here.
    pub applied_index: Option<u64>,
    /// Voting members.
    pub voters: Vec<u32>,
    /// Every member, learners too.
    pub nodes: Vec<NodeDto>,
}

/// A change to the membership, answered once committed.
pub type Change = Pin<Box<dyn Future<Output = Result<(), ApiError>> + Send>>;

/// Where a cluster node reads its status from and changes its members.
pub trait ClusterView: Send + Sync + std::fmt::Debug {
    /// This node's view now.
    fn status(&self) -> ClusterStatus;

    /// Adds node `id`, listening for nodes at `internal_addr`: a learner until it caught up,
    /// then a voter.
    fn add_node(&self, id: u32, internal_addr: String) -> Change;

    /// Removes node `id`.
    fn remove_node(&self, id: u32) -> Change;
}

/// A member of the quorum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NodeDto {
    /// Its id.
    pub node_id: u32,
    /// Where it listens for other nodes (empty for a node run alone).
    pub internal_addr: String,
    /// `voter` or `learner` (catching up, no vote yet).
    pub role: String,
    /// Where clients reach its REST API, once it registered.
    pub http_addr: Option<String>,
    /// Where clients reach its gRPC API, once it registered.
    pub grpc_addr: Option<String>,
    /// Its rack, if it has one.
    pub rack: Option<String>,
    /// `live` (registered, heartbeating), `fenced` (silent past its session timeout) or
    /// `unregistered` (started, not registered yet).
    pub liveness: String,
    /// How many of the 50 shards of group coordination it coordinates (a shard is placed
    /// when one of its groups is first used).
    pub coordinator_shards: u32,
}

/// How the node keeps its metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClusterMode {
    /// One node, metadata on its own disk.
    Single,
    /// A node of a metadata quorum.
    Raft,
}

/// What this node knows of its cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ClusterDto {
    /// `single` or `raft`.
    pub mode: ClusterMode,
    /// This node's id (0 for a single node).
    pub node_id: u32,
    /// This node's role in the quorum (`leader` for a single node).
    pub role: String,
    /// The controller (the quorum's leader); absent while there is none.
    pub controller: Option<u32>,
    /// Raft term (0 for a single node).
    pub term: u64,
    /// Last index in this node's metadata log.
    pub last_log_index: Option<u64>,
    /// Last index applied to this node's metadata.
    pub applied_index: Option<u64>,
    /// Voting members of the quorum.
    pub voters: Vec<u32>,
    /// Every member of the quorum, learners too.
    pub nodes: Vec<NodeDto>,
}

/// A node to add.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddNode {
    /// Its `cluster.node_id` (1 to 2147483647).
    #[schema(minimum = 1, maximum = 2147483647)]
    pub node_id: u32,
    /// Its `cluster.internal_addr`, host:port.
    #[schema(min_length = 3)]
    pub internal_addr: String,
}

/// A member, by id.
#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct NodePath {
    /// Node id.
    node_id: u32,
}

/// What this node knows of its cluster: its role, the controller, term, log and applied
/// index, voters. Any authenticated caller may read it (it names no tenant).
#[utoipa::path(get, path = "/v1/cluster", tag = "operations",
    responses(
        (status = 200, description = "This node's view of the cluster", body = ClusterDto),
    ))]
pub(crate) async fn cluster(
    State(state): State<Arc<ApiState>>,
    _caller: Caller,
) -> axum::Json<ClusterDto> {
    axum::Json(describe(&state))
}

/// What this node knows of its cluster (REST and gRPC).
pub(crate) fn describe(state: &ApiState) -> ClusterDto {
    match state.cluster.get() {
        None => ClusterDto {
            mode: ClusterMode::Single,
            node_id: state.node.id,
            role: "leader".into(),
            controller: Some(state.node.id),
            term: 0,
            last_log_index: None,
            applied_index: None,
            voters: vec![state.node.id],
            nodes: vec![NodeDto {
                node_id: state.node.id,
                internal_addr: String::new(),
                role: "voter".into(),
                http_addr: Some(state.node.http_addr.clone()),
                grpc_addr: Some(state.node.grpc_addr.clone()),
                rack: None,
                liveness: "live".into(),
                coordinator_shards: weir_broker::groups::OFFSETS_SHARDS,
            }],
        },
        Some(view) => {
            let s = view.status();
            ClusterDto {
                mode: ClusterMode::Raft,
                node_id: s.node_id,
                role: s.role,
                controller: s.controller,
                term: s.term,
                last_log_index: s.last_log_index,
                applied_index: s.applied_index,
                voters: s.voters,
                nodes: s.nodes,
            }
        }
    }
}

/// Adds node `id` at `internal_addr` for `caller`, an admin; the cluster after (REST and
/// gRPC).
pub(crate) async fn add(
    state: &ApiState,
    caller: &Principal,
    id: u32,
    internal_addr: String,
) -> Result<ClusterDto, ApiError> {
    let view = changeable(state, caller)?;
    if id == 0 || i32::try_from(id).is_err() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("node ids are 1 to {}, not {id}", i32::MAX),
        ));
    }
    if internal_addr.parse::<std::net::SocketAddr>().is_err() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("{internal_addr:?} is not an internal address (host:port)"),
        ));
    }
    view.add_node(id, internal_addr).await?;
    Ok(describe(state))
}

/// Removes node `id` for `caller`, an admin; the cluster after (REST and gRPC).
pub(crate) async fn remove(
    state: &ApiState,
    caller: &Principal,
    id: u32,
) -> Result<ClusterDto, ApiError> {
    changeable(state, caller)?.remove_node(id).await?;
    Ok(describe(state))
}

/// The node's cluster, for a change an admin asked for.
fn changeable<'a>(
    state: &'a ApiState,
    caller: &Principal,
) -> Result<&'a dyn ClusterView, ApiError> {
    if !caller.is_admin() {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("{} does not hold admin", caller.subject),
        ));
    }
    state.cluster.get().map(|v| v.as_ref()).ok_or_else(|| {
        ApiError::new(
            ErrorCode::MembershipConflict,
            "this node runs alone: restart it as the first node of a cluster (a [cluster] table \
             naming only itself in initial_voters) to add nodes",
        )
    })
}

/// Add a node (admin): it joins as a learner, and gets a vote once it caught up with the
/// metadata. Start it first, with a `[cluster]` table that names no `initial_voters`. Any
/// node takes the call and hands it to the controller.
#[utoipa::path(post, path = "/v1/cluster/nodes", tag = "operations", request_body = AddNode,
    responses(
        (status = 200, description = "The cluster with the node added", body = ClusterDto),
        (status = 400, description = "`INVALID_REQUEST`: a node id out of range, an address that is not host:port, or a malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`FORBIDDEN`: not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`MEMBERSHIP_CONFLICT`: a node id another member has at another address, an address another member has, or a node run alone", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`UNAVAILABLE`: no controller, or the node did not catch up in time (it stays a learner)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn add_node(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    body: LaterJson<AddNode>,
) -> Result<axum::Json<ClusterDto>, ApiError> {
    changeable(&state, &caller)?;
    let body = body.parse()?;
    let added = add(&state, &caller, body.node_id, body.internal_addr).await?;
    Ok(axum::Json(added))
}

/// Remove a node (admin): a voter or a learner. The last voter cannot be removed. Stop the
/// node once it is out.
#[utoipa::path(delete, path = "/v1/cluster/nodes/{node_id}", tag = "operations", params(NodePath),
    responses(
        (status = 200, description = "The cluster without the node", body = ClusterDto),
        (status = 403, description = "`FORBIDDEN`: not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`NODE_NOT_FOUND`: no such member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`MEMBERSHIP_CONFLICT`: the last voter, or a node run alone", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`UNAVAILABLE`: no controller", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn remove_node(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<NodePath>,
) -> Result<axum::Json<ClusterDto>, ApiError> {
    Ok(axum::Json(remove(&state, &caller, path.node_id).await?))
}
