//! `ErrorCode`: the one list of error codes every Weir interface speaks.
//!
//! Owns the stable SCREAMING_SNAKE names and whether a code is worth retrying. A code for a
//! mistake Kafka also names takes Kafka's name (`INVALID_PARTITIONS`, `INVALID_RECORD`, ...),
//! so a client can map it to the Kafka error it knows. Must not know HTTP statuses or gRPC
//! codes: weir-api maps codes to those in exactly one place, and the SDKs map them to their
//! exceptions. Adding a code is a wire-contract change: weir-api's two tables, the OpenAPI
//! descriptions, the Python SDK's exception classes and the console's messages change with it.

use std::fmt;

/// A stable, machine-readable error code. The string form is part of the wire contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The request is malformed or names something impossible.
    InvalidRequest,
    /// A configuration value is outside its bounds.
    InvalidConfig,
    /// A RecordBatch failed validation (length, magic, CRC, codec).
    InvalidBatch,
    /// No such tenant (or not visible to the caller).
    TenantNotFound,
    /// No such topic in this tenant.
    TopicNotFound,
    /// The topic has no such partition.
    PartitionNotFound,
    /// A topic of that name already exists in this tenant.
    TopicAlreadyExists,
    /// A tenant of that name already exists.
    TenantAlreadyExists,
    /// The offset is outside `[log_start_offset, high_watermark]`.
    OffsetOutOfRange,
    /// One record is larger than `record_bytes_max`.
    RecordTooLarge,
    /// One batch is larger than the topic's `batch_bytes_max`.
    BatchTooLarge,
    /// The request body is larger than `request_bytes_max`.
    RequestTooLarge,
    /// No valid credential.
    Unauthenticated,
    /// The credential does not allow this.
    Forbidden,
    /// A quota or rate limit was hit; retry after the indicated delay.
    QuotaExceeded,
    /// The partition's storage failed and accepts no writes on this node.
    StorageUnavailable,
    /// The server is starting, stopping or overloaded.
    Unavailable,
    /// The operation did not finish in time.
    Timeout,
    /// No such REST route.
    RouteNotFound,
    /// The route exists but not with this method.
    MethodNotAllowed,
    /// A bug: the server could not handle a well-formed request.
    Internal,
    /// No such consumer group in this tenant.
    GroupNotFound,
    /// The group has live members; the operation needs an empty group.
    GroupNotEmpty,
    /// The member id is not (or no longer) in the group: rejoin without a member id.
    UnknownMember,
    /// The member epoch is older than the group's view of the member: a zombie was fenced.
    StaleMemberEpoch,
    /// The member does not own the partition it commits or reads.
    PartitionNotAssigned,
    /// The group has `group_members_max` members already.
    GroupMaxSizeReached,
    /// An idempotent batch does not continue its producer's sequence in the partition (a gap,
    /// a reordered batch, or an epoch older than the partition has seen); it was not written.
    OutOfOrderSequence,
    /// The write would take the tenant past its `storage_bytes` quota; retention or deleting
    /// topics frees space.
    StorageQuotaExceeded,
    /// The tenant has as many topics, partitions, groups or keys as its quota allows.
    CountQuotaExceeded,
    /// The tenant still holds topics or consumer groups.
    TenantNotEmpty,
    /// No such API key in this tenant.
    KeyNotFound,
    /// A partition count is 0, above `topic_partitions_max`, or fewer than the topic has
    /// (partitions can only be added). Kafka's `INVALID_PARTITIONS` (37).
    InvalidPartitions,
    /// A member's `session_timeout_ms` is outside the server's `session_timeout_ms_min` to
    /// `session_timeout_ms_max`. Kafka's `INVALID_SESSION_TIMEOUT` (26).
    InvalidSessionTimeout,
    /// A committed offset's metadata is longer than `offset_metadata_bytes_max`. Kafka's
    /// `OFFSET_METADATA_TOO_LARGE` (12).
    OffsetMetadataTooLarge,
    /// A record breaks a rule of its own (more headers than `record_headers_max`). Kafka's
    /// `INVALID_RECORD` (87).
    InvalidRecord,
    /// A produce request's acks value is not one the server knows. Kafka's
    /// `INVALID_REQUIRED_ACKS` (21).
    InvalidRequiredAcks,
    /// No node of that id is a member of the cluster.
    NodeNotFound,
    /// A change to the cluster's members that its state does not allow: an id or address
    /// another member has, removing the last voter, or changing a node run alone.
    MembershipConflict,
}

impl ErrorCode {
    /// Every code, for documentation and exhaustive tests.
    pub const ALL: [ErrorCode; 39] = [
        ErrorCode::InvalidRequest,
        ErrorCode::InvalidConfig,
        ErrorCode::InvalidBatch,
        ErrorCode::TenantNotFound,
        ErrorCode::TopicNotFound,
        ErrorCode::PartitionNotFound,
        ErrorCode::TopicAlreadyExists,
        ErrorCode::TenantAlreadyExists,
        ErrorCode::OffsetOutOfRange,
        ErrorCode::RecordTooLarge,
        ErrorCode::BatchTooLarge,
        ErrorCode::RequestTooLarge,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::QuotaExceeded,
        ErrorCode::StorageUnavailable,
        ErrorCode::Unavailable,
        ErrorCode::Timeout,
        ErrorCode::RouteNotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Internal,
        ErrorCode::GroupNotFound,
        ErrorCode::GroupNotEmpty,
        ErrorCode::UnknownMember,
        ErrorCode::StaleMemberEpoch,
        ErrorCode::PartitionNotAssigned,
        ErrorCode::GroupMaxSizeReached,
        ErrorCode::OutOfOrderSequence,
        ErrorCode::StorageQuotaExceeded,
        ErrorCode::CountQuotaExceeded,
        ErrorCode::TenantNotEmpty,
        ErrorCode::KeyNotFound,
        ErrorCode::InvalidPartitions,
        ErrorCode::InvalidSessionTimeout,
        ErrorCode::OffsetMetadataTooLarge,
        ErrorCode::InvalidRecord,
        ErrorCode::InvalidRequiredAcks,
        ErrorCode::NodeNotFound,
        ErrorCode::MembershipConflict,
    ];

    /// The stable wire name, e.g. `TOPIC_NOT_FOUND`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "INVALID_REQUEST",
            ErrorCode::InvalidConfig => "INVALID_CONFIG",
            ErrorCode::InvalidBatch => "INVALID_BATCH",
            ErrorCode::TenantNotFound => "TENANT_NOT_FOUND",
            ErrorCode::TopicNotFound => "TOPIC_NOT_FOUND",
            ErrorCode::PartitionNotFound => "PARTITION_NOT_FOUND",
            ErrorCode::TopicAlreadyExists => "TOPIC_ALREADY_EXISTS",
            ErrorCode::TenantAlreadyExists => "TENANT_ALREADY_EXISTS",
            ErrorCode::OffsetOutOfRange => "OFFSET_OUT_OF_RANGE",
            ErrorCode::RecordTooLarge => "RECORD_TOO_LARGE",
            ErrorCode::BatchTooLarge => "BATCH_TOO_LARGE",
            ErrorCode::RequestTooLarge => "REQUEST_TOO_LARGE",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::QuotaExceeded => "QUOTA_EXCEEDED",
            ErrorCode::StorageUnavailable => "STORAGE_UNAVAILABLE",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::RouteNotFound => "ROUTE_NOT_FOUND",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::GroupNotFound => "GROUP_NOT_FOUND",
            ErrorCode::GroupNotEmpty => "GROUP_NOT_EMPTY",
            ErrorCode::UnknownMember => "UNKNOWN_MEMBER",
            ErrorCode::StaleMemberEpoch => "STALE_MEMBER_EPOCH",
            ErrorCode::PartitionNotAssigned => "PARTITION_NOT_ASSIGNED",
            ErrorCode::GroupMaxSizeReached => "GROUP_MAX_SIZE_REACHED",
            ErrorCode::OutOfOrderSequence => "OUT_OF_ORDER_SEQUENCE",
            ErrorCode::StorageQuotaExceeded => "STORAGE_QUOTA_EXCEEDED",
            ErrorCode::CountQuotaExceeded => "COUNT_QUOTA_EXCEEDED",
            ErrorCode::TenantNotEmpty => "TENANT_NOT_EMPTY",
            ErrorCode::KeyNotFound => "KEY_NOT_FOUND",
            ErrorCode::InvalidPartitions => "INVALID_PARTITIONS",
            ErrorCode::InvalidSessionTimeout => "INVALID_SESSION_TIMEOUT",
            ErrorCode::OffsetMetadataTooLarge => "OFFSET_METADATA_TOO_LARGE",
            ErrorCode::InvalidRecord => "INVALID_RECORD",
            ErrorCode::InvalidRequiredAcks => "INVALID_REQUIRED_ACKS",
            ErrorCode::NodeNotFound => "NODE_NOT_FOUND",
            ErrorCode::MembershipConflict => "MEMBERSHIP_CONFLICT",
        }
    }

    /// Parses a wire name; `None` for a code this version does not know.
    pub fn parse(name: &str) -> Option<Self> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Whether the same request may succeed if sent again later unchanged.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorCode::QuotaExceeded | ErrorCode::Unavailable | ErrorCode::Timeout
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            assert!(seen.insert(code.as_str()));
            assert!(
                code.as_str()
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b == b'_')
            );
        }
        assert_eq!(ErrorCode::parse("NOPE"), None);
    }

    #[test]
    fn kafka_named_codes_keep_kafka_names_and_are_not_retryable() {
        // As in Kafka, where each of these is a non-retriable error.
        for (code, name) in [
            (ErrorCode::InvalidPartitions, "INVALID_PARTITIONS"),
            (ErrorCode::InvalidSessionTimeout, "INVALID_SESSION_TIMEOUT"),
            (
                ErrorCode::OffsetMetadataTooLarge,
                "OFFSET_METADATA_TOO_LARGE",
            ),
            (ErrorCode::InvalidRecord, "INVALID_RECORD"),
            (ErrorCode::InvalidRequiredAcks, "INVALID_REQUIRED_ACKS"),
        ] {
            assert_eq!(code.as_str(), name);
            assert!(!code.is_retryable(), "{name}");
        }
    }
}
