//! `Error`: the one error type of the SDK, carrying the server's `ErrorCode` when it sent one.
//!
//! Owns turning a gRPC `Status` into an `Error` (the `weir.v1.ErrorDetail` in the status
//! details, else the `weir-error-code` metadata entry, else the bare gRPC code) and deciding
//! what is worth retrying. Must not retry or log anything itself: callers decide.

use std::time::Duration;

use prost::Message;
use weir_proto::ErrorCode;
use weir_proto::v1::ErrorDetail;

/// gRPC metadata key carrying the ErrorCode next to the status details (server contract).
pub const ERROR_CODE_METADATA_KEY: &str = "weir-error-code";

/// Why an SDK call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The server refused the request with one of Weir's error codes.
    #[error("{code}: {message}")]
    Server {
        /// The stable code, e.g. `TOPIC_NOT_FOUND`.
        code: ErrorCode,
        /// The server's message.
        message: String,
        /// How long the server asked the caller to wait before retrying.
        retry_after: Option<Duration>,
    },
    /// The server answered with a gRPC status that carries no Weir error code (an older or
    /// foreign server, a proxy, a code this SDK version does not know).
    #[error("grpc status {code:?}: {message}")]
    Grpc {
        /// The gRPC status code.
        code: tonic::Code,
        /// The status message.
        message: String,
    },
    /// No connection to the server (refused, reset, dropped).
    #[error("cannot reach weir at {url}: {reason}")]
    Transport {
        /// The URL the client connects to.
        url: String,
        /// The innermost transport error.
        reason: String,
    },
    /// A call or an operation did not finish in time.
    #[error("{what} timed out after {after:?}")]
    Timeout {
        /// What was waited for.
        what: &'static str,
        /// How long it was waited for.
        after: Duration,
    },
    /// The producer or consumer was closed (or its background task ended).
    #[error("the {0} is closed")]
    Closed(&'static str),
    /// A setting or an argument is not usable.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The producer's buffer is full and the producer was told to fail rather than wait.
    #[error("producer buffer of {buffer_bytes} bytes is full")]
    BufferFull {
        /// The producer's `buffer_bytes`.
        buffer_bytes: usize,
    },
    /// Bytes from the server could not be decoded as RecordBatch v2.
    #[error("corrupt data from the server: {0}")]
    Corrupt(String),
}

impl Error {
    /// Weir's error code, when the server sent one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Server { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether the same request may succeed if sent again later unchanged: retryable server
    /// codes (`ErrorCode::is_retryable`), unreachable servers, timeouts and a full buffer.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Server { code, .. } => code.is_retryable(),
            Error::Grpc { code, .. } => matches!(
                code,
                tonic::Code::Unavailable | tonic::Code::ResourceExhausted
            ),
            Error::Transport { .. } | Error::Timeout { .. } | Error::BufferFull { .. } => true,
            Error::Closed(_) | Error::InvalidArgument(_) | Error::Corrupt(_) => false,
        }
    }

    /// How long the server asked to wait before a retry, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Server { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The error for a non-OK `status` from the server at `url`.
    pub fn from_status(status: &tonic::Status, url: &str) -> Error {
        if let Some(e) = from_detail(status) {
            return e;
        }
        if let Some(code) = metadata_code(status) {
            return Error::Server {
                code,
                message: status.message().to_owned(),
                retry_after: None,
            };
        }
        if is_transport_failure(status) {
            return Error::Transport {
                url: url.to_owned(),
                reason: status_reason(status),
            };
        }
        Error::Grpc {
            code: status.code(),
            message: status.message().to_owned(),
        }
    }

    /// The error for an `ErrorDetail` carried inside a successful message (a ProduceStream
    /// response that failed on its own).
    pub fn from_detail(detail: &ErrorDetail) -> Error {
        match ErrorCode::parse(&detail.code) {
            Some(code) => Error::Server {
                code,
                message: detail.message.clone(),
                retry_after: retry_after(detail.retry_after_ms),
            },
            None => Error::Grpc {
                code: tonic::Code::Unknown,
                message: format!("{}: {}", detail.code, detail.message),
            },
        }
    }

    /// The error for a failed connection attempt to `url`.
    pub fn transport(url: &str, error: &(dyn std::error::Error + 'static)) -> Error {
        Error::Transport {
            url: url.to_owned(),
            reason: innermost(error),
        }
    }
}

/// `fut`'s outcome, or `Error::Timeout` naming `what` once `after` has passed.
pub(crate) async fn within<T>(
    what: &'static str,
    after: Duration,
    fut: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    tokio::time::timeout(after, fut)
        .await
        .unwrap_or(Err(Error::Timeout { what, after }))
}

fn retry_after(ms: u64) -> Option<Duration> {
    (ms > 0).then(|| Duration::from_millis(ms))
}

fn from_detail(status: &tonic::Status) -> Option<Error> {
    let detail = ErrorDetail::decode(status.details()).ok()?;
    if detail.code.is_empty() {
        return None;
    }
    Some(Error::from_detail(&detail))
}

fn metadata_code(status: &tonic::Status) -> Option<ErrorCode> {
    let value = status.metadata().get(ERROR_CODE_METADATA_KEY)?;
    ErrorCode::parse(value.to_str().ok()?)
}

/// tonic reports a refused connection as UNAVAILABLE, one closed under a call as CANCELLED,
/// and a channel that could not get ready as UNKNOWN "service was not ready"; none carries a
/// Weir error detail.
fn is_transport_failure(status: &tonic::Status) -> bool {
    match status.code() {
        tonic::Code::Unavailable | tonic::Code::Cancelled => true,
        // "not ready": the channel is reconnecting; "h2 protocol error": the connection broke
        // under an open stream (reset, cut by a proxy).
        tonic::Code::Unknown => {
            let message = status.message().to_ascii_lowercase();
            message.contains("not ready") || message.contains("h2 protocol error")
        }
        _ => false,
    }
}

fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut deepest = error;
    while let Some(next) = deepest.source() {
        deepest = next;
    }
    deepest.to_string()
}

fn status_reason(status: &tonic::Status) -> String {
    match std::error::Error::source(status) {
        Some(cause) => innermost(cause),
        None => status.message().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://127.0.0.1:8781";

    #[test]
    fn detail_gives_code_message_and_retry_after() {
        let detail = ErrorDetail {
            code: "QUOTA_EXCEEDED".into(),
            message: "slow down".into(),
            retry_after_ms: 250,
        };
        let status = tonic::Status::with_details(
            tonic::Code::ResourceExhausted,
            "ignored",
            detail.encode_to_vec().into(),
        );
        let e = Error::from_status(&status, URL);
        assert_eq!(e.code(), Some(ErrorCode::QuotaExceeded));
        assert!(e.is_retryable());
        assert_eq!(e.retry_after(), Some(Duration::from_millis(250)));
        assert_eq!(e.to_string(), "QUOTA_EXCEEDED: slow down");
    }

    #[test]
    fn metadata_code_is_used_without_details() {
        let mut status = tonic::Status::not_found("topic \"t\" not found");
        status
            .metadata_mut()
            .insert(ERROR_CODE_METADATA_KEY, "TOPIC_NOT_FOUND".parse().unwrap());
        let e = Error::from_status(&status, URL);
        assert_eq!(e.code(), Some(ErrorCode::TopicNotFound));
        assert!(!e.is_retryable());
    }

    #[test]
    fn bare_statuses_are_transport_or_grpc_errors() {
        let gone = Error::from_status(&tonic::Status::unavailable("connection refused"), URL);
        assert!(matches!(gone, Error::Transport { .. }));
        assert!(gone.is_retryable());
        let missing = Error::from_status(&tonic::Status::unimplemented("no"), URL);
        assert!(matches!(
            missing,
            Error::Grpc {
                code: tonic::Code::Unimplemented,
                ..
            }
        ));
        assert!(!missing.is_retryable());
    }
}
