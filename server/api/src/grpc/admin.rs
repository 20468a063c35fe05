//! gRPC Admin: topic create/list/describe/alter/delete, offsets by position or time, and
//! cluster metadata.
//!
//! Owns the conversion between `weir.v1` admin messages and broker types. Must not hold topic
//! rules of its own: settings go through the REST DTO (`TopicConfigDto::apply_to`), so "-1 is
//! unlimited", "unset is default on create and current on alter" mean the same on both
//! transports, and the broker validates names, counts and bounds.

use std::sync::Arc;

use weir_broker::{Partition, Topic, TopicChange, TopicName};
use weir_proto::v1::admin_server::Admin;
use weir_proto::v1::{
    AlterTopicRequest, BrokerInfo, CreateTopicRequest, DeleteTopicResponse, ListOffsetsRequest,
    ListOffsetsResponse, ListTopicsRequest, ListTopicsResponse, MetadataRequest, MetadataResponse,
    OffsetSpec, PartitionInfo, PartitionOffset, TopicConfig, TopicInfo, TopicRef,
};

use super::unary;
use crate::rest::tenant_of;
use crate::rest::topics::{TopicConfigDto, partitions_of};
use crate::{ApiError, ApiState};

/// Partitions of a topic created with `partitions` 0 (unset in proto3), as REST's default.
const PARTITIONS_DEFAULT: u32 = 1;

/// Offset reported by ListOffsets when no record is at or after the timestamp.
const OFFSET_NONE: i64 = -1;

/// The Admin service.
#[derive(Debug)]
pub(crate) struct AdminService {
    state: Arc<ApiState>,
}

impl AdminService {
    pub(crate) fn new(state: Arc<ApiState>) -> Self {
        AdminService { state }
    }
}

fn config_dto(c: Option<TopicConfig>) -> TopicConfigDto {
    let c = c.unwrap_or_default();
    TopicConfigDto {
        retention_ms: c.retention_ms,
        retention_bytes: c.retention_bytes,
        segment_bytes: c.segment_bytes,
        segment_ms: c.segment_ms,
        batch_bytes_max: c.batch_bytes_max,
        flush_records: c.flush_records,
        flush_ms: c.flush_ms,
    }
}

fn config_proto(topic: &Topic) -> TopicConfig {
    let dto = TopicConfigDto::from_config(&topic.config());
    TopicConfig {
        retention_ms: dto.retention_ms,
        retention_bytes: dto.retention_bytes,
        segment_bytes: dto.segment_bytes,
        segment_ms: dto.segment_ms,
        batch_bytes_max: dto.batch_bytes_max,
        flush_records: dto.flush_records,
        flush_ms: dto.flush_ms,
    }
}

fn topic_info(topic: &Topic) -> TopicInfo {
    let partitions = partitions_of(topic)
        .into_iter()
        .map(|p| PartitionInfo {
            partition: i32::try_from(p.partition).unwrap_or(i32::MAX),
            log_start_offset: p.log_start_offset,
            high_watermark: p.high_watermark,
            size_bytes: p.size_bytes,
            leader: p.leader,
        })
        .collect();
    TopicInfo {
        name: topic.name().to_string(),
        partitions,
        config: Some(config_proto(topic)),
    }
}

fn create_topic(state: &ApiState, r: CreateTopicRequest) -> Result<TopicInfo, ApiError> {
    let tenant = tenant_of(state, &r.tenant)?;
    let name = TopicName::parse(&r.name)?;
    let config = config_dto(r.config).apply_to(state.broker.topic_defaults())?;
    let partitions = match r.partitions {
        0 => PARTITIONS_DEFAULT,
        n => n,
    };
    let topic = state
        .broker
        .create_topic(&tenant, name, partitions, config)?;
    Ok(topic_info(&topic))
}

fn list_topics(state: &ApiState, r: ListTopicsRequest) -> Result<ListTopicsResponse, ApiError> {
    let tenant = tenant_of(state, &r.tenant)?;
    let topics = state.broker.list_topics(&tenant)?;
    Ok(ListTopicsResponse {
        topics: topics.iter().map(|t| topic_info(t)).collect(),
    })
}

fn describe_topic(state: &ApiState, r: TopicRef) -> Result<TopicInfo, ApiError> {
    let tenant = tenant_of(state, &r.tenant)?;
    let topic = state.broker.topic(&tenant, &r.name)?;
    Ok(topic_info(&topic))
}

fn alter_topic(state: &ApiState, r: AlterTopicRequest) -> Result<TopicInfo, ApiError> {
    let tenant = tenant_of(state, &r.tenant)?;
    let current = state.broker.topic(&tenant, &r.name)?;
    let config = r
        .config
        .map(|c| config_dto(Some(c)).apply_to(&current.config()))
        .transpose()?;
    let change = TopicChange {
        config,
        partitions: r.partitions,
    };
    let topic = state.broker.alter_topic(&tenant, &r.name, change)?;
    Ok(topic_info(&topic))
}

fn delete_topic(state: &ApiState, r: TopicRef) -> Result<DeleteTopicResponse, ApiError> {
    let tenant = tenant_of(state, &r.tenant)?;
    state.broker.delete_topic(&tenant, &r.name)?;
    Ok(DeleteTopicResponse {})
}

fn list_offsets(state: &ApiState, r: ListOffsetsRequest) -> Result<ListOffsetsResponse, ApiError> {
    let tenant = tenant_of(state, &r.tenant)?;
    let spec = match OffsetSpec::try_from(r.spec) {
        Ok(OffsetSpec::Unspecified) | Err(_) => {
            return Err(ApiError::invalid(
                "spec must be OFFSET_SPEC_EARLIEST, OFFSET_SPEC_LATEST or OFFSET_SPEC_TIMESTAMP",
            ));
        }
        Ok(spec) => spec,
    };
    let topic = state.broker.topic(&tenant, &r.topic)?;
    let partitions = if r.partitions.is_empty() {
        topic.partitions()
    } else {
        r.partitions
            .iter()
            .map(|&p| topic.partition(p.into()))
            .collect::<Result<_, _>>()?
    };
    let offsets = partitions
        .iter()
        .map(|p| offset_of(p, spec, r.timestamp))
        .collect::<Result<_, _>>()?;
    Ok(ListOffsetsResponse { offsets })
}

fn offset_of(p: &Partition, spec: OffsetSpec, timestamp: i64) -> Result<PartitionOffset, ApiError> {
    let offset = match spec {
        OffsetSpec::Earliest => p.offsets().log_start_offset,
        OffsetSpec::Timestamp => p.offset_for_timestamp(timestamp)?.unwrap_or(OFFSET_NONE),
        OffsetSpec::Latest | OffsetSpec::Unspecified => p.offsets().high_watermark,
    };
    Ok(PartitionOffset {
        partition: i32::try_from(p.index()).unwrap_or(i32::MAX),
        offset,
    })
}

fn metadata(state: &ApiState, r: MetadataRequest) -> Result<MetadataResponse, ApiError> {
    let tenant = tenant_of(state, &r.tenant)?;
    let topics = if r.topics.is_empty() {
        state.broker.list_topics(&tenant)?
    } else {
        r.topics
            .iter()
            .map(|name| state.broker.topic(&tenant, name))
            .collect::<Result<_, _>>()?
    };
    let node = &state.node;
    Ok(MetadataResponse {
        brokers: vec![BrokerInfo {
            id: node.id,
            grpc_addr: node.grpc_addr.clone(),
            http_addr: node.http_addr.clone(),
        }],
        topics: topics.iter().map(|t| topic_info(t)).collect(),
    })
}

#[tonic::async_trait]
impl Admin for AdminService {
    async fn create_topic(
        &self,
        request: tonic::Request<CreateTopicRequest>,
    ) -> Result<tonic::Response<TopicInfo>, tonic::Status> {
        let r = request.into_inner();
        unary("/weir.v1.Admin/CreateTopic", async {
            create_topic(&self.state, r)
        })
        .await
    }

    async fn list_topics(
        &self,
        request: tonic::Request<ListTopicsRequest>,
    ) -> Result<tonic::Response<ListTopicsResponse>, tonic::Status> {
        let r = request.into_inner();
        unary("/weir.v1.Admin/ListTopics", async {
            list_topics(&self.state, r)
        })
        .await
    }

    async fn describe_topic(
        &self,
        request: tonic::Request<TopicRef>,
    ) -> Result<tonic::Response<TopicInfo>, tonic::Status> {
        let r = request.into_inner();
        unary("/weir.v1.Admin/DescribeTopic", async {
            describe_topic(&self.state, r)
        })
        .await
    }

    async fn alter_topic(
        &self,
        request: tonic::Request<AlterTopicRequest>,
    ) -> Result<tonic::Response<TopicInfo>, tonic::Status> {
        let r = request.into_inner();
        unary("/weir.v1.Admin/AlterTopic", async {
            alter_topic(&self.state, r)
        })
        .await
    }

    async fn delete_topic(
        &self,
        request: tonic::Request<TopicRef>,
    ) -> Result<tonic::Response<DeleteTopicResponse>, tonic::Status> {
        let r = request.into_inner();
        unary("/weir.v1.Admin/DeleteTopic", async {
            delete_topic(&self.state, r)
        })
        .await
    }

    async fn list_offsets(
        &self,
        request: tonic::Request<ListOffsetsRequest>,
    ) -> Result<tonic::Response<ListOffsetsResponse>, tonic::Status> {
        let r = request.into_inner();
        unary("/weir.v1.Admin/ListOffsets", async {
            list_offsets(&self.state, r)
        })
        .await
    }

    async fn metadata(
        &self,
        request: tonic::Request<MetadataRequest>,
    ) -> Result<tonic::Response<MetadataResponse>, tonic::Status> {
        let r = request.into_inner();
        unary("/weir.v1.Admin/Metadata", async {
            metadata(&self.state, r)
        })
        .await
    }
}
