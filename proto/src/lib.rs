//! weir-proto: the gRPC contract shared by the Weir server and its SDKs.
//!
//! Owns the `weir.v1` messages and services generated from `proto/weir/v1/*.proto` (`v1`)
//! and gRPC's message framing for the calls that read HTTP/2 frames themselves
//! (`grpc_frame`). The data formats (RecordBatch v2, compression, partitioner, `ErrorCode`)
//! live in `weir-codec`, which has no transport in it, and are re-exported here so users of
//! the contract find them in one place. Must not know about tenants, storage or connections.

pub mod grpc_frame;

pub use weir_codec::{ErrorCode, batch, compression, error, partitioner};

/// gRPC messages and services of package `weir.v1`, generated from `proto/weir/v1/*.proto`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod v1 {
    tonic::include_proto!("weir.v1");

    /// The encoded `FileDescriptorSet` of every weir.v1 file: services, methods, messages.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/weir_v1_descriptor.bin"));
}
