//! A change of a tenant's quotas as both transports take it (fields left out keep their
//! value).

use serde::Deserialize;
use utoipa::ToSchema;
use weir_broker::Quotas;

use super::ints;

/// A change of quotas: fields left out keep their value; 0 = unlimited. Each value is at most
/// 2^63 - 1 (`int64`); larger ones are refused, not stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotasChange {
    /// Produced bytes per second.
    #[serde(default, deserialize_with = "ints::optional")]
    pub produce_bytes_per_sec: Option<u64>,
    /// Fetched bytes per second.
    #[serde(default, deserialize_with = "ints::optional")]
    pub fetch_bytes_per_sec: Option<u64>,
    /// Requests per second.
    #[serde(default, deserialize_with = "ints::optional")]
    pub requests_per_sec: Option<u64>,
    /// Bytes stored over all partitions.
    #[serde(default, deserialize_with = "ints::optional")]
    pub storage_bytes: Option<u64>,
    /// Topics.
    #[serde(default, deserialize_with = "ints::optional")]
    pub topics: Option<u64>,
    /// Partitions over all topics.
    #[serde(default, deserialize_with = "ints::optional")]
    pub partitions: Option<u64>,
    /// Consumer groups.
    #[serde(default, deserialize_with = "ints::optional")]
    pub groups: Option<u64>,
    /// Largest record, bytes.
    #[serde(default, deserialize_with = "ints::optional")]
    pub record_bytes_max: Option<u64>,
    /// Largest request, bytes.
    #[serde(default, deserialize_with = "ints::optional")]
    pub request_bytes_max: Option<u64>,
    /// Live tails open at once.
    #[serde(default, deserialize_with = "ints::optional")]
    pub live_tails: Option<u64>,
}

impl QuotasChange {
    /// `base` with the given fields replaced.
    pub fn apply_to(&self, base: Quotas) -> Quotas {
        Quotas {
            produce_bytes_per_sec: self
                .produce_bytes_per_sec
                .unwrap_or(base.produce_bytes_per_sec),
            fetch_bytes_per_sec: self.fetch_bytes_per_sec.unwrap_or(base.fetch_bytes_per_sec),
            requests_per_sec: self.requests_per_sec.unwrap_or(base.requests_per_sec),
            storage_bytes: self.storage_bytes.unwrap_or(base.storage_bytes),
            topics: self.topics.unwrap_or(base.topics),
            partitions: self.partitions.unwrap_or(base.partitions),
            groups: self.groups.unwrap_or(base.groups),
            record_bytes_max: self.record_bytes_max.unwrap_or(base.record_bytes_max),
            request_bytes_max: self.request_bytes_max.unwrap_or(base.request_bytes_max),
            live_tails: self.live_tails.unwrap_or(base.live_tails),
        }
    }
}
