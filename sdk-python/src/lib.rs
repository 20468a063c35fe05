//! weir-python: the native module `weir._weir` of the Python package `weir`.
//!
//! Owns the Python face of the Rust SDK (crate `weir`): argument conversion (values as bytes,
//! str or JSON, headers, topic partitions, settings), the mapping of `weir::Error` to the
//! exceptions of `weir.errors`, and waiting without the GIL (sync API) or through asyncio
//! (`Async*` classes, wrapped by `weir.aio`). Must not re-implement client behaviour:
//! partitioning, batching, compression, retries, group membership and commits are the Rust
//! SDK's, so every language behaves the same.
//!
//! Every wait on the network happens with the GIL released, on one shared multi-threaded
//! tokio runtime (the one pyo3-async-runtimes drives asyncio futures with). Long waits run in
//! slices so that Ctrl-C (`KeyboardInterrupt`) is noticed within `SIGNAL_CHECK`.

mod admin;
mod consumer;
mod convert;
mod errors;
mod producer;
mod runtime;

use pyo3::prelude::*;

/// The partition the producer chooses for `key` among `partitions` partitions: Kafka's
/// `murmur2(key) % partitions`, computed by the same function as the Rust SDK's partitioner,
/// so it equals what a Java, Rust or REST producer picks.
#[pyfunction]
#[pyo3(signature = (key, partitions))]
fn partition_for_key(key: convert::KeyArg, partitions: u32) -> PyResult<u32> {
    weir::partition_for_key(&key.0, partitions)
        .map_err(|_| errors::invalid_argument("partitions must be at least 1"))
}

#[pymodule]
fn _weir(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("URL_DEFAULT", weir::URL_DEFAULT)?;
    m.add("TENANT_DEFAULT", weir::TENANT_DEFAULT)?;
    m.add_function(wrap_pyfunction!(partition_for_key, m)?)?;
    m.add_function(wrap_pyfunction!(errors::error_codes, m)?)?;
    m.add_class::<consumer::TopicPartition>()?;
    m.add_class::<consumer::Record>()?;
    m.add_class::<consumer::Consumer>()?;
    m.add_class::<consumer::CommitFuture>()?;
    m.add_class::<producer::RecordMetadata>()?;
    m.add_class::<producer::SendFuture>()?;
    m.add_class::<producer::Producer>()?;
    admin::register(m)?;
    Ok(())
}
