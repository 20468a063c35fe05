//! Request extractors whose rejections are problem+json `ApiError`s instead of axum's plain
//! text: a malformed body, query or path is an `INVALID_REQUEST` (or `REQUEST_TOO_LARGE`) the
//! caller can read, never an HTML page or a bare 422. `Caller` takes the credential to the
//! front door (`access::enter`).

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use weir_proto::ErrorCode;

use std::sync::Arc;

use axum::http::header::AUTHORIZATION;
use weir_broker::Principal;

use crate::{ApiError, ApiState};

/// `axum::Json` with problem+json rejections.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(ApiError::invalid(
                "expected a body with content-type application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                ApiError::invalid(lowercase_first(&r.body_text()))
            }
        })?;
        // Structs from JSON objects only (see `objects`). When that refuses a body, axum's
        // reading names the field that is wrong; when axum would take it, the body had an
        // array where an object belongs.
        match super::objects::from_slice::<T>(&bytes) {
            Ok(value) => Ok(ApiJson(value)),
            Err(e) => Err(match axum::Json::<T>::from_bytes(&bytes) {
                Err(rejection) => json_rejection(rejection),
                Ok(_) => ApiError::invalid(format!(
                    "failed to deserialize the JSON body into the target type: {e}"
                )),
            }),
        }
    }
}

/// Whether a request says its body is JSON (`application/json` or `application/*+json`), as
/// axum's `Json` decides it.
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
}

fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::RequestTooLarge,
        "request body exceeds request_bytes_max",
    )
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let text = rejection.body_text();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large();
    }
    if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
        return ApiError::invalid("expected a body with content-type application/json");
    }
    ApiError::invalid(lowercase_first(&text))
}

/// A JSON body read but not yet judged. Handlers check the caller first and then call
/// `parse`, so a caller without the right learns 401/403/404 and never what is wrong with its
/// body. Rejections are those of `ApiJson`.
#[derive(Debug)]
pub struct LaterJson<T>(Result<T, ApiError>);

impl<S, T> FromRequest<S> for LaterJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(LaterJson(
            ApiJson::<T>::from_request(req, state).await.map(|j| j.0),
        ))
    }
}

impl<T> LaterJson<T> {
    /// The body, or why it is not acceptable.
    pub fn parse(self) -> Result<T, ApiError> {
        self.0
    }
}

/// `axum::extract::Query` with problem+json rejections.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|r: QueryRejection| ApiError::invalid(lowercase_first(&r.body_text())))
    }
}

/// `axum::extract::Path` with problem+json rejections.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|r: PathRejection| ApiError::invalid(lowercase_first(&r.body_text())))
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The verified caller of a REST request.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl FromRequestParts<Arc<ApiState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ApiState>,
    ) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).map(|v| v.as_bytes());
        let principal = crate::access::enter(state, header, parts.extensions.get()).await?;
        Ok(Caller(principal))
    }
}
