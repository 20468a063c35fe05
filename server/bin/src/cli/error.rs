//! `CliError`: why a client command failed, worded for the person at the terminal.
//!
//! Owns wording failures for a person: Weir's stable `ErrorCode` and message, or that the
//! server is unreachable. Reading a gRPC status is the SDK's job (`weir::Error::from_status`).
//! Must not print anything: `main` prints the error once and exits with code 1.

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
    /// Weir's error code when the server sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            CliError::Server { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// The SDK reads statuses (ErrorDetail, metadata code, transport failures); this only words
/// the result for the terminal.
impl From<weir_sdk::Error> for CliError {
    fn from(e: weir_sdk::Error) -> Self {
        match e {
            weir_sdk::Error::Server { code, message, .. } => CliError::Server {
                code: code.as_str().to_owned(),
                message,
            },
            weir_sdk::Error::Transport { url, reason } => CliError::Unreachable { url, reason },
            weir_sdk::Error::Grpc { code, message } => CliError::Server {
                code: format!("GRPC_{}", grpc_code_name(code)),
                message,
            },
            weir_sdk::Error::InvalidArgument(message) => CliError::Usage(message),
            other => CliError::Incomplete(other.to_string()),
        }
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
    use prost::Message;
    use weir_proto::v1::ErrorDetail;

    use super::*;

    const URL: &str = "http://127.0.0.1:8781";

    fn from_status(status: &tonic::Status) -> CliError {
        weir_sdk::Error::from_status(status, URL).into()
    }

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
        let e = from_status(&status);
        assert_eq!(e.code(), Some("TOPIC_NOT_FOUND"));
        assert_eq!(e.to_string(), "TOPIC_NOT_FOUND: topic \"t\" not found");
    }

    #[test]
    fn bare_statuses_name_the_grpc_code_or_the_unreachable_url() {
        let gone = from_status(&tonic::Status::unavailable("connection refused"));
        assert_eq!(
            gone.to_string(),
            format!("cannot reach weir at {URL}: connection refused (is `weir serve` running?)")
        );
        let missing = from_status(&tonic::Status::unimplemented("no such method"));
        assert_eq!(missing.code(), Some("GRPC_UNIMPLEMENTED"));
    }
}
