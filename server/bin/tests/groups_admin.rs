//! Group administration against the real binary, over REST: offset resets in every mode
//! (earliest, latest, timestamp, offset, shift), each previewed with `dry_run` (nothing
//! written) and applied; applying is refused while members are live; a group is deleted only
//! when empty, and is not found afterwards.

mod common;
mod groups_support;

use groups_support::{
    Member, Offsets, TIMESTAMP_BASE, client, commit, committed, create_topic, describe,
    expect_problem, group_url, leave, produce,
};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

const GROUP: &str = "reporting";
const TOPIC: &str = "metrics";

async fn reset(c: &Client, base: &str, body: Value) -> Response {
    c.post(group_url(base, GROUP, "/offsets:reset"))
        .json(&body)
        .send()
        .await
        .expect("reset")
}

/// A reset that must succeed: (partition, previous, offset) of every partition.
async fn reset_ok(c: &Client, base: &str, body: Value) -> Vec<(u32, Option<i64>, i64)> {
    let r = reset(c, base, body.clone()).await;
    assert_eq!(r.status(), StatusCode::OK, "{body}: {:?}", r.text().await);
    let out: Value = r.json().await.unwrap();
    assert_eq!(out["dry_run"], body["dry_run"].as_bool().unwrap_or(false));
    out["offsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            assert_eq!(o["topic"], TOPIC);
            (
                o["partition"].as_u64().unwrap() as u32,
                o["previous"].as_i64(),
                o["offset"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn offsets(p0: i64, p1: i64) -> Offsets {
    [((TOPIC.into(), 0), p0), ((TOPIC.into(), 1), p1)].into()
}

#[tokio::test]
async fn reset_every_mode_dry_run_then_apply() {
    let server = common::Server::start();
    let (c, base) = (client(&server), server.http.as_str());
    create_topic(&c, base, TOPIC, 2).await;
    for p in 0..2 {
        produce(&c, base, TOPIC, p, 10, "m").await; // timestamps TIMESTAMP_BASE + offset
    }
    let r = commit(&c, base, GROUP, None, &[(TOPIC, 0, 4), (TOPIC, 1, 6)]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let ts = TIMESTAMP_BASE + 3;
    let cases = [
        (json!({"to": "earliest"}), offsets(0, 0)),
        (json!({"to": "latest"}), offsets(10, 10)),
        (json!({"to": "timestamp", "timestamp": ts}), offsets(3, 3)),
        (json!({"to": "offset", "offset": 7}), offsets(7, 7)),
        (json!({"to": "shift", "shift": -2}), offsets(5, 5)),
        (json!({"to": "shift", "shift": 100}), offsets(10, 10)),
        (
            json!({"to": "offset", "offset": 2, "topics": [TOPIC]}),
            offsets(2, 2),
        ),
    ];
    for (mut body, after) in cases {
        let before = committed(&c, base, GROUP).await;
        body["dry_run"] = json!(true);
        let preview = reset_ok(&c, base, body.clone()).await;
        assert_eq!(
            committed(&c, base, GROUP).await,
            before,
            "dry run wrote: {body}"
        );
        let expected: Vec<(u32, Option<i64>, i64)> = after
            .iter()
            .map(|((_, p), o)| (*p, before.get(&(TOPIC.into(), *p)).copied(), *o))
            .collect();
        assert_eq!(preview, expected, "{body}");
        body["dry_run"] = json!(false);
        assert_eq!(reset_ok(&c, base, body.clone()).await, expected);
        assert_eq!(committed(&c, base, GROUP).await, after, "{body}");
    }

    for bad in [
        json!({"to": "offset"}),
        json!({"to": "latest", "shift": 1}),
        json!({"to": "sideways"}),
        json!({"to": "earliest", "colour": "red"}),
    ] {
        let r = reset(&c, base, bad).await;
        expect_problem(r, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    }
    let r = reset(&c, base, json!({"to": "earliest", "topics": ["nope"]})).await;
    expect_problem(r, StatusCode::NOT_FOUND, "TOPIC_NOT_FOUND").await;
}

#[tokio::test]
async fn live_groups_refuse_reset_and_delete() {
    let server = common::Server::start();
    let (c, base) = (client(&server), server.http.as_str());
    create_topic(&c, base, TOPIC, 2).await;
    produce(&c, base, TOPIC, 0, 3, "m").await;
    let mut member = Member::new(&server, GROUP, &[TOPIC], json!({"client_id": "dashboard"}));
    member.fetch(0, 1).await;
    let r = commit(&c, base, GROUP, Some(member.ident()), &[(TOPIC, 0, 1)]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let d = describe(&c, base, GROUP).await;
    assert_eq!(d["state"], "stable");
    assert_eq!(d["assignor"], "uniform");
    assert_eq!(d["members"][0]["client_id"], "dashboard");
    assert_eq!(d["members"][0]["member_id"], member.id.clone().unwrap());
    assert_eq!(
        d["members"][0]["assignment"],
        json!([{"topic": TOPIC, "partitions": [0, 1]}])
    );
    assert_eq!(d["partitions"][0]["lag"], 2);
    assert_eq!(d["partitions"][1]["lag"], Value::Null, "never committed");

    // Without `topics`, every partition of the committed topics is reset.
    let preview = reset_ok(&c, base, json!({"to": "earliest", "dry_run": true})).await;
    assert_eq!(preview, [(0, Some(1), 0), (1, None, 0)]);
    let r = reset(&c, base, json!({"to": "earliest"})).await;
    expect_problem(r, StatusCode::CONFLICT, "GROUP_NOT_EMPTY").await;
    let r = c.delete(group_url(base, GROUP, "")).send().await.unwrap();
    expect_problem(r, StatusCode::CONFLICT, "GROUP_NOT_EMPTY").await;
    assert_eq!(committed(&c, base, GROUP).await.len(), 1, "nothing changed");

    let id = member.id.clone().unwrap();
    assert_eq!(
        leave(&c, base, GROUP, &id).await.status(),
        StatusCode::NO_CONTENT
    );
    let r = leave(&c, base, GROUP, &id).await;
    expect_problem(r, StatusCode::CONFLICT, "UNKNOWN_MEMBER").await;
    let applied = reset_ok(&c, base, json!({"to": "earliest"})).await;
    assert_eq!(applied, preview);
    let r = c.delete(group_url(base, GROUP, "")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let r = c.get(group_url(base, GROUP, "")).send().await.unwrap();
    expect_problem(r, StatusCode::NOT_FOUND, "GROUP_NOT_FOUND").await;
    let r = c
        .get(group_url(base, GROUP, "/offsets"))
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::NOT_FOUND, "GROUP_NOT_FOUND").await;
    let r = c.delete(group_url(base, GROUP, "")).send().await.unwrap();
    expect_problem(r, StatusCode::NOT_FOUND, "GROUP_NOT_FOUND").await;
    let list: Value = c
        .get(format!("{base}/v1/tenants/default/groups"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!({"groups": []}));
}

#[tokio::test]
async fn invalid_group_requests_are_problem_json() {
    let server = common::Server::start();
    let (c, base) = (client(&server), server.http.as_str());
    create_topic(&c, base, TOPIC, 1).await;
    let fetch =
        |group: &str, body: Value| c.post(group_url(base, group, "/fetch")).json(&body).send();
    let cases = [
        (GROUP, json!({}), StatusCode::BAD_REQUEST, "INVALID_REQUEST"),
        (
            GROUP,
            json!({"topics": []}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            GROUP,
            json!({"topics": [TOPIC], "bogus": 1}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            GROUP,
            json!({"topics": [TOPIC], "max_records": 0}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            GROUP,
            json!({"topics": [TOPIC], "session_timeout_ms": 1}),
            StatusCode::BAD_REQUEST,
            "INVALID_SESSION_TIMEOUT",
        ),
        (
            GROUP,
            json!({"topics": [TOPIC], "auto_offset_reset": "never"}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            GROUP,
            json!({"topics": [TOPIC], "member_epoch": 1}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            GROUP,
            json!({"topics": [TOPIC], "client_id": "x".repeat(300)}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            "bad..name!",
            json!({"topics": [TOPIC]}),
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        ),
        (
            GROUP,
            json!({"topics": ["missing"]}),
            StatusCode::NOT_FOUND,
            "TOPIC_NOT_FOUND",
        ),
        (
            GROUP,
            json!({"topics": [TOPIC], "member_id": "ghost", "member_epoch": 0}),
            StatusCode::CONFLICT,
            "UNKNOWN_MEMBER",
        ),
    ];
    for (group, body, status, code) in cases {
        let r = fetch(group, body.clone()).await.unwrap();
        let problem = expect_problem(r, status, code).await;
        assert!(!problem["detail"].as_str().unwrap().is_empty(), "{body}");
    }
    let r = c
        .get(format!("{base}/v1/tenants/nobody/groups"))
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::NOT_FOUND, "TENANT_NOT_FOUND").await;
}
