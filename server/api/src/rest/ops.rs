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
    /// Where the process stands.
    pub status: StatusName,
}

/// Where the process stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusName {
    /// Up (`/healthz`), or ready (`/readyz`).
    Ok,
    /// Recovering logs, not ready yet.
    Starting,
    /// Shutting down.
    Stopping,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Up", body = Status)))]
pub(crate) async fn healthz() -> axum::Json<Status> {
    axum::Json(Status {
        status: StatusName::Ok,
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
                status: StatusName::Ok,
            }),
        )
    } else {
        let status = Status {
            status: StatusName::Stopping,
        };
        (StatusCode::SERVICE_UNAVAILABLE, axum::Json(status))
    }
}

/// Prometheus metrics in text format. They show every tenant, so unless `metrics_public` is
/// set they need a credential with `admin`.
pub(crate) async fn metrics(
    State(state): State<Arc<ApiState>>,
    headers: axum::http::HeaderMap,
) -> Result<impl IntoResponse, crate::ApiError> {
    if !state.auth.config().metrics_public {
        let header = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
        let caller = state.auth.authenticate(&state.broker, header).await?;
        if !caller.is_admin() {
            return Err(crate::ApiError::new(
                weir_proto::ErrorCode::Forbidden,
                "/metrics needs the admin scope (or auth.metrics_public = true)",
            ));
        }
    }
    crate::metrics::record_log_offsets(&state.broker);
    crate::metrics::record_cluster(&state);
    let body = state
        .metrics
        .as_ref()
        .map(|m| m.render())
        .unwrap_or_default();
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body))
}
