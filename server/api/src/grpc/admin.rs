//! gRPC Admin: topic create/list/describe/alter/delete, offsets by position or time, and
//! cluster metadata.
//!
//! Owns the conversion between `weir.v1` admin messages and broker types. Must not hold topic
//! rules of its own: settings go through the shared DTO (`dto::topics::TopicConfigDto::apply_to`), so "-1 is
//! unlimited", "unset is default on create and current on alter" mean the same on both
//! transports, and the broker validates names, counts and bounds.

use std::sync::Arc;

use weir_broker::{Broker, Topic, TopicChange, TopicName};
use weir_proto::v1::admin_server::Admin;
use weir_proto::v1::{
    AlterTopicRequest, BrokerInfo, CreateTopicRequest, DeleteTopicResponse, ListOffsetsRequest,
    ListOffsetsResponse, ListTopicsRequest, ListTopicsResponse, MetadataRequest, MetadataResponse,
    OffsetSpec, PartitionInfo, PartitionOffset, TopicConfig, TopicInfo, TopicRef,
};

use super::{authed, tenancy};
use crate::access::authorize;
use crate::dto::topics::{PartitionDto, TopicConfigDto, partition_dtos, partitions_of, readable};
use crate::rest::cluster;
use crate::{ApiError, ApiState};
use weir_broker::{Action, Principal};

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

fn topic_info(broker: &Broker, topic: &Topic) -> TopicInfo {
    topic_info_of(topic, partitions_of(broker, topic))
}

fn topic_info_of(topic: &Topic, partitions: Vec<PartitionDto>) -> TopicInfo {
    let partitions = partitions
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

fn create_topic(
    state: &ApiState,
    caller: &Principal,
    r: CreateTopicRequest,
) -> Result<TopicInfo, ApiError> {
    let tenant = authorize(state, caller, &r.tenant, Action::AdminTopic(&r.name))?;
    let name = TopicName::parse(&r.name)?;
    let config = config_dto(r.config).apply_to(state.broker.topic_defaults())?;
    let partitions = match r.partitions {
        0 => PARTITIONS_DEFAULT,
        n => n,
    };
    let topic = state
        .broker
        .create_topic(caller, &tenant, name, partitions, config)?;
    Ok(topic_info(&state.broker, &topic))
}

fn list_topics(
    state: &ApiState,
    caller: &Principal,
    r: ListTopicsRequest,
) -> Result<ListTopicsResponse, ApiError> {
    let tenant = authorize(state, caller, &r.tenant, Action::ListTopics)?;
    let topics = state.broker.list_topics(&tenant)?;
    let visible = readable(caller, &topics);
    let states = state.broker.partition_states_many(&visible);
    Ok(ListTopicsResponse {
        topics: visible
            .iter()
            .zip(states)
            .map(|(t, s)| topic_info_of(t, partition_dtos(s)))
            .collect(),
    })
}

fn describe_topic(
    state: &ApiState,
    caller: &Principal,
    r: TopicRef,
) -> Result<TopicInfo, ApiError> {
    let tenant = authorize(state, caller, &r.tenant, Action::ReadTopic(&r.name))?;
    let topic = state.broker.topic(&tenant, &r.name)?;
    Ok(topic_info(&state.broker, &topic))
}

fn alter_topic(
    state: &ApiState,
    caller: &Principal,
    r: AlterTopicRequest,
) -> Result<TopicInfo, ApiError> {
    let tenant = authorize(state, caller, &r.tenant, Action::AdminTopic(&r.name))?;
    let current = state.broker.topic(&tenant, &r.name)?;
    let config = r
        .config
        .map(|c| config_dto(Some(c)).apply_to(&current.config()))
        .transpose()?;
    let change = TopicChange {
        config,
        partitions: r.partitions,
    };
    let topic = state.broker.alter_topic(caller, &tenant, &r.name, change)?;
    Ok(topic_info(&state.broker, &topic))
}

fn delete_topic(
    state: &ApiState,
    caller: &Principal,
    r: TopicRef,
) -> Result<DeleteTopicResponse, ApiError> {
    let tenant = authorize(state, caller, &r.tenant, Action::AdminTopic(&r.name))?;
    state.broker.delete_topic(caller, &tenant, &r.name)?;
    Ok(DeleteTopicResponse {})
}

fn list_offsets(
    state: &ApiState,
    caller: &Principal,
    r: ListOffsetsRequest,
) -> Result<ListOffsetsResponse, ApiError> {
    let tenant = authorize(state, caller, &r.tenant, Action::ReadTopic(&r.topic))?;
    let spec = match OffsetSpec::try_from(r.spec) {
        Ok(OffsetSpec::Unspecified) | Err(_) => {
            return Err(ApiError::invalid(
                "spec must be OFFSET_SPEC_EARLIEST, OFFSET_SPEC_LATEST or OFFSET_SPEC_TIMESTAMP",
            ));
        }
        Ok(spec) => spec,
    };
    let topic = state.broker.topic(&tenant, &r.topic)?;
    let indexes: Vec<i64> = if r.partitions.is_empty() {
        (0..topic.partition_count()).map(i64::from).collect()
    } else {
        r.partitions.iter().map(|&p| i64::from(p)).collect()
    };
    let timestamp = (spec == OffsetSpec::Timestamp).then_some(r.timestamp);
    let offsets = indexes
        .into_iter()
        .map(|p| {
            // Here, or asked of the node that leads it.
            let (o, at) = state.broker.partition_offsets(&topic, p, timestamp)?;
            let offset = match spec {
                OffsetSpec::Earliest => o.log_start_offset,
                OffsetSpec::Timestamp => at.unwrap_or(OFFSET_NONE),
                OffsetSpec::Latest | OffsetSpec::Unspecified => o.high_watermark,
            };
            Ok(PartitionOffset {
                partition: i32::try_from(p).unwrap_or(i32::MAX),
                offset,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(ListOffsetsResponse { offsets })
}

fn metadata(
    state: &ApiState,
    caller: &Principal,
    r: MetadataRequest,
) -> Result<MetadataResponse, ApiError> {
    // Producers need partition counts too: any permission on a topic shows its metadata.
    let tenant = authorize(state, caller, &r.tenant, Action::ReadTenant)?;
    let visible = |name: &str| {
        caller.allows(Action::ReadTopic(name))
            || caller.allows(Action::WriteTopic(name))
            || caller.allows(Action::AdminTopic(name))
    };
    let topics: Vec<_> = if r.topics.is_empty() {
        let all = state.broker.list_topics(&tenant)?;
        all.into_iter()
            .filter(|t| visible(t.name().as_str()))
            .collect()
    } else {
        let mut topics = Vec::with_capacity(r.topics.len());
        for name in &r.topics {
            if !visible(name) {
                caller.authorize(&tenant, Action::ReadTopic(name))?;
            }
            topics.push(state.broker.topic(&tenant, name)?);
        }
        topics
    };
    // The live nodes of a cluster as they registered, and always this one.
    let node = &state.node;
    let mut brokers: Vec<BrokerInfo> = state
        .broker
        .nodes()
        .into_iter()
        .filter(|n| !n.fenced && n.id != node.id)
        .map(|n| BrokerInfo {
            id: n.id,
            grpc_addr: n.grpc_addr,
            http_addr: n.http_addr,
        })
        .collect();
    brokers.insert(
        0,
        BrokerInfo {
            id: node.id,
            grpc_addr: node.grpc_addr.clone(),
            http_addr: node.http_addr.clone(),
        },
    );
    let listed: Vec<&Topic> = topics.iter().map(|t| &**t).collect();
    let states = state.broker.partition_states_many(&listed);
    Ok(MetadataResponse {
        brokers,
        topics: listed
            .iter()
            .zip(states)
            .map(|(t, s)| topic_info_of(t, partition_dtos(s)))
            .collect(),
    })
}

#[tonic::async_trait]
impl Admin for AdminService {
    async fn create_topic(
        &self,
        request: tonic::Request<CreateTopicRequest>,
    ) -> Result<tonic::Response<TopicInfo>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Admin/CreateTopic",
            request,
            |caller, r| async move { create_topic(&self.state, &caller, r) },
        )
        .await
    }

    async fn list_topics(
        &self,
        request: tonic::Request<ListTopicsRequest>,
    ) -> Result<tonic::Response<ListTopicsResponse>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Admin/ListTopics",
            request,
            |caller, r| async move { list_topics(&self.state, &caller, r) },
        )
        .await
    }

    async fn describe_topic(
        &self,
        request: tonic::Request<TopicRef>,
    ) -> Result<tonic::Response<TopicInfo>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Admin/DescribeTopic",
            request,
            |caller, r| async move { describe_topic(&self.state, &caller, r) },
        )
        .await
    }

    async fn alter_topic(
        &self,
        request: tonic::Request<AlterTopicRequest>,
    ) -> Result<tonic::Response<TopicInfo>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Admin/AlterTopic",
            request,
            |caller, r| async move { alter_topic(&self.state, &caller, r) },
        )
        .await
    }

    async fn delete_topic(
        &self,
        request: tonic::Request<TopicRef>,
    ) -> Result<tonic::Response<DeleteTopicResponse>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Admin/DeleteTopic",
            request,
            |caller, r| async move { delete_topic(&self.state, &caller, r) },
        )
        .await
    }

    async fn list_offsets(
        &self,
        request: tonic::Request<ListOffsetsRequest>,
    ) -> Result<tonic::Response<ListOffsetsResponse>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Admin/ListOffsets",
            request,
            |caller, r| async move { list_offsets(&self.state, &caller, r) },
        )
        .await
    }

    async fn metadata(
        &self,
        request: tonic::Request<MetadataRequest>,
    ) -> Result<tonic::Response<MetadataResponse>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Admin/Metadata",
            request,
            |caller, r| async move { metadata(&self.state, &caller, r) },
        )
        .await
    }

    async fn create_tenant(
        &self,
        request: tonic::Request<weir_proto::v1::TenantRef>,
    ) -> Result<tonic::Response<weir_proto::v1::TenantInfo>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Admin/CreateTenant",
            request,
            |caller, r| async move { tenancy::create_tenant(&self.state, &caller, r) },
        )
        .await
    }

    async fn list_tenants(
        &self,
        request: tonic::Request<weir_proto::v1::ListTenantsRequest>,
    ) -> Result<tonic::Response<weir_proto::v1::ListTenantsResponse>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Admin/ListTenants",
            request,
            |caller, _| async move { Ok(tenancy::list_tenants(&self.state, &caller)) },
        )
        .await
    }

    async fn describe_tenant(
        &self,
        request: tonic::Request<weir_proto::v1::TenantRef>,
    ) -> Result<tonic::Response<weir_proto::v1::TenantInfo>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Admin/DescribeTenant",
            request,
            |caller, r| async move { tenancy::describe_tenant(&self.state, &caller, r) },
        )
        .await
    }

    async fn delete_tenant(
        &self,
        request: tonic::Request<weir_proto::v1::TenantRef>,
    ) -> Result<tonic::Response<weir_proto::v1::DeleteTenantResponse>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Admin/DeleteTenant",
            request,
            |caller, r| async move { tenancy::delete_tenant(&self.state, &caller, r) },
        )
        .await
    }

    async fn create_key(
        &self,
        request: tonic::Request<weir_proto::v1::CreateKeyRequest>,
    ) -> Result<tonic::Response<weir_proto::v1::CreatedKey>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Admin/CreateKey",
            request,
            |caller, r| async move { tenancy::create_key(&self.state, &caller, r) },
        )
        .await
    }

    async fn list_keys(
        &self,
        request: tonic::Request<weir_proto::v1::TenantRef>,
    ) -> Result<tonic::Response<weir_proto::v1::ListKeysResponse>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Admin/ListKeys",
            request,
            |caller, r| async move { tenancy::list_keys(&self.state, &caller, r) },
        )
        .await
    }

    async fn revoke_key(
        &self,
        request: tonic::Request<weir_proto::v1::KeyRef>,
    ) -> Result<tonic::Response<weir_proto::v1::RevokeKeyResponse>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Admin/RevokeKey",
            request,
            |caller, r| async move { tenancy::revoke_key(&self.state, &caller, r) },
        )
        .await
    }

    async fn get_quotas(
        &self,
        request: tonic::Request<weir_proto::v1::TenantRef>,
    ) -> Result<tonic::Response<weir_proto::v1::Quotas>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Admin/GetQuotas",
            request,
            |caller, r| async move { tenancy::get_quotas(&self.state, &caller, r) },
        )
        .await
    }

    async fn set_quotas(
        &self,
        request: tonic::Request<weir_proto::v1::SetQuotasRequest>,
    ) -> Result<tonic::Response<weir_proto::v1::Quotas>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Admin/SetQuotas",
            request,
            |caller, r| async move { tenancy::set_quotas(&self.state, &caller, r) },
        )
        .await
    }

    async fn get_usage(
        &self,
        request: tonic::Request<weir_proto::v1::TenantRef>,
    ) -> Result<tonic::Response<weir_proto::v1::Usage>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Admin/GetUsage",
            request,
            |caller, r| async move { tenancy::get_usage(&self.state, &caller, r) },
        )
        .await
    }

    async fn describe_cluster(
        &self,
        request: tonic::Request<weir_proto::v1::DescribeClusterRequest>,
    ) -> Result<tonic::Response<weir_proto::v1::ClusterInfo>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Admin/DescribeCluster",
            request,
            |_caller, _r| async move { Ok(cluster_info(cluster::describe(&self.state))) },
        )
        .await
    }

    async fn add_node(
        &self,
        request: tonic::Request<weir_proto::v1::AddNodeRequest>,
    ) -> Result<tonic::Response<weir_proto::v1::ClusterInfo>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Admin/AddNode",
            request,
            |caller, r| async move {
                cluster::add(&self.state, &caller, r.node_id, r.internal_addr)
                    .await
                    .map(cluster_info)
            },
        )
        .await
    }

    async fn remove_node(
        &self,
        request: tonic::Request<weir_proto::v1::RemoveNodeRequest>,
    ) -> Result<tonic::Response<weir_proto::v1::ClusterInfo>, tonic::Status> {
        authed(
            &self.state,
            "/weir.v1.Admin/RemoveNode",
            request,
            |caller, r| async move {
                cluster::remove(&self.state, &caller, r.node_id)
                    .await
                    .map(cluster_info)
            },
        )
        .await
    }
}

/// `GET /v1/cluster`'s answer as gRPC's.
fn cluster_info(dto: cluster::ClusterDto) -> weir_proto::v1::ClusterInfo {
    weir_proto::v1::ClusterInfo {
        mode: match dto.mode {
            cluster::ClusterMode::Single => "single",
            cluster::ClusterMode::Raft => "raft",
        }
        .into(),
        node_id: dto.node_id,
        role: dto.role,
        controller: dto.controller,
        term: dto.term,
        last_log_index: dto.last_log_index,
        applied_index: dto.applied_index,
        voters: dto.voters,
        nodes: dto
            .nodes
            .into_iter()
            .map(|n| weir_proto::v1::ClusterNode {
                node_id: n.node_id,
                internal_addr: n.internal_addr,
                role: n.role,
                http_addr: n.http_addr,
                grpc_addr: n.grpc_addr,
                rack: n.rack,
                liveness: n.liveness,
                coordinator_shards: n.coordinator_shards,
            })
            .collect(),
    }
}
