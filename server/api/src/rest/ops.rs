//! Operations endpoints: `/healthz` (process up), `/readyz` (logs recovered, accepting
//! writes) and `/metrics` (Prometheus text).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ApiState;

/// Health or readiness.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Status {
    /// `ok`, `starting` or `stopping`.
    pub status: String,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Up", body = Status)))]
pub(crate) async fn healthz() -> axum::Json<Status> {
    axum::Json(Status {
        status: "ok".into(),
    })
}

/// Logs are recovered and writes are accepted.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Status),
        (status = 503, description = "Starting or stopping", body = Status),
    ))]
pub(crate) async fn readyz(State(state): State<Arc<ApiState>>) -> (StatusCode, axum::Json<Status>) {
    if state.is_ready() {
        (
            StatusCode::OK,
            axum::Json(Status {
                status: "ok".into(),
            }),
        )
    } else {
        let status = Status {
            status: "stopping".into(),
        };
        (StatusCode::SERVICE_UNAVAILABLE, axum::Json(status))
    }
}

/// Prometheus metrics in text format.
pub(crate) async fn metrics(State(state): State<Arc<ApiState>>) -> impl IntoResponse {
    crate::metrics::record_log_offsets(&state.broker);
    let body = state
        .metrics
        .as_ref()
        .map(|m| m.render())
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
