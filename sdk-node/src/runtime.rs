//! Running SDK futures for JavaScript: promises driven by napi's tokio runtime (the one every
//! client of the process shares, where the Rust SDK spawns its own tasks), call-order
//! preservation, and cancellation by `AbortSignal`.
//!
//! Owns the rule that no call blocks the JavaScript thread: every method polls its future
//! once, inside the runtime's context, while JavaScript waits for the call to return (so a
//! future that takes its place in a queue, like the producer's order lock, takes it in call
//! order); a future done by then gives its value at once (a poll with records ready), any
//! other is handed to the runtime and a promise returned. Also owns the registry of
//! cancellation ids: a call with an `AbortSignal` takes an id from `next_cancel_id`, and
//! `cancel(id)` (called from the signal's `abort` listener) ends that call's wait. The ids
//! are handed out here, not in JavaScript, because the registry is one per process while
//! every `worker_thread` has its own JavaScript globals. Must not know any SDK type.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{LazyLock, Mutex};

use futures_util::FutureExt;
use napi::bindgen_prelude::{Either, PromiseRaw, ToNapiValue, within_runtime_if_available};
use napi::{Env, Result};
use tokio::sync::watch;

use crate::error::aborted;

/// Cancellation senders of the calls running with an `AbortSignal`, by id.
static CANCELS: LazyLock<Mutex<HashMap<u32, watch::Sender<bool>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The next cancellation id; shared by every thread of the process.
static NEXT_CANCEL_ID: AtomicU32 = AtomicU32::new(1);

/// A cancellation id no other running call of the process holds (ids wrap after 2³² calls,
/// long after the call that held an id has finished).
pub(crate) fn next_cancel_id() -> u32 {
    NEXT_CANCEL_ID.fetch_add(1, Ordering::Relaxed)
}

fn cancels() -> std::sync::MutexGuard<'static, HashMap<u32, watch::Sender<bool>>> {
    CANCELS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Ends the wait of the call started with cancellation id `id`; unknown ids (calls already
/// finished) are ignored.
pub(crate) fn cancel(id: u32) {
    if let Some(tx) = cancels().get(&id) {
        let _ = tx.send(true);
    }
}

/// The cancellation of one call: fires when `cancel(id)` is called; never without an id.
#[derive(Debug)]
pub(crate) struct Cancel {
    id: Option<u32>,
    rx: Option<watch::Receiver<bool>>,
}

impl Cancel {
    /// Registers `id` (a call without `AbortSignal` passes none).
    pub(crate) fn new(id: Option<u32>) -> Cancel {
        let Some(id) = id else {
            return Cancel { id: None, rx: None };
        };
        let (tx, rx) = watch::channel(false);
        cancels().insert(id, tx);
        Cancel {
            id: Some(id),
            rx: Some(rx),
        }
    }

    /// Resolves once the call is cancelled; never for a call without id.
    async fn cancelled(&mut self) {
        if let Some(rx) = &mut self.rx
            && rx.wait_for(|cancelled| *cancelled).await.is_ok()
        {
            return;
        }
        std::future::pending::<()>().await;
    }

    /// Runs `fut` until it finishes or the call is cancelled (then: an `aborted` rejection
    /// naming `what`, and `fut` is dropped at its current await point).
    pub(crate) async fn run<T>(
        mut self,
        what: &'static str,
        fut: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        tokio::select! {
            biased;
            out = fut => out,
            () = self.cancelled() => Err(aborted(what)),
        }
    }
}

impl Drop for Cancel {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            cancels().remove(&id);
        }
    }
}

/// What an asynchronous method returns: its value when the future finished during the call
/// (JavaScript awaits a value like a resolved promise, without a trip through the runtime),
/// else a promise.
pub(crate) type Later<'env, T> = Either<T, PromiseRaw<'env, T>>;

/// `fut`'s outcome. `fut` is polled once now, on the calling (JavaScript) thread inside the
/// runtime's context; if it is not done, the runtime drives it and a promise is returned.
pub(crate) fn start<T, F>(env: &Env, fut: F) -> Result<Later<'_, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    let mut fut = Box::pin(fut);
    match within_runtime_if_available(|| fut.as_mut().now_or_never()) {
        Some(done) => done.map(Either::A),
        None => env.spawn_future(fut).map(Either::B),
    }
}

/// `start` for futures whose output must become JavaScript values on the JavaScript thread
/// (buffers): `finish` runs there with the output.
pub(crate) fn start_with<'env, T, V, F, R>(
    env: &'env Env,
    fut: F,
    finish: R,
) -> Result<Later<'env, V>>
where
    T: Send + 'static,
    V: ToNapiValue,
    F: Future<Output = Result<T>> + Send + 'static,
    R: FnOnce(&'env Env, T) -> Result<V> + 'static,
{
    let mut fut = Box::pin(fut);
    match within_runtime_if_available(|| fut.as_mut().now_or_never()) {
        Some(done) => done.and_then(|out| finish(env, out)).map(Either::A),
        None => env.spawn_future_with_callback(fut, finish).map(Either::B),
    }
}
