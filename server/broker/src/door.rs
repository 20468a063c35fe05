//! The broker's one door to partitions: produce (with its acks), fetch and the partition
//! lookups the API makes.
//!
//! Every request that reaches a partition goes through here, and the API reaches no
//! `Partition` any other way, so this is the single place that will answer NOT_LEADER once
//! partitions have leaders and followers (today every partition is led here). Must not know
//! HTTP, gRPC or JSON shapes.

use std::sync::Arc;
use std::time::Duration;

use crate::metadata::now_ms;
use crate::produce::{self, Acks, Produced, ProducedRecords};
use crate::{
    Broker, BrokerError, FetchedSlices, NewRecord, Partition, RecordPosition, TenantId, Topic,
};

impl Broker {
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
        let topic = self.topic(tenant, topic)?;
        let results = produce::produce_records(&topic, records, &self.limits_for(tenant), now_ms());
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
        let part = self.partition(tenant, topic, partition)?;
        let limits = &self.config.limits;
        let wait = wait.min(Duration::from_millis(limits.fetch_wait_ms_max));
        part.fetch(offset, max_bytes.clamp(1, limits.fetch_bytes_max), wait)
            .await
    }
}
