//! The REST API: routes, the OpenAPI document they generate, and the fallbacks that keep every
//! error problem+json.
//!
//! Owns routing and cross-cutting HTTP concerns (body limit, per-route metrics). Handlers live
//! in one file per resource and call the broker; they must not reach around it.

pub mod cluster;
pub mod extract;
pub mod groups;
mod objects;
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
        description = "Multi-tenant streaming service: topics, partitions, records, consumer groups. Errors are RFC 9457 problem+json with a stable `code`; every operation lists the statuses it answers with, and `default` covers the rest (500 `INTERNAL`, 503 `UNAVAILABLE` or `STORAGE_UNAVAILABLE`, 405 for a method the path does not have). Integers are JSON numbers without a fraction part (`5` or `5.0`); unsigned ones are at most 2^63 - 1. Limits stated as a `maximum` (records per fetch, partitions per topic, ...) are the server's defaults: an operator may configure others.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
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
        .routes(routes!(cluster::cluster))
        .routes(routes!(cluster::add_node))
        .routes(routes!(cluster::remove_node))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
}

/// Routes anyone may call without a credential.
const PUBLIC_PATHS: [&str; 3] = ["/healthz", "/readyz", "/.well-known/jwks.json"];

/// The OpenAPI 3.1 document of the REST API, as generated from the code.
pub fn openapi() -> utoipa::openapi::OpenApi {
    finish(api_router().split_for_parts().1)
}

/// Tenant names (`TenantId`): the rule of `weir_broker::TenantId::parse`.
const TENANT_PATTERN: &str = "^[a-z0-9][a-z0-9-]{0,62}$";
/// Topic and group names (`TopicName`, `check_group_name`): a-z, A-Z, 0-9, '.', '_', '-',
/// not `.` or `..` (spelt without look-ahead, which not every regex engine has).
const TOPIC_PATTERN: &str = r"^(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,248}|\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,247}|\.\.[A-Za-z0-9._-]{1,247})$";

/// Adds what every operation shares, in one place rather than on each route: the bearer
/// scheme with the 401/403/429 answers of authenticated routes (429 with its `Retry-After`
/// and `RateLimit-*` headers), 413 on every JSON body, a `default` problem answer, the
/// spelling rules of names in paths, and the JSON Schema rules between fields that the derive
/// cannot state.
fn finish(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    field_rules(&mut components.schemas);
    for (path, item) in doc.paths.paths.iter_mut() {
        let public = PUBLIC_PATHS.contains(&path.as_str());
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for op in operations.into_iter().flatten() {
            name_rules(op);
            let json_body = op.request_body.as_ref().is_some_and(
                |b| matches!(b, RefOr::T(b) if b.content.contains_key("application/json")),
            );
            let responses = &mut op.responses.responses;
            if json_body {
                responses.entry("413".into()).or_insert_with(|| {
                    problem("`REQUEST_TOO_LARGE`: the body is larger than `request_bytes_max`")
                });
            }
            responses.entry("default".into()).or_insert_with(|| {
                problem("Any other error, as problem+json with its `code` (500 `INTERNAL`, 503 `UNAVAILABLE` or `STORAGE_UNAVAILABLE`, ...)")
            });
            if public {
                continue;
            }
            op.security = Some(vec![SecurityRequirement::new(
                "bearer",
                Vec::<String>::new(),
            )]);
            responses.entry("401".into()).or_insert_with(|| {
                problem("`UNAUTHENTICATED`: missing, invalid, expired or revoked credential")
            });
            responses
                .entry("403".into())
                .or_insert_with(|| problem("`FORBIDDEN`: the credential lacks a scope this needs"));
            responses.insert("429".into(), throttled());
        }
    }
    doc
}

/// A problem+json answer.
fn problem(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    use utoipa::openapi::{ResponseBuilder, content::ContentBuilder};
    let content = ContentBuilder::new()
        .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
        .build();
    ResponseBuilder::new()
        .description(description)
        .content("application/problem+json", content)
        .build()
        .into()
}

/// 429 `QUOTA_EXCEEDED`, with the headers `ApiError` sends with it.
fn throttled() -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::{RefOr, Response};
    let header = |description: &str| {
        let schema = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0))
            .build();
        HeaderBuilder::new()
            .schema(Some(schema))
            .description(Some(description))
            .build()
    };
    let RefOr::T(mut response): RefOr<Response> = problem(
        "`QUOTA_EXCEEDED`: a rate quota of the tenant is exhausted; retry after `Retry-After` seconds",
    ) else {
        unreachable!("problem() builds a response")
    };
    let headers = [
        (
            "Retry-After",
            "Seconds until the request may succeed (at least 1)",
        ),
        (
            "RateLimit-Limit",
            "The rate quota that refused the request, per second",
        ),
        ("RateLimit-Remaining", "Always 0"),
        (
            "RateLimit-Reset",
            "Seconds until the quota allows the request, as Retry-After",
        ),
    ];
    for (name, description) in headers {
        response
            .headers
            .insert(name.into(), RefOr::T(header(description)));
    }
    response.into()
}

/// The spelling rules of the names in a path (as the broker checks them), so a client can see
/// which names exist at all.
fn name_rules(op: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::schema::{Schema, Type};
    use weir_broker::{TENANT_NAME_BYTES_MAX, TOPIC_NAME_BYTES_MAX};
    for param in op.parameters.iter_mut().flatten() {
        let RefOr::T(param) = param else { continue };
        if matches!(param.parameter_in, ParameterIn::Header) {
            // An optional header is absent, never null.
            if let Some(RefOr::T(Schema::Object(o))) = &mut param.schema {
                o.schema_type = Type::String.into();
            }
        }
        if !matches!(param.parameter_in, ParameterIn::Path) {
            continue;
        }
        let (pattern, max) = match param.name.as_str() {
            "tenant" => (TENANT_PATTERN, TENANT_NAME_BYTES_MAX),
            "topic" | "group" => (TOPIC_PATTERN, TOPIC_NAME_BYTES_MAX),
            _ => continue,
        };
        if let Some(RefOr::T(Schema::Object(o))) = &mut param.schema {
            o.pattern = Some(pattern.into());
            o.max_length = Some(max);
        }
    }
}

/// Rules between fields that `ToSchema` cannot state, as JSON Schema keywords on the
/// components: which fields come together, which exclude each other.
fn field_rules(
    schemas: &mut std::collections::BTreeMap<
        String,
        utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    >,
) {
    use serde_json::json;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::extensions::Extensions;
    use utoipa::openapi::schema::Schema;
    // One keyword per schema: extensions are a hash map, and one key keeps the output stable.
    let both = |a: &str, b: &str| json!({"not": {"required": [a, b], "properties": {a: {"not": {"type": "null"}}, b: {"not": {"type": "null"}}}}});
    let given = |field: &str| json!({"required": [field], "properties": {field: {"not": {"type": "null"}}}});
    let absent = |field: &str| json!({"not": given(field)});
    let reset_case = |to: &str, field: Option<&str>| {
        let mut then: Vec<_> = ["timestamp", "offset", "shift"]
            .into_iter()
            .filter(|f| Some(*f) != field)
            .map(absent)
            .collect();
        if let Some(f) = field {
            then.push(given(f));
        }
        json!({"if": {"properties": {"to": {"const": to}}}, "then": {"allOf": then}})
    };
    // `dependentRequired` would count a `null` as given; the server reads it as absent.
    let together = |a: &str, b: &str| json!([{"if": given(a), "then": given(b)}, {"if": given(b), "then": given(a)}]);
    let rules = [
        (
            "GroupFetchRequest",
            "allOf",
            together("member_id", "member_epoch"),
        ),
        (
            "CommitRequest",
            "allOf",
            together("member_id", "member_epoch"),
        ),
        (
            "ProduceRecordDto",
            "allOf",
            json!([both("key", "key_b64"), both("value", "value_b64")]),
        ),
        (
            "TopicConfigDto",
            "allOf",
            json!([both("flush_records", "flush_ms")]),
        ),
        (
            "ResetRequest",
            "allOf",
            json!([
                reset_case("earliest", None),
                reset_case("latest", None),
                reset_case("timestamp", Some("timestamp")),
                reset_case("offset", Some("offset")),
                reset_case("shift", Some("shift")),
            ]),
        ),
    ];
    fn object<'a>(
        schemas: &'a mut std::collections::BTreeMap<String, RefOr<Schema>>,
        name: &str,
    ) -> &'a mut utoipa::openapi::schema::Object {
        match schemas.get_mut(name) {
            Some(RefOr::T(Schema::Object(o))) => o,
            _ => panic!("schema {name} is not an object"),
        }
    }
    for (name, keyword, rule) in rules {
        object(schemas, name).extensions = Some(Extensions::from_iter([(keyword, rule)]));
    }
    // Headers of a record: at most `record_headers_max` (64 by default).
    if let Some(RefOr::T(Schema::Object(h))) = object(schemas, "ProduceRecordDto")
        .properties
        .get_mut("headers")
    {
        h.max_properties = Some(64);
    }
    // A key needs one scope that is not the empty string (empty ones are ignored).
    if let Some(RefOr::T(Schema::Array(a))) =
        object(schemas, "CreateKey").properties.get_mut("scopes")
    {
        a.extensions = Some(Extensions::from_iter([(
            "contains",
            json!({"minLength": 1}),
        )]));
    }
}

/// Every REST route, with the docs page, metrics, the web console (`/ui`), limits and
/// problem+json fallbacks.
pub fn router(state: Arc<ApiState>) -> Router {
    let (api, doc) = api_router().split_for_parts();
    let doc = finish(doc);
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
