//! `CliError`: why a client command failed, worded for the person at the terminal.
//!
//! Owns turning a gRPC `Status` into a message that names Weir's stable `ErrorCode` (from the
//! `weir.v1.ErrorDetail` in the status details) or says the server is unreachable. Must not
//! print anything: `main` prints the error once and exits with code 1.

use prost::Message;
use weir_proto::v1::ErrorDetail;

/// A failed client command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// No connection to the server (refused, timed out, dropped).
    #[error("cannot reach weir at {url}: {reason} (is `weir serve` running?)")]
    Unreachable {
        /// The `--url` the command used.
        url: String,
        /// The innermost transport error.
        reason: String,
    },
    /// The server answered with an error.
    #[error("{code}: {message}")]
    Server {
        /// Weir's stable code (e.g. `TOPIC_NOT_FOUND`), or `GRPC_<CODE>` when the status
        /// carried no Weir error detail.
        code: String,
        /// The server's message.
        message: String,
    },
    /// The command line or the input is not usable.
    #[error("{0}")]
    Usage(String),
    /// The command finished but part of its work failed (reported above it).
    #[error("{0}")]
    Incomplete(String),
    /// Reading input or writing output failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl CliError {
    /// The error for a non-OK `status` from the server at `url`.
    pub fn from_status(status: &tonic::Status, url: &str) -> Self {
        if let Ok(detail) = ErrorDetail::decode(status.details())
            && !detail.code.is_empty()
        {
            return CliError::Server {
                code: detail.code,
                message: detail.message,
            };
        }
        if is_transport_failure(status) {
            return CliError::Unreachable {
                url: url.to_owned(),
                reason: status_reason(status),
            };
        }
        CliError::Server {
            code: format!("GRPC_{}", grpc_code_name(status.code())),
            message: status.message().to_owned(),
        }
    }

    /// The error for a failed connection attempt to `url`.
    pub fn unreachable(url: &str, error: &tonic::transport::Error) -> Self {
        CliError::Unreachable {
            url: url.to_owned(),
            reason: innermost(error),
        }
    }

    /// Weir's error code when the server sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            CliError::Server { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// tonic reports a refused connection as UNAVAILABLE, one closed under a call (the server
/// stopped) as CANCELLED, and a channel that could not get ready as UNKNOWN "service was not
/// ready"; none of them carries a Weir error detail.
fn is_transport_failure(status: &tonic::Status) -> bool {
    match status.code() {
        tonic::Code::Unavailable | tonic::Code::Cancelled => true,
        tonic::Code::Unknown => status.message().to_ascii_lowercase().contains("not ready"),
        _ => false,
    }
}

/// The deepest message in an error's source chain: "connection refused" says more than
/// "transport error".
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut deepest = error;
    while let Some(next) = deepest.source() {
        deepest = next;
    }
    deepest.to_string()
}

/// What went wrong under a status: its transport cause when tonic kept one, else its message.
fn status_reason(status: &tonic::Status) -> String {
    match std::error::Error::source(status) {
        Some(cause) => innermost(cause),
        None => status.message().to_owned(),
    }
}

/// SCREAMING_SNAKE name of a gRPC code, as the gRPC spec spells it.
fn grpc_code_name(code: tonic::Code) -> &'static str {
    use tonic::Code;
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://127.0.0.1:8781";

    #[test]
    fn weir_error_detail_wins_over_the_grpc_code() {
        let detail = ErrorDetail {
            code: "TOPIC_NOT_FOUND".into(),
            message: "topic \"t\" not found".into(),
            retry_after_ms: 0,
        };
        let status = tonic::Status::with_details(
            tonic::Code::NotFound,
            "ignored",
            detail.encode_to_vec().into(),
        );
        let e = CliError::from_status(&status, URL);
        assert_eq!(e.code(), Some("TOPIC_NOT_FOUND"));
        assert_eq!(e.to_string(), "TOPIC_NOT_FOUND: topic \"t\" not found");
    }

    #[test]
    fn bare_statuses_name_the_grpc_code_or_the_unreachable_url() {
        let gone = CliError::from_status(&tonic::Status::unavailable("connection refused"), URL);
        assert_eq!(
            gone.to_string(),
            format!("cannot reach weir at {URL}: connection refused (is `weir serve` running?)")
        );
        let missing = CliError::from_status(&tonic::Status::unimplemented("no such method"), URL);
        assert_eq!(missing.code(), Some("GRPC_UNIMPLEMENTED"));
    }
}
