//! Group member labels and committed offsets as both transports take and show them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use weir_broker::GroupDescription;

use crate::ApiError;

/// Longest `client_id` or `instance_id` a caller may give, in characters (JSON Schema's
/// `maxLength`, so the REST contract can state it; at most 1 KiB of UTF-8): they are shown in
/// describe and held in memory for as long as the member lives, so a request cannot park
/// megabytes there. Longer values are refused.
pub const MEMBER_LABEL_CHARS_MAX: usize = 256;

/// Longest User-Agent or forwarded address kept as a member's client id or host, in bytes;
/// longer ones are cut.
pub const MEMBER_LABEL_BYTES_MAX: usize = 256;

/// A committed offset.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CommittedOffsetDto {
    /// Topic name.
    pub topic: String,
    /// Partition number.
    pub partition: u32,
    /// Next offset the group will read.
    pub offset: i64,
    /// Text committed with it.
    pub metadata: String,
}

/// A member label given by the caller, refused when longer than `MEMBER_LABEL_CHARS_MAX`.
pub(crate) fn label(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if v.chars().count() > MEMBER_LABEL_CHARS_MAX => Err(ApiError::invalid(format!(
            "{field} is {} characters, more than {MEMBER_LABEL_CHARS_MAX}",
            v.chars().count()
        ))),
        other => Ok(other),
    }
}

/// A label taken from a header or an address: cut to `MEMBER_LABEL_BYTES_MAX` bytes.
pub(crate) fn cut_label(value: &str) -> String {
    let mut end = value.len().min(MEMBER_LABEL_BYTES_MAX);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value[..end].to_owned()
}

/// The member a request speaks for: both of `member_id` and `member_epoch`, or neither.
pub(crate) fn member_of(
    member_id: Option<&str>,
    member_epoch: Option<i32>,
) -> Result<Option<(&str, i32)>, ApiError> {
    match (member_id, member_epoch) {
        (Some(id), Some(epoch)) => Ok(Some((id, epoch))),
        (None, None) => Ok(None),
        _ => Err(ApiError::invalid(
            "give member_id and member_epoch together, or neither",
        )),
    }
}

/// Committed offsets out of a description (partitions never committed are left out).
pub(crate) fn committed_of(d: GroupDescription) -> Vec<CommittedOffsetDto> {
    d.partitions
        .into_iter()
        .filter_map(|p| {
            Some(CommittedOffsetDto {
                offset: p.committed_offset?,
                metadata: p.metadata.unwrap_or_default(),
                topic: p.topic,
                partition: p.partition,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_bounded() {
        let long = "é".repeat(MEMBER_LABEL_BYTES_MAX);
        assert!(label("client_id", Some(long.clone())).is_ok());
        let too_long = "é".repeat(MEMBER_LABEL_CHARS_MAX + 1);
        assert!(label("client_id", Some(too_long)).is_err());
        let cut = cut_label(&long);
        assert!(cut.len() <= MEMBER_LABEL_BYTES_MAX && long.starts_with(&cut));
        assert_eq!(
            member_of(Some("m"), None).unwrap_err().code.as_str(),
            "INVALID_REQUEST"
        );
    }
}
