//! The openraft type configuration and what Weir plugs into it.
//!
//! Owns `TypeConfig` (u64 node ids, `Proposal` entries, `Applied` answers) and the `Machine`
//! trait the replicated state implements. Must stay the only place, with its submodules, that
//! names openraft types in signatures other crates see.

mod log_store;
mod net;
mod quorum;
mod state;

#[cfg(test)]
mod tests;

use std::io::Cursor;

use serde::{Deserialize, Serialize};

pub use log_store::LogStore;
pub(crate) use net::{CONNECT_TIMEOUT, same_secret};
pub use net::{
    Forward, ForwardAnswer, MembershipChange, ProposalHandler, RaftServer, RaftService,
    SECRET_HEADER,
};
pub use quorum::{CATCH_UP_TIMEOUT, NoPeers, Quorum, QuorumError, QuorumStatus, SNAPSHOT_EVERY};
pub use state::StateStore;

/// One command to the replicated state, as its owner serialized it (JSON for the metadata).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal(pub String);

/// The answer to a proposal: the log index it was applied at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub index: u64,
}

openraft::declare_raft_types!(
    /// Weir's Raft types: node ids are `u64`, entries carry `Proposal`s.
    pub TypeConfig:
        D = Proposal,
        R = Applied,
        NodeId = u64,
        Node = openraft::BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);

/// A deterministic state machine the quorum replicates.
pub trait Machine: Default + Clone + Send + Sync + 'static {
    /// The state after `command`. Total: every replica applies every committed command, so
    /// this never refuses (validation happens before a command is proposed).
    fn apply(&mut self, command: &str);

    /// The whole state, serialized (a snapshot's body).
    fn snapshot(&self) -> Vec<u8>;

    /// The state a snapshot holds.
    fn restore(bytes: &[u8]) -> Result<Self, String>;
}
