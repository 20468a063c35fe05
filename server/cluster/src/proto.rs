//! The generated code of the internal node-to-node services (`proto/weir/internal/v1`).

#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub(crate) mod pb {
    tonic::include_proto!("weir.internal.v1");
}
