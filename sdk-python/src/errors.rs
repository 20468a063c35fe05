//! `weir::Error` → Python exceptions of `weir.errors`.
//!
//! Owns the arguments every exception is built from: message, server `ErrorCode` name (or
//! `None` for client-side failures), whether a retry may succeed, the server's retry delay and
//! a `kind` for client-side failures. `weir.errors.WeirError.__new__` picks the subclass from
//! the code or kind, so the one lazily built `WeirError` (no GIL needed to create it, which
//! matters inside tokio tasks) arrives in Python as `TopicNotFound`, `Timeout`, ...
//! Must not decide retryability itself: that is `weir::Error::is_retryable`.

use pyo3::prelude::*;

pyo3::import_exception!(weir.errors, WeirError);

/// Kinds of client-side failures (no server error code); `weir.errors` maps them to classes.
const KIND_SERVER: &str = "server";
const KIND_GRPC: &str = "grpc";
const KIND_TRANSPORT: &str = "transport";
const KIND_TIMEOUT: &str = "timeout";
const KIND_CLOSED: &str = "closed";
const KIND_INVALID_ARGUMENT: &str = "invalid_argument";
const KIND_BUFFER_FULL: &str = "buffer_full";
const KIND_CORRUPT: &str = "corrupt";

/// The Python exception for an SDK error.
pub(crate) fn to_py(error: weir::Error) -> PyErr {
    let message = error.to_string();
    let retryable = error.is_retryable();
    let retry_after = error.retry_after().map(|d| d.as_secs_f64());
    let (code, kind) = match &error {
        weir::Error::Server { code, .. } => (Some(code.as_str()), KIND_SERVER),
        weir::Error::Grpc { .. } => (None, KIND_GRPC),
        weir::Error::Transport { .. } => (None, KIND_TRANSPORT),
        weir::Error::Timeout { .. } => (None, KIND_TIMEOUT),
        weir::Error::Closed(_) => (None, KIND_CLOSED),
        weir::Error::InvalidArgument(_) => (None, KIND_INVALID_ARGUMENT),
        weir::Error::BufferFull { .. } => (None, KIND_BUFFER_FULL),
        weir::Error::Corrupt(_) => (None, KIND_CORRUPT),
    };
    WeirError::new_err((message, code, retryable, retry_after, kind))
}

/// `weir.InvalidArgument` (also a `ValueError`) for a setting or argument the SDK refuses.
pub(crate) fn invalid_argument(message: impl Into<String>) -> PyErr {
    to_py(weir::Error::InvalidArgument(message.into()))
}

/// `weir.Timeout` (also a `TimeoutError`) for a wait of the Python API that ran out, e.g.
/// `SendFuture.result(timeout=...)`.
pub(crate) fn timed_out(what: &str, after: std::time::Duration) -> PyErr {
    WeirError::new_err((
        format!("{what} timed out after {:.3}s", after.as_secs_f64()),
        None::<&str>,
        true,
        None::<f64>,
        KIND_TIMEOUT,
    ))
}

/// `weir.Closed` for a call on a closed client.
pub(crate) fn closed(what: &'static str) -> PyErr {
    to_py(weir::Error::Closed(what))
}

pub(crate) trait IntoPyResult<T> {
    /// Maps the SDK error to its Python exception.
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for Result<T, weir::Error> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

/// Every server error code with whether it is retryable, for `weir.errors` to check its
/// classes against (a test fails when a code has no class).
#[pyfunction]
pub(crate) fn error_codes() -> Vec<(&'static str, bool)> {
    weir::ErrorCode::ALL
        .iter()
        .map(|c| (c.as_str(), c.is_retryable()))
        .collect()
}
