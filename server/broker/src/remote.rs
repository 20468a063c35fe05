//! How this node reaches the partitions other nodes lead: a port the cluster fills in with
//! its internal listener's client. A node run alone has none, and hosts every partition.
//!
//! Owns the shape of a forwarded produce and fetch. Must not be called for a partition hosted
//! here, and an implementation must not forward again: the node it reaches serves the
//! partition itself or refuses (one hop at most).

use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;

use crate::groups::{GroupAnswer, GroupCall};
use crate::{Acks, AppendInfo, BrokerError, Fetched, PartitionOffsets, TenantId};

/// A fetch answered by another node, read whole.
pub type RemoteFetch = Pin<Box<dyn Future<Output = Result<Fetched, BrokerError>> + Send>>;

/// A group call answered by the group's coordinator.
pub type RemoteGroup = Pin<Box<dyn Future<Output = Result<GroupAnswer, BrokerError>> + Send>>;

/// The partitions other nodes lead, reached over the cluster's internal listener.
pub trait Remote: Send + Sync + std::fmt::Debug {
    /// Appends `batch` (one RecordBatch v2) to partition `partition` of `tenant`'s `topic` on
    /// node `leader`, answering once it is as replicated as `acks` asks there. Blocks the
    /// calling thread (the broker's produce calls are blocking).
    fn produce(
        &self,
        leader: u32,
        tenant: &TenantId,
        topic: &str,
        partition: i64,
        batch: Bytes,
        acks: Acks,
    ) -> Result<AppendInfo, BrokerError>;

    /// The offsets and size of partition `partition` on node `leader`, and with `timestamp`
    /// the first offset at or after it (`None`: none). Blocks.
    fn offsets(
        &self,
        leader: u32,
        tenant: &TenantId,
        topic: &str,
        partition: i64,
        timestamp: Option<i64>,
    ) -> Result<(PartitionOffsets, Option<i64>), BrokerError>;

    /// The offsets and size of each of `partitions` (topic, partition) of `tenant` on node
    /// `leader`, in one call; one answer per partition, in order. Blocks.
    fn offsets_many(
        &self,
        leader: u32,
        tenant: &TenantId,
        partitions: Vec<(String, i64)>,
    ) -> Result<Vec<Result<PartitionOffsets, BrokerError>>, BrokerError>;

    /// Fetches from partition `partition` on node `leader`, as `Broker::fetch` does there.
    #[allow(clippy::too_many_arguments)]
    fn fetch(
        &self,
        leader: u32,
        tenant: TenantId,
        topic: String,
        partition: i64,
        offset: i64,
        max_bytes: usize,
        wait: Duration,
    ) -> RemoteFetch;

    /// Serves `call` for a group node `coordinator` coordinates, as
    /// `Broker::serve_group_call` does there.
    fn group(&self, coordinator: u32, tenant: TenantId, call: GroupCall) -> RemoteGroup;
}
