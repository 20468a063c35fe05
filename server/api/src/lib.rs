//! weir-api: the REST (axum) and gRPC (tonic) gateway in front of the broker.
//!
//! Decodes requests, calls the broker, encodes responses. The only crate that knows HTTP
//! status codes and gRPC codes (`error.rs` maps `ErrorCode` to both). Must not hold domain
//! rules: both transports call the same broker functions.

mod access;
pub mod auth;
pub mod dto;
mod error;
pub mod grpc;
mod metrics;
pub mod rest;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use metrics_exporter_prometheus::PrometheusHandle;
use weir_broker::Broker;

pub use access::ConnectionAuth;
pub use auth::{AuthConfig, AuthMode, Authenticator};
pub use error::{ApiError, GRPC_ERROR_CODE_KEY, Problem, grpc_code, http_status};
pub use metrics::install_recorder;
pub use rest::extract::Caller;
pub use rest::openapi;

/// Runs a call that may block on disk (an append, and with it the kernel's dirty-page
/// throttling or an fsync) without stalling the other tasks of this runtime worker: on a
/// multi-threaded runtime the worker hands its queue to another thread first.
pub(crate) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// Limits of the gateway itself (the broker enforces its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayLimits {
    /// Largest REST request body, in bytes.
    pub request_bytes_max: usize,
    /// Largest gRPC message, in bytes.
    pub grpc_message_bytes_max: usize,
    /// Most records one REST fetch returns.
    pub fetch_records_max: usize,
    /// Most live-tail (SSE) streams open at once.
    pub sse_streams_max: usize,
    /// Most live-tail streams one tenant may hold open at once (a tenant's `live_tails` quota
    /// narrows it), so one tenant cannot take every slot.
    pub sse_streams_per_tenant_max: usize,
    /// Most connections open at once, per listener (REST, gRPC).
    pub connections_max: usize,
    /// Most connections open at once from one client address, per listener.
    pub connections_per_address_max: usize,
    /// Most connections open at once, per listener, that have not yet carried an
    /// authenticated request; past it a newcomer takes the idlest one's place.
    pub connections_unauthenticated_max: usize,
    /// Longest a REST request's body may take to arrive, counted from its headers.
    pub http_body_read_timeout_ms: u64,
    /// Longest a REST (HTTP/1) client may take to send a request's headers, counted from when
    /// its connection starts waiting for them: so also how long an idle connection stays open.
    pub http_header_read_timeout_ms: u64,
    /// Longest a new gRPC connection may take to send its first bytes (the HTTP/2 preface).
    pub grpc_handshake_timeout_ms: u64,
    /// Most gRPC calls open at once on one connection (HTTP/2 streams). A producer opens
    /// one stream per partition it writes to, a consumer one per partition it follows.
    pub grpc_streams_per_connection_max: u32,
}

impl Default for GatewayLimits {
    fn default() -> Self {
        GatewayLimits {
            request_bytes_max: 16 << 20,
            grpc_message_bytes_max: 16 << 20,
            fetch_records_max: 10_000,
            sse_streams_max: 256,
            sse_streams_per_tenant_max: 64,
            connections_max: 1024,
            connections_per_address_max: 256,
            connections_unauthenticated_max: 256,
            http_body_read_timeout_ms: 30_000,
            http_header_read_timeout_ms: 30_000,
            grpc_handshake_timeout_ms: 10_000,
            grpc_streams_per_connection_max: 4096,
        }
    }
}

/// Where this node can be reached, as advertised in metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeInfo {
    /// Broker id.
    pub id: u32,
    /// REST address (host:port).
    pub http_addr: String,
    /// gRPC address (host:port).
    pub grpc_addr: String,
}

/// What every handler shares.
#[derive(Debug)]
pub struct ApiState {
    /// The broker.
    pub broker: Arc<Broker>,
    /// Gateway limits.
    pub limits: GatewayLimits,
    /// This node's addresses.
    pub node: NodeInfo,
    /// Renders `/metrics`; `None` when no recorder is installed.
    pub metrics: Option<PrometheusHandle>,
    /// Verifies credentials and issues tokens.
    pub auth: Authenticator,
    ready: AtomicBool,
    tails: Arc<rest::tail_slots::TailSlots>,
    /// This node's view of its cluster; unset for a single node.
    cluster: std::sync::OnceLock<Arc<dyn rest::cluster::ClusterView>>,
}

impl ApiState {
    /// State for a node; not ready until `set_ready(true)`.
    pub fn new(
        broker: Arc<Broker>,
        limits: GatewayLimits,
        node: NodeInfo,
        metrics: Option<PrometheusHandle>,
        auth: Authenticator,
    ) -> Arc<Self> {
        let tails = Arc::new(rest::tail_slots::TailSlots::new(limits.sse_streams_max));
        Arc::new(ApiState {
            broker,
            limits,
            node,
            metrics,
            auth,
            ready: AtomicBool::new(false),
            tails,
            cluster: std::sync::OnceLock::new(),
        })
    }

    /// Makes this node report `view` as its cluster (set once, at start).
    pub fn set_cluster(&self, view: Arc<dyn rest::cluster::ClusterView>) {
        let _ = self.cluster.set(view);
    }

    /// Whether `/readyz` answers 200.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// Marks the node ready (after start-up) or not (when stopping).
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }
}
