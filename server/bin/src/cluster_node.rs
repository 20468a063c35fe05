//! `weir serve` as a node of a cluster: the metadata quorum under the broker, the internal
//! listener other nodes call, and the founding of a fresh cluster.
//!
//! Owns opening the broker over a `RaftMetadataLog`, serving `weir.internal.v1.Raft` on
//! `internal_addr`, founding the quorum with `initial_voters` (a node that already belongs to
//! one keeps it), following every image into the catalog, and creating tenant `default` (and
//! the bootstrap admin key) once, on whichever node leads first. Must not serve tenant traffic
//! on the internal listener and must not let anything but the cluster secret in there.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::runtime::Handle;
use tokio_stream::wrappers::TcpListenerStream;
use weir_api::ApiError;
use weir_api::rest::cluster::{Change, ClusterStatus, ClusterView, NodeDto};
use weir_broker::metadata::NodeSpec;
use weir_broker::{Broker, BrokerError};
use weir_cluster::{
    Forwarder, MembershipChange, MetadataMachine, PartitionService, Quorum, QuorumError,
    RaftMetadataLog,
};
use weir_proto::ErrorCode;

use crate::config::{ClusterConfig, ServeConfig};

/// How long a node upgraded in place waits for the quorum to take its metadata.
const UPGRADE_WAIT: Duration = Duration::from_secs(60);
/// How often a node that may found the cluster checks whether it leads yet.
const BOOTSTRAP_POLL: Duration = Duration::from_millis(100);

/// The cluster side of a running node.
pub(crate) struct ClusterNode {
    quorum: Arc<Quorum<MetadataMachine>>,
    broker: Arc<Broker>,
    config: ClusterConfig,
    /// The internal listener, then the tasks `serve_clients` starts.
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl ClusterNode {
    /// What `GET /v1/cluster` shows of this node.
    pub(crate) fn view(&self) -> Arc<dyn ClusterView> {
        Arc::new(View {
            quorum: self.quorum.clone(),
            broker: self.broker.clone(),
        })
    }

    /// Once clients can reach this node at `http` and `grpc` (its bound addresses, unless
    /// others are advertised): registers it (with the keys that verify the tokens it issues), heartbeats the controller, and while this node
    /// is the controller, fences nodes that fell silent and unfences those heard again.
    pub(crate) fn serve_clients(&self, http: SocketAddr, grpc: SocketAddr, token_jwks: String) {
        let c = &self.config;
        let spec = NodeSpec {
            id: u32::try_from(c.node_id).expect("node ids fit in int32"),
            http_addr: c.advertised_http_addr.clone().unwrap_or(http.to_string()),
            grpc_addr: c.advertised_grpc_addr.clone().unwrap_or(grpc.to_string()),
            rack: c.rack.clone(),
            fenced: false,
            token_jwks: Some(token_jwks),
        };
        let every = c.node_heartbeat_interval;
        let tasks = [
            tokio::spawn(register(self.broker.clone(), spec, every)),
            tokio::spawn(heartbeat(self.quorum.clone(), every)),
            tokio::spawn(watch_liveness(
                self.quorum.clone(),
                self.broker.clone(),
                every,
                c.node_session_timeout,
            )),
        ];
        lock(&self.tasks).extend(tasks);
    }

    /// Stops serving other nodes and heartbeating (the quorum itself stops with the
    /// broker's shutdown).
    pub(crate) fn stop(&self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Registers this node (retrying while the quorum has no controller), then claims the
/// group coordination it kept offsets for while it ran alone.
async fn register(broker: Arc<Broker>, spec: NodeSpec, every: Duration) {
    loop {
        let (b, s) = (broker.clone(), spec.clone());
        let registered = tokio::task::spawn_blocking(move || {
            b.register_node(s)?;
            b.claim_coordinators()
        });
        match registered.await {
            Ok(Ok(0)) => return,
            Ok(Ok(claimed)) => {
                tracing::info!(
                    shards = claimed,
                    "this node coordinates the groups whose offsets it kept"
                );
                return;
            }
            Ok(Err(e)) => tracing::debug!(error = %e, "could not register this node yet"),
            Err(e) => tracing::error!(error = %e, "registering this node panicked"),
        }
        tokio::time::sleep(every).await;
    }
}

/// Heartbeats the controller every `every`.
async fn heartbeat(quorum: Arc<Quorum<MetadataMachine>>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = quorum.heartbeat().await {
            tracing::debug!(error = %e, "heartbeat not delivered");
        }
    }
}

/// While this node is the controller: fences registered nodes silent past `timeout` and
/// unfences fenced ones heard again, checking every `every`.
async fn watch_liveness(
    quorum: Arc<Quorum<MetadataMachine>>,
    broker: Arc<Broker>,
    every: Duration,
    timeout: Duration,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut leading_since: Option<Instant> = None;
    loop {
        tick.tick().await;
        if quorum.status().role != "leader" {
            leading_since = None;
            continue;
        }
        let now = Instant::now();
        let since = *leading_since.get_or_insert(now);
        let nodes = broker
            .nodes()
            .into_iter()
            .map(|n| (u64::from(n.id), n.fenced));
        for (id, fence) in quorum.liveness().verdicts(nodes, since, timeout, now) {
            let id = u32::try_from(id).expect("node ids fit in int32");
            let b = broker.clone();
            match tokio::task::spawn_blocking(move || b.set_node_fenced(id, fence)).await {
                Ok(Ok(())) if fence => tracing::warn!(
                    node = id,
                    ?timeout,
                    "fenced a node silent past its session timeout"
                ),
                Ok(Ok(())) => tracing::info!(node = id, "a fenced node is heard again"),
                Ok(Err(e)) => tracing::debug!(node = id, error = %e, "liveness change not made"),
                Err(e) => tracing::error!(error = %e, "a liveness change panicked"),
            }
        }
    }
}

/// Opens the broker of node `cluster.node_id` over the metadata quorum and starts the
/// internal listener.
pub(crate) async fn open(
    config: &ServeConfig,
    cluster: &ClusterConfig,
) -> Result<(Arc<Broker>, ClusterNode), String> {
    let internal = TcpListener::bind(cluster.internal_addr)
        .await
        .map_err(|e| format!("cannot listen for nodes on {}: {e}", cluster.internal_addr))?;
    let slot: Arc<Mutex<Option<Arc<Quorum<MetadataMachine>>>>> = Arc::default();
    let broker_config = crate::serve::broker_config(config);
    let policy = broker_config.policy();
    let (id, secret, filled) = (cluster.node_id, cluster.secret.clone(), slot.clone());
    let runtime = Handle::current();
    let broker = tokio::task::spawn_blocking(move || {
        Broker::open_with(broker_config, |data| {
            let quorum = runtime
                .block_on(Quorum::start_member(id, data, &secret))
                .map_err(|e| BrokerError::StorageUnavailable(e.to_string()))?;
            let quorum = Arc::new(quorum);
            *filled.lock().unwrap_or_else(|p| p.into_inner()) = Some(quorum.clone());
            let _enter = runtime.enter();
            Ok(Box::new(RaftMetadataLog::new(quorum, policy)))
        })
    })
    .await
    .map_err(|e| format!("opening the data directory panicked: {e}"))?
    .map_err(|e| {
        format!(
            "cannot open data directory {}: {e}",
            config.data_dir.display()
        )
    })?;
    let quorum = slot
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .expect("open_with made the quorum");
    check_membership(&quorum, config, cluster).await?;
    let broker = Arc::new(broker);
    // Produce and fetch for partitions other nodes lead go to them over this listener.
    broker.set_remote(Arc::new(Forwarder::new(
        quorum.clone(),
        cluster.secret.clone(),
    )));
    let service = quorum.service(&cluster.secret);
    let partitions = PartitionService::new(broker.clone(), cluster.secret.clone());
    let served = tokio::spawn(async move {
        // The same HTTP/2 windows as the client listener: a forwarded 1 MB batch or fetch
        // must not wait for window updates (the 64 KiB default cut a forwarded fetch to a
        // twentieth of a direct one).
        let served = tonic::transport::Server::builder()
            .tcp_nodelay(true)
            .initial_stream_window_size(crate::serve::GRPC_STREAM_WINDOW_BYTES)
            .initial_connection_window_size(crate::serve::GRPC_CONNECTION_WINDOW_BYTES)
            .max_frame_size(crate::serve::GRPC_FRAME_BYTES)
            .add_service(service)
            .add_service(partitions)
            .serve_with_incoming(TcpListenerStream::new(internal))
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the internal listener stopped");
        }
    });
    let voters: BTreeMap<u64, String> = cluster
        .initial_voters
        .iter()
        .map(|(id, addr)| (*id, addr.to_string()))
        .collect();
    // A node that joins names no voters: it waits for the controller to add it.
    if !voters.is_empty() {
        quorum.found(voters).await.map_err(|e| e.to_string())?;
    }
    let follower = broker.clone();
    tokio::spawn(async move { follower.follow_metadata().await });
    // A data directory a single node wrote: its metadata goes into the quorum before
    // anything else this node would write there.
    let upgrading = broker.clone();
    tokio::task::spawn_blocking(move || upgrading.upgrade_in_place(UPGRADE_WAIT))
        .await
        .map_err(|e| format!("upgrading the data directory panicked: {e}"))?
        .map_err(|e| format!("cannot upgrade {}: {e}", config.data_dir.display()))?;
    tokio::spawn(bootstrap_when_leading(
        broker.clone(),
        quorum.clone(),
        config.clone(),
    ));
    let node = ClusterNode {
        quorum,
        broker: broker.clone(),
        config: cluster.clone(),
        tasks: Mutex::new(vec![served]),
    };
    Ok((broker, node))
}

/// Refuses a data directory that belongs to another node or cluster, and makes a node run
/// alone (its one-voter quorum has no addresses) the first node of a cluster when its
/// configuration names it the only initial voter.
async fn check_membership(
    quorum: &Quorum<MetadataMachine>,
    config: &ServeConfig,
    cluster: &ClusterConfig,
) -> Result<(), String> {
    let members = quorum.members();
    let (me, own) = (cluster.node_id, cluster.internal_addr.to_string());
    let data = config.data_dir.display();
    let ids = || {
        members
            .keys()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match members.get(&me) {
        _ if members.is_empty() => Ok(()),
        None => Err(format!(
            "{data} belongs to another node: its quorum has node(s) {}, not node {me}",
            ids()
        )),
        Some(addr) if addr.is_empty() => {
            let alone = members.len() == 1
                && cluster.initial_voters.len() == 1
                && cluster.initial_voters.contains_key(&me);
            if !alone {
                return Err(format!(
                    "{data} is the data directory of a node run alone (node {}); to make it the \
                     first node of a cluster, give it initial_voters = [\"{me}@{own}\"], then \
                     add the other nodes to it",
                    ids()
                ));
            }
            tracing::info!(node = me, addr = %own, "a node run alone becomes the first node of a cluster");
            quorum.set_own_address(own).await.map_err(|e| e.to_string())
        }
        Some(addr) if *addr != own => {
            tracing::warn!(node = me, was = %addr, now = %own, "this node's internal address differs from the one the quorum knows; other nodes still call the old one");
            Ok(())
        }
        Some(_) => Ok(()),
    }
}

/// Creates tenant `default` and the bootstrap admin key when the metadata is empty and this
/// node leads; returns once the metadata holds anything (whoever wrote it).
async fn bootstrap_when_leading(
    broker: Arc<Broker>,
    quorum: Arc<Quorum<MetadataMachine>>,
    config: ServeConfig,
) {
    let mut images = quorum.watch();
    loop {
        // Nodes register as they start, before or after this: they do not count.
        let fresh = images.borrow_and_update().1.0.is_empty();
        if !fresh {
            return;
        }
        if quorum.status().role == "leader" {
            let (b, c) = (broker.clone(), config.clone());
            let done = tokio::task::spawn_blocking(move || {
                b.bootstrap_if_fresh().map_err(|e| e.to_string())?;
                crate::serve::bootstrap_admin(&b, &c).map(|_| ())
            })
            .await;
            match done {
                Ok(Ok(())) => return,
                Ok(Err(e)) => tracing::warn!(error = %e, "could not bootstrap the cluster yet"),
                Err(e) => tracing::error!(error = %e, "bootstrapping the cluster panicked"),
            }
        }
        let _ = tokio::time::timeout(BOOTSTRAP_POLL, images.changed()).await;
    }
}

/// A node's quorum and registered nodes as `GET /v1/cluster` reads them.
struct View {
    quorum: Arc<Quorum<MetadataMachine>>,
    broker: Arc<Broker>,
}

impl std::fmt::Debug for View {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("View").field(&self.quorum.status()).finish()
    }
}

impl ClusterView for View {
    fn status(&self) -> ClusterStatus {
        let s = self.quorum.status();
        let registered: BTreeMap<u32, NodeSpec> =
            self.broker.nodes().into_iter().map(|n| (n.id, n)).collect();
        let coordinators = self.broker.coordinator_shards();
        // Node ids are checked to fit Kafka's int32 when the configuration is read.
        let id = |n: u64| u32::try_from(n).expect("node ids fit in int32");
        ClusterStatus {
            node_id: id(s.node_id),
            role: s.role.to_owned(),
            controller: s.controller.map(id),
            term: s.term,
            last_log_index: s.last_log_index,
            applied_index: s.applied_index,
            voters: s.voters.into_iter().map(id).collect(),
            nodes: s
                .nodes
                .into_iter()
                .map(|(n, internal_addr, voter)| {
                    let spec = registered.get(&id(n));
                    NodeDto {
                        node_id: id(n),
                        internal_addr,
                        role: if voter { "voter" } else { "learner" }.into(),
                        http_addr: spec.map(|s| s.http_addr.clone()),
                        grpc_addr: spec.map(|s| s.grpc_addr.clone()),
                        rack: spec.and_then(|s| s.rack.clone()),
                        liveness: match spec {
                            None => "unregistered",
                            Some(s) if s.fenced => "fenced",
                            Some(_) => "live",
                        }
                        .into(),
                        coordinator_shards: coordinators.get(&id(n)).copied().unwrap_or_default(),
                    }
                })
                .collect(),
        }
    }

    fn add_node(&self, id: u32, internal_addr: String) -> Change {
        let change = MembershipChange::AddNode {
            id: u64::from(id),
            addr: internal_addr,
        };
        reconfigure(self.quorum.clone(), change)
    }

    fn remove_node(&self, id: u32) -> Change {
        let change = MembershipChange::RemoveNode { id: u64::from(id) };
        let (removed, broker) = (
            reconfigure(self.quorum.clone(), change),
            self.broker.clone(),
        );
        Box::pin(async move {
            removed.await?;
            // Out of the quorum: its registration goes too.
            tokio::task::spawn_blocking(move || broker.unregister_node(id))
                .await
                .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))??;
            Ok(())
        })
    }
}

/// Makes `change` (on the controller), its error as the API's.
fn reconfigure(quorum: Arc<Quorum<MetadataMachine>>, change: MembershipChange) -> Change {
    Box::pin(async move {
        quorum.reconfigure(change).await.map_err(|e| {
            let code = match e {
                QuorumError::Refused(_) => ErrorCode::MembershipConflict,
                QuorumError::UnknownNode(_) => ErrorCode::NodeNotFound,
                QuorumError::Fatal(_) | QuorumError::Storage(_) => ErrorCode::StorageUnavailable,
                QuorumError::NotLeader { .. } | QuorumError::Unreachable(_) => {
                    ErrorCode::Unavailable
                }
            };
            ApiError::new(code, e.to_string())
        })
    })
}
