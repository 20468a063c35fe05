//! Group membership of a subscribed consumer: joins and heartbeats through Groups.Heartbeat,
//! applies each assignment (revoked partitions: stop, commit in auto mode, tell the listener;
//! new partitions: start a fetcher, tell the listener), rejoins when fenced, leaves on close.
//!
//! Owns the heartbeat loop and the order of a revocation: a revoked partition is removed
//! (no more records handed out), its position committed, and only then does the next heartbeat
//! acknowledge it, so the next owner starts where this one stopped. Must not fetch records.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use weir_proto::ErrorCode;
use weir_proto::v1::{HeartbeatRequest, HeartbeatResponse, LeaveRequest};

use super::state::{Member, Part, Shared};
use super::{CommitMode, RebalanceListener, TopicPartition, commit, fetcher};
use crate::Error;

/// Wait before rejoining after the group fenced this member.
const REJOIN_BACKOFF: Duration = Duration::from_millis(50);

/// Joins the group once; the caller then runs `run` in the background.
pub(crate) async fn join(
    shared: &Arc<Shared>,
    listener: &dyn RebalanceListener,
) -> Result<(), Error> {
    let response = heartbeat(shared).await?;
    apply(shared, listener, response).await;
    Ok(())
}

/// Heartbeats every interval until `stop` changes.
pub(crate) async fn run(
    shared: Arc<Shared>,
    listener: Arc<dyn RebalanceListener>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let wait = interval(&shared);
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(wait) => {}
        }
        match heartbeat(&shared).await {
            Ok(response) => apply(&shared, listener.as_ref(), response).await,
            Err(e) if fenced(&e) => {
                tracing::info!(error = %e, "consumer fenced, rejoining");
                lose_all(&shared, listener.as_ref());
                tokio::time::sleep(REJOIN_BACKOFF).await;
            }
            Err(e) if e.is_retryable() => tracing::debug!(error = %e, "heartbeat failed"),
            Err(e) => shared.report(e),
        }
    }
}

fn fenced(e: &Error) -> bool {
    matches!(
        e.code(),
        Some(ErrorCode::UnknownMember | ErrorCode::StaleMemberEpoch)
    )
}

/// The heartbeat interval: as configured, and at most a third of the session timeout.
fn interval(shared: &Shared) -> Duration {
    let config = &shared.config;
    config.heartbeat_interval.min(config.session_timeout / 3)
}

async fn heartbeat(shared: &Shared) -> Result<HeartbeatResponse, Error> {
    let config = &shared.config;
    let member = shared.lock().member.clone();
    let request = HeartbeatRequest {
        tenant: shared.conn.tenant().to_owned(),
        group: config.group.clone().unwrap_or_default(),
        member_id: member.as_ref().map(|m| m.id.clone()),
        member_epoch: member.as_ref().map(|m| m.epoch),
        instance_id: config.instance_id.clone(),
        topics: config.topics.clone(),
        session_timeout_ms: Some(
            u64::try_from(config.session_timeout.as_millis()).unwrap_or(u64::MAX),
        ),
        client_id: config.client_id.clone(),
        assignor: config.assignor.wire(),
    };
    let mut groups = shared.conn.groups();
    shared
        .conn
        .call("heartbeat", groups.heartbeat(request))
        .await
}

/// Takes in a heartbeat's answer: the new epoch, revocations, then new partitions.
async fn apply(shared: &Arc<Shared>, listener: &dyn RebalanceListener, r: HeartbeatResponse) {
    let target: BTreeSet<TopicPartition> = r
        .assignment
        .iter()
        .flat_map(|tp| {
            tp.partitions.iter().filter_map(|&p| {
                u32::try_from(p).ok().map(|partition| TopicPartition {
                    topic: tp.topic.clone(),
                    partition,
                })
            })
        })
        .collect();
    let (revoked, assigned) = {
        let mut state = shared.lock();
        state.member = Some(Member {
            id: r.member_id,
            epoch: r.member_epoch,
        });
        let current: BTreeSet<TopicPartition> = state.parts.keys().cloned().collect();
        let revoked: Vec<TopicPartition> = current.difference(&target).cloned().collect();
        let assigned: Vec<TopicPartition> = target.difference(&current).cloned().collect();
        (revoked, assigned)
    };
    if !revoked.is_empty() {
        revoke(shared, listener, &revoked).await;
    }
    if !assigned.is_empty() {
        for tp in &assigned {
            start(shared, tp.clone());
        }
        listener.assigned(&assigned);
    }
}

/// Stops handing out records of `revoked`, commits their positions (auto mode), tells the
/// listener.
async fn revoke(shared: &Shared, listener: &dyn RebalanceListener, revoked: &[TopicPartition]) {
    let positions: Vec<(TopicPartition, i64)> = {
        let mut state = shared.lock();
        revoked
            .iter()
            .filter_map(|tp| {
                let part = state.remove(tp)?;
                let pos = part.committable()?;
                (part.committed != Some(pos)).then(|| (tp.clone(), pos))
            })
            .collect()
    };
    if matches!(shared.config.commit, CommitMode::Auto { .. })
        && !positions.is_empty()
        && let Err(e) = commit::send(shared, &positions).await
    {
        tracing::warn!(error = %e, "commit of revoked partitions failed");
    }
    listener.revoked(revoked);
}

/// Drops every partition without committing: the group fenced this member.
fn lose_all(shared: &Shared, listener: &dyn RebalanceListener) {
    let lost: Vec<TopicPartition> = {
        let mut state = shared.lock();
        state.member = None;
        let lost: Vec<TopicPartition> = state.parts.keys().cloned().collect();
        for tp in &lost {
            state.remove(tp);
        }
        lost
    };
    if !lost.is_empty() {
        listener.revoked(&lost);
    }
}

/// Adds a partition and starts its fetcher.
pub(crate) fn start(shared: &Arc<Shared>, tp: TopicPartition) {
    let mut state = shared.lock();
    if state.parts.contains_key(&tp) {
        return;
    }
    let task = tokio::spawn(fetcher::run(Arc::clone(shared), tp.clone()));
    let mut part = Part::new();
    part.fetcher = Some(task.abort_handle());
    state.parts.insert(tp, part);
}

/// Leaves the group at once, so the member's partitions go to the others.
pub(crate) async fn leave(shared: &Shared) -> Result<(), Error> {
    let Some(member) = shared.lock().member.take() else {
        return Ok(());
    };
    let request = LeaveRequest {
        tenant: shared.conn.tenant().to_owned(),
        group: shared.config.group.clone().unwrap_or_default(),
        member_id: member.id,
    };
    let mut groups = shared.conn.groups();
    match shared.conn.call("leave group", groups.leave(request)).await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(ErrorCode::UnknownMember) => Ok(()),
        Err(e) => Err(e),
    }
}
