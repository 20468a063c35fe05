//! `Connection::fetch_once` and `Connection::fetch_stream` against the real binary: records
//! come back as the batches the producer wrote, a refused call (status in the headers) and a
//! stream that fails later (status in the trailers) both give the server's error code.

mod common;
mod support;

use std::time::Duration;

use common::Server;
use futures_util::StreamExt;
use support::{client, producer, topic, within};
use weir::{Connection, ErrorCode, ProducerRecord};
use weir_proto::batch::batches;
use weir_proto::v1::FetchRequest;

async fn produce(server: &Server, topic: &str, values: std::ops::Range<usize>) {
    let p = producer(server).await;
    for i in values {
        let delivery = within("send", p.send(ProducerRecord::new(topic, i.to_string())))
            .await
            .expect("send");
        within("delivery", delivery).await.expect("delivered");
    }
}

fn request(conn: &Connection, topic: &str, offset: i64, wait_ms: u32) -> FetchRequest {
    FetchRequest {
        tenant: conn.tenant().to_owned(),
        topic: topic.to_owned(),
        partition: 0,
        offset,
        max_bytes: 1 << 20,
        wait_ms,
    }
}

/// Record count of the whole batches in `bytes`.
fn records(bytes: &[u8]) -> i64 {
    batches(bytes)
        .map(|b| i64::from(b.expect("a valid batch").0.records_count))
        .sum()
}

#[tokio::test]
async fn a_unary_fetch_returns_the_batches_and_refusals_carry_their_code() {
    let server = Server::start();
    topic(&server, "unary", 1).await;
    produce(&server, "unary", 0..3).await;
    let conn = within("connect", Connection::open(client(&server)))
        .await
        .expect("connect");

    let response = within("fetch", conn.fetch_once(&request(&conn, "unary", 0, 0)))
        .await
        .expect("fetch");
    assert_eq!(records(&response.batches), 3);
    assert_eq!((response.next_offset, response.high_watermark), (3, 3));

    // At the end, the long poll waits and answers empty.
    let empty = within("fetch", conn.fetch_once(&request(&conn, "unary", 3, 100)))
        .await
        .expect("fetch at the end");
    assert!(empty.batches.is_empty());
    assert_eq!(empty.next_offset, 3);

    let missing = conn.fetch_once(&request(&conn, "nope", 0, 0)).await;
    assert_eq!(missing.unwrap_err().code(), Some(ErrorCode::TopicNotFound));
    let beyond = conn.fetch_once(&request(&conn, "unary", 9, 0)).await;
    assert_eq!(
        beyond.unwrap_err().code(),
        Some(ErrorCode::OffsetOutOfRange)
    );
    let stranger = Connection::open(weir::ClientConfig {
        token: Some("not-a-key".into()),
        ..client(&server)
    })
    .await
    .expect("connect");
    let refused = stranger
        .fetch_once(&request(&stranger, "unary", 0, 0))
        .await;
    assert_eq!(
        refused.unwrap_err().code(),
        Some(ErrorCode::Unauthenticated)
    );
}

#[tokio::test]
async fn a_fetch_stream_follows_the_partition_and_ends_with_the_servers_error() {
    let server = Server::start();
    let admin = topic(&server, "live", 1).await;
    produce(&server, "live", 0..2).await;
    let conn = within("connect", Connection::open(client(&server)))
        .await
        .expect("connect");
    let missing = conn.fetch_stream(&request(&conn, "nope", 0, 0)).await;
    assert_eq!(missing.unwrap_err().code(), Some(ErrorCode::TopicNotFound));

    let mut stream = within("open", conn.fetch_stream(&request(&conn, "live", 0, 200)))
        .await
        .expect("open the stream");
    let mut seen = 0;
    let mut next = 0;
    let late = producer(&server).await;
    let producing = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let d = late.send(ProducerRecord::new("live", "late")).await;
        d.expect("send").await.expect("delivered");
    });
    within("three records", async {
        while next < 3 {
            let response = stream
                .next()
                .await
                .expect("an open stream")
                .expect("a response");
            seen += records(&response.batches);
            next = response.next_offset;
        }
    })
    .await;
    within("producer", producing).await.expect("producer task");
    assert_eq!(seen, 3);

    // Deleting the topic ends the stream with TOPIC_NOT_FOUND, sent in the trailers.
    within("delete", admin.delete_topic("live"))
        .await
        .expect("delete");
    let ended = within("the stream's end", async {
        loop {
            match stream.next().await {
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Some(e),
                None => return None,
            }
        }
    })
    .await;
    assert_eq!(ended.and_then(|e| e.code()), Some(ErrorCode::TopicNotFound));
    assert!(stream.next().await.is_none(), "nothing after the error");
}
