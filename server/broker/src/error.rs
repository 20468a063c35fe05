//! Errors of broker operations, each with the `ErrorCode` the transports report.

use weir_codec::ErrorCode;
use weir_codec::batch::BatchError;
use weir_log::LogError;

use crate::tenancy::Refusal;

/// Why a broker operation failed. Messages are shown to API callers: no paths, no internals
/// beyond what the caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// A name breaks its spelling rule.
    #[error("invalid {kind} name {name:?}: {rule}")]
    InvalidName {
        /// `tenant` or `topic`.
        kind: &'static str,
        /// The name given.
        name: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// The request is malformed or breaks a named limit.
    #[error("{0}")]
    InvalidRequest(String),
    /// A topic setting is outside its bounds.
    #[error("invalid config {name}: {reason}")]
    InvalidConfig {
        /// Setting name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No such tenant.
    #[error("tenant {0:?} not found")]
    TenantNotFound(String),
    /// No such topic in the tenant.
    #[error("topic {0:?} not found")]
    TopicNotFound(String),
    /// No such partition in the topic.
    #[error("topic {topic:?} has no partition {partition}")]
    PartitionNotFound {
        /// Topic name.
        topic: String,
        /// Partition asked for.
        partition: i64,
    },
    /// A topic of that name exists already.
    #[error("topic {0:?} already exists")]
    TopicAlreadyExists(String),
    /// A tenant of that name exists already.
    #[error("tenant {0:?} already exists")]
    TenantAlreadyExists(String),
    /// Offset outside the partition's range.
    #[error("offset {offset} is out of range [{start}, {end}]")]
    OffsetOutOfRange {
        /// Offset asked for.
        offset: i64,
        /// Log start offset.
        start: i64,
        /// High watermark.
        end: i64,
    },
    /// A record is larger than `record_bytes_max`.
    #[error("record of {size} bytes exceeds record_bytes_max {max}")]
    RecordTooLarge {
        /// Record size (key + value + headers).
        size: usize,
        /// Limit.
        max: usize,
    },
    /// A batch is larger than the topic's `batch_bytes_max`.
    #[error("batch of {size} bytes exceeds batch_bytes_max {max}")]
    BatchTooLarge {
        /// Batch size.
        size: usize,
        /// Limit.
        max: u32,
    },
    /// A RecordBatch failed validation.
    #[error("invalid record batch: {0}")]
    InvalidBatch(#[from] BatchError),
    /// The partition's storage failed; no writes on this node.
    #[error("partition storage unavailable: {0}")]
    StorageUnavailable(String),
    /// No such consumer group.
    #[error("group {0:?} not found")]
    GroupNotFound(String),
    /// The group has members; the operation needs an empty group.
    #[error("group {0:?} has active members")]
    GroupNotEmpty(String),
    /// The member is not in the group (never joined, left, or its session expired).
    #[error("member {0:?} is not in the group: join again without a member id")]
    UnknownMember(String),
    /// The request carries an older epoch than the member's current one.
    #[error("member {member:?} sent epoch {given:?} but its current epoch is {current}")]
    StaleMemberEpoch {
        /// Member id.
        member: String,
        /// Epoch in the request.
        given: Option<i32>,
        /// Current epoch.
        current: i32,
    },
    /// The member does not own a partition it tried to use.
    #[error("partition {topic}/{partition} is not assigned to this member")]
    PartitionNotAssigned {
        /// Topic.
        topic: String,
        /// Partition.
        partition: u32,
    },
    /// The group is full.
    #[error("the group already has group_members_max {0} members")]
    GroupMaxSizeReached(usize),
    /// An idempotent batch does not continue its producer's sequence in the partition.
    #[error(
        "out of order sequence for producer {producer_id}: batch starts at {given}, the partition expects {expected}"
    )]
    OutOfOrderSequence {
        /// Producer id of the batch.
        producer_id: i64,
        /// Its base sequence.
        given: i32,
        /// The sequence the partition expects next.
        expected: i32,
    },
    /// An idempotent batch carries an older epoch than the partition has seen for its producer
    /// (reported as `OUT_OF_ORDER_SEQUENCE`: the batch was not written and never will be).
    #[error("producer {producer_id} sent epoch {given} but the partition has seen epoch {current}")]
    StaleProducerEpoch {
        /// Producer id of the batch.
        producer_id: i64,
        /// Epoch of the batch.
        given: i16,
        /// Newest epoch seen.
        current: i16,
    },
    /// No valid credential.
    #[error("{0}")]
    Unauthenticated(String),
    /// The credential does not allow the operation.
    #[error("{0}")]
    Forbidden(String),
    /// A rate quota is exhausted: retry after the delay.
    #[error("{} quota of {} exceeded: retry in {} ms", .0.rate.name(), .0.limit, .0.retry_after.as_millis())]
    Throttled(Refusal),
    /// The tenant's storage quota would be exceeded.
    #[error("storage_bytes quota {max} exceeded: {stored} bytes stored, {incoming} more offered")]
    StorageQuotaExceeded {
        /// Bytes stored now.
        stored: u64,
        /// Bytes of the refused write.
        incoming: u64,
        /// The quota.
        max: u64,
    },
    /// A count quota (topics, partitions, groups, keys) would be exceeded.
    #[error("{0}")]
    CountQuotaExceeded(String),
    /// The tenant still holds topics or groups.
    #[error("{0}")]
    TenantNotEmpty(String),
    /// No such API key in the tenant.
    #[error("key {0:?} not found")]
    KeyNotFound(String),
    /// A partition count is 0, above `topic_partitions_max`, or fewer than the topic has.
    #[error("{0}")]
    InvalidPartitions(String),
    /// A session timeout outside `session_timeout_ms_min` to `session_timeout_ms_max`.
    #[error("session_timeout_ms must be between {min} and {max}, got {given}")]
    InvalidSessionTimeout {
        /// The timeout asked for (ms).
        given: u64,
        /// Smallest accepted (ms).
        min: u64,
        /// Largest accepted (ms).
        max: u64,
    },
    /// A committed offset's metadata is longer than `offset_metadata_bytes_max`.
    #[error("offset metadata of {size} bytes exceeds offset_metadata_bytes_max {max}")]
    OffsetMetadataTooLarge {
        /// Metadata length in bytes.
        size: usize,
        /// Limit.
        max: usize,
    },
    /// A record breaks a rule of its own (too many headers).
    #[error("{0}")]
    InvalidRecord(String),
    /// The broker is shutting down.
    #[error("the broker is shutting down")]
    ShuttingDown,
    /// A metadata change reached a node that is not the controller (the metadata quorum's
    /// leader), or the quorum has none right now; retry, at the controller when it is named.
    #[error("{0}")]
    NotController(String),
    /// The partition is led by another node (`leader`), or by none right now (offline: its
    /// only replica is fenced or gone); retry, at the leader when it is named.
    #[error("partition {partition} of topic {topic} is {}", match leader {
        Some(node) => format!("led by node {node}, not this one"),
        None => "offline: no node leads it now".to_owned(),
    })]
    NotLeader {
        topic: String,
        partition: i64,
        leader: Option<u32>,
    },
    /// The node that coordinates the group is fenced or gone (`node`), or no node could be
    /// given its coordination yet; retry.
    #[error("group {group} has no coordinator now: {}", match node {
        Some(node) => format!("node {node}, which coordinates it, is offline"),
        None => "no live node could take it".to_owned(),
    })]
    CoordinatorUnavailable { group: String, node: Option<u32> },
    /// Something that should not happen; details are in the server log.
    #[error("internal error: {0}")]
    Internal(String),
    /// A refusal another node (the controller) gave to a change this node forwarded to it.
    #[error("{message}")]
    Forwarded {
        /// The controller's code.
        code: ErrorCode,
        /// The controller's message.
        message: String,
    },
}

impl BrokerError {
    /// When a retry may succeed, if the error says.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            BrokerError::Throttled(r) => Some(r.retry_after),
            _ => None,
        }
    }

    /// The stable code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            BrokerError::InvalidName { .. } | BrokerError::InvalidRequest(_) => {
                ErrorCode::InvalidRequest
            }
            BrokerError::InvalidConfig { .. } => ErrorCode::InvalidConfig,
            BrokerError::TenantNotFound(_) => ErrorCode::TenantNotFound,
            BrokerError::TopicNotFound(_) => ErrorCode::TopicNotFound,
            BrokerError::PartitionNotFound { .. } => ErrorCode::PartitionNotFound,
            BrokerError::TopicAlreadyExists(_) => ErrorCode::TopicAlreadyExists,
            BrokerError::TenantAlreadyExists(_) => ErrorCode::TenantAlreadyExists,
            BrokerError::OffsetOutOfRange { .. } => ErrorCode::OffsetOutOfRange,
            BrokerError::RecordTooLarge { .. } => ErrorCode::RecordTooLarge,
            BrokerError::BatchTooLarge { .. } => ErrorCode::BatchTooLarge,
            BrokerError::InvalidBatch(_) => ErrorCode::InvalidBatch,
            BrokerError::StorageUnavailable(_) => ErrorCode::StorageUnavailable,
            BrokerError::GroupNotFound(_) => ErrorCode::GroupNotFound,
            BrokerError::GroupNotEmpty(_) => ErrorCode::GroupNotEmpty,
            BrokerError::UnknownMember(_) => ErrorCode::UnknownMember,
            BrokerError::StaleMemberEpoch { .. } => ErrorCode::StaleMemberEpoch,
            BrokerError::PartitionNotAssigned { .. } => ErrorCode::PartitionNotAssigned,
            BrokerError::GroupMaxSizeReached(_) => ErrorCode::GroupMaxSizeReached,
            BrokerError::OutOfOrderSequence { .. } | BrokerError::StaleProducerEpoch { .. } => {
                ErrorCode::OutOfOrderSequence
            }
            BrokerError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            BrokerError::Forbidden(_) => ErrorCode::Forbidden,
            BrokerError::Throttled(_) => ErrorCode::QuotaExceeded,
            BrokerError::StorageQuotaExceeded { .. } => ErrorCode::StorageQuotaExceeded,
            BrokerError::CountQuotaExceeded(_) => ErrorCode::CountQuotaExceeded,
            BrokerError::TenantNotEmpty(_) => ErrorCode::TenantNotEmpty,
            BrokerError::KeyNotFound(_) => ErrorCode::KeyNotFound,
            BrokerError::InvalidPartitions(_) => ErrorCode::InvalidPartitions,
            BrokerError::InvalidSessionTimeout { .. } => ErrorCode::InvalidSessionTimeout,
            BrokerError::OffsetMetadataTooLarge { .. } => ErrorCode::OffsetMetadataTooLarge,
            BrokerError::InvalidRecord(_) => ErrorCode::InvalidRecord,
            BrokerError::ShuttingDown
            | BrokerError::NotController(_)
            | BrokerError::NotLeader { .. }
            | BrokerError::CoordinatorUnavailable { .. } => ErrorCode::Unavailable,
            BrokerError::Forwarded { code, .. } => *code,
            BrokerError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<LogError> for BrokerError {
    fn from(e: LogError) -> Self {
        match e {
            LogError::InvalidBatch(b) => BrokerError::InvalidBatch(b),
            LogError::BatchTooLarge { size, max } => BrokerError::BatchTooLarge { size, max },
            LogError::OffsetOutOfRange { offset, start, end } => {
                BrokerError::OffsetOutOfRange { offset, start, end }
            }
            LogError::InvalidConfig { name, reason } => BrokerError::InvalidConfig {
                name: name.to_owned(),
                reason,
            },
            LogError::Closed => BrokerError::ShuttingDown,
            other
            @ (LogError::Poisoned { .. } | LogError::Corrupt { .. } | LogError::Io { .. }) => {
                tracing::error!(error = %other, "partition storage failed");
                BrokerError::StorageUnavailable("see the server log".into())
            }
        }
    }
}
