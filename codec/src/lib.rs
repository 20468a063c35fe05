//! weir-codec: the data formats shared by the Weir log, server and SDKs, free of any
//! transport.
//!
//! Owns the Kafka RecordBatch v2 codec (`batch`), its compression codecs (`compression`), the
//! murmur2 key partitioner (`partitioner`) and the `ErrorCode` every interface speaks. Must
//! not know about tenants, storage, connections or gRPC: it turns records into bytes and
//! back, and nothing else. The log depends on this crate alone for its formats; the gRPC
//! contract (`weir-proto`) re-exports it.

pub mod batch;
pub mod compression;
pub mod error;
pub mod partitioner;

pub use error::ErrorCode;
