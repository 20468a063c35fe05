//! Prometheus metrics: the recorder, per-route HTTP latency, and log offsets sampled at scrape.
//!
//! Names (stable, documented in the README): `weir_http_requests_total`,
//! `weir_http_request_duration_seconds`, `weir_grpc_requests_total`,
//! `weir_grpc_request_duration_seconds`, `weir_errors_total`, `weir_log_start_offset`,
//! `weir_log_end_offset`, `weir_log_size_bytes`; the broker adds `weir_records_in_total`,
//! `weir_bytes_in_total`, `weir_records_out_total`, `weir_bytes_out_total` and
//! `weir_forwarded_requests_total`. A cluster node also has `weir_cluster_is_controller`,
//! `weir_cluster_term`, `weir_cluster_last_log_index`, `weir_cluster_applied_index`,
//! `weir_cluster_nodes{liveness}`, `weir_cluster_partitions_hosted` and
//! `weir_cluster_offline_partitions`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use weir_broker::Broker;

/// Latency buckets, in seconds: 100 µs to 10 s.
const LATENCY_BUCKETS_SECONDS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5, 10.0,
];

/// Installs the process-wide Prometheus recorder. Call once, at start-up.
pub fn install_recorder() -> Result<PrometheusHandle, String> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Suffix("duration_seconds".into()),
            &LATENCY_BUCKETS_SECONDS,
        )
        .map_err(|e| e.to_string())?
        .install_recorder()
        .map_err(|e| e.to_string())
}

/// Axum middleware: counts requests and records latency per route template and status.
pub(crate) async fn track_http(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("weir_http_requests_total", &labels).increment(1);
    metrics::histogram!("weir_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Records one gRPC call's outcome and latency.
pub(crate) fn track_grpc(method: &'static str, started: Instant, code: tonic::Code) {
    let labels = [("method", method.to_owned()), ("code", format!("{code:?}"))];
    metrics::counter!("weir_grpc_requests_total", &labels).increment(1);
    metrics::histogram!("weir_grpc_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
}

/// Samples this node's view of its cluster into gauges, just before a scrape (nothing for a
/// node run alone).
pub(crate) fn record_cluster(state: &crate::ApiState) {
    let Some(view) = state.cluster.get() else {
        return;
    };
    let s = view.status();
    let controller = f64::from(u8::from(s.controller == Some(s.node_id)));
    metrics::gauge!("weir_cluster_is_controller").set(controller);
    metrics::gauge!("weir_cluster_term").set(s.term as f64);
    metrics::gauge!("weir_cluster_last_log_index").set(s.last_log_index.unwrap_or(0) as f64);
    metrics::gauge!("weir_cluster_applied_index").set(s.applied_index.unwrap_or(0) as f64);
    for liveness in ["live", "fenced", "unregistered"] {
        let count = s.nodes.iter().filter(|n| n.liveness == liveness).count();
        metrics::gauge!("weir_cluster_nodes", "liveness" => liveness).set(count as f64);
    }
    let broker = &state.broker;
    let hosted: usize = broker
        .all_topics()
        .iter()
        .map(|t| broker.topic_partitions(t).len())
        .sum();
    metrics::gauge!("weir_cluster_partitions_hosted").set(hosted as f64);
    metrics::gauge!("weir_cluster_offline_partitions").set(broker.offline_partitions() as f64);
}

/// Samples every partition's offsets and size into gauges, just before a scrape.
pub(crate) fn record_log_offsets(broker: &Broker) {
    for topic in broker.all_topics() {
        for p in broker.topic_partitions(&topic) {
            let o = p.offsets();
            let labels = [
                ("tenant", topic.tenant().to_string()),
                ("topic", topic.name().to_string()),
                ("partition", p.index().to_string()),
            ];
            // Gauges are f64: offsets and sizes past 2^53 would read rounded, nothing worse.
            metrics::gauge!("weir_log_start_offset", &labels).set(o.log_start_offset as f64);
            metrics::gauge!("weir_log_end_offset", &labels).set(p.log_end_offset() as f64);
            metrics::gauge!("weir_log_size_bytes", &labels).set(o.size_bytes as f64);
        }
    }
    // Per-tenant usage: storage (the broker sets `weir_tenant_storage_bytes` as it sums) and
    // counts, so every tenant shows up on each scrape, not only those that hit a quota.
    for tenant in broker.tenants() {
        broker.storage_bytes(&tenant);
        let topics = broker.list_topics(&tenant).unwrap_or_default();
        let partitions: u64 = topics.iter().map(|t| u64::from(t.partition_count())).sum();
        let label = [("tenant", tenant.to_string())];
        metrics::gauge!("weir_tenant_topics", &label).set(topics.len() as f64);
        metrics::gauge!("weir_tenant_partitions", &label).set(partitions as f64);
    }
}
