//! `weir::Error` → the rejection the JavaScript layer (`lib/errors.js`) turns into a
//! `WeirError`.
//!
//! Owns the one encoding of an error that crosses into JavaScript: the message
//! `weir-error:` followed by a JSON object (message, server `code` or null, `kind`,
//! `retryable`, `retryAfterMs`). Must not decide retryability itself: that is
//! `weir::Error::is_retryable`.

use napi::Status;
use serde_json::json;

/// Prefix of every message the JavaScript layer decodes into a `WeirError`.
pub(crate) const MARK: &str = "weir-error:";

/// The kind of failure, for errors the server did not send a code for.
fn kind(error: &weir::Error) -> &'static str {
    match error {
        weir::Error::Server { .. } => "server",
        weir::Error::Grpc { .. } => "grpc",
        weir::Error::Transport { .. } => "transport",
        weir::Error::Timeout { .. } => "timeout",
        weir::Error::Closed(_) => "closed",
        weir::Error::InvalidArgument(_) => "invalid_argument",
        weir::Error::BufferFull { .. } => "buffer_full",
        weir::Error::Corrupt(_) => "corrupt",
    }
}

fn encode(
    message: String,
    code: Option<&str>,
    kind: &str,
    retryable: bool,
    retry_after_ms: Option<u64>,
) -> napi::Error {
    let body = json!({
        "message": message,
        "code": code,
        "kind": kind,
        "retryable": retryable,
        "retryAfterMs": retry_after_ms,
    });
    napi::Error::new(Status::GenericFailure, format!("{MARK}{body}"))
}

/// The rejection for an SDK error.
pub(crate) fn to_napi(error: weir::Error) -> napi::Error {
    let retry_after_ms = error
        .retry_after()
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    encode(
        error.to_string(),
        error.code().map(weir::ErrorCode::as_str),
        kind(&error),
        error.is_retryable(),
        retry_after_ms,
    )
}

/// An argument or setting the binding refuses before the SDK sees it.
pub(crate) fn invalid(message: impl Into<String>) -> napi::Error {
    to_napi(weir::Error::InvalidArgument(message.into()))
}

/// A wait given up because its `AbortSignal` fired.
pub(crate) fn aborted(what: &str) -> napi::Error {
    encode(format!("{what} was aborted"), None, "aborted", false, None)
}

/// `Result<T, weir::Error>` → `napi::Result<T>`.
pub(crate) trait IntoNapi<T> {
    fn napi(self) -> napi::Result<T>;
}

impl<T> IntoNapi<T> for Result<T, weir::Error> {
    fn napi(self) -> napi::Result<T> {
        self.map_err(to_napi)
    }
}
