//! The broker's one door to partitions: produce (with its acks), fetch and the partition
//! lookups the API makes.
//!
//! Every request that reaches a partition goes through here, and the API reaches no
//! `Partition` any other way. Produce and fetch for a partition another node leads are
//! forwarded to it (`Remote`, one hop); the lookups answer NOT_LEADER for one. A partition
//! whose leader is fenced or gone is offline. Must not know HTTP, gRPC or JSON shapes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::metadata::now_ms;
use crate::produce::{self, Acks, Produced, ProducedRecords};
use crate::{
    AppendInfo, Broker, BrokerError, FetchedSlices, NewRecord, Partition, RecordPosition, Remote,
    Slot, TenantId, Topic,
};

/// Where a request for one partition is served.
enum Route {
    /// Here.
    Here(Arc<Partition>),
    /// On the live node that leads it.
    There(u32, Arc<dyn Remote>),
}

/// One partition as a description shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionState {
    /// Its index.
    pub partition: u32,
    /// The node that leads it (this node's id, 0 for a node run alone); `None`: no node
    /// leads it now (offline).
    pub leader: Option<u32>,
    /// Its offsets and size; `None` when its leader could not be asked.
    pub offsets: Option<crate::PartitionOffsets>,
}

impl Broker {
    /// Every partition of `topic` with its leader and offsets (see `partition_states_many`).
    pub fn partition_states(&self, topic: &Topic) -> Vec<PartitionState> {
        self.partition_states_many(std::slice::from_ref(&topic))
            .pop()
            .unwrap_or_default()
    }

    /// Every partition of each of `topics` with its leader and offsets. Those other nodes
    /// lead are asked of each node in one call for all of them (a list of a thousand topics
    /// costs a call per node, not per partition); a node that does not answer leaves its
    /// partitions' offsets `None`.
    pub fn partition_states_many(&self, topics: &[&Topic]) -> Vec<Vec<PartitionState>> {
        let here = self.config.node_id.unwrap_or(0);
        let mut asks: BTreeMap<(u32, TenantId), Vec<(usize, u32)>> = BTreeMap::new();
        let mut remote = None;
        let mut out: Vec<Vec<PartitionState>> = topics
            .iter()
            .enumerate()
            .map(|(i, topic)| {
                (0..topic.partition_count())
                    .map(|p| {
                        let (leader, offsets) = match self.locate(topic, i64::from(p)) {
                            Ok(Route::Here(part)) => (Some(here), Some(part.offsets())),
                            Ok(Route::There(leader, r)) => {
                                remote = Some(r);
                                let key = (leader, topic.tenant().clone());
                                asks.entry(key).or_default().push((i, p));
                                (Some(leader), None)
                            }
                            Err(BrokerError::NotLeader { leader, .. }) => (leader, None),
                            Err(_) => (None, None),
                        };
                        PartitionState {
                            partition: p,
                            leader,
                            offsets,
                        }
                    })
                    .collect()
            })
            .collect();
        let Some(remote) = remote else {
            return out;
        };
        for ((leader, tenant), parts) in asks {
            metrics::counter!("weir_forwarded_requests_total").increment(1);
            let named = parts
                .iter()
                .map(|&(i, p)| (topics[i].name().to_string(), i64::from(p)))
                .collect();
            let Ok(answers) = remote.offsets_many(leader, &tenant, named) else {
                continue;
            };
            for ((i, p), answer) in parts.into_iter().zip(answers) {
                let slot = usize::try_from(p).ok().and_then(|p| out[i].get_mut(p));
                if let (Some(state), Ok(o)) = (slot, answer) {
                    state.offsets = Some(o);
                }
            }
        }
        out
    }

    /// Partition `index`'s offsets, and with `timestamp` its first offset at or after that
    /// time (`None`: none): here, or asked of the node that leads it.
    pub fn partition_offsets(
        &self,
        topic: &Topic,
        index: i64,
        timestamp: Option<i64>,
    ) -> Result<(crate::PartitionOffsets, Option<i64>), BrokerError> {
        match self.route(topic, index)? {
            Route::Here(part) => {
                let at = match timestamp {
                    Some(t) => part.offset_for_timestamp(t)?,
                    None => None,
                };
                Ok((part.offsets(), at))
            }
            Route::There(leader, remote) => {
                let name = topic.name().as_str();
                remote.offsets(leader, topic.tenant(), name, index, timestamp)
            }
        }
    }

    /// Where partition `index` of `topic` is served: here, or at its leader when that node
    /// is live and this node reaches other nodes; else NOT_LEADER (offline: no leader).
    fn route(&self, topic: &Topic, index: i64) -> Result<Route, BrokerError> {
        let route = self.locate(topic, index)?;
        if let Route::There(..) = route {
            metrics::counter!("weir_forwarded_requests_total").increment(1);
        }
        Ok(route)
    }

    /// `route` without counting a forwarded request (the caller may batch several).
    fn locate(&self, topic: &Topic, index: i64) -> Result<Route, BrokerError> {
        let leader = match topic.slot(index)? {
            Slot::Local(p) => return Ok(Route::Here(p)),
            Slot::Remote { leader } => leader,
        };
        let image = self.image();
        let live = leader.filter(|l| image.nodes().get(l).is_some_and(|n| !n.fenced));
        let not_leader = |leader| BrokerError::NotLeader {
            topic: topic.name().to_string(),
            partition: index,
            leader,
        };
        let leader = live.ok_or_else(|| not_leader(None))?;
        let remote = self.remote.get().ok_or_else(|| not_leader(Some(leader)))?;
        Ok(Route::There(leader, remote.clone()))
    }

    /// One partition of `tenant`'s topic. The door the API reads and writes a partition
    /// through: replication will answer NOT_LEADER here for a partition led elsewhere.
    pub fn partition(
        &self,
        tenant: &TenantId,
        topic: &str,
        index: i64,
    ) -> Result<Arc<Partition>, BrokerError> {
        self.topic(tenant, topic)?.partition(index)
    }

    /// Every partition of `tenant`'s topic, in order (see `partition`).
    pub fn partitions(
        &self,
        tenant: &TenantId,
        topic: &str,
    ) -> Result<Vec<Arc<Partition>>, BrokerError> {
        Ok(self.topic_partitions(&*self.topic(tenant, topic)?))
    }

    /// Every partition of a topic the caller holds already (descriptions, metrics).
    pub fn topic_partitions(&self, topic: &Topic) -> Vec<Arc<Partition>> {
        topic.partitions()
    }

    /// One partition of a topic the caller holds already (a request naming many partitions
    /// of one topic looks the topic up once).
    pub fn topic_partition(
        &self,
        topic: &Topic,
        index: i64,
    ) -> Result<Arc<Partition>, BrokerError> {
        topic.partition(index)
    }

    /// Appends a producer's RecordBatch to one partition, storing it as it came (with the
    /// offsets and leader epoch the log assigns). Returns once the leader's log holds it;
    /// the returned `Produced` resolves when the batch is as replicated as `acks` asks
    /// (`Acks::All`: once the high watermark passes it; on one node, at once). Under
    /// `Acks::None` the caller answers first and drops it.
    pub fn produce_batch(
        &self,
        tenant: &TenantId,
        topic: &str,
        partition: i64,
        batch: &[u8],
        acks: Acks,
    ) -> Result<Produced, BrokerError> {
        self.check_running()?;
        match self.route(&*self.topic(tenant, topic)?, partition)? {
            Route::Here(part) => {
                let info = part.append(batch)?;
                Ok(Produced::new(info, acks, part))
            }
            Route::There(leader, remote) => {
                let batch = Bytes::copy_from_slice(batch);
                let info = remote.produce(leader, tenant, topic, partition, batch, acks)?;
                Ok(Produced::resolved(info))
            }
        }
    }

    /// `produce_batch` for a partition hosted here only (what another node forwards: it is
    /// never forwarded again).
    pub fn produce_batch_here(
        &self,
        tenant: &TenantId,
        topic: &str,
        partition: i64,
        batch: &[u8],
        acks: Acks,
    ) -> Result<Produced, BrokerError> {
        self.check_running()?;
        let partition = self.partition(tenant, topic, partition)?;
        let info = partition.append(batch)?;
        Ok(Produced::new(info, acks, partition))
    }

    /// Produces plain records; one result per record, in request order. `produce_records_acked`
    /// with `Acks::Leader`, for callers that wait for nothing more.
    pub fn produce_records(
        &self,
        tenant: &TenantId,
        topic: &str,
        records: Vec<NewRecord>,
    ) -> Result<Vec<Result<RecordPosition, BrokerError>>, BrokerError> {
        let produced = self.produce_records_acked(tenant, topic, records, Acks::Leader)?;
        Ok(produced.into_results())
    }

    /// Produces plain records; the returned `ProducedRecords` holds one result per record, in
    /// request order, and resolves when they are as replicated as `acks` asks (see
    /// `produce_batch`).
    pub fn produce_records_acked(
        &self,
        tenant: &TenantId,
        topic: &str,
        records: Vec<NewRecord>,
        acks: Acks,
    ) -> Result<ProducedRecords, BrokerError> {
        self.check_running()?;
        let max = self.config.limits.produce_records_max;
        if records.len() > max {
            return Err(BrokerError::InvalidRequest(format!(
                "{} records exceed produce_records_max {max}",
                records.len()
            )));
        }
        let name = topic;
        let topic = self.topic(tenant, name)?;
        let append = |p: u32, batch: &[u8]| -> Result<AppendInfo, BrokerError> {
            match self.route(&topic, i64::from(p))? {
                Route::Here(part) => part.append(batch),
                Route::There(leader, remote) => {
                    let batch = Bytes::copy_from_slice(batch);
                    remote.produce(leader, tenant, name, i64::from(p), batch, acks)
                }
            }
        };
        let limits = self.limits_for(tenant);
        let results = produce::produce_records(&topic, records, &limits, now_ms(), &append);
        Ok(ProducedRecords::new(&topic, results, acks))
    }

    /// Finds whole batches of one partition below its high watermark, waiting up to `wait`
    /// (capped by `fetch_wait_ms_max`) when none is there yet; `max_bytes` is capped by
    /// `fetch_bytes_max`. The bytes stay in the segment files for the caller to copy straight
    /// into its output (gRPC encodes them into the response with no buffer between), or to
    /// `read`.
    pub async fn fetch(
        &self,
        tenant: &TenantId,
        topic: &str,
        partition: i64,
        offset: i64,
        max_bytes: usize,
        wait: Duration,
    ) -> Result<FetchedSlices, BrokerError> {
        let limits = &self.config.limits;
        let wait = wait.min(Duration::from_millis(limits.fetch_wait_ms_max));
        let max_bytes = max_bytes.clamp(1, limits.fetch_bytes_max);
        match self.route(&*self.topic(tenant, topic)?, partition)? {
            Route::Here(part) => part.fetch(offset, max_bytes, wait).await,
            Route::There(leader, remote) => {
                let (tenant, topic) = (tenant.clone(), topic.to_owned());
                let fetched = remote
                    .fetch(leader, tenant, topic, partition, offset, max_bytes, wait)
                    .await?;
                Ok(FetchedSlices {
                    slices: Vec::new(),
                    len: fetched.batches.len(),
                    remote: Bytes::from(fetched.batches),
                    next_offset: fetched.next_offset,
                    offsets: fetched.offsets,
                })
            }
        }
    }

    /// `fetch` from a partition hosted here only (what another node forwards), read whole.
    pub async fn fetch_here(
        &self,
        tenant: &TenantId,
        topic: &str,
        partition: i64,
        offset: i64,
        max_bytes: usize,
        wait: Duration,
    ) -> Result<crate::Fetched, BrokerError> {
        let part = self.partition(tenant, topic, partition)?;
        let limits = &self.config.limits;
        let wait = wait.min(Duration::from_millis(limits.fetch_wait_ms_max));
        let slices = part
            .fetch(offset, max_bytes.clamp(1, limits.fetch_bytes_max), wait)
            .await?;
        slices.read()
    }
}
