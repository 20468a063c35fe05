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
pub(crate) mod tail_slots;
pub mod tenants;
pub mod topics;
mod ui;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
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
        (name = "tenancy", description = "Tenants, API keys, quotas, usage and tokens"),
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
        .routes(routes!(tenants::create_tenant, tenants::list_tenants))
        .routes(routes!(tenants::describe_tenant, tenants::delete_tenant))
        .routes(routes!(tenants::create_key, tenants::list_keys))
        .routes(routes!(tenants::revoke_key))
        .routes(routes!(tenants::get_quotas, tenants::set_quotas))
        .routes(routes!(tenants::usage))
        .routes(routes!(tenants::token))
        .routes(routes!(tenants::jwks))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
}

/// Routes anyone may call without a credential.
const PUBLIC_PATHS: [&str; 3] = ["/healthz", "/readyz", "/.well-known/jwks.json"];

/// The OpenAPI 3.1 document of the REST API, as generated from the code.
pub fn openapi() -> utoipa::openapi::OpenApi {
    with_security(api_router().split_for_parts().1)
}

/// Adds the bearer scheme, and the 401/403/429 answers every authenticated route can give, in
/// one place rather than on each route.
fn with_security(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
    use utoipa::openapi::{RefOr, Response, ResponseBuilder, content::ContentBuilder};
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    let problem = |description: &str| -> RefOr<Response> {
        let content = ContentBuilder::new()
            .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
            .build();
        ResponseBuilder::new()
            .description(description)
            .content("application/problem+json", content)
            .build()
            .into()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        if PUBLIC_PATHS.contains(&path.as_str()) {
            continue;
        }
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for op in operations.into_iter().flatten() {
            op.security = Some(vec![SecurityRequirement::new(
                "bearer",
                Vec::<String>::new(),
            )]);
            let responses = &mut op.responses.responses;
            responses
                .entry("401".into())
                .or_insert_with(|| problem("Missing, invalid, expired or revoked credential"));
            responses
                .entry("403".into())
                .or_insert_with(|| problem("The credential lacks a scope this needs"));
            responses
                .entry("429".into())
                .or_insert_with(|| problem("A rate quota is exhausted; see Retry-After"));
        }
    }
    doc
}

/// Every REST route, with the docs page, metrics, the web console (`/ui`), limits and
/// problem+json fallbacks.
pub fn router(state: Arc<ApiState>) -> Router {
    let (api, doc) = api_router().split_for_parts();
    let doc = with_security(doc);
    let body_limit = state.limits.request_bytes_max;
    api.merge(utoipa_swagger_ui::SwaggerUi::new("/docs").url("/openapi.json", doc))
        .route("/metrics", axum::routing::get(ops::metrics))
        .merge(ui::router())
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
