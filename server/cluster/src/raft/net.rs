//! The metadata quorum's node-to-node transport: gRPC on each node's internal listener.
//!
//! Owns `RaftService` (the server side: checks the cluster secret, hands each call to the
//! local Raft) and `GrpcNetwork` (the client side openraft uses: one lazily connected channel
//! per peer, the secret on every call). Payloads are openraft's messages as JSON inside
//! `weir.internal.v1.RaftMessage`; answers carry `Result<answer, RaftError>`, so a remote
//! refusal reaches openraft as one. Must not accept a call without the cluster secret and must
//! never send tenant credentials.

use std::time::Duration;

use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::{BasicNode, Raft};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status};

use std::sync::Arc;

use super::TypeConfig;
use super::quorum::QuorumError;
use crate::liveness::Liveness;

use crate::proto::pb;

pub use pb::raft_server::RaftServer;
#[cfg(test)]
pub(super) use pb::{RaftMessage, raft_client::RaftClient};

/// Metadata key carrying the cluster secret on every internal call.
pub const SECRET_HEADER: &str = "x-weir-cluster-secret";
/// Longest a connection attempt to a peer may take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// Largest internal message (a snapshot is sent whole).
pub const INTERNAL_MESSAGE_BYTES_MAX: usize = 64 << 20;

/// The server side of the internal Raft service.
#[derive(Clone)]
pub struct RaftService {
    raft: Raft<TypeConfig>,
    secret: String,
    handlers: Handlers,
    liveness: Arc<Liveness>,
}

impl std::fmt::Debug for RaftService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("RaftService").finish_non_exhaustive()
    }
}

impl RaftService {
    /// Serves `raft` to peers presenting `secret`.
    pub fn new(
        raft: Raft<TypeConfig>,
        secret: String,
        handlers: Handlers,
        liveness: Arc<Liveness>,
    ) -> RaftServer<RaftService> {
        RaftServer::new(RaftService {
            raft,
            secret,
            handlers,
            liveness,
        })
        .max_decoding_message_size(INTERNAL_MESSAGE_BYTES_MAX)
        .max_encoding_message_size(INTERNAL_MESSAGE_BYTES_MAX)
    }

    /// The request's payload, once its secret matches.
    fn admit<T: DeserializeOwned>(&self, request: Request<pb::RaftMessage>) -> Result<T, Status> {
        let given = request
            .metadata()
            .get(SECRET_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !same_secret(given, self.secret.as_bytes()) {
            return Err(Status::unauthenticated("wrong or missing cluster secret"));
        }
        serde_json::from_slice(&request.into_inner().json)
            .map_err(|e| Status::invalid_argument(format!("raft message: {e}")))
    }
}

/// Compares secrets in time independent of where they differ (lengths may leak; secrets are
/// long random strings).
pub(crate) fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn answer<T: Serialize>(result: &T) -> Result<Response<pb::RaftMessage>, Status> {
    let json = serde_json::to_vec(result).map_err(|e| Status::internal(e.to_string()))?;
    Ok(Response::new(pb::RaftMessage { json }))
}

#[tonic::async_trait]
impl pb::raft_server::Raft for RaftService {
    async fn append_entries(
        &self,
        request: Request<pb::RaftMessage>,
    ) -> Result<Response<pb::RaftMessage>, Status> {
        let rpc: AppendEntriesRequest<TypeConfig> = self.admit(request)?;
        answer(&self.raft.append_entries(rpc).await)
    }

    async fn vote(
        &self,
        request: Request<pb::RaftMessage>,
    ) -> Result<Response<pb::RaftMessage>, Status> {
        let rpc: VoteRequest<u64> = self.admit(request)?;
        answer(&self.raft.vote(rpc).await)
    }

    async fn install_snapshot(
        &self,
        request: Request<pb::RaftMessage>,
    ) -> Result<Response<pb::RaftMessage>, Status> {
        let rpc: InstallSnapshotRequest<TypeConfig> = self.admit(request)?;
        answer(&self.raft.install_snapshot(rpc).await)
    }

    async fn propose(
        &self,
        request: Request<pb::RaftMessage>,
    ) -> Result<Response<pb::RaftMessage>, Status> {
        let forward: Forward = self.admit(request)?;
        let handler = self
            .handlers
            .get()
            .cloned()
            .ok_or_else(|| Status::unavailable("this node serves no metadata yet"))?;
        answer(&handler.handle(forward).await)
    }

    async fn reconfigure(
        &self,
        request: Request<pb::RaftMessage>,
    ) -> Result<Response<pb::RaftMessage>, Status> {
        let change: MembershipChange = self.admit(request)?;
        answer(&super::quorum::reconfigure(&self.raft, change).await)
    }

    async fn heartbeat(
        &self,
        request: Request<pb::RaftMessage>,
    ) -> Result<Response<pb::RaftMessage>, Status> {
        let node: u64 = self.admit(request)?;
        self.liveness.heard(node, std::time::Instant::now());
        answer(&())
    }
}

/// A change to the quorum's membership.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MembershipChange {
    /// Adds node `id`, reached at `addr`: as a learner until it caught up, then as a voter.
    AddNode { id: u64, addr: String },
    /// Removes node `id` (a voter or a learner).
    RemoveNode { id: u64 },
}

/// Sends node `id`'s heartbeat to the controller at `addr`, presenting `secret`.
pub async fn heartbeat(addr: &str, secret: &str, id: u64) -> Result<(), String> {
    let mut client = internal_client(addr).await?;
    client
        .heartbeat(signed(&id, secret)?)
        .await
        .map_err(|s| format!("the controller at {addr} did not take the heartbeat: {s}"))?;
    Ok(())
}

/// Sends `change` to the controller at `addr`, presenting `secret`; the outer error says it
/// could not be asked, the inner one is the controller's answer.
pub async fn reconfigure(
    addr: &str,
    secret: &str,
    change: &MembershipChange,
) -> Result<Result<(), QuorumError>, String> {
    let mut client = internal_client(addr).await?;
    let request = signed(change, secret)?;
    let answer = client
        .reconfigure(request)
        .await
        .map_err(|s| format!("the controller at {addr} did not take the change: {s}"))?;
    serde_json::from_slice(&answer.into_inner().json).map_err(|e| e.to_string())
}

/// A client of the node at `addr`'s internal listener.
async fn internal_client(addr: &str) -> Result<pb::raft_client::RaftClient<Channel>, String> {
    let endpoint = Endpoint::from_shared(format!("http://{addr}"))
        .map_err(|e| format!("controller address {addr:?}: {e}"))?
        .connect_timeout(CONNECT_TIMEOUT);
    let channel = endpoint
        .connect()
        .await
        .map_err(|e| format!("cannot reach the controller at {addr}: {e}"))?;
    Ok(pb::raft_client::RaftClient::new(channel)
        .max_decoding_message_size(INTERNAL_MESSAGE_BYTES_MAX))
}

/// `payload` as a request carrying `secret`.
fn signed<T: Serialize>(payload: &T, secret: &str) -> Result<Request<pb::RaftMessage>, String> {
    let json = serde_json::to_vec(payload).map_err(|e| e.to_string())?;
    let mut request = Request::new(pb::RaftMessage { json });
    let secret = secret.parse().map_err(|e| format!("cluster secret: {e}"))?;
    request.metadata_mut().insert(SECRET_HEADER, secret);
    Ok(request)
}

/// The client side openraft uses to reach peers, at the address each peer registered.
#[derive(Clone)]
pub struct GrpcNetwork {
    secret: String,
}

impl std::fmt::Debug for GrpcNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrpcNetwork").finish_non_exhaustive()
    }
}

impl GrpcNetwork {
    /// Reaches peers presenting `secret`.
    pub fn new(secret: String) -> GrpcNetwork {
        GrpcNetwork { secret }
    }
}

/// A connection to one peer.
#[derive(Clone)]
pub struct Peer {
    target: u64,
    channel: Result<Channel, String>,
    secret: String,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl RaftNetworkFactory<TypeConfig> for GrpcNetwork {
    type Network = Peer;

    async fn new_client(&mut self, target: u64, node: &BasicNode) -> Peer {
        let channel = Endpoint::from_shared(format!("http://{}", node.addr))
            .map(|e| e.connect_timeout(CONNECT_TIMEOUT).connect_lazy())
            .map_err(|e| format!("node {target} address {:?}: {e}", node.addr));
        Peer {
            target,
            channel,
            secret: self.secret.clone(),
        }
    }
}

type Failed<E> = RPCError<u64, BasicNode, RaftError<u64, E>>;

impl Peer {
    /// Sends `rpc` by `call` and reads its answer, within the time openraft allows.
    async fn call<Q, A, E>(
        &self,
        method: &'static str,
        rpc: &Q,
        option: &RPCOption,
    ) -> Result<A, Failed<E>>
    where
        Q: Serialize,
        A: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let channel = self
            .channel
            .clone()
            .map_err(|e| RPCError::Unreachable(Unreachable::new(&std::io::Error::other(e))))?;
        let json = serde_json::to_vec(rpc).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let mut request = Request::new(pb::RaftMessage { json });
        request.set_timeout(option.hard_ttl());
        let secret = self
            .secret
            .parse()
            .map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        request.metadata_mut().insert(SECRET_HEADER, secret);
        let mut client = pb::raft_client::RaftClient::new(channel)
            .max_decoding_message_size(INTERNAL_MESSAGE_BYTES_MAX)
            .max_encoding_message_size(INTERNAL_MESSAGE_BYTES_MAX);
        let response = match method {
            "append_entries" => client.append_entries(request).await,
            "vote" => client.vote(request).await,
            _ => client.install_snapshot(request).await,
        };
        let body = response.map_err(|status| match status.code() {
            tonic::Code::Unavailable | tonic::Code::DeadlineExceeded => {
                RPCError::Unreachable(Unreachable::new(&status))
            }
            _ => RPCError::Network(NetworkError::new(&status)),
        })?;
        let result: Result<A, RaftError<u64, E>> = serde_json::from_slice(&body.into_inner().json)
            .map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        result.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

impl RaftNetwork<TypeConfig> for Peer {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<u64>, RPCError<u64, BasicNode, RaftError<u64>>> {
        self.call("append_entries", &rpc, &option).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<InstallSnapshotResponse<u64>, Failed<InstallSnapshotError>> {
        self.call("install_snapshot", &rpc, &option).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<u64>,
        option: RPCOption,
    ) -> Result<VoteResponse<u64>, RPCError<u64, BasicNode, RaftError<u64>>> {
        self.call("vote", &rpc, &option).await
    }
}

/// A metadata command forwarded to the controller.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Forward {
    /// The command in its stored JSON form.
    pub command: String,
}

/// The controller's answer to a forwarded command.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ForwardAnswer {
    /// Applied at `index`, as `command` (rebased onto the controller's image).
    Ok { index: u64, command: String },
    /// Refused, with the controller's error code and message.
    Err { code: String, message: String },
}

/// What serves forwarded commands on the controller (the metadata log registers it).
pub trait ProposalHandler: Send + Sync + 'static {
    /// Validates and proposes `forward` on this node, which must lead.
    fn handle(
        &self,
        forward: Forward,
    ) -> std::pin::Pin<Box<dyn Future<Output = ForwardAnswer> + Send + 'static>>;
}

/// Where a node's `ProposalHandler` is registered once its metadata log exists.
pub type Handlers = std::sync::Arc<std::sync::OnceLock<std::sync::Arc<dyn ProposalHandler>>>;

/// Sends `forward` to the node at `addr` (the controller), presenting `secret`.
pub async fn forward(addr: &str, secret: &str, forward: &Forward) -> Result<ForwardAnswer, String> {
    let mut client = internal_client(addr).await?;
    let request = signed(forward, secret)?;
    let answer = client
        .propose(request)
        .await
        .map_err(|s| format!("the controller at {addr} did not take the change: {s}"))?;
    serde_json::from_slice(&answer.into_inner().json).map_err(|e| e.to_string())
}
