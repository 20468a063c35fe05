//! weir-node: the native addon (`weir.node`) of the npm package `weir-client`.
//!
//! Owns the JavaScript face of the Rust SDK (crate `weir`): option conversion, record bytes in
//! and out, the encoding of `weir::Error` for `WeirError`, and running every call as a promise
//! on napi's tokio runtime so the JavaScript thread never waits for the network. Must not
//! re-implement client behaviour: partitioning, batching, compression, retries, group
//! membership and commits are the Rust SDK's, so Node, Python and Rust behave the same.
//!
//! The JavaScript classes users see (`Admin`, `Producer`, `Consumer`, `WeirError`) live in
//! `lib/*.js` and wrap the `Native*` classes here; they turn strings and objects into bytes,
//! `AbortSignal`s into `cancel(id)` calls and rejections into `WeirError`s.

mod admin;
mod config;
mod consumer;
mod error;
mod producer;
mod runtime;

use napi::Result;
use napi_derive::napi;

/// The partition the producer picks for `key` among `partitions` partitions: Kafka's
/// `murmur2(key) % partitions`, computed by the same function as the Rust SDK's partitioner.
#[napi]
pub fn partition_for_key(key: napi::bindgen_prelude::Buffer, partitions: u32) -> Result<u32> {
    weir::partition_for_key(&key, partitions)
        .map_err(|_| error::invalid("partitions must be at least 1"))
}

/// A fresh cancellation id for a call made with an `AbortSignal`: unique in the process, so
/// calls in different `worker_thread`s never cancel each other.
#[napi]
pub fn cancel_id() -> u32 {
    runtime::next_cancel_id()
}

/// Ends the wait of the call started with cancellation id `id` (the JavaScript layer calls it
/// when that call's `AbortSignal` fires).
#[napi]
pub fn cancel(id: u32) {
    runtime::cancel(id);
}

/// Every error code the server may send, with whether a retry may succeed.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct ErrorCodeInfo {
    pub code: String,
    pub retryable: bool,
}

/// Every `ErrorCode` of this SDK version.
#[napi]
pub fn error_codes() -> Vec<ErrorCodeInfo> {
    weir::ErrorCode::ALL
        .iter()
        .map(|c| ErrorCodeInfo {
            code: c.as_str().to_owned(),
            retryable: c.is_retryable(),
        })
        .collect()
}

/// The version of this addon (the workspace version).
#[napi]
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Prefix of the messages `WeirError` is decoded from (shared with `lib/errors.js`).
#[napi]
pub fn error_mark() -> &'static str {
    error::MARK
}
