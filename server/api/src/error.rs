//! `ApiError` and the one place where an `ErrorCode` becomes an HTTP status (with an RFC 9457
//! problem+json body) or a gRPC status (with `weir.v1.ErrorDetail` in its details).
//!
//! Must not be bypassed: every handler, REST or gRPC, reports failures through `ApiError`, so
//! both transports give a caller the same code for the same mistake.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prost::Message;
use serde::Serialize;
use utoipa::ToSchema;
use weir_broker::BrokerError;
use weir_proto::ErrorCode;
use weir_proto::v1::ErrorDetail;

/// gRPC metadata key carrying the ErrorCode next to the status details.
pub const GRPC_ERROR_CODE_KEY: &str = "weir-error-code";

/// A failure to report to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// Stable code.
    pub code: ErrorCode,
    /// Human-readable detail, lowercase, no trailing period.
    pub message: String,
    /// When the caller may retry.
    pub retry_after: Option<Duration>,
    /// The rate quota (per second) that refused the request, for `RateLimit-*` headers.
    pub rate_limit: Option<u64>,
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            retry_after: None,
            rate_limit: None,
        }
    }

    /// `INVALID_REQUEST` with a message.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    /// The `weir.v1.ErrorDetail` a gRPC caller sees: in a status's details, or in a stream
    /// response or record position that failed on its own.
    pub fn detail(&self) -> ErrorDetail {
        ErrorDetail {
            code: self.code.as_str().to_owned(),
            message: self.message.clone(),
            retry_after_ms: self
                .retry_after
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        }
    }

    /// The gRPC form: code, message, `ErrorDetail` in the details, code in the metadata.
    pub fn into_status(self) -> tonic::Status {
        metrics::counter!("weir_errors_total", "code" => self.code.as_str(), "transport" => "grpc")
            .increment(1);
        let detail = self.detail();
        let mut status = tonic::Status::with_details(
            grpc_code(self.code),
            self.message,
            detail.encode_to_vec().into(),
        );
        if let Ok(v) = self.code.as_str().parse() {
            status.metadata_mut().insert(GRPC_ERROR_CODE_KEY, v);
        }
        status
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl From<BrokerError> for ApiError {
    fn from(e: BrokerError) -> Self {
        let rate_limit = match &e {
            BrokerError::Throttled(r) => Some(r.limit),
            _ => None,
        };
        ApiError {
            code: e.code(),
            retry_after: e.retry_after(),
            rate_limit,
            message: e.to_string(),
        }
    }
}

impl From<ApiError> for tonic::Status {
    fn from(e: ApiError) -> Self {
        e.into_status()
    }
}

/// HTTP status for each code. The only such table in Weir.
pub fn http_status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidRequest
        | ErrorCode::InvalidConfig
        | ErrorCode::InvalidBatch
        | ErrorCode::InvalidPartitions
        | ErrorCode::InvalidSessionTimeout
        | ErrorCode::InvalidRecord
        | ErrorCode::InvalidRequiredAcks => StatusCode::BAD_REQUEST,
        ErrorCode::TenantNotFound
        | ErrorCode::TopicNotFound
        | ErrorCode::PartitionNotFound
        | ErrorCode::GroupNotFound
        | ErrorCode::KeyNotFound
        | ErrorCode::NodeNotFound
        | ErrorCode::RouteNotFound => StatusCode::NOT_FOUND,
        ErrorCode::GroupNotEmpty
        | ErrorCode::UnknownMember
        | ErrorCode::StaleMemberEpoch
        | ErrorCode::PartitionNotAssigned
        | ErrorCode::GroupMaxSizeReached
        | ErrorCode::TenantNotEmpty
        | ErrorCode::CountQuotaExceeded
        | ErrorCode::OutOfOrderSequence
        | ErrorCode::MembershipConflict => StatusCode::CONFLICT,
        ErrorCode::TopicAlreadyExists | ErrorCode::TenantAlreadyExists => StatusCode::CONFLICT,
        ErrorCode::OffsetOutOfRange => StatusCode::RANGE_NOT_SATISFIABLE,
        ErrorCode::RecordTooLarge
        | ErrorCode::BatchTooLarge
        | ErrorCode::RequestTooLarge
        | ErrorCode::OffsetMetadataTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::QuotaExceeded => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::StorageQuotaExceeded => StatusCode::INSUFFICIENT_STORAGE,
        ErrorCode::StorageUnavailable | ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Timeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// gRPC status code for each code. The only such table in Weir.
pub fn grpc_code(code: ErrorCode) -> tonic::Code {
    match code {
        ErrorCode::InvalidRequest
        | ErrorCode::InvalidConfig
        | ErrorCode::InvalidBatch
        | ErrorCode::InvalidPartitions
        | ErrorCode::InvalidSessionTimeout
        | ErrorCode::InvalidRecord
        | ErrorCode::InvalidRequiredAcks
        | ErrorCode::RecordTooLarge
        | ErrorCode::BatchTooLarge
        | ErrorCode::RequestTooLarge
        | ErrorCode::OffsetMetadataTooLarge => tonic::Code::InvalidArgument,
        ErrorCode::TenantNotFound
        | ErrorCode::TopicNotFound
        | ErrorCode::PartitionNotFound
        | ErrorCode::GroupNotFound
        | ErrorCode::KeyNotFound
        | ErrorCode::NodeNotFound
        | ErrorCode::RouteNotFound => tonic::Code::NotFound,
        ErrorCode::GroupNotEmpty
        | ErrorCode::UnknownMember
        | ErrorCode::StaleMemberEpoch
        | ErrorCode::PartitionNotAssigned
        | ErrorCode::TenantNotEmpty
        | ErrorCode::OutOfOrderSequence
        | ErrorCode::MembershipConflict => tonic::Code::FailedPrecondition,
        ErrorCode::GroupMaxSizeReached
        | ErrorCode::StorageQuotaExceeded
        | ErrorCode::CountQuotaExceeded => tonic::Code::ResourceExhausted,
        ErrorCode::TopicAlreadyExists | ErrorCode::TenantAlreadyExists => {
            tonic::Code::AlreadyExists
        }
        ErrorCode::OffsetOutOfRange => tonic::Code::OutOfRange,
        ErrorCode::Unauthenticated => tonic::Code::Unauthenticated,
        ErrorCode::Forbidden => tonic::Code::PermissionDenied,
        ErrorCode::QuotaExceeded => tonic::Code::ResourceExhausted,
        ErrorCode::StorageUnavailable | ErrorCode::Unavailable => tonic::Code::Unavailable,
        ErrorCode::Timeout => tonic::Code::DeadlineExceeded,
        ErrorCode::MethodNotAllowed => tonic::Code::Unimplemented,
        ErrorCode::Internal => tonic::Code::Internal,
    }
}

/// RFC 9457 problem details, as every REST error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:weir:error:<CODE>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary of the problem type (the HTTP reason phrase).
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// Stable Weir error code, e.g. `TOPIC_NOT_FOUND`.
    pub code: String,
    /// Whether the same request may succeed later.
    pub retryable: bool,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        metrics::counter!("weir_errors_total", "code" => self.code.as_str(), "transport" => "http")
            .increment(1);
        let status = http_status(self.code);
        let body = Problem {
            type_uri: format!("urn:weir:error:{}", self.code),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.message,
            code: self.code.as_str().to_owned(),
            retryable: self.code.is_retryable(),
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = (status, json).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(after) = self.retry_after {
            let secs = after.as_secs_f64().ceil().max(1.0) as u64;
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
            if let Some(limit) = self.rate_limit {
                // draft-ietf-httpapi-ratelimit-headers: the quota, nothing left, when to retry.
                headers.insert("ratelimit-limit", HeaderValue::from(limit));
                headers.insert("ratelimit-remaining", HeaderValue::from(0));
                headers.insert("ratelimit-reset", HeaderValue::from(secs));
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_maps_to_an_error_status_on_both_transports() {
        for code in ErrorCode::ALL {
            let http = http_status(code);
            assert!(http.is_client_error() || http.is_server_error(), "{code}");
            assert_ne!(grpc_code(code), tonic::Code::Ok, "{code}");
        }
        // Bad input is never a 5xx.
        for code in [
            ErrorCode::InvalidRequest,
            ErrorCode::RecordTooLarge,
            ErrorCode::TopicNotFound,
        ] {
            assert!(http_status(code).is_client_error());
        }
    }

    #[test]
    fn kafka_named_codes_are_client_errors() {
        for (code, http) in [
            (ErrorCode::InvalidPartitions, StatusCode::BAD_REQUEST),
            (ErrorCode::InvalidSessionTimeout, StatusCode::BAD_REQUEST),
            (ErrorCode::InvalidRecord, StatusCode::BAD_REQUEST),
            (ErrorCode::InvalidRequiredAcks, StatusCode::BAD_REQUEST),
            (
                ErrorCode::OffsetMetadataTooLarge,
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
        ] {
            assert_eq!(http_status(code), http, "{code}");
            assert_eq!(grpc_code(code), tonic::Code::InvalidArgument, "{code}");
        }
    }

    #[test]
    fn grpc_status_carries_the_error_code() {
        let status = ApiError::new(ErrorCode::TopicNotFound, "topic \"x\" not found").into_status();
        assert_eq!(status.code(), tonic::Code::NotFound);
        let detail = ErrorDetail::decode(status.details()).unwrap();
        assert_eq!(detail.code, "TOPIC_NOT_FOUND");
        assert_eq!(
            status.metadata().get(GRPC_ERROR_CODE_KEY).unwrap(),
            "TOPIC_NOT_FOUND"
        );
    }
}
