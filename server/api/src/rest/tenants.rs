//! REST tenancy: `/v1/admin/tenants`, `/v1/tenants/{tenant}/keys`, `/quotas`, `/usage`, and
//! the token exchange `POST /v1/auth/token` with this server's JWKS.
//!
//! Owns the tenancy DTOs and their conversion (shared with gRPC Admin). Must not hold rules:
//! who may do what is `Principal::authorize` and the broker's tenancy operations.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use weir_broker::tenancy::{ApiKey, Credential, TenantInfo, Usage, parse_scopes};
use weir_broker::{Action, Quotas, TenantId};

use super::extract::Caller;
use super::extract::{ApiPath, LaterJson};
use super::topics::TenantPath;
use crate::access::authorize;
use crate::dto::ints;
use crate::dto::tenants::QuotasChange;
use crate::{ApiError, ApiState, Problem};

/// Every quota of a tenant; 0 = unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotasDto {
    /// Produced bytes per second.
    pub produce_bytes_per_sec: u64,
    /// Fetched bytes per second.
    pub fetch_bytes_per_sec: u64,
    /// Requests per second.
    pub requests_per_sec: u64,
    /// Bytes stored over all partitions.
    pub storage_bytes: u64,
    /// Topics.
    pub topics: u64,
    /// Partitions over all topics.
    pub partitions: u64,
    /// Consumer groups.
    pub groups: u64,
    /// Largest record, bytes (never above the server's limit).
    pub record_bytes_max: u64,
    /// Largest request, bytes (never above the server's limit).
    pub request_bytes_max: u64,
    /// Live tails (`records:stream`) open at once (never above the server's per-tenant
    /// limit, `sse_streams_per_tenant_max`).
    #[serde(default)]
    pub live_tails: u64,
}

impl From<Quotas> for QuotasDto {
    fn from(q: Quotas) -> Self {
        QuotasDto {
            produce_bytes_per_sec: q.produce_bytes_per_sec,
            fetch_bytes_per_sec: q.fetch_bytes_per_sec,
            requests_per_sec: q.requests_per_sec,
            storage_bytes: q.storage_bytes,
            topics: q.topics,
            partitions: q.partitions,
            groups: q.groups,
            record_bytes_max: q.record_bytes_max,
            request_bytes_max: q.request_bytes_max,
            live_tails: q.live_tails,
        }
    }
}

/// What a tenant uses now.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UsageDto {
    /// Produced bytes in the last complete second.
    pub produce_bytes_per_sec: u64,
    /// Fetched bytes in the last complete second.
    pub fetch_bytes_per_sec: u64,
    /// Requests in the last complete second.
    pub requests_per_sec: u64,
    /// Bytes stored.
    pub storage_bytes: u64,
    /// Topics.
    pub topics: u64,
    /// Partitions.
    pub partitions: u64,
    /// Consumer groups.
    pub groups: u64,
    /// Milliseconds responses were held for rate quotas since the server started.
    pub throttle_time_ms_total: u64,
    /// Requests refused for a rate quota since the server started.
    pub throttled_requests_total: u64,
    /// The quotas in force.
    pub quotas: QuotasDto,
}

impl UsageDto {
    fn of(u: Usage, q: Quotas) -> Self {
        UsageDto {
            produce_bytes_per_sec: u.produce_bytes_per_sec,
            fetch_bytes_per_sec: u.fetch_bytes_per_sec,
            requests_per_sec: u.requests_per_sec,
            storage_bytes: u.storage_bytes,
            topics: u.topics,
            partitions: u.partitions,
            groups: u.groups,
            throttle_time_ms_total: u.throttle_time_ms_total,
            throttled_requests_total: u.throttled_requests_total,
            quotas: q.into(),
        }
    }
}

/// A tenant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TenantDto {
    /// Name.
    pub name: String,
    /// Live API keys.
    pub keys: u64,
    /// Usage and quotas.
    pub usage: UsageDto,
}

impl From<TenantInfo> for TenantDto {
    fn from(t: TenantInfo) -> Self {
        TenantDto {
            name: t.name.to_string(),
            keys: t.keys,
            usage: UsageDto::of(t.usage, t.quotas),
        }
    }
}

/// Tenants visible to the caller.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TenantList {
    /// Tenants by name.
    pub tenants: Vec<TenantDto>,
}

/// Body of a tenant creation.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    /// 1 to 63 of a-z, 0-9 and '-', not starting with '-'.
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{0,62}$", max_length = 63)]
    pub name: String,
}

/// Body of an API key creation.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// What the key is for: 1 to 100 bytes of UTF-8 without control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: String,
    /// `admin`, `keys:admin`, `topics:read|write|admin[:pattern]`, `groups:read|write[:pattern]`;
    /// a pattern is a name or a prefix ending in `*`. Never more than the caller holds. At
    /// least one, at most 64; empty strings are ignored.
    #[schema(min_items = 1, max_items = 64, inline)]
    pub scopes: Vec<ScopeName>,
    /// When the key stops working, in milliseconds since the Unix epoch; must be in the future.
    #[serde(default, deserialize_with = "ints::optional")]
    pub expires_at: Option<u64>,
}

/// A scope of a new key: `admin`, `keys:admin`, `topics:read|write|admin[:pattern]` or
/// `groups:read|write[:pattern]`, where a pattern is `*`, a name, or a prefix ending in `*`
/// (names of a-z, A-Z, 0-9, '.', '_', '-'); the empty string is ignored.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(value_type = String, pattern = "^(?:|admin|keys:admin|(?:topics:(?:read|write|admin)|groups:(?:read|write))(?::(?:\\*|[A-Za-z0-9._-]+\\*?))?)$", max_length = 300)]
#[serde(transparent)]
pub struct ScopeName(pub String);

/// An API key, without its secret.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeyDto {
    /// Public id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Created, ms since the epoch.
    pub created_at: u64,
    /// Expiry, ms since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// Revocation, ms since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<u64>,
    /// Subject that created it.
    pub created_by: String,
}

impl From<&ApiKey> for KeyDto {
    fn from(k: &ApiKey) -> Self {
        KeyDto {
            id: k.id.clone(),
            name: k.name.clone(),
            scopes: k.scopes.iter().map(ToString::to_string).collect(),
            created_at: k.created_ms,
            expires_at: k.expires_ms,
            revoked_at: k.revoked_ms,
            created_by: k.created_by.clone(),
        }
    }
}

/// A new key. `key` is the secret: shown in this response only, stored nowhere.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedKeyDto {
    /// The key, as stored.
    #[serde(flatten)]
    pub info: KeyDto,
    /// The secret to use as `Authorization: Bearer <key>`.
    pub key: String,
}

/// Keys of a tenant, revoked ones included.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeyList {
    /// Oldest first.
    pub keys: Vec<KeyDto>,
}

/// Path of a key.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct KeyPath {
    /// Tenant name.
    pub tenant: String,
    /// Key id.
    pub id: String,
}

/// An access token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenDto {
    /// The JWT.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}

/// Create a tenant (admin).
#[utoipa::path(post, path = "/v1/admin/tenants", tag = "tenancy", request_body = CreateTenant,
    responses(
        (status = 201, description = "Created", body = TenantDto),
        (status = 400, description = "`INVALID_REQUEST`: a bad tenant name or a malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`TENANT_ALREADY_EXISTS`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create_tenant(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    body: LaterJson<CreateTenant>,
) -> Result<impl IntoResponse, ApiError> {
    if !caller.is_admin() {
        return Err(ApiError::new(
            weir_proto::ErrorCode::Forbidden,
            format!("{} does not hold admin", caller.subject),
        ));
    }
    let body = body.parse()?;
    let tenant = TenantId::parse(&body.name)?;
    state.broker.create_tenant(&caller, &tenant)?;
    let info = state.broker.tenant_info(&tenant)?;
    Ok((StatusCode::CREATED, axum::Json(TenantDto::from(info))))
}

/// List tenants: every tenant for an admin, else the caller's own.
#[utoipa::path(get, path = "/v1/admin/tenants", tag = "tenancy",
    responses(
        (status = 200, description = "Tenants", body = TenantList),
    ))]
pub(crate) async fn list_tenants(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
) -> axum::Json<TenantList> {
    let tenants = state.broker.list_tenants(&caller);
    axum::Json(TenantList {
        tenants: tenants.into_iter().map(TenantDto::from).collect(),
    })
}

/// Describe a tenant.
#[utoipa::path(get, path = "/v1/admin/tenants/{tenant}", tag = "tenancy", params(TenantPath),
    responses(
        (status = 200, description = "The tenant", body = TenantDto),
        (status = 400, description = "`INVALID_REQUEST`: a bad tenant name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn describe_tenant(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<TenantPath>,
) -> Result<axum::Json<TenantDto>, ApiError> {
    let tenant = authorize(&state, &caller, &path.tenant, Action::ReadTenant)?;
    Ok(axum::Json(state.broker.tenant_info(&tenant)?.into()))
}

/// Delete a tenant without topics or groups (admin); its keys stop working.
#[utoipa::path(delete, path = "/v1/admin/tenants/{tenant}", tag = "tenancy", params(TenantPath),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "`INVALID_REQUEST`: a bad tenant name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`TENANT_NOT_EMPTY`: the tenant still has topics or groups", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn delete_tenant(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<TenantPath>,
) -> Result<StatusCode, ApiError> {
    let tenant = authorize(&state, &caller, &path.tenant, Action::Administer)?;
    state.broker.delete_tenant(&caller, &tenant)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create an API key; the secret is in `key`, in this response only.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/keys", tag = "tenancy", params(TenantPath),
    request_body = CreateKey,
    responses(
        (status = 201, description = "Created", body = CreatedKeyDto),
        (status = 400, description = "`INVALID_REQUEST`: a bad name, scope (or none) or expiry (not in the future), a malformed body, or a bad tenant name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`COUNT_QUOTA_EXCEEDED`: the tenant has 1000 live keys", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create_key(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<TenantPath>,
    body: LaterJson<CreateKey>,
) -> Result<impl IntoResponse, ApiError> {
    let tenant = authorize(&state, &caller, &path.tenant, Action::ManageKeys)?;
    let body = body.parse()?;
    let scopes = parse_scopes(body.scopes.iter().map(|s| s.0.as_str()))?;
    let new = state
        .broker
        .create_key(&caller, &tenant, &body.name, scopes, body.expires_at)?;
    let created = CreatedKeyDto {
        info: KeyDto::from(&new.key),
        key: new.secret,
    };
    Ok((StatusCode::CREATED, axum::Json(created)))
}

/// List a tenant's API keys (never their secrets).
#[utoipa::path(get, path = "/v1/tenants/{tenant}/keys", tag = "tenancy", params(TenantPath),
    responses(
        (status = 200, description = "Keys", body = KeyList),
        (status = 400, description = "`INVALID_REQUEST`: a bad tenant name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_keys(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<TenantPath>,
) -> Result<axum::Json<KeyList>, ApiError> {
    let tenant = authorize(&state, &caller, &path.tenant, Action::ManageKeys)?;
    let keys = state.broker.list_keys(&caller, &tenant)?;
    Ok(axum::Json(KeyList {
        keys: keys.iter().map(KeyDto::from).collect(),
    }))
}

/// Revoke an API key; it stops working at once.
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/keys/{id}", tag = "tenancy", params(KeyPath),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "`INVALID_REQUEST`: a bad tenant name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND` or `KEY_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn revoke_key(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<KeyPath>,
) -> Result<StatusCode, ApiError> {
    let tenant = authorize(&state, &caller, &path.tenant, Action::ManageKeys)?;
    state.broker.revoke_key(&caller, &tenant, &path.id)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A tenant's quotas.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/quotas", tag = "tenancy", params(TenantPath),
    responses(
        (status = 200, description = "Quotas in force", body = QuotasDto),
        (status = 400, description = "`INVALID_REQUEST`: a bad tenant name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn get_quotas(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<TenantPath>,
) -> Result<axum::Json<QuotasDto>, ApiError> {
    let tenant = authorize(&state, &caller, &path.tenant, Action::ReadTenant)?;
    Ok(axum::Json(state.broker.quotas(&tenant).into()))
}

/// Change a tenant's quotas (admin); fields left out keep their value.
#[utoipa::path(put, path = "/v1/tenants/{tenant}/quotas", tag = "tenancy", params(TenantPath),
    request_body = QuotasChange,
    responses(
        (status = 200, description = "Quotas now in force", body = QuotasDto),
        (status = 400, description = "`INVALID_REQUEST`: a malformed body (a value past 2^63 - 1, a negative or fractional one, an unknown field) or a bad tenant name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn set_quotas(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<TenantPath>,
    body: LaterJson<QuotasChange>,
) -> Result<axum::Json<QuotasDto>, ApiError> {
    let tenant = authorize(&state, &caller, &path.tenant, Action::Administer)?;
    let body = body.parse()?;
    let quotas = body.apply_to(state.broker.quotas(&tenant));
    state.broker.set_quotas(&caller, &tenant, quotas)?;
    Ok(axum::Json(quotas.into()))
}

/// What a tenant uses now, with its quotas.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/usage", tag = "tenancy", params(TenantPath),
    responses(
        (status = 200, description = "Usage", body = UsageDto),
        (status = 400, description = "`INVALID_REQUEST`: a bad tenant name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn usage(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<TenantPath>,
) -> Result<axum::Json<UsageDto>, ApiError> {
    let tenant = authorize(&state, &caller, &path.tenant, Action::ReadTenant)?;
    let usage = state.broker.usage(&tenant)?;
    Ok(axum::Json(UsageDto::of(
        usage,
        state.broker.quotas(&tenant),
    )))
}

/// Exchange the API key (or token) in `Authorization` for a short-lived JWT with the same
/// tenant and scopes.
#[utoipa::path(post, path = "/v1/auth/token", tag = "tenancy",
    responses(
        (status = 200, description = "A token", body = TokenDto),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn token(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
) -> Result<axum::Json<TokenDto>, ApiError> {
    // Tokens are not renewed with tokens: each exchange starts from a key that can be revoked.
    if !matches!(
        caller.credential,
        Credential::ApiKey(_) | Credential::Anonymous
    ) {
        return Err(ApiError::new(
            weir_proto::ErrorCode::Unauthenticated,
            "only an API key can be exchanged for a token",
        ));
    }
    let issued = state.auth.issue(&state.broker, &caller)?;
    Ok(axum::Json(TokenDto {
        access_token: issued.token,
        token_type: "Bearer".into(),
        expires_in: issued.expires_in,
    }))
}

/// This server's public signing keys (JWKS), for anyone verifying its tokens.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "tenancy",
    responses((status = 200, description = "JWKS", body = Object)))]
pub(crate) async fn jwks(State(state): State<Arc<ApiState>>) -> axum::Json<serde_json::Value> {
    axum::Json(state.auth.jwks())
}
