//! A REST group member whose answer was lost: resending its resume positions gets the same
//! records again, where relying on the server's remembered position would skip them.

mod common;
mod groups_support;

use common::Server;
use groups_support::{client, create_topic, expect_problem, group_url, produce};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn fetch(c: &reqwest::Client, base: &str, body: Value) -> Value {
    let r = c
        .post(group_url(base, "g", "/fetch"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    r.json().await.unwrap()
}

fn offsets(answer: &Value) -> Vec<i64> {
    answer["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["offset"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_served_again_from_the_positions_the_member_sends() {
    let server = Server::start();
    let c = client(&server);
    let base = server.http.clone();
    create_topic(&c, &base, "r", 1).await;
    produce(&c, &base, "r", 0, 30, "x").await;
    let join = fetch(
        &c,
        &base,
        json!({"topics": ["r"], "auto_offset_reset": "earliest", "max_records": 10}),
    )
    .await;
    let (member, epoch) = (join["member_id"].clone(), join["member_epoch"].clone());
    let member_body = |extra: Value| {
        let mut b =
            json!({"topics": ["r"], "member_id": member, "member_epoch": epoch, "max_records": 10});
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    // The join may come back before the assignment; fetch until records arrive.
    let mut first = join;
    for _ in 0..20 {
        if !offsets(&first).is_empty() {
            break;
        }
        first = fetch(&c, &base, member_body(json!({}))).await;
    }
    assert_eq!(offsets(&first), (0..10).collect::<Vec<_>>());
    // That answer is "lost". Without positions, the server would continue at 10:
    let resend = fetch(
        &c,
        &base,
        member_body(json!({"positions": [{"topic": "r", "partition": 0, "offset": 0}]})),
    )
    .await;
    assert_eq!(
        offsets(&resend),
        (0..10).collect::<Vec<_>>(),
        "the lost records were skipped"
    );
    // And the member moves on by saying where it is.
    let next = fetch(
        &c,
        &base,
        member_body(json!({"positions": [{"topic": "r", "partition": 0, "offset": 10}]})),
    )
    .await;
    assert_eq!(offsets(&next), (10..20).collect::<Vec<_>>());
    // Positions of partitions it does not own are ignored; impossible ones are refused.
    let other = fetch(
        &c,
        &base,
        member_body(json!({"positions": [{"topic": "r", "partition": 7, "offset": 0}]})),
    )
    .await;
    assert_eq!(offsets(&other), (20..30).collect::<Vec<_>>());
    let r = c
        .post(group_url(&base, "g", "/fetch"))
        .json(&member_body(
            json!({"positions": [{"topic": "r", "partition": 0, "offset": 999}]}),
        ))
        .send()
        .await
        .unwrap();
    expect_problem(r, StatusCode::RANGE_NOT_SATISFIABLE, "OFFSET_OUT_OF_RANGE").await;
    server.stop();
}
