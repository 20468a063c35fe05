//! Metadata: tenants, topics, keys, quotas and producer-id blocks, as a pure image changed
//! only by commands, behind a port that makes commands durable.
//!
//! Owns `Command` (by area), its stored form (`wire`), `MetadataImage` (the rules: validate
//! and a total apply) and the `MetadataLog` port with its single-node implementation
//! (`store`). Must not open partitions (the catalog reconciles them from images) or know
//! transports. A replicated implementation of `MetadataLog` feeds the same `apply` from its
//! committed log and snapshots the same image.

mod command;
mod image;
mod store;
mod wire;

use std::sync::Arc;

use tokio::sync::watch;

pub use command::{
    Command, CoordinatorCmd, Imported, NodeCmd, NodeSpec, ProducerIdCmd, TenancyCmd, TopicCmd,
};
pub use image::{
    MetadataImage, NODE_ADDR_BYTES_MAX, Policy, RACK_BYTES_MAX, TenantImage, TopicSpec,
};
pub use store::{
    IMPORTED_SUFFIX, LOCAL_LOG_DIR, LOCAL_SNAPSHOT_FILE, LocalMetadataLog, local_image,
    retire_local_log,
};

use crate::BrokerError;

/// Builds a command from the image it will be applied to; an error refuses the proposal.
pub type Build<'a> = &'a mut dyn FnMut(&MetadataImage) -> Result<Command, BrokerError>;

/// A command in its stored form: the JSON line the command log and a replicated log carry.
pub fn encode(command: &Command) -> String {
    serde_json::to_string(&wire::StoredCommand::from(command))
        .expect("stored commands are plain JSON")
}

/// A command from its stored form.
pub fn decode(json: &str) -> Result<Command, BrokerError> {
    let stored: wire::StoredCommand = serde_json::from_str(json)
        .map_err(|e| BrokerError::Internal(format!("metadata command {json:?}: {e}")))?;
    Command::try_from(stored)
}

impl MetadataImage {
    /// The image as bytes (a snapshot's body: the image as commands, its version and next
    /// topic id).
    pub fn to_bytes(&self) -> Vec<u8> {
        store::snapshot_body(self)
    }

    /// The image `to_bytes` wrote.
    pub fn from_bytes(bytes: &[u8]) -> Result<MetadataImage, BrokerError> {
        store::image_of_body(bytes)
    }
}

/// A proposal that took effect: the command as applied (the controller may have rebased it)
/// and an image that holds it.
#[derive(Debug, Clone)]
pub struct Applied {
    /// An image with the command applied (this node's, once it caught up).
    pub image: Arc<MetadataImage>,
    /// The command as it was applied.
    pub command: Command,
}

/// Where metadata commands are made durable and in what order they apply.
pub trait MetadataLog: Send + Sync + std::fmt::Debug {
    /// Builds a command against the current image, makes it durable, applies it and returns
    /// the image after it. Proposals are serialized: the image `build` sees is the one the
    /// command is applied to, so the checks it makes still hold.
    fn propose(&self, build: Build<'_>) -> Result<Applied, BrokerError>;

    /// A receiver of the current image that sees every new one.
    fn watch(&self) -> watch::Receiver<Arc<MetadataImage>>;

    /// Makes everything durable and closes the log.
    fn shutdown(&self) -> Result<(), BrokerError>;
}

/// Wall-clock milliseconds since the Unix epoch, as stored times are kept (never negative: a
/// clock before 1970 reads as the epoch).
pub fn unix_ms() -> u64 {
    u64::try_from(now_ms()).unwrap_or(0)
}

/// Wall-clock milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests;
