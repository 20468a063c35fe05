//! `weir serve`: opens the broker, serves REST and gRPC, runs log maintenance, and stops
//! cleanly on SIGTERM or SIGINT.
//!
//! Owns process wiring and the shutdown order: stop accepting → finish in-flight requests
//! (bounded by `shutdown_grace_ms`) → flush and write clean-shutdown markers → exit 0.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::codegen::http;
use tower::ServiceExt;
use weir_api::auth::bootstrap_token_path;
use weir_api::{ApiState, AuthMode, Authenticator, NodeInfo};
use weir_broker::tenancy::parse_scopes;
use weir_broker::{Broker, BrokerConfig, DEFAULT_TENANT, Principal, TenantId};

use crate::body_deadline::Deadline;
use crate::config::ServeConfig;
use crate::listen::{Gate, GateLimits, GatedInfo};

/// HTTP/2 flow-control window per gRPC stream. The protocol default (64 KiB) makes a 1 MB
/// batch wait for a dozen window updates; a window above the largest message lets it flow.
pub const GRPC_STREAM_WINDOW_BYTES: u32 = 16 << 20;
/// HTTP/2 flow-control window per connection (several streams in flight).
pub const GRPC_CONNECTION_WINDOW_BYTES: u32 = 64 << 20;
/// Largest HTTP/2 frame the server accepts: HTTP/2's maximum, so a produce request comes in
/// one frame and `ProduceStream` decodes it from that frame's bytes without a copy.
pub const GRPC_FRAME_BYTES: u32 = (16 << 20) - 1;

/// Runs a node until a stop signal. Prints where everything is on stdout.
pub async fn run(config: ServeConfig) -> Result<(), String> {
    let metrics = weir_api::install_recorder()
        .map_err(|e| format!("cannot install the metrics recorder: {e}"))?;
    let started = Instant::now();
    let (broker, cluster) = match &config.cluster {
        None => (open_single(&config).await?, None),
        Some(c) => {
            let (broker, node) = crate::cluster_node::open(&config, c).await?;
            (broker, Some(node))
        }
    };
    let auth = Authenticator::open(config.auth.clone(), &config.data_dir)?;
    auth.start().await;
    // In a cluster the node that founds it writes the token, once it leads.
    let bootstrap = match cluster {
        None => bootstrap_admin(&broker, &config)?,
        Some(_) => bootstrap_token_path(&config.data_dir)
            .exists()
            .then(|| bootstrap_token_path(&config.data_dir)),
    };
    let http = bind(config.http_addr, "REST").await?;
    let grpc = bind(config.grpc_addr, "gRPC").await?;
    let (http_addr, grpc_addr) = (local(&http)?, local(&grpc)?);
    let node = NodeInfo {
        id: config.cluster.as_ref().map_or(0, |c| {
            u32::try_from(c.node_id).expect("config keeps node ids within Kafka's int32")
        }),
        http_addr: http_addr.to_string(),
        grpc_addr: grpc_addr.to_string(),
    };
    let state = ApiState::new(
        Arc::clone(&broker),
        config.gateway.clone(),
        node,
        Some(metrics),
        auth,
    );
    if let Some(c) = &cluster {
        state.set_cluster(c.view());
        c.serve_clients(http_addr, grpc_addr, state.auth.jwks_json());
    }
    let sign_in = bootstrap
        .as_deref()
        .and_then(|path| sign_in_token(&state, path));
    announce(
        &config,
        Addresses {
            http: http_addr,
            grpc: grpc_addr,
        },
        started.elapsed(),
        bootstrap.as_deref(),
        sign_in.as_deref(),
    );

    let (stop_tx, stop_rx) = watch::channel(false);
    let rest = tokio::spawn(serve_rest(http, Arc::clone(&state), stop_rx.clone()));
    let grpc = tokio::spawn(serve_grpc(grpc, Arc::clone(&state), stop_rx.clone()));
    let maintenance = tokio::spawn(maintain(
        Arc::clone(&broker),
        Duration::from_millis(config.maintenance_interval_ms),
        stop_rx,
    ));
    state.set_ready(true);

    let signal = wait_for_signal().await;
    tracing::info!(
        signal,
        "stopping: no new connections, finishing in-flight requests"
    );
    state.set_ready(false);
    let _ = stop_tx.send(true);
    let grace = Duration::from_millis(config.shutdown_grace_ms);
    let drained = tokio::time::timeout(grace, async {
        let _ = rest.await;
        let _ = grpc.await;
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            ?grace,
            "in-flight requests still open after the grace period; closing them"
        );
    }
    let _ = maintenance.await;
    if let Some(c) = &cluster {
        c.stop();
    }
    tokio::task::spawn_blocking(move || broker.shutdown())
        .await
        .map_err(|e| format!("shutdown panicked: {e}"))?
        .map_err(|e| format!("shutdown could not flush everything: {e}"))?;
    println!("weir: stopped cleanly");
    Ok(())
}

/// Opens the broker of a single node (metadata on local disk).
async fn open_single(config: &ServeConfig) -> Result<Arc<Broker>, String> {
    let broker_config = broker_config(config);
    let broker = tokio::task::spawn_blocking(move || open_alone(broker_config))
        .await
        .map_err(|e| format!("opening the data directory panicked: {e}"))?
        .map_err(|e| {
            format!(
                "cannot open data directory {}: {e}",
                config.data_dir.display()
            )
        })?;
    Ok(Arc::new(broker))
}

/// The node id of a node run alone (no `[cluster]` table): the one voter of its quorum.
pub(crate) const ALONE_NODE_ID: u64 = 1;

/// Opens the broker of a node run alone: its metadata in a one-voter quorum under
/// `<data-dir>/raft` (the same code as a cluster's, with one voter), a single node's command
/// log upgraded in place. Runs on a blocking thread of a multi-threaded runtime.
pub(crate) fn open_alone(config: BrokerConfig) -> Result<Broker, weir_broker::BrokerError> {
    let policy = config.policy();
    let broker = Broker::open_with(config, |data| {
        weir_cluster::RaftMetadataLog::open_single(ALONE_NODE_ID, data, policy)
    })?;
    broker.settle_alone()?;
    Ok(broker)
}

/// The broker's part of the configuration.
pub(crate) fn broker_config(config: &ServeConfig) -> BrokerConfig {
    BrokerConfig {
        data_dir: config.data_dir.clone(),
        limits: config.limits.clone(),
        topic_defaults: config.topic_defaults.clone(),
        group_limits: config.groups.clone(),
        quota_defaults: config.quota_defaults,
        throttling: config.throttling,
        node_id: config
            .cluster
            .as_ref()
            .map(|c| u32::try_from(c.node_id).expect("node ids fit in int32")),
    }
}

async fn bind(addr: SocketAddr, what: &str) -> Result<TcpListener, String> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen for {what} on {addr}: {e}"))
}

fn local(listener: &TcpListener) -> Result<SocketAddr, String> {
    listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))
}

/// Writes `<data-dir>/bootstrap-admin.token` (mode 0600) with a new admin API key of the
/// `default` tenant, once: when the data directory has no key yet. Returns the file's path
/// when it exists. The secret is never printed.
pub(crate) fn bootstrap_admin(
    broker: &Broker,
    config: &ServeConfig,
) -> Result<Option<PathBuf>, String> {
    use std::os::unix::fs::OpenOptionsExt;
    if config.auth.mode == AuthMode::Off {
        return Ok(None);
    }
    let path = bootstrap_token_path(&config.data_dir);
    let default = TenantId::parse(DEFAULT_TENANT).map_err(|e| e.to_string())?;
    let mut system = Principal::anonymous(default.clone());
    system.subject = "system:bootstrap".into();
    let has_keys = broker
        .list_keys(&system, &default)
        .map(|k| !k.is_empty())
        .unwrap_or(true);
    if has_keys || path.exists() {
        return Ok(path.exists().then_some(path));
    }
    let scopes = parse_scopes(["admin"]).map_err(|e| e.to_string())?;
    let key = broker
        .create_key(&system, &default, "bootstrap-admin", scopes, None)
        .map_err(|e| format!("cannot create the bootstrap admin key: {e}"))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(format!("{}\n", key.secret).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(Some(path))
}

/// A short-lived admin token for the console's sign-in link, made from the bootstrap key (the
/// key itself is never printed).
fn sign_in_token(state: &ApiState, bootstrap: &Path) -> Option<String> {
    let key = std::fs::read_to_string(bootstrap).ok()?;
    let principal = state.broker.authenticate_key(key.trim()).ok()?;
    state
        .auth
        .issue(&state.broker, &principal)
        .ok()
        .map(|t| t.token)
}

/// Where the node listens.
struct Addresses {
    http: SocketAddr,
    grpc: SocketAddr,
}

/// Prints the addresses (tests and people read these lines).
fn announce(
    config: &ServeConfig,
    Addresses { http, grpc }: Addresses,
    took: Duration,
    bootstrap: Option<&Path>,
    sign_in: Option<&str>,
) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "weir {} ready in {took:.1?}",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(out, "  data dir:  {}", config.data_dir.display());
    if let Some(c) = &config.cluster {
        let _ = writeln!(
            out,
            "  cluster:   node {} of {} founding voters, internal {}",
            c.node_id,
            c.initial_voters.len(),
            c.internal_addr
        );
    }
    let _ = writeln!(out, "weir: rest listening on http://{http}");
    let _ = writeln!(out, "weir: grpc listening on {grpc}");
    let _ = writeln!(out, "  API docs:  http://{http}/docs");
    let _ = writeln!(out, "  metrics:   http://{http}/metrics");
    let _ = writeln!(out, "  console:   http://{http}/ui/");
    if let Some(token) = sign_in {
        // A token that expires (token_ttl_secs), never the bootstrap key itself.
        let minutes = config.auth.token_ttl_secs / 60;
        let _ = writeln!(
            out,
            "  sign in:   http://{http}/ui/#token={token}  (admin, valid {minutes} min)"
        );
    }
    match (config.auth.mode, bootstrap) {
        (AuthMode::Off, _) => {
            let _ = writeln!(
                out,
                "  WARNING:   authentication is OFF (--auth none): anyone who can reach these ports can read, write and delete everything. Never run like this outside a local experiment."
            );
        }
        (AuthMode::Required, Some(path)) => {
            let _ = writeln!(out, "  admin key: {} (keep it secret)", path.display());
        }
        (AuthMode::Required, None) => {
            let _ = writeln!(out, "  auth:      required (bootstrap key already removed)");
        }
    }
    let _ = out.flush();
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.changed().await;
}

/// Serves REST on `listener` until the stop. Connections are served here rather than by
/// `axum::serve`, which sets no timer: hyper would then wait for a request's headers forever,
/// and clients that connect and send nothing could hold every `connections_max` slot.
async fn serve_rest(listener: TcpListener, state: Arc<ApiState>, mut stop: watch::Receiver<bool>) {
    let gate = Gate::new("rest", gate_limits(&state));
    let header_timeout = Duration::from_millis(state.limits.http_header_read_timeout_ms);
    let body_timeout = Duration::from_millis(state.limits.http_body_read_timeout_ms);
    let router = weir_api::rest::router(state);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    loop {
        let (io, peer) = tokio::select! {
            accepted = gate.accept(&listener) => accepted,
            _ = stop.changed() => break,
        };
        // With connect info, handlers can see the caller's address (a group member's host);
        // authentication marks the connection through its `ConnectionAuth`.
        let auth = io.auth();
        let service = router
            .clone()
            .map_request(move |request: http::Request<Incoming>| {
                let mut request =
                    request.map(|body| axum::body::Body::new(Deadline::new(body, body_timeout)));
                request.extensions_mut().insert(ConnectInfo(peer));
                request.extensions_mut().insert(auth.clone());
                request
            });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "a REST connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

async fn serve_grpc(listener: TcpListener, state: Arc<ApiState>, stop: watch::Receiver<bool>) {
    let handshake = Duration::from_millis(state.limits.grpc_handshake_timeout_ms);
    let gate = Gate::new("grpc", gate_limits(&state)).first_bytes_within(handshake);
    let streams_max = state.limits.grpc_streams_per_connection_max;
    let routes = weir_api::grpc::routes(state);
    let incoming = futures_util::stream::unfold((listener, gate), |(listener, gate)| async move {
        let (connection, _) = gate.accept(&listener).await;
        Some((Ok::<_, std::io::Error>(connection), (listener, gate)))
    });
    if let Err(e) = tonic::transport::Server::builder()
        .initial_stream_window_size(GRPC_STREAM_WINDOW_BYTES)
        .initial_connection_window_size(GRPC_CONNECTION_WINDOW_BYTES)
        .max_frame_size(GRPC_FRAME_BYTES)
        .max_concurrent_streams(streams_max)
        .layer(tower::util::MapRequestLayer::new(unpack_connect_info))
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming, stopped(stop))
        .await
    {
        tracing::error!(error = %e, "gRPC server failed");
    }
}

/// A listener's connection limits.
fn gate_limits(state: &ApiState) -> GateLimits {
    GateLimits {
        max: state.limits.connections_max,
        per_address_max: state.limits.connections_per_address_max,
        unauthenticated_max: state.limits.connections_unauthenticated_max,
    }
}

/// Puts what a gRPC request's connection info carries where the gateway looks: tonic's own
/// `TcpConnectInfo` (for `remote_addr`) and the connection's `ConnectionAuth`.
fn unpack_connect_info<B>(mut request: http::Request<B>) -> http::Request<B> {
    if let Some(info) = request.extensions().get::<GatedInfo>().cloned() {
        request.extensions_mut().insert(info.tcp);
        request.extensions_mut().insert(info.auth);
    }
    request
}

/// Retention and timed flushes, off the request path.
async fn maintain(broker: Arc<Broker>, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let broker = Arc::clone(&broker);
                let deleted = tokio::task::spawn_blocking(move || broker.maintain()).await.unwrap_or(0);
                if deleted > 0 {
                    tracing::info!(segments = deleted, "retention deleted segments");
                }
            }
            // The only change ever sent is the stop.
            _ = stop.changed() => return,
        }
    }
}

async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM; stopping on Ctrl-C only");
            let _ = tokio::signal::ctrl_c().await;
            return "SIGINT";
        }
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "SIGINT",
    }
}
