//! One node's member of the metadata quorum: an openraft `Raft` over our stores.
//!
//! Owns starting the Raft (initializing a fresh single voter), proposing a command and
//! waiting until it is applied, the status that `weir cluster status` shows, and shutdown.
//! Must not build or validate commands (the caller does against the applied machine) and must
//! not know the transport between nodes (a `RaftNetworkFactory` is handed in; `NoPeers` is
//! the one a single node uses).

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{
    CheckIsLeaderError, ClientWriteError, InitializeError, InstallSnapshotError, RPCError,
    RaftError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::{BasicNode, ChangeMembers, Config, Raft, ServerState, SnapshotPolicy};
use tokio::sync::watch;

use super::net::{
    self, Forward, ForwardAnswer, GrpcNetwork, Handlers, MembershipChange, ProposalHandler,
    RaftServer, RaftService,
};
use super::{LogStore, Machine, Proposal, StateStore, TypeConfig};
use crate::liveness::Liveness;

/// Entries between two state-machine snapshots (each lets the log be purged).
pub const SNAPSHOT_EVERY: u64 = 1_000;
/// Entries kept in the log behind a snapshot, so a follower slightly behind catches up from
/// the log rather than by a whole snapshot.
pub const LOG_KEPT_BEHIND_SNAPSHOT: u64 = 100;
/// How long adding a node waits for it to catch up as a learner before it gets a vote.
pub const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a lone voter waits to win its own election.
const ELECTION_WAIT: Duration = Duration::from_secs(10);
/// How often the leader heartbeats its followers, in milliseconds.
pub const HEARTBEAT_INTERVAL_MS: u64 = 50;
/// A follower that hears no leader for a random time in this range (ms) starts an election.
pub const ELECTION_TIMEOUT_MS: std::ops::RangeInclusive<u64> = 150..=300;

/// Why a quorum operation failed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum QuorumError {
    /// This node is not the controller; `leader` is, when known.
    NotLeader { leader: Option<u64> },
    /// The node's storage or Raft task failed; it serves no metadata changes any more.
    Fatal(String),
    /// Opening the stores failed.
    Storage(String),
    /// The controller could not be reached, or did not answer in time.
    Unreachable(String),
    /// The change asked for is not allowed (the last voter, an id or address in use);
    /// nothing changed.
    Refused(String),
    /// No node of that id is a member; nothing changed.
    UnknownNode(String),
}

impl std::fmt::Display for QuorumError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QuorumError::NotLeader { leader: Some(l) } => {
                write!(f, "this node is not the controller; node {l} is")
            }
            QuorumError::NotLeader { leader: None } => {
                write!(f, "this node is not the controller and knows of none yet")
            }
            QuorumError::Fatal(e) => write!(f, "the metadata quorum stopped on this node: {e}"),
            QuorumError::Storage(e) => write!(f, "metadata quorum storage: {e}"),
            QuorumError::Unreachable(e) | QuorumError::Refused(e) | QuorumError::UnknownNode(e) => {
                write!(f, "{e}")
            }
        }
    }
}

impl std::error::Error for QuorumError {}

/// What `weir cluster status` shows of one node's view of the quorum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumStatus {
    pub node_id: u64,
    /// `leader`, `follower`, `candidate` or `learner`.
    pub role: &'static str,
    /// The controller (the Raft leader), when known.
    pub controller: Option<u64>,
    pub term: u64,
    /// Last index in this node's log.
    pub last_log_index: Option<u64>,
    /// Last index applied to this node's state machine.
    pub applied_index: Option<u64>,
    /// Voting members.
    pub voters: Vec<u64>,
    /// Every member with its internal address and whether it votes.
    pub nodes: Vec<(u64, String, bool)>,
}

/// One node's member of the metadata quorum.
pub struct Quorum<M: Machine> {
    id: u64,
    raft: Raft<TypeConfig>,
    state: StateStore<M>,
    /// The cluster secret, for calls this node makes outside openraft (forwarding).
    secret: String,
    /// What serves commands other nodes forward here.
    handlers: Handlers,
    /// Heartbeats heard here (they count while this node leads).
    liveness: Arc<Liveness>,
}

impl<M: Machine> std::fmt::Debug for Quorum<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Quorum").field(&self.status()).finish()
    }
}

impl<M: Machine> Quorum<M> {
    /// Starts the Raft of node `id` on the stores under `dir` (`raft/log`, `raft/state`).
    pub async fn start<N>(id: u64, dir: &Path, network: N) -> Result<Quorum<M>, QuorumError>
    where
        N: RaftNetworkFactory<TypeConfig>,
    {
        let storage = |e: io::Error| QuorumError::Storage(e.to_string());
        let log = LogStore::open(&dir.join("raft").join("log")).map_err(storage)?;
        let state = StateStore::open(&dir.join("raft").join("state")).map_err(storage)?;
        let config = Config {
            cluster_name: "weir".into(),
            heartbeat_interval: HEARTBEAT_INTERVAL_MS,
            election_timeout_min: *ELECTION_TIMEOUT_MS.start(),
            election_timeout_max: *ELECTION_TIMEOUT_MS.end(),
            snapshot_policy: SnapshotPolicy::LogsSinceLast(SNAPSHOT_EVERY),
            max_in_snapshot_log_to_keep: LOG_KEPT_BEHIND_SNAPSHOT,
            ..Config::default()
        };
        let config = Arc::new(
            config
                .validate()
                .map_err(|e| QuorumError::Fatal(e.to_string()))?,
        );
        let raft = Raft::new(id, config, network, log, state.clone())
            .await
            .map_err(|e| QuorumError::Fatal(e.to_string()))?;
        Ok(Quorum {
            id,
            raft,
            state,
            secret: String::new(),
            handlers: Handlers::default(),
            liveness: Arc::default(),
        })
    }

    /// Starts node `id` as the single voter of its own quorum: initialized when new, and
    /// elected at once (a single voter need not wait out an election timeout).
    pub async fn start_single(id: u64, dir: &Path) -> Result<Quorum<M>, QuorumError> {
        let quorum = Quorum::start(id, dir, NoPeers).await?;
        let fatal = |e: &dyn std::fmt::Display| QuorumError::Fatal(e.to_string());
        if !quorum.raft.is_initialized().await.map_err(|e| fatal(&e))? {
            let members = BTreeMap::from([(id, BasicNode::default())]);
            quorum
                .raft
                .initialize(members)
                .await
                .map_err(|e| fatal(&e))?;
        } else {
            quorum.raft.trigger().elect().await.map_err(|e| fatal(&e))?;
        }
        Ok(quorum)
    }

    /// Starts node `id` as a member of a multi-node quorum: peers are reached over gRPC at
    /// the addresses the membership names, presenting `secret`.
    pub async fn start_member(id: u64, dir: &Path, secret: &str) -> Result<Quorum<M>, QuorumError> {
        let mut quorum = Quorum::start(id, dir, GrpcNetwork::new(secret.to_owned())).await?;
        quorum.secret = secret.to_owned();
        Ok(quorum)
    }

    /// The internal gRPC service peers call, checking `secret`.
    pub fn service(&self, secret: &str) -> RaftServer<RaftService> {
        RaftService::new(
            self.raft.clone(),
            secret.to_owned(),
            self.handlers.clone(),
            self.liveness.clone(),
        )
    }

    /// Serves commands other nodes forward to this one with `handler` (set once).
    pub fn serve_proposals(&self, handler: Arc<dyn ProposalHandler>) {
        let _ = self.handlers.set(handler);
    }

    /// Sends `command` to the controller `leader` and returns its answer.
    pub async fn forward(
        &self,
        leader: u64,
        command: String,
    ) -> Result<ForwardAnswer, QuorumError> {
        let metrics = self.raft.metrics().borrow().clone();
        let addr = metrics
            .membership_config
            .membership()
            .get_node(&leader)
            .map(|n| n.addr.clone())
            .ok_or(QuorumError::NotLeader { leader: None })?;
        net::forward(&addr, &self.secret, &Forward { command })
            .await
            .map_err(QuorumError::Unreachable)
    }

    /// Waits until this node has applied `index`, up to `within`.
    pub async fn wait_applied(&self, index: u64, within: Duration) -> Result<(), QuorumError> {
        let mut applied = self.state.watch();
        let reached = tokio::time::timeout(
            within,
            applied.wait_for(|(a, _)| a.is_some_and(|a| a >= index)),
        );
        match reached.await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) => Err(QuorumError::Fatal("the state machine stopped".into())),
            Err(_) => Err(QuorumError::Unreachable(format!(
                "index {index} was not applied here within {within:?}"
            ))),
        }
    }

    /// Founds the quorum with `voters` (node id → internal address) when this node's log is
    /// empty; a node that already belongs to a quorum keeps it.
    pub async fn found(&self, voters: BTreeMap<u64, String>) -> Result<(), QuorumError> {
        let fatal = |e: &dyn std::fmt::Display| QuorumError::Fatal(e.to_string());
        if self.raft.is_initialized().await.map_err(|e| fatal(&e))? {
            return Ok(());
        }
        let members: BTreeMap<u64, BasicNode> = voters
            .into_iter()
            .map(|(id, addr)| (id, BasicNode::new(addr)))
            .collect();
        match self.raft.initialize(members).await {
            Ok(()) => Ok(()),
            // Another founding voter got here first: this node already voted in its election
            // and receives the membership from the leader.
            Err(RaftError::APIError(InitializeError::NotAllowed(e))) => {
                tracing::debug!(%e, "the quorum is being founded by another node");
                Ok(())
            }
            Err(e) => Err(fatal(&e)),
        }
    }

    /// Waits until this node leads, up to `within`.
    pub async fn wait_leader(&self, within: Duration) -> Result<(), QuorumError> {
        self.raft
            .wait(Some(within))
            .state(ServerState::Leader, "leader")
            .await
            .map(|_| ())
            .map_err(|_| QuorumError::NotLeader {
                leader: self.status().controller,
            })
    }

    /// Makes this node's machine current: confirms with a quorum that this node still leads
    /// and waits until everything committed before is applied here.
    pub async fn ensure_current(&self) -> Result<(), QuorumError> {
        match self.raft.ensure_linearizable().await {
            Ok(_) => Ok(()),
            Err(RaftError::APIError(CheckIsLeaderError::ForwardToLeader(f))) => {
                Err(QuorumError::NotLeader {
                    leader: f.leader_id,
                })
            }
            // This node still thinks it leads, but a quorum did not confirm it.
            Err(RaftError::APIError(CheckIsLeaderError::QuorumNotEnough(_))) => {
                Err(QuorumError::NotLeader { leader: None })
            }
            Err(RaftError::Fatal(e)) => Err(QuorumError::Fatal(e.to_string())),
        }
    }

    /// Replicates `command`, applies it and returns its log index once this node's machine
    /// holds it.
    pub async fn propose(&self, command: String) -> Result<u64, QuorumError> {
        match self.raft.client_write(Proposal(command)).await {
            Ok(written) => Ok(written.data.index),
            Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f))) => {
                Err(QuorumError::NotLeader {
                    leader: f.leader_id,
                })
            }
            Err(RaftError::APIError(ClientWriteError::ChangeMembershipError(e))) => {
                Err(QuorumError::Fatal(e.to_string()))
            }
            Err(RaftError::Fatal(e)) => Err(QuorumError::Fatal(e.to_string())),
        }
    }

    /// A receiver of (last applied index, machine) after every apply.
    pub fn watch(&self) -> watch::Receiver<(Option<u64>, Arc<M>)> {
        self.state.watch()
    }

    /// This node's view of the quorum now.
    pub fn status(&self) -> QuorumStatus {
        let m = self.raft.metrics().borrow().clone();
        let role = match m.state {
            ServerState::Leader => "leader",
            ServerState::Follower => "follower",
            ServerState::Candidate => "candidate",
            ServerState::Learner => "learner",
            ServerState::Shutdown => "shutdown",
        };
        QuorumStatus {
            node_id: self.id,
            role,
            controller: m.current_leader,
            term: m.current_term,
            last_log_index: m.last_log_index,
            applied_index: m.last_applied.map(|id| id.index),
            voters: m.membership_config.membership().voter_ids().collect(),
            nodes: {
                let membership = m.membership_config.membership();
                let voters: BTreeSet<u64> = membership.voter_ids().collect();
                membership
                    .nodes()
                    .map(|(id, n)| (*id, n.addr.clone(), voters.contains(id)))
                    .collect()
            },
        }
    }

    /// Every node of the membership (voters and learners) with its internal address (empty
    /// for a node run alone); empty before the quorum is founded.
    pub fn members(&self) -> BTreeMap<u64, String> {
        let metrics = self.raft.metrics().borrow().clone();
        metrics
            .membership_config
            .membership()
            .nodes()
            .map(|(id, node)| (*id, node.addr.clone()))
            .collect()
    }

    /// Records this node's internal address in the membership; this node must be its only
    /// voter (a node run alone that becomes the first node of a cluster), and leads it.
    pub async fn set_own_address(&self, addr: String) -> Result<(), QuorumError> {
        let nodes = BTreeMap::from([(self.id, BasicNode::new(addr))]);
        self.wait_leader(ELECTION_WAIT).await?;
        match self
            .raft
            .change_membership(ChangeMembers::SetNodes(nodes), false)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => Err(QuorumError::Fatal(e.to_string())),
        }
    }

    /// The heartbeats this node heard.
    pub fn liveness(&self) -> &Liveness {
        &self.liveness
    }

    /// Sends this node's heartbeat to the controller (or records it, when this node leads).
    pub async fn heartbeat(&self) -> Result<(), QuorumError> {
        let controller = self
            .status()
            .controller
            .ok_or(QuorumError::NotLeader { leader: None })?;
        if controller == self.id {
            self.liveness.heard(self.id, std::time::Instant::now());
            return Ok(());
        }
        let addr = self
            .members()
            .remove(&controller)
            .ok_or(QuorumError::NotLeader { leader: None })?;
        net::heartbeat(&addr, &self.secret, self.id)
            .await
            .map_err(QuorumError::Unreachable)
    }

    /// Changes the membership: here when this node leads, else on the controller (one hop
    /// over the internal listener). Answers once the change is committed.
    pub async fn reconfigure(&self, change: MembershipChange) -> Result<(), QuorumError> {
        match reconfigure(&self.raft, change.clone()).await {
            Err(QuorumError::NotLeader {
                leader: Some(leader),
            }) if leader != self.id => {
                let addr = self
                    .members()
                    .remove(&leader)
                    .ok_or(QuorumError::NotLeader { leader: None })?;
                net::reconfigure(&addr, &self.secret, &change)
                    .await
                    .map_err(QuorumError::Unreachable)?
            }
            other => other,
        }
    }

    /// Stops the Raft task; the stores are durable already.
    pub async fn shutdown(&self) -> Result<(), QuorumError> {
        self.raft
            .shutdown()
            .await
            .map_err(|e| QuorumError::Fatal(e.to_string()))
    }
}

/// Makes `change` on `raft`, which must lead. Adding a node makes it a learner first and gives
/// it a vote once it caught up (within `CATCH_UP_TIMEOUT`); adding a voter again at the same
/// address is a no-op. Refuses an unknown node, removing the last voter, an address another
/// node has, and a member's id at another address.
pub(super) async fn reconfigure(
    raft: &Raft<TypeConfig>,
    change: MembershipChange,
) -> Result<(), QuorumError> {
    let metrics = raft.metrics().borrow().clone();
    if metrics.state != ServerState::Leader {
        return Err(QuorumError::NotLeader {
            leader: metrics.current_leader,
        });
    }
    let membership = metrics.membership_config.membership().clone();
    let voters: BTreeSet<u64> = membership.voter_ids().collect();
    let ids = || {
        let ids: Vec<String> = membership.nodes().map(|(id, _)| id.to_string()).collect();
        ids.join(", ")
    };
    let written = |r: Result<_, RaftError<u64, ClientWriteError<u64, BasicNode>>>| match r {
        Ok(_) => Ok(()),
        Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f))) => {
            Err(QuorumError::NotLeader {
                leader: f.leader_id,
            })
        }
        Err(RaftError::APIError(ClientWriteError::ChangeMembershipError(e))) => {
            Err(QuorumError::Refused(e.to_string()))
        }
        Err(RaftError::Fatal(e)) => Err(QuorumError::Fatal(e.to_string())),
    };
    match change {
        MembershipChange::AddNode { id, addr } => {
            if addr.parse::<std::net::SocketAddr>().is_err() {
                return Err(QuorumError::Refused(format!(
                    "{addr:?} is not an internal address (host:port)"
                )));
            }
            if let Some(node) = membership.get_node(&id) {
                if node.addr != addr {
                    return Err(QuorumError::Refused(format!(
                        "node {id} is already a member, at {}",
                        node.addr
                    )));
                }
                if voters.contains(&id) {
                    return Ok(());
                }
            }
            if let Some((other, _)) = membership
                .nodes()
                .find(|(other, node)| node.addr == addr && **other != id)
            {
                return Err(QuorumError::Refused(format!(
                    "{addr} is the internal address of node {other}"
                )));
            }
            let learner = raft.add_learner(id, BasicNode::new(&addr), true);
            match tokio::time::timeout(CATCH_UP_TIMEOUT, learner).await {
                Ok(r) => written(r)?,
                Err(_) => {
                    return Err(QuorumError::Unreachable(format!(
                        "node {id} at {addr} did not catch up within {CATCH_UP_TIMEOUT:?}: is it \
                         running, with this cluster's secret? It stays a learner, with no vote, \
                         until it catches up or is removed"
                    )));
                }
            }
            let promote = ChangeMembers::AddVoterIds(BTreeSet::from([id]));
            written(raft.change_membership(promote, false).await)
        }
        MembershipChange::RemoveNode { id } => {
            if membership.get_node(&id).is_none() {
                return Err(QuorumError::UnknownNode(format!(
                    "no node {id} in the cluster (its nodes are {})",
                    ids()
                )));
            }
            let change = if voters.contains(&id) {
                if voters.len() == 1 {
                    return Err(QuorumError::Refused(format!(
                        "node {id} is the cluster's last voter: it cannot be removed"
                    )));
                }
                ChangeMembers::RemoveVoters(BTreeSet::from([id]))
            } else {
                ChangeMembers::RemoveNodes(BTreeSet::from([id]))
            };
            written(raft.change_membership(change, false).await)
        }
    }
}

/// The network of a node with no peers: every RPC finds its target unreachable.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPeers;

fn unreachable<E: std::error::Error>() -> RPCError<u64, BasicNode, E> {
    let e = io::Error::new(io::ErrorKind::NotConnected, "a single node has no peers");
    RPCError::Unreachable(Unreachable::new(&e))
}

impl RaftNetworkFactory<TypeConfig> for NoPeers {
    type Network = NoPeers;

    async fn new_client(&mut self, _target: u64, _node: &BasicNode) -> NoPeers {
        NoPeers
    }
}

impl RaftNetwork<TypeConfig> for NoPeers {
    async fn append_entries(
        &mut self,
        _rpc: AppendEntriesRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<AppendEntriesResponse<u64>, RPCError<u64, BasicNode, RaftError<u64>>> {
        Err(unreachable())
    }

    async fn install_snapshot(
        &mut self,
        _rpc: InstallSnapshotRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<u64>,
        RPCError<u64, BasicNode, RaftError<u64, InstallSnapshotError>>,
    > {
        Err(unreachable())
    }

    async fn vote(
        &mut self,
        _rpc: VoteRequest<u64>,
        _option: RPCOption,
    ) -> Result<VoteResponse<u64>, RPCError<u64, BasicNode, RaftError<u64>>> {
        Err(unreachable())
    }
}
