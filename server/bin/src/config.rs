//! `weir serve` settings: defaults < TOML file < `WEIR_*` environment < flags.
//!
//! Owns the file format and the merge. Must not start anything.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use weir_api::auth::{JwksSource, TrustedIssuer};
use weir_api::dto::tenants::QuotasChange;
use weir_api::dto::topics::TopicConfigDto;
use weir_api::{AuthConfig, AuthMode, GatewayLimits};
use weir_broker::{GroupLimits, Limits, Quotas, Throttling, TopicConfig};

/// Data directory when none is given.
pub const DATA_DIR_DEFAULT: &str = "./weir-data";
/// REST (and UI) address when none is given.
pub const HTTP_ADDR_DEFAULT: &str = "127.0.0.1:8780";
/// gRPC address when none is given.
pub const GRPC_ADDR_DEFAULT: &str = "127.0.0.1:8781";
/// How often retention and timed flushes run, in milliseconds.
pub const MAINTENANCE_INTERVAL_MS_DEFAULT: u64 = 30_000;
/// How long a stopping server waits for in-flight requests, in milliseconds.
pub const SHUTDOWN_GRACE_MS_DEFAULT: u64 = 5_000;

/// The TOML file. Every key is optional; unknown keys are an error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Root of all data.
    pub data_dir: Option<PathBuf>,
    /// REST address.
    pub http_addr: Option<SocketAddr>,
    /// gRPC address.
    pub grpc_addr: Option<SocketAddr>,
    /// Retention / flush pass interval.
    pub maintenance_interval_ms: Option<u64>,
    /// Grace period for in-flight requests at shutdown.
    pub shutdown_grace_ms: Option<u64>,
    /// Request limits.
    #[serde(default)]
    pub limits: FileLimits,
    /// Consumer group limits.
    #[serde(default)]
    pub groups: FileGroups,
    /// Settings of topics created without them (the REST topic config shape; -1 = unlimited
    /// for the retention settings).
    #[serde(default)]
    pub topic_defaults: TopicConfigDto,
    /// Authentication.
    #[serde(default)]
    pub auth: FileAuth,
    /// Quotas of tenants created without their own (0 = unlimited). The bootstrap tenant
    /// `default` starts unlimited whatever this says.
    #[serde(default)]
    pub quota_defaults: QuotasChange,
    /// How rate quotas absorb bursts and overage.
    #[serde(default)]
    pub throttling: FileThrottling,
    /// Membership of a cluster; absent: a node run alone (a one-voter quorum of its own).
    pub cluster: Option<FileCluster>,
}

/// `[cluster]` in the TOML file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileCluster {
    /// This node's id, unique in the cluster and never reused.
    pub node_id: u64,
    /// Where this node listens for other nodes (the metadata quorum's traffic).
    pub internal_addr: SocketAddr,
    /// The voters that found the cluster, as `id@internal_addr` (1, 3 or 5 of them); none
    /// for a node that joins a running cluster (it waits to be added).
    #[serde(default)]
    pub initial_voters: Vec<String>,
    /// The secret every node presents to every other; at least `CLUSTER_SECRET_BYTES_MIN`.
    pub secret: Option<String>,
    /// A file holding the secret (instead of `secret`), trailing whitespace ignored.
    pub secret_file: Option<PathBuf>,
    /// This node's rack (or zone).
    pub rack: Option<String>,
    /// Where clients reach this node's REST API, when not at its bound address (behind NAT,
    /// bound to 0.0.0.0).
    pub advertised_http_addr: Option<String>,
    /// Where clients reach this node's gRPC API, likewise.
    pub advertised_grpc_addr: Option<String>,
    /// How often this node heartbeats the controller (default 1000 ms).
    pub node_heartbeat_interval_ms: Option<u64>,
    /// A node silent this long is fenced (default 9000 ms; at least 3 heartbeat intervals).
    pub node_session_timeout_ms: Option<u64>,
}

/// Default `node_heartbeat_interval_ms`.
pub const NODE_HEARTBEAT_INTERVAL_MS_DEFAULT: u64 = 1_000;
/// Default `node_session_timeout_ms`.
pub const NODE_SESSION_TIMEOUT_MS_DEFAULT: u64 = 9_000;
/// Shortest `node_heartbeat_interval_ms` accepted.
pub const NODE_HEARTBEAT_INTERVAL_MS_MIN: u64 = 50;

/// Largest node id: Kafka's broker ids are int32.
pub const NODE_ID_MAX: u64 = i32::MAX as u64;

/// Shortest cluster secret accepted, in bytes.
pub const CLUSTER_SECRET_BYTES_MIN: usize = 16;

/// A node's place in a cluster, checked.
#[derive(Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// This node's id.
    pub node_id: u64,
    /// Where this node listens for other nodes.
    pub internal_addr: SocketAddr,
    /// The founding voters: id → internal address; empty for a node that joins.
    pub initial_voters: std::collections::BTreeMap<u64, SocketAddr>,
    /// The cluster secret.
    pub secret: String,
    /// This node's rack.
    pub rack: Option<String>,
    /// Advertised REST and gRPC addresses (`None`: the bound ones).
    pub advertised_http_addr: Option<String>,
    pub advertised_grpc_addr: Option<String>,
    /// Heartbeat interval and session timeout.
    pub node_heartbeat_interval: std::time::Duration,
    pub node_session_timeout: std::time::Duration,
}

impl std::fmt::Debug for ClusterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("ClusterConfig")
            .field("node_id", &self.node_id)
            .field("internal_addr", &self.internal_addr)
            .field("initial_voters", &self.initial_voters)
            .finish_non_exhaustive()
    }
}

/// Checks `[cluster]`: voters well formed, unique and odd in number, this node among them
/// at its own address, and a secret long enough.
fn merge_cluster(f: &FileCluster) -> Result<ClusterConfig, String> {
    let mut voters = std::collections::BTreeMap::new();
    for v in &f.initial_voters {
        let (id, addr) = v
            .split_once('@')
            .ok_or_else(|| format!("cluster.initial_voters: {v:?} is not id@host:port"))?;
        let id: u64 = id
            .parse()
            .map_err(|_| format!("cluster.initial_voters: {id:?} is not a node id"))?;
        let addr: SocketAddr = addr
            .parse()
            .map_err(|_| format!("cluster.initial_voters: {addr:?} is not host:port"))?;
        if voters.insert(id, addr).is_some() {
            return Err(format!(
                "cluster.initial_voters: node id {id} appears twice"
            ));
        }
    }
    if f.node_id == 0 || f.node_id > NODE_ID_MAX {
        return Err(format!(
            "cluster.node_id: node ids are 1 to {NODE_ID_MAX}, not {}",
            f.node_id
        ));
    }
    if ![0, 1, 3, 5].contains(&voters.len()) {
        return Err(format!(
            "cluster.initial_voters: 1, 3 or 5 voters (or none, to join a running cluster), not {}",
            voters.len()
        ));
    }
    if let Some(id) = voters.keys().find(|&&id| id == 0 || id > NODE_ID_MAX) {
        return Err(format!(
            "cluster.initial_voters: node ids are 1 to {NODE_ID_MAX}, not {id}"
        ));
    }
    match voters.get(&f.node_id) {
        _ if voters.is_empty() => {}
        Some(addr) if *addr == f.internal_addr => {}
        Some(addr) => {
            return Err(format!(
                "cluster.initial_voters names node {} at {addr}, but internal_addr is {}",
                f.node_id, f.internal_addr
            ));
        }
        None => {
            return Err(format!(
                "cluster.node_id {} is not among cluster.initial_voters (a node that joins a running cluster names no initial_voters, and is added with `weir cluster add-node`)",
                f.node_id
            ));
        }
    }
    let secret = match (&f.secret, &f.secret_file) {
        (Some(s), None) => s.clone(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| format!("cluster.secret_file {}: {e}", path.display()))?
            .trim_end()
            .to_owned(),
        _ => return Err("cluster: give secret or secret_file (one of them)".into()),
    };
    if secret.len() < CLUSTER_SECRET_BYTES_MIN {
        return Err(format!(
            "cluster secret: at least {CLUSTER_SECRET_BYTES_MIN} bytes, got {}",
            secret.len()
        ));
    }
    let heartbeat = f
        .node_heartbeat_interval_ms
        .unwrap_or(NODE_HEARTBEAT_INTERVAL_MS_DEFAULT);
    let session = f
        .node_session_timeout_ms
        .unwrap_or(NODE_SESSION_TIMEOUT_MS_DEFAULT);
    if heartbeat < NODE_HEARTBEAT_INTERVAL_MS_MIN || session < heartbeat.saturating_mul(3) {
        return Err(format!(
            "cluster.node_heartbeat_interval_ms ({heartbeat}) must be at least \
             {NODE_HEARTBEAT_INTERVAL_MS_MIN}, and cluster.node_session_timeout_ms ({session}) \
             at least three of them"
        ));
    }
    if f.rack.as_ref().is_some_and(|r| {
        r.is_empty()
            || r.len() > weir_broker::metadata::RACK_BYTES_MAX
            || r.chars().any(char::is_control)
    }) {
        return Err(format!(
            "cluster.rack: 1 to {} bytes of printable text",
            weir_broker::metadata::RACK_BYTES_MAX
        ));
    }
    Ok(ClusterConfig {
        node_id: f.node_id,
        internal_addr: f.internal_addr,
        initial_voters: voters,
        secret,
        rack: f.rack.clone(),
        advertised_http_addr: f.advertised_http_addr.clone(),
        advertised_grpc_addr: f.advertised_grpc_addr.clone(),
        node_heartbeat_interval: std::time::Duration::from_millis(heartbeat),
        node_session_timeout: std::time::Duration::from_millis(session),
    })
}

/// `[auth]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAuth {
    /// `required` (default) or `none`.
    pub mode: Option<String>,
    /// `iss` of tokens this server issues (default `weir`).
    pub issuer: Option<String>,
    /// `aud` of tokens this server issues (default `weir`).
    pub audience: Option<String>,
    /// Lifetime of issued tokens, seconds (default 900).
    pub token_ttl_secs: Option<u64>,
    /// Clock skew allowed on `exp`/`nbf`, seconds (default 5).
    pub leeway_secs: Option<u64>,
    /// Whether `/metrics` answers without a credential (default false).
    pub metrics_public: Option<bool>,
    /// How often trusted issuers' JWKS are reloaded, ms (default 300000).
    pub jwks_refresh_ms: Option<u64>,
    /// Least time between reloads for an unknown `kid`, ms (default 10000).
    pub jwks_refetch_ms_min: Option<u64>,
    /// External issuers trusted in addition to this server.
    #[serde(default)]
    pub trusted: Vec<FileIssuer>,
}

/// `[[auth.trusted]]` in the TOML file: one of `jwks_file` or `jwks_url`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileIssuer {
    /// Expected `iss`.
    pub issuer: String,
    /// Expected `aud`.
    pub audience: String,
    /// JWKS file.
    pub jwks_file: Option<PathBuf>,
    /// JWKS `https://` (or `http://`) URL.
    pub jwks_url: Option<String>,
}

/// `[throttling]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileThrottling {
    /// Burst a rate bucket holds, in ms of its rate (default 500).
    pub burst_ms: Option<u64>,
    /// Debt, in ms of the rate, past which requests are refused instead of delayed
    /// (default 1000).
    pub delay_ms_max: Option<u64>,
}

/// `[limits]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLimits {
    /// Largest REST request body.
    pub request_bytes_max: Option<usize>,
    /// Largest gRPC message.
    pub grpc_message_bytes_max: Option<usize>,
    /// Largest record.
    pub record_bytes_max: Option<usize>,
    /// Most headers per record.
    pub record_headers_max: Option<usize>,
    /// Most records per produce request.
    pub produce_records_max: Option<usize>,
    /// Most partitions per topic.
    pub topic_partitions_max: Option<u32>,
    /// Largest fetch per partition.
    pub fetch_bytes_max: Option<usize>,
    /// Longest fetch wait.
    pub fetch_wait_ms_max: Option<u64>,
    /// Most records per REST fetch.
    pub fetch_records_max: Option<usize>,
    /// Most open live tails.
    pub sse_streams_max: Option<usize>,
    /// Most live tails one tenant may hold open (its `live_tails` quota narrows it).
    pub sse_streams_per_tenant_max: Option<usize>,
    /// Most open connections per listener.
    pub connections_max: Option<usize>,
    /// Most open connections per listener from one client address.
    pub connections_per_address_max: Option<usize>,
    /// Most open connections per listener that have not authenticated yet.
    pub connections_unauthenticated_max: Option<usize>,
    /// Longest a REST request's body may take.
    pub http_body_read_timeout_ms: Option<u64>,
    /// Longest wait for a REST request's headers.
    pub http_header_read_timeout_ms: Option<u64>,
    /// Longest wait for a gRPC connection's first bytes.
    pub grpc_handshake_timeout_ms: Option<u64>,
    /// Most open gRPC calls per connection.
    pub grpc_streams_per_connection_max: Option<u32>,
}

/// `[groups]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileGroups {
    /// Most members per group.
    pub members_max: Option<usize>,
    /// Most groups per tenant.
    pub groups_max: Option<usize>,
    /// Largest offset metadata string.
    pub offset_metadata_bytes_max: Option<usize>,
    /// Session timeout when a member asks for none.
    pub session_timeout_ms_default: Option<u64>,
    /// Shortest session timeout.
    pub session_timeout_ms_min: Option<u64>,
    /// Longest session timeout.
    pub session_timeout_ms_max: Option<u64>,
}

/// The settings `weir serve` runs with.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Root of all data.
    pub data_dir: PathBuf,
    /// REST address.
    pub http_addr: SocketAddr,
    /// gRPC address.
    pub grpc_addr: SocketAddr,
    /// Retention / flush pass interval.
    pub maintenance_interval_ms: u64,
    /// Grace period at shutdown.
    pub shutdown_grace_ms: u64,
    /// Broker limits.
    pub limits: Limits,
    /// Gateway limits.
    pub gateway: GatewayLimits,
    /// Topic defaults.
    pub topic_defaults: TopicConfig,
    /// Consumer group limits.
    pub groups: GroupLimits,
    /// Authentication.
    pub auth: AuthConfig,
    /// Quotas of new tenants.
    pub quota_defaults: Quotas,
    /// Rate quota behaviour.
    pub throttling: Throttling,
    /// Cluster membership; `None`: a single node.
    pub cluster: Option<ClusterConfig>,
}

/// Values given as flags or environment variables (clap merges those two).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--data-dir` / `WEIR_DATA_DIR`.
    pub data_dir: Option<PathBuf>,
    /// `--http-addr` / `WEIR_HTTP_ADDR`.
    pub http_addr: Option<SocketAddr>,
    /// `--grpc-addr` / `WEIR_GRPC_ADDR`.
    pub grpc_addr: Option<SocketAddr>,
    /// `--auth none` (true) / `--auth required` (false) / `WEIR_AUTH`.
    pub auth_off: Option<bool>,
}

/// Reads `file` (if any) and applies `overrides` on top.
pub fn resolve(file: Option<&Path>, overrides: Overrides) -> Result<ServeConfig, String> {
    let f = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
            toml::from_str::<FileConfig>(&text)
                .map_err(|e| format!("invalid config file {}: {e}", path.display()))?
        }
        None => FileConfig::default(),
    };
    let parse = |s: &str| s.parse::<SocketAddr>().expect("default address parses");
    let limits = merge_limits(&f.limits);
    let gateway = merge_gateway(&f.limits)?;
    let topic_defaults = merge_topic_defaults(&f.topic_defaults)?;
    Ok(ServeConfig {
        data_dir: overrides
            .data_dir
            .or(f.data_dir)
            .unwrap_or_else(|| PathBuf::from(DATA_DIR_DEFAULT)),
        http_addr: overrides
            .http_addr
            .or(f.http_addr)
            .unwrap_or_else(|| parse(HTTP_ADDR_DEFAULT)),
        grpc_addr: overrides
            .grpc_addr
            .or(f.grpc_addr)
            .unwrap_or_else(|| parse(GRPC_ADDR_DEFAULT)),
        maintenance_interval_ms: f
            .maintenance_interval_ms
            .unwrap_or(MAINTENANCE_INTERVAL_MS_DEFAULT)
            .max(1),
        shutdown_grace_ms: f.shutdown_grace_ms.unwrap_or(SHUTDOWN_GRACE_MS_DEFAULT),
        limits,
        gateway,
        topic_defaults,
        groups: merge_groups(&f.groups),
        auth: merge_auth(&f.auth, overrides.auth_off)?,
        quota_defaults: f.quota_defaults.apply_to(Quotas::default()),
        throttling: merge_throttling(&f.throttling),
        cluster: f.cluster.as_ref().map(merge_cluster).transpose()?,
    })
}

fn merge_auth(f: &FileAuth, off: Option<bool>) -> Result<AuthConfig, String> {
    let d = AuthConfig::default();
    let off = match (off, f.mode.as_deref()) {
        (Some(off), _) => off,
        (None, None | Some("required")) => false,
        (None, Some("none")) => true,
        (None, Some(other)) => {
            return Err(format!("auth.mode must be required or none, got {other:?}"));
        }
    };
    let trusted = f
        .trusted
        .iter()
        .map(|t| {
            let jwks = match (&t.jwks_file, &t.jwks_url) {
                (Some(file), None) => JwksSource::File(file.clone()),
                (None, Some(url)) if url.starts_with("https://") || url.starts_with("http://") => {
                    JwksSource::Url(url.clone())
                }
                (None, Some(url)) => {
                    return Err(format!(
                        "auth.trusted {:?}: jwks_url must be an https:// or http:// URL, got {url:?}",
                        t.issuer
                    ));
                }
                _ => {
                    return Err(format!(
                        "auth.trusted {:?}: give exactly one of jwks_file and jwks_url",
                        t.issuer
                    ));
                }
            };
            Ok(TrustedIssuer {
                issuer: t.issuer.clone(),
                audience: t.audience.clone(),
                jwks,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(AuthConfig {
        mode: if off {
            AuthMode::Off
        } else {
            AuthMode::Required
        },
        issuer: f.issuer.clone().unwrap_or(d.issuer),
        audience: f.audience.clone().unwrap_or(d.audience),
        token_ttl_secs: f.token_ttl_secs.unwrap_or(d.token_ttl_secs),
        leeway_secs: f.leeway_secs.unwrap_or(d.leeway_secs),
        metrics_public: f.metrics_public.unwrap_or(d.metrics_public),
        trusted,
        jwks_refresh_ms: f.jwks_refresh_ms.unwrap_or(d.jwks_refresh_ms).max(1),
        jwks_refetch_ms_min: f.jwks_refetch_ms_min.unwrap_or(d.jwks_refetch_ms_min),
    })
}

fn merge_throttling(f: &FileThrottling) -> Throttling {
    let d = Throttling::default();
    Throttling {
        burst_ms: f.burst_ms.unwrap_or(d.burst_ms),
        delay_ms_max: f.delay_ms_max.unwrap_or(d.delay_ms_max),
    }
}

fn merge_limits(f: &FileLimits) -> Limits {
    let d = Limits::default();
    Limits {
        record_bytes_max: f.record_bytes_max.unwrap_or(d.record_bytes_max),
        record_headers_max: f.record_headers_max.unwrap_or(d.record_headers_max),
        produce_records_max: f.produce_records_max.unwrap_or(d.produce_records_max),
        topic_partitions_max: f.topic_partitions_max.unwrap_or(d.topic_partitions_max),
        fetch_bytes_max: f.fetch_bytes_max.unwrap_or(d.fetch_bytes_max),
        fetch_wait_ms_max: f.fetch_wait_ms_max.unwrap_or(d.fetch_wait_ms_max),
    }
}

fn merge_groups(f: &FileGroups) -> GroupLimits {
    let d = GroupLimits::default();
    GroupLimits {
        members_max: f.members_max.unwrap_or(d.members_max),
        groups_max: f.groups_max.unwrap_or(d.groups_max),
        offset_metadata_bytes_max: f
            .offset_metadata_bytes_max
            .unwrap_or(d.offset_metadata_bytes_max),
        session_timeout_ms_default: f
            .session_timeout_ms_default
            .unwrap_or(d.session_timeout_ms_default),
        session_timeout_ms_min: f.session_timeout_ms_min.unwrap_or(d.session_timeout_ms_min),
        session_timeout_ms_max: f.session_timeout_ms_max.unwrap_or(d.session_timeout_ms_max),
    }
}

fn merge_gateway(f: &FileLimits) -> Result<GatewayLimits, String> {
    let d = GatewayLimits::default();
    let gateway = GatewayLimits {
        request_bytes_max: f.request_bytes_max.unwrap_or(d.request_bytes_max),
        grpc_message_bytes_max: f.grpc_message_bytes_max.unwrap_or(d.grpc_message_bytes_max),
        fetch_records_max: f.fetch_records_max.unwrap_or(d.fetch_records_max),
        sse_streams_max: f.sse_streams_max.unwrap_or(d.sse_streams_max),
        sse_streams_per_tenant_max: f
            .sse_streams_per_tenant_max
            .unwrap_or(d.sse_streams_per_tenant_max),
        connections_max: f.connections_max.unwrap_or(d.connections_max),
        connections_per_address_max: f
            .connections_per_address_max
            .unwrap_or(d.connections_per_address_max),
        connections_unauthenticated_max: f
            .connections_unauthenticated_max
            .unwrap_or(d.connections_unauthenticated_max),
        http_body_read_timeout_ms: f
            .http_body_read_timeout_ms
            .unwrap_or(d.http_body_read_timeout_ms),
        http_header_read_timeout_ms: f
            .http_header_read_timeout_ms
            .unwrap_or(d.http_header_read_timeout_ms),
        grpc_handshake_timeout_ms: f
            .grpc_handshake_timeout_ms
            .unwrap_or(d.grpc_handshake_timeout_ms),
        grpc_streams_per_connection_max: f
            .grpc_streams_per_connection_max
            .unwrap_or(d.grpc_streams_per_connection_max),
    };
    // Zero would leave the node unreachable rather than limited.
    let g = &gateway;
    at_least_one("connections_max", g.connections_max)?;
    at_least_one("connections_per_address_max", g.connections_per_address_max)?;
    at_least_one(
        "connections_unauthenticated_max",
        g.connections_unauthenticated_max,
    )?;
    at_least_one("http_body_read_timeout_ms", g.http_body_read_timeout_ms)?;
    at_least_one(
        "grpc_streams_per_connection_max",
        g.grpc_streams_per_connection_max,
    )?;
    at_least_one("http_header_read_timeout_ms", g.http_header_read_timeout_ms)?;
    at_least_one("grpc_handshake_timeout_ms", g.grpc_handshake_timeout_ms)?;
    Ok(gateway)
}

/// Refuses `limits.<name>` = 0 (an unsigned number's default).
fn at_least_one<T: Default + PartialEq>(name: &str, value: T) -> Result<(), String> {
    if value == T::default() {
        return Err(format!("limits.{name} must be at least 1"));
    }
    Ok(())
}

fn merge_topic_defaults(f: &TopicConfigDto) -> Result<TopicConfig, String> {
    let config = f
        .apply_to(&TopicConfig::default())
        .map_err(|e| format!("topic_defaults: {}", e.message))?;
    config
        .validate()
        .map_err(|e| format!("topic_defaults: {e}"))?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weir.toml");
        std::fs::write(
            &path,
            "data_dir = \"/from/file\"\nhttp_addr = \"127.0.0.1:1111\"\n[limits]\nrecord_bytes_max = 42\n",
        )
        .unwrap();
        let overrides = Overrides {
            http_addr: Some("127.0.0.1:2222".parse().unwrap()),
            ..Overrides::default()
        };
        let c = resolve(Some(&path), overrides).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/from/file"));
        assert_eq!(c.http_addr.port(), 2222);
        assert_eq!(c.grpc_addr, GRPC_ADDR_DEFAULT.parse().unwrap());
        assert_eq!(c.limits.record_bytes_max, 42);
        let c = resolve(None, Overrides::default()).unwrap();
        assert_eq!(c.data_dir, PathBuf::from(DATA_DIR_DEFAULT));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weir.toml");
        std::fs::write(&path, "data_dri = \"/typo\"\n").unwrap();
        let err = resolve(Some(&path), Overrides::default()).unwrap_err();
        assert!(err.contains("data_dri"), "{err}");
        std::fs::write(&path, "[topic_defaults]\nsegment_bytes = 3\n").unwrap();
        assert!(resolve(Some(&path), Overrides::default()).is_err());
        for zero in [
            "connections_max",
            "connections_per_address_max",
            "connections_unauthenticated_max",
            "http_body_read_timeout_ms",
            "grpc_streams_per_connection_max",
            "http_header_read_timeout_ms",
            "grpc_handshake_timeout_ms",
        ] {
            std::fs::write(&path, format!("[limits]\n{zero} = 0\n")).unwrap();
            let err = resolve(Some(&path), Overrides::default()).unwrap_err();
            assert_eq!(err, format!("limits.{zero} must be at least 1"));
        }
    }

    #[test]
    fn trusted_issuers_take_a_file_or_an_http_url() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weir.toml");
        let issuer = |source: &str| {
            format!("[[auth.trusted]]\nissuer = \"i\"\naudience = \"a\"\n{source}\n")
        };
        for ok in [
            "jwks_url = \"https://login.example.com/jwks.json\"",
            "jwks_url = \"http://127.0.0.1:9/jwks.json\"",
            "jwks_file = \"/etc/weir/jwks.json\"",
        ] {
            std::fs::write(&path, issuer(ok)).unwrap();
            let c = resolve(Some(&path), Overrides::default()).unwrap();
            assert_eq!(c.auth.trusted.len(), 1, "{ok}");
        }
        for bad in [
            "jwks_url = \"ftp://example.com/jwks.json\"",
            "jwks_url = \"https://a/j\"\njwks_file = \"/j\"",
            "",
        ] {
            std::fs::write(&path, issuer(bad)).unwrap();
            assert!(resolve(Some(&path), Overrides::default()).is_err(), "{bad}");
        }
    }
}
