//! Committing positions: as the group member (with its current epoch), or, for a consumer
//! with a group but no subscription, as a client of a group without members.
//!
//! Owns the commit request and its one retry after STALE_MEMBER_EPOCH (the heartbeat task may
//! have moved the epoch on between reading it and the commit landing). Must not decide what to
//! commit: poll, close and revocations pass the positions in.

use weir_proto::ErrorCode;
use weir_proto::v1::{CommitRequest, OffsetCommit};

use super::TopicPartition;
use super::fetcher::wire_partition;
use super::state::Shared;
use crate::Error;

/// Commits `offsets` (next offsets to read) and records them as committed.
pub(crate) async fn send(shared: &Shared, offsets: &[(TopicPartition, i64)]) -> Result<(), Error> {
    let Some(group) = shared.config.group.clone() else {
        return Err(Error::InvalidArgument(
            "commit needs a consumer group".into(),
        ));
    };
    let subscribed = !shared.config.topics.is_empty();
    let mut result = Err(Error::Closed("consumer"));
    for _ in 0..2 {
        let member = shared.lock().member.clone();
        if subscribed && member.is_none() {
            return Err(Error::InvalidArgument(
                "the consumer is not a group member (yet)".into(),
            ));
        }
        let request = CommitRequest {
            tenant: shared.conn.tenant().to_owned(),
            group: group.clone(),
            member_id: member.as_ref().map(|m| m.id.clone()),
            member_epoch: member.as_ref().map(|m| m.epoch),
            offsets: offsets
                .iter()
                .map(|(tp, offset)| OffsetCommit {
                    topic: tp.topic.clone(),
                    partition: wire_partition(tp.partition),
                    offset: *offset,
                    metadata: String::new(),
                })
                .collect(),
        };
        let mut groups = shared.conn.groups();
        result = shared
            .conn
            .call("commit", groups.commit(request))
            .await
            .map(|_| ());
        match &result {
            Err(e) if e.code() == Some(ErrorCode::StaleMemberEpoch) => continue,
            _ => break,
        }
    }
    result?;
    let mut state = shared.lock();
    for (tp, offset) in offsets {
        if let Some(part) = state.parts.get_mut(tp) {
            part.committed = Some(*offset);
        }
    }
    Ok(())
}
