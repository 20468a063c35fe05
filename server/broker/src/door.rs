//! The broker's one door to partitions: produce, fetch and partition lookups for the API.
//!
//! Every request that reaches a partition goes through here, so this is the single place
//! that will answer NOT_LEADER once partitions have leaders and followers. Must not know
//! HTTP, gRPC or JSON shapes.

use std::time::Duration;

use crate::metadata::now_ms;
use crate::produce;
use crate::{AppendInfo, Broker, BrokerError, FetchedSlices, NewRecord, RecordPosition, TenantId};

impl Broker {
    /// Appends a producer's RecordBatch to one partition, storing it as it came.
    pub fn produce_batch(
        &self,
        tenant: &TenantId,
        topic: &str,
        partition: i64,
        batch: &[u8],
    ) -> Result<AppendInfo, BrokerError> {
        self.check_running()?;
        self.topic(tenant, topic)?
            .partition(partition)?
            .append(batch)
    }

    /// Produces plain records; one result per record, in request order.
    pub fn produce_records(
        &self,
        tenant: &TenantId,
        topic: &str,
        records: Vec<NewRecord>,
    ) -> Result<Vec<Result<RecordPosition, BrokerError>>, BrokerError> {
        self.check_running()?;
        let max = self.config.limits.produce_records_max;
        if records.len() > max {
            return Err(BrokerError::InvalidRequest(format!(
                "{} records exceed produce_records_max {max}",
                records.len()
            )));
        }
        let topic = self.topic(tenant, topic)?;
        Ok(produce::produce_records(
            &topic,
            records,
            &self.limits_for(tenant),
            now_ms(),
        ))
    }

    /// Finds whole batches of one partition, waiting up to `wait` (capped by
    /// `fetch_wait_ms_max`) when none is there yet; `max_bytes` is capped by `fetch_bytes_max`.
    /// The bytes stay in the segment files for the caller to copy straight into its output
    /// (gRPC encodes them into the response with no buffer between), or to `read`.
    pub async fn fetch(
        &self,
        tenant: &TenantId,
        topic: &str,
        partition: i64,
        offset: i64,
        max_bytes: usize,
        wait: Duration,
    ) -> Result<FetchedSlices, BrokerError> {
        let part = self.topic(tenant, topic)?.partition(partition)?;
        let limits = &self.config.limits;
        let wait = wait.min(Duration::from_millis(limits.fetch_wait_ms_max));
        part.fetch(offset, max_bytes.clamp(1, limits.fetch_bytes_max), wait)
            .await
    }
}
