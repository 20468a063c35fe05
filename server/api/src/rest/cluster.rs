//! `GET /v1/cluster`: what this node knows of its cluster (or that it runs alone).
//!
//! Owns the REST shape of a node's cluster view. Must not know Raft: the binary hands in a
//! `ClusterView` (weir-api does not depend on the cluster crate).

use std::sync::Arc;

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::ApiState;
use crate::rest::extract::Caller;

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
}

/// Where a cluster node reads its status from.
pub trait ClusterView: Send + Sync + std::fmt::Debug {
    /// This node's view now.
    fn status(&self) -> ClusterStatus;
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
}

/// What this node knows of its cluster: its role, the controller, term, log and applied
/// index, voters. Any authenticated caller may read it (it names no tenant).
#[utoipa::path(get, path = "/v1/cluster", tag = "operations",
    responses(
        (status = 200, description = "This node's view of the cluster", body = ClusterDto),
    ))]
pub(crate) async fn cluster(
    State(state): State<Arc<ApiState>>,
    Caller(_caller): Caller,
) -> axum::Json<ClusterDto> {
    let dto = match state.cluster.get() {
        None => ClusterDto {
            mode: ClusterMode::Single,
            node_id: state.node.id,
            role: "leader".into(),
            controller: Some(state.node.id),
            term: 0,
            last_log_index: None,
            applied_index: None,
            voters: vec![state.node.id],
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
            }
        }
    };
    axum::Json(dto)
}
