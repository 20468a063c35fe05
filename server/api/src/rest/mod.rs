//! The REST API: routes, the OpenAPI document they generate, and the fallbacks that keep every
//! error problem+json.
//!
//! Owns routing and cross-cutting HTTP concerns (body limit, per-route metrics). Handlers live
//! in one file per resource and call the broker; they must not reach around it.

pub mod extract;
pub mod groups;
pub mod ops;
pub mod records;
pub mod stream;
pub mod topics;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use weir_broker::TenantId;
use weir_proto::ErrorCode;

use crate::{ApiError, ApiState};

/// The OpenAPI document's fixed parts; paths and schemas come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Weir",
        description = "Multi-tenant streaming service: topics, partitions, records, consumer groups. Errors are RFC 9457 problem+json with a stable `code`.",
        license(name = "Apache-2.0")
    ),
    tags(
        (name = "topics", description = "Topic administration"),
        (name = "records", description = "Produce and consume records"),
        (name = "groups", description = "Consumer groups: fetch as a member, commit, lag, reset"),
        (name = "operations", description = "Health, readiness and metrics"),
    ),
    components(schemas(crate::Problem))
)]
struct ApiDoc;

fn api_router() -> OpenApiRouter<Arc<ApiState>> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(topics::create_topic, topics::list_topics))
        .routes(routes!(
            topics::describe_topic,
            topics::alter_topic,
            topics::delete_topic
        ))
        .routes(routes!(records::produce))
        .routes(routes!(records::fetch))
        .routes(routes!(stream::tail))
        .routes(routes!(groups::list_groups))
        .routes(routes!(groups::describe_group, groups::delete_group))
        .routes(routes!(groups::group_fetch))
        .routes(routes!(groups::commit, groups::committed))
        .routes(routes!(groups::reset_offsets))
        .routes(routes!(groups::leave))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
}

/// The OpenAPI 3.1 document of the REST API, as generated from the code.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().split_for_parts().1
}

/// Every REST route, with the docs page, metrics, limits and problem+json fallbacks.
pub fn router(state: Arc<ApiState>) -> Router {
    let (api, doc) = api_router().split_for_parts();
    let body_limit = state.limits.request_bytes_max;
    api.merge(utoipa_swagger_ui::SwaggerUi::new("/docs").url("/openapi.json", doc))
        .route("/metrics", axum::routing::get(ops::metrics))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(crate::metrics::track_http))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

async fn route_not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        ErrorCode::RouteNotFound,
        format!("no route for {}", uri.path()),
    )
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("{method} is not allowed on {}", uri.path()),
    )
}

/// The tenant named in a path, once it is known to exist.
pub(crate) fn tenant_of(state: &ApiState, name: &str) -> Result<TenantId, ApiError> {
    let tenant = TenantId::parse(name)?;
    if !state.broker.tenant_exists(&tenant) {
        return Err(ApiError::new(
            ErrorCode::TenantNotFound,
            format!("tenant {name:?} not found"),
        ));
    }
    Ok(tenant)
}
