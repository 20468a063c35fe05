//! REST topic administration: `/v1/tenants/{tenant}/topics[/{topic}]`.
//!
//! Owns the topic DTOs and their conversion to broker types. Must not implement topic rules:
//! the broker validates names, counts and settings.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use weir_broker::{Broker, PartitionState, Topic, TopicChange, TopicName};

use super::extract::Caller;
use super::extract::{ApiPath, LaterJson};
use crate::access::authorize;
use crate::dto::ints;
use crate::dto::topics::{PartitionDto, TopicConfigDto, partition_dtos, partitions_of, readable};
use crate::{ApiError, ApiState, Problem};
use weir_broker::Action;

/// Body of a topic creation.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTopic {
    /// Topic name: 1 to 249 of a-z, A-Z, 0-9, '.', '_', '-', not '.' or '..'.
    #[schema(
        pattern = r"^(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,248}|\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,247}|\.\.[A-Za-z0-9._-]{1,247})$",
        max_length = 249
    )]
    pub name: String,
    /// Number of partitions (default 1, at most the server's `topic_partitions_max`, 1000
    /// unless configured otherwise).
    #[serde(default = "one", deserialize_with = "ints::whole")]
    #[schema(minimum = 1, maximum = 1000)]
    pub partitions: u32,
    /// Settings; omitted ones take the server defaults.
    #[serde(default)]
    pub config: TopicConfigDto,
}

fn one() -> u32 {
    1
}

/// Body of a topic change.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlterTopic {
    /// Settings to change; omitted ones keep their current value.
    #[serde(default)]
    pub config: Option<TopicConfigDto>,
    /// New partition count; partitions can only be added (fewer than the topic has is
    /// `INVALID_PARTITIONS`). At most the server's `topic_partitions_max` (1000 unless configured
    /// otherwise).
    #[serde(default, deserialize_with = "ints::optional")]
    #[schema(minimum = 1, maximum = 1000)]
    pub partitions: Option<u32>,
}

/// A topic with its partitions and settings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TopicDto {
    /// Topic name.
    pub name: String,
    /// Partition count.
    pub partitions: u32,
    /// Records stored, summed over partitions (high watermark − log start offset).
    pub records: i64,
    /// Bytes stored, summed over partitions.
    pub size_bytes: u64,
    /// Every setting, defaults filled in.
    pub config: TopicConfigDto,
}

/// A topic described in full.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TopicDetailDto {
    /// Topic name.
    pub name: String,
    /// Each partition's offsets and size.
    pub partitions: Vec<PartitionDto>,
    /// Every setting, defaults filled in.
    pub config: TopicConfigDto,
}

/// The topics of a tenant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TopicList {
    /// Topics, by name.
    pub topics: Vec<TopicDto>,
}

/// Path of a tenant.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TenantPath {
    /// Tenant name.
    pub tenant: String,
}

/// Path of a topic.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TopicPath {
    /// Tenant name.
    pub tenant: String,
    /// Topic name.
    pub topic: String,
}

pub(crate) fn summary_of(topic: &Topic, states: Vec<PartitionState>) -> TopicDto {
    let parts = partition_dtos(states);
    TopicDto {
        name: topic.name().to_string(),
        // One entry per partition of the topic, numbered by u32.
        partitions: u32::try_from(parts.len()).expect("partition counts fit in u32"),
        records: parts
            .iter()
            .map(|p| p.high_watermark - p.log_start_offset)
            .sum(),
        size_bytes: parts.iter().map(|p| p.size_bytes).sum(),
        config: TopicConfigDto::from_config(&topic.config()),
    }
}

pub(crate) fn detail_of(broker: &Broker, topic: &Topic) -> TopicDetailDto {
    TopicDetailDto {
        name: topic.name().to_string(),
        partitions: partitions_of(broker, topic),
        config: TopicConfigDto::from_config(&topic.config()),
    }
}

/// Create a topic.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/topics", tag = "topics",
    params(TenantPath), request_body = CreateTopic,
    responses(
        (status = 201, description = "Created", body = TopicDetailDto),
        (status = 400, description = "`INVALID_REQUEST` (a bad topic name, a malformed body, a bad tenant name), `INVALID_PARTITIONS` (a partition count of 0 or above `topic_partitions_max`) or `INVALID_CONFIG` (a setting out of bounds, flush_records with flush_ms)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`TOPIC_ALREADY_EXISTS`, or `COUNT_QUOTA_EXCEEDED` (past the tenant's `topics` or `partitions` quota)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create_topic(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<TenantPath>,
    body: LaterJson<CreateTopic>,
) -> Result<impl IntoResponse, ApiError> {
    // Whether the caller may create any topic is known before the body is read; whether it
    // may create this one, after.
    let tenant = authorize(&state, &caller, &path.tenant, Action::AdminTopics)?;
    let body = body.parse()?;
    caller.authorize(&tenant, Action::AdminTopic(&body.name))?;
    let name = TopicName::parse(&body.name)?;
    let config = body.config.apply_to(state.broker.topic_defaults())?;
    let topic = state
        .broker
        .create_topic(&caller, &tenant, name, body.partitions, config)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(detail_of(&state.broker, &topic)),
    ))
}

/// List topics.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/topics", tag = "topics", params(TenantPath),
    responses(
        (status = 200, description = "Topics of the tenant", body = TopicList),
        (status = 400, description = "`INVALID_REQUEST`: a bad tenant name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_topics(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<TenantPath>,
) -> Result<axum::Json<TopicList>, ApiError> {
    let tenant = authorize(&state, &caller, &path.tenant, Action::ListTopics)?;
    let topics = state.broker.list_topics(&tenant)?;
    let visible = readable(&caller, &topics);
    let states = state.broker.partition_states_many(&visible);
    Ok(axum::Json(TopicList {
        topics: visible
            .iter()
            .zip(states)
            .map(|(t, s)| summary_of(t, s))
            .collect(),
    }))
}

/// Describe a topic: partitions with offsets and sizes, and settings.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/topics/{topic}", tag = "topics", params(TopicPath),
    responses(
        (status = 200, description = "The topic", body = TopicDetailDto),
        (status = 400, description = "`INVALID_REQUEST`: a bad tenant name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND` or `TOPIC_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn describe_topic(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<TopicPath>,
) -> Result<axum::Json<TopicDetailDto>, ApiError> {
    let tenant = authorize(
        &state,
        &caller,
        &path.tenant,
        Action::ReadTopic(&path.topic),
    )?;
    let topic = state.broker.topic(&tenant, &path.topic)?;
    Ok(axum::Json(detail_of(&state.broker, &topic)))
}

/// Change settings and/or add partitions.
#[utoipa::path(patch, path = "/v1/tenants/{tenant}/topics/{topic}", tag = "topics",
    params(TopicPath), request_body = AlterTopic,
    responses(
        (status = 200, description = "The changed topic", body = TopicDetailDto),
        (status = 400, description = "`INVALID_PARTITIONS` (fewer partitions than the topic has, more than `topic_partitions_max`), `INVALID_REQUEST` (a malformed body, a bad tenant name) or `INVALID_CONFIG`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND` or `TOPIC_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`COUNT_QUOTA_EXCEEDED`: added partitions past the tenant's `partitions` quota", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn alter_topic(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<TopicPath>,
    body: LaterJson<AlterTopic>,
) -> Result<axum::Json<TopicDetailDto>, ApiError> {
    let tenant = authorize(
        &state,
        &caller,
        &path.tenant,
        Action::AdminTopic(&path.topic),
    )?;
    let body = body.parse()?;
    let current = state.broker.topic(&tenant, &path.topic)?;
    let config = body
        .config
        .map(|c| c.apply_to(&current.config()))
        .transpose()?;
    let change = TopicChange {
        config,
        partitions: body.partitions,
    };
    let topic = state
        .broker
        .alter_topic(&caller, &tenant, &path.topic, change)?;
    Ok(axum::Json(detail_of(&state.broker, &topic)))
}

/// Delete a topic and its data.
#[utoipa::path(delete, path = "/v1/tenants/{tenant}/topics/{topic}", tag = "topics", params(TopicPath),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "`INVALID_REQUEST`: a bad tenant name", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`TENANT_NOT_FOUND` or `TOPIC_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn delete_topic(
    State(state): State<Arc<ApiState>>,
    Caller(caller): Caller,
    ApiPath(path): ApiPath<TopicPath>,
) -> Result<StatusCode, ApiError> {
    let tenant = authorize(
        &state,
        &caller,
        &path.tenant,
        Action::AdminTopic(&path.topic),
    )?;
    state.broker.delete_topic(&caller, &tenant, &path.topic)?;
    Ok(StatusCode::NO_CONTENT)
}
