//! Topic settings and partitions as both transports show them, and the rule that turns
//! settings into a broker `TopicConfig` (-1 is unlimited).

use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

use weir_broker::{Action, Broker, PartitionState, Principal, Topic, TopicConfig};

use super::ints;
use crate::ApiError;

/// Topic settings. On create and alter, omitted fields keep their default or current value.
/// `retention_ms` and `retention_bytes` take -1 for unlimited. `flush_records` and `flush_ms`
/// are not both given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicConfigDto {
    /// Delete segments whose newest record is older than this (ms); -1 keeps them forever.
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "ints::optional"
    )]
    #[schema(minimum = -1)]
    pub retention_ms: Option<i64>,
    /// Delete oldest segments while a partition is larger than this (bytes); -1 = no limit.
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "ints::optional"
    )]
    #[schema(minimum = -1)]
    pub retention_bytes: Option<i64>,
    /// Roll a segment before it grows past this many bytes (1 KiB to 2 GiB - 1).
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "ints::optional"
    )]
    #[schema(minimum = 1024, maximum = 2147483647)]
    pub segment_bytes: Option<u64>,
    /// Roll a segment when its first append is this old (ms).
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "ints::optional"
    )]
    #[schema(minimum = 1)]
    pub segment_ms: Option<u64>,
    /// Largest batch a producer may send (bytes; from the 61-byte batch header to 256 MiB).
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "ints::optional"
    )]
    #[schema(minimum = 61, maximum = 268435456)]
    pub batch_bytes_max: Option<u32>,
    /// fsync after this many records; absent: on segment roll and shutdown only. Not with
    /// `flush_ms`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "ints::optional"
    )]
    #[schema(minimum = 1)]
    pub flush_records: Option<u64>,
    /// fsync when this many ms passed since the last one. Not with `flush_records`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "ints::optional"
    )]
    #[schema(minimum = 1)]
    pub flush_ms: Option<u64>,
}

impl TopicConfigDto {
    /// Every setting of `c`, filled in.
    pub fn from_config(c: &TopicConfig) -> Self {
        // -1 is unlimited; a limit past i64::MAX is as good as none, and shown as the largest.
        let unlimited =
            |v: Option<u64>| Some(v.map_or(-1, |v| i64::try_from(v).unwrap_or(i64::MAX)));
        TopicConfigDto {
            retention_ms: unlimited(c.retention_ms),
            retention_bytes: unlimited(c.retention_bytes),
            segment_bytes: Some(c.segment_bytes),
            segment_ms: Some(c.segment_ms),
            batch_bytes_max: Some(c.batch_bytes_max),
            flush_records: c.flush_records,
            flush_ms: c.flush_ms,
        }
    }

    /// `base` with the fields set here replaced.
    pub fn apply_to(&self, base: &TopicConfig) -> Result<TopicConfig, ApiError> {
        let limit = |name: &str, v: Option<i64>, current: Option<u64>| match v {
            None => Ok(current),
            Some(-1) => Ok(None),
            Some(n) => u64::try_from(n).map(Some).map_err(|_| {
                ApiError::new(
                    weir_proto::ErrorCode::InvalidConfig,
                    format!("{name} must be -1 (unlimited) or at least 0, got {n}"),
                )
            }),
        };
        Ok(TopicConfig {
            retention_ms: limit("retention_ms", self.retention_ms, base.retention_ms)?,
            retention_bytes: limit(
                "retention_bytes",
                self.retention_bytes,
                base.retention_bytes,
            )?,
            segment_bytes: self.segment_bytes.unwrap_or(base.segment_bytes),
            segment_ms: self.segment_ms.unwrap_or(base.segment_ms),
            batch_bytes_max: self.batch_bytes_max.unwrap_or(base.batch_bytes_max),
            flush_records: self.flush_records.or(base.flush_records),
            flush_ms: self.flush_ms.or(base.flush_ms),
        })
    }
}

/// One partition of a topic.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PartitionDto {
    /// Partition number.
    pub partition: u32,
    /// First offset still stored.
    pub log_start_offset: i64,
    /// Offset after the last readable record.
    pub high_watermark: i64,
    /// Bytes stored.
    pub size_bytes: u64,
    /// Broker id of the leader.
    pub leader: u32,
}

/// Each partition of `topic` with its leader, offsets and size, through the broker's door
/// (zeros for one whose leader cannot be asked, or that no node leads now).
pub(crate) fn partitions_of(broker: &Broker, topic: &Topic) -> Vec<PartitionDto> {
    partition_dtos(broker.partition_states(topic))
}

/// The topics of `topics` the caller may read.
pub(crate) fn readable<'a>(caller: &Principal, topics: &'a [Arc<Topic>]) -> Vec<&'a Topic> {
    topics
        .iter()
        .map(|t| &**t)
        .filter(|t| caller.allows(Action::ReadTopic(t.name().as_str())))
        .collect()
}

/// Partition states as the APIs show them.
pub(crate) fn partition_dtos(states: Vec<PartitionState>) -> Vec<PartitionDto> {
    states
        .into_iter()
        .map(|p| {
            let o = p.offsets.unwrap_or(weir_broker::PartitionOffsets {
                log_start_offset: 0,
                high_watermark: 0,
                size_bytes: 0,
            });
            PartitionDto {
                partition: p.partition,
                log_start_offset: o.log_start_offset,
                high_watermark: o.high_watermark,
                size_bytes: o.size_bytes,
                leader: p.leader.unwrap_or(0),
            }
        })
        .collect()
}
