//! gRPC Groups against the real binary, as an SDK consumer uses it: Heartbeat to join, read
//! the assigned partitions with Fetch.Fetch from the FetchCommitted offsets, Commit as the
//! member, Describe/List with lag, then the refusals (stale epoch, foreign partition, unknown
//! member, live group) with their ErrorCode in `ErrorDetail`, reset, leave and delete.

mod common;
mod grpc_client;

use grpc_client::{
    AuthChannel, Clients, TENANT, TIMESTAMP_BASE, batch, connect, create_topic, decode_batches,
    expect_code, fetch, fetch_request, produce_batch, records, within,
};
use weir_proto::batch::Compression;
use weir_proto::v1::groups_client::GroupsClient;
use weir_proto::v1::{
    CommitRequest, CommittedOffset, FetchCommittedRequest, GroupRef, HeartbeatRequest,
    HeartbeatResponse, LeaveRequest, ListGroupsRequest, OffsetCommit, ResetOffsetsRequest,
    ResetTarget, TopicPartitions,
};

const GROUP: &str = "sdk";
const TOPIC: &str = "orders";

type Groups = GroupsClient<AuthChannel>;

fn join(client_id: &str) -> HeartbeatRequest {
    HeartbeatRequest {
        tenant: TENANT.into(),
        group: GROUP.into(),
        topics: vec![TOPIC.into()],
        session_timeout_ms: Some(30_000),
        client_id: client_id.into(),
        ..HeartbeatRequest::default()
    }
}

fn again(r: &HeartbeatResponse, client_id: &str) -> HeartbeatRequest {
    HeartbeatRequest {
        member_id: Some(r.member_id.clone()),
        member_epoch: Some(r.member_epoch),
        ..join(client_id)
    }
}

async fn heartbeat(
    g: &mut Groups,
    r: HeartbeatRequest,
) -> Result<HeartbeatResponse, tonic::Status> {
    within("heartbeat", g.heartbeat(r))
        .await
        .map(tonic::Response::into_inner)
}

fn commit_request(member: Option<(&str, i32)>, offsets: &[(i32, i64)]) -> CommitRequest {
    CommitRequest {
        tenant: TENANT.into(),
        group: GROUP.into(),
        member_id: member.map(|(id, _)| id.to_owned()),
        member_epoch: member.map(|(_, e)| e),
        offsets: offsets
            .iter()
            .map(|&(partition, offset)| OffsetCommit {
                topic: TOPIC.into(),
                partition,
                offset,
                metadata: format!("after {offset}"),
            })
            .collect(),
    }
}

async fn commit(
    g: &mut Groups,
    member: Option<(&str, i32)>,
    offsets: &[(i32, i64)],
) -> Result<(), tonic::Status> {
    within("commit", g.commit(commit_request(member, offsets)))
        .await
        .map(|_| ())
}

async fn fetch_committed(
    g: &mut Groups,
    topics: &[&str],
) -> Result<Vec<CommittedOffset>, tonic::Status> {
    let r = FetchCommittedRequest {
        tenant: TENANT.into(),
        group: GROUP.into(),
        topics: topics.iter().map(|t| (*t).to_owned()).collect(),
    };
    within("fetch committed", g.fetch_committed(r))
        .await
        .map(|r| r.into_inner().offsets)
}

fn group_ref() -> GroupRef {
    GroupRef {
        tenant: TENANT.into(),
        group: GROUP.into(),
    }
}

fn reset(to: ResetTarget, value: i64, dry_run: bool) -> ResetOffsetsRequest {
    ResetOffsetsRequest {
        tenant: TENANT.into(),
        group: GROUP.into(),
        to: to.into(),
        value,
        topics: vec![],
        dry_run,
    }
}

fn owned(r: &HeartbeatResponse) -> Vec<i32> {
    r.assignment
        .iter()
        .flat_map(|tp| tp.partitions.clone())
        .collect()
}

#[tokio::test]
async fn an_sdk_consumer_round_trip_over_grpc() {
    let server = common::Server::start();
    let mut c = connect(&server).await;
    let mut g = grpc_client::groups(&server).await;
    create_topic(&mut c, TOPIC, 2, None).await;
    for p in 0..2 {
        let sent = records(5, &format!("p{p}"), TIMESTAMP_BASE);
        produce_batch(&mut c, TOPIC, p, batch(&sent, Compression::None))
            .await
            .unwrap();
    }

    let a = consume_and_commit(&mut c, &mut g).await;
    let members = refusals(&mut g, a).await;
    administer(&mut g, members).await;
}

/// Joins, reads both partitions with Fetch.Fetch, commits as the member, and checks
/// FetchCommitted, Describe and List. Returns the member's heartbeat response.
async fn consume_and_commit(c: &mut Clients, g: &mut Groups) -> HeartbeatResponse {
    let a = heartbeat(g, join("sdk-a")).await.unwrap();
    assert_eq!(a.member_epoch, 1);
    assert_eq!(a.session_timeout_ms, 30_000);
    assert_eq!(
        a.assignment,
        [TopicPartitions {
            topic: TOPIC.into(),
            partitions: vec![0, 1]
        }]
    );
    assert!(fetch_committed(g, &[]).await.unwrap().is_empty());

    // Read each assigned partition from the committed offset (none yet: the start) and commit.
    for p in owned(&a) {
        let got = fetch(c, fetch_request(TOPIC, p, 0)).await.unwrap();
        assert_eq!(decode_batches(&got.batches).len(), 5);
        commit(
            g,
            Some((&a.member_id, a.member_epoch)),
            &[(p, got.next_offset)],
        )
        .await
        .unwrap();
    }
    let offsets = fetch_committed(g, &[TOPIC]).await.unwrap();
    let summary: Vec<(i32, i64, &str)> = offsets
        .iter()
        .map(|o| (o.partition, o.offset, o.metadata.as_str()))
        .collect();
    assert_eq!(summary, [(0, 5, "after 5"), (1, 5, "after 5")]);
    assert!(fetch_committed(g, &["other"]).await.unwrap().is_empty());

    let d = within("describe", g.describe(group_ref()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (d.state.as_str(), d.assignor.as_str(), d.total_lag),
        ("stable", "uniform", 0)
    );
    let m = &d.members[0];
    assert_eq!(
        (m.member_id.as_str(), m.client_id.as_str()),
        (a.member_id.as_str(), "sdk-a")
    );
    assert_eq!(m.host, "127.0.0.1");
    assert_eq!(
        d.partitions.iter().map(|p| p.lag).collect::<Vec<_>>(),
        [Some(0), Some(0)]
    );
    let list = within(
        "list",
        g.list(ListGroupsRequest {
            tenant: TENANT.into(),
        }),
    )
    .await
    .unwrap()
    .into_inner();
    assert_eq!(list.groups.len(), 1);
    assert_eq!(
        (list.groups[0].group.as_str(), list.groups[0].members),
        (GROUP, 1)
    );
    a
}

/// A second member joins; stale, foreign, unknown and member-less commits and malformed
/// heartbeats are refused with their codes. Returns both members' latest responses.
async fn refusals(g: &mut Groups, a: HeartbeatResponse) -> [HeartbeatResponse; 2] {
    // b joins; a's next heartbeat gives a partition up: a's old epoch is stale.
    let b = heartbeat(g, join("sdk-b")).await.unwrap();
    assert!(owned(&b).is_empty(), "a still owns both");
    let a2 = heartbeat(g, again(&a, "sdk-a")).await.unwrap();
    assert_eq!(owned(&a2).len(), 1);
    let status = commit(g, Some((&a.member_id, a.member_epoch)), &[(0, 1)])
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::FailedPrecondition);
    assert_eq!(grpc_client::error_code(&status), "STALE_MEMBER_EPOCH");

    // After a's acknowledgement b owns the other partition; a may not commit it.
    let a3 = heartbeat(g, again(&a2, "sdk-a")).await.unwrap();
    let b2 = heartbeat(g, again(&b, "sdk-b")).await.unwrap();
    let theirs = owned(&b2);
    assert_eq!(theirs.len(), 1);
    let r = commit(g, Some((&a3.member_id, a3.member_epoch)), &[(theirs[0], 1)]).await;
    assert_eq!(expect_code(r), "PARTITION_NOT_ASSIGNED");
    let r = commit(g, Some(("ghost", 1)), &[(0, 1)]).await;
    assert_eq!(expect_code(r), "UNKNOWN_MEMBER");
    let r = commit(g, None, &[(0, 1)]).await;
    assert_eq!(expect_code(r), "GROUP_NOT_EMPTY");
    let r = commit(g, Some((&a3.member_id, a3.member_epoch)), &[(-1, 1)]).await;
    assert_eq!(expect_code(r), "INVALID_REQUEST");
    let half = HeartbeatRequest {
        member_epoch: None,
        ..again(&a3, "sdk-a")
    };
    assert_eq!(expect_code(heartbeat(g, half).await), "INVALID_REQUEST");
    let missing = HeartbeatRequest {
        topics: vec!["missing".into()],
        ..join("x")
    };
    assert_eq!(expect_code(heartbeat(g, missing).await), "TOPIC_NOT_FOUND");
    [a3, b2]
}

/// Reset and delete are refused while members are live (a dry run is fine); after both
/// leave, a reset applies and the group is deleted.
async fn administer(g: &mut Groups, members: [HeartbeatResponse; 2]) {
    let preview = within(
        "reset",
        g.reset_offsets(reset(ResetTarget::Earliest, 0, true)),
    )
    .await
    .unwrap()
    .into_inner();
    assert!(preview.dry_run);
    let moved: Vec<(i32, Option<i64>, i64)> = preview
        .offsets
        .iter()
        .map(|o| (o.partition, o.previous, o.offset))
        .collect();
    assert_eq!(moved, [(0, Some(5), 0), (1, Some(5), 0)]);
    let r = within(
        "reset",
        g.reset_offsets(reset(ResetTarget::Earliest, 0, false)),
    )
    .await;
    assert_eq!(expect_code(r), "GROUP_NOT_EMPTY");
    let r = within(
        "reset",
        g.reset_offsets(reset(ResetTarget::Unspecified, 0, true)),
    )
    .await;
    assert_eq!(expect_code(r), "INVALID_REQUEST");
    let r = within("delete", g.delete(group_ref())).await;
    assert_eq!(expect_code(r), "GROUP_NOT_EMPTY");

    for m in &members {
        let leave = LeaveRequest {
            tenant: TENANT.into(),
            group: GROUP.into(),
            member_id: m.member_id.clone(),
        };
        within("leave", g.leave(leave.clone())).await.unwrap();
        assert_eq!(
            expect_code(within("leave", g.leave(leave)).await),
            "UNKNOWN_MEMBER"
        );
    }
    within(
        "reset",
        g.reset_offsets(reset(ResetTarget::Shift, -2, false)),
    )
    .await
    .unwrap();
    let offsets = fetch_committed(g, &[]).await.unwrap();
    assert_eq!(offsets.iter().map(|o| o.offset).collect::<Vec<_>>(), [3, 3]);
    within("delete", g.delete(group_ref())).await.unwrap();
    let status = within("describe", g.describe(group_ref()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound);
    assert_eq!(grpc_client::error_code(&status), "GROUP_NOT_FOUND");
    let nobody = ListGroupsRequest {
        tenant: "nobody".into(),
    };
    assert_eq!(
        expect_code(within("list", g.list(nobody)).await),
        "TENANT_NOT_FOUND"
    );
}
