//! weir-proto: the wire contract shared by the Weir server and its SDKs.
//!
//! Owns the Kafka RecordBatch v2 codec (`batch`), its compression codecs (`compression`) and
//! the murmur2 key partitioner (`partitioner`). Must not know about tenants, storage or
//! transports: it turns records into bytes and back, and nothing else.

pub mod batch;
pub mod compression;
pub mod partitioner;
