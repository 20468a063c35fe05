//! weir-proto: the wire contract shared by the Weir server and its SDKs.
//!
//! Owns the Kafka RecordBatch v2 codec (`batch`), its compression codecs (`compression`), the
//! murmur2 key partitioner (`partitioner`), the `ErrorCode` every interface speaks, and gRPC's
//! message framing for the calls that read HTTP/2 frames themselves (`grpc_frame`). Must not
//! know about tenants, storage or connections: it turns records and messages into bytes and
//! back, and nothing else.

pub mod batch;
pub mod compression;
pub mod error;
pub mod grpc_frame;
pub mod partitioner;

pub use error::ErrorCode;

/// gRPC messages and services of package `weir.v1`, generated from `proto/weir/v1/*.proto`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod v1 {
    tonic::include_proto!("weir.v1");

    /// The encoded `FileDescriptorSet` of every weir.v1 file: services, methods, messages.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/weir_v1_descriptor.bin"));
}
