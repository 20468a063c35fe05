//! Running SDK futures from Python: the shared tokio runtime, blocking waits with the GIL
//! released (sync API), the fast path that completes a ready future without releasing it, and
//! asyncio awaitables (async API).
//!
//! Owns the rule that no Python thread ever blocks on the network while attached to the
//! interpreter, and that blocking waits run in `SIGNAL_CHECK` slices so Ctrl-C raises
//! `KeyboardInterrupt` promptly. Must not run Python code inside the runtime: callbacks are
//! queued and run by the caller's thread (see `consumer.rs`).

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

/// Longest a blocking call waits without looking for pending signals (Ctrl-C).
pub(crate) const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// The runtime every client of the process shares (created on first use, multi-threaded).
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    pyo3_async_runtimes::tokio::get_runtime()
}

/// Refuses a blocking call from inside the runtime (it would panic or deadlock there).
fn not_in_runtime() -> PyResult<()> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(PyRuntimeError::new_err(
            "a blocking weir call cannot run on the client's own runtime threads",
        ));
    }
    Ok(())
}

/// Polls `fut` once (inside the runtime's context, GIL held): its output when it is ready at
/// once, as a queued `send` usually is.
pub(crate) fn now<F: Future>(fut: Pin<&mut F>) -> Option<F::Output> {
    let _context = runtime().enter();
    fut.now_or_never()
}

/// Runs `fut` with the GIL released until it completes or `timeout` passes (`Ok(None)`);
/// checks for signals every `SIGNAL_CHECK` (a `KeyboardInterrupt` drops `fut`).
pub(crate) fn wait_for<F>(
    py: Python<'_>,
    fut: F,
    timeout: Option<Duration>,
) -> PyResult<Option<F::Output>>
where
    F: Future + Send,
    F::Output: Send,
{
    not_in_runtime()?;
    let rt = runtime();
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut fut = std::pin::pin!(fut);
    loop {
        let slice = match deadline {
            Some(d) => d
                .saturating_duration_since(Instant::now())
                .min(SIGNAL_CHECK),
            None => SIGNAL_CHECK,
        };
        let pinned = fut.as_mut();
        let out = py.detach(|| rt.block_on(async { tokio::time::timeout(slice, pinned).await }));
        if let Ok(output) = out {
            return Ok(Some(output));
        }
        py.check_signals()?;
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(None);
        }
    }
}

/// Runs `fut` to completion with the GIL released (interruptible by Ctrl-C).
pub(crate) fn wait<F>(py: Python<'_>, fut: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    // Without a deadline `wait_for` only returns once `fut` completed.
    wait_for(py, fut, None)?
        .ok_or_else(|| PyRuntimeError::new_err("a wait without deadline ended early"))
}

/// An asyncio awaitable for `fut`, driven by the shared runtime.
pub(crate) fn awaitable<'py, F, T>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    pyo3_async_runtimes::tokio::future_into_py(py, fut)
}

/// A duration from a Python number of seconds; `None` stays `None`.
pub(crate) fn seconds(value: Option<f64>, what: &str) -> PyResult<Option<Duration>> {
    match value {
        None => Ok(None),
        Some(s) if s.is_finite() && s >= 0.0 => Ok(Some(Duration::from_secs_f64(s))),
        Some(_) => Err(crate::errors::invalid_argument(format!(
            "{what} must be a number of seconds >= 0"
        ))),
    }
}
