//! gRPC services of package weir.v1: Produce, Fetch, Admin and Groups over the same broker
//! calls as REST.
//!
//! Owns the tonic wiring (one `Routes` with every service, message size limits) and what every
//! handler shares: error mapping and per-call metrics. Must not hold domain rules: handlers
//! convert messages, check the tenant as REST does (`rest::tenant_of`) and call the broker.

mod admin;
mod fetch;
mod groups;
mod produce;
mod tenancy;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use weir_proto::v1::admin_server::AdminServer;
use weir_proto::v1::fetch_server::FetchServer;
use weir_proto::v1::groups_server::GroupsServer;
use weir_proto::v1::produce_server::ProduceServer;

use crate::metrics::track_grpc;
use crate::{ApiError, ApiState};

pub use fetch::{FETCH_STREAM_AHEAD_MAX, FETCH_STREAM_WAIT_MS};
pub use produce::{OFFSET_UNKNOWN, PRODUCE_STREAM_IN_FLIGHT_MAX};

/// Every gRPC service, ready to serve. Each decodes and encodes messages of at most
/// `grpc_message_bytes_max` bytes.
pub fn routes(state: Arc<ApiState>) -> tonic::service::Routes {
    let max = state.limits.grpc_message_bytes_max;
    let produce = ProduceServer::new(produce::ProduceService::new(Arc::clone(&state)))
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
    let fetch = FetchServer::new(fetch::FetchService::new(Arc::clone(&state)))
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
    let admin = AdminServer::new(admin::AdminService::new(Arc::clone(&state)))
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
    let groups = GroupsServer::new(groups::GroupsService::new(state))
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
    tonic::service::Routes::new(produce)
        .add_service(fetch)
        .add_service(admin)
        .add_service(groups)
}

/// Runs one unary call: its error becomes a status (with `ErrorDetail`), and its outcome and
/// latency are recorded under `method`.
async fn unary<T>(
    method: &'static str,
    handler: impl Future<Output = Result<T, ApiError>>,
) -> Result<tonic::Response<T>, tonic::Status> {
    let started = Instant::now();
    let result = handler
        .await
        .map(tonic::Response::new)
        .map_err(ApiError::into_status);
    track_grpc(method, started, code_of(&result));
    result
}

/// Runs one unary call as `unary` does, after authenticating its caller from the request's
/// `authorization` metadata.
async fn authed<R, T, Fut>(
    state: &ApiState,
    method: &'static str,
    request: tonic::Request<R>,
    handler: impl FnOnce(weir_broker::Principal, R) -> Fut,
) -> Result<tonic::Response<T>, tonic::Status>
where
    Fut: Future<Output = Result<T, ApiError>>,
{
    let (metadata, _, message) = request.into_parts();
    unary(method, async move {
        let caller = crate::access::grpc_caller(state, &metadata).await?;
        handler(caller, message).await
    })
    .await
}

/// The gRPC code of an outcome.
fn code_of<T>(result: &Result<T, tonic::Status>) -> tonic::Code {
    result
        .as_ref()
        .map_or_else(tonic::Status::code, |_| tonic::Code::Ok)
}
