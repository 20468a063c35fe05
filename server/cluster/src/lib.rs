//! weir-cluster: several `weir` nodes as one service. Today: the Raft metadata quorum's
//! durable storage and state machine.
//!
//! Owns the metadata quorum (openraft 0.9, behind `raft/`: no other module names openraft, so
//! its 0.10 API break stays in one place). Must not know transports or tenants: the state
//! machine it replicates is any `Machine` (the broker's metadata image), and commands are
//! opaque to it.

mod liveness;
mod metadata;
mod partitions;
mod proto;
mod raft;

pub use liveness::Liveness;
pub use metadata::{MetadataMachine, PROPOSE_TIMEOUT, RaftMetadataLog};
pub use partitions::{
    FORWARD_FETCH_SLACK, FORWARD_PRODUCE_TIMEOUT, Forwarder, PARTITION_MESSAGE_BYTES_MAX,
    PartitionService, PartitionsServer,
};

pub use raft::{
    Applied, CATCH_UP_TIMEOUT, LogStore, Machine, MembershipChange, NoPeers, Proposal, Quorum,
    QuorumError, QuorumStatus, RaftServer, RaftService, SECRET_HEADER, SNAPSHOT_EVERY, StateStore,
    TypeConfig,
};
