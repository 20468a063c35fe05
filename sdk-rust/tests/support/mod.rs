//! SDK side of the tests: client settings for a test server (its gRPC address and bootstrap
//! admin key), an `Admin` and a default `Producer` on it, a bound around every await (a test fails, never hangs), topic
//! creation and draining a consumer.
//!
//! Must not start or stop servers (that is `common`) and must not assert on a scenario.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use weir::admin::TopicConfig;
use weir::{Admin, ClientConfig, Consumer, ConsumerRecord, Producer};
use weir_testkit::Server;

/// Longest any one awaited step may take.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(15);

/// Client settings for a test server, as its bootstrap admin.
pub fn client(server: &Server) -> ClientConfig {
    ClientConfig {
        url: server.grpc.clone(),
        token: Some(server.admin_token().to_owned()),
        request_timeout: Duration::from_secs(10),
        ..ClientConfig::default()
    }
}

/// Awaits `f`, failing the test after `STEP_TIMEOUT`.
pub async fn within<F: Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(STEP_TIMEOUT, f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {STEP_TIMEOUT:?}"))
}

/// A producer with the SDK's defaults, as the bootstrap admin.
pub async fn producer(server: &Server) -> Producer {
    let built = Producer::builder()
        .url(&server.grpc)
        .token(server.admin_token())
        .build();
    within("connect producer", built).await.expect("producer")
}

/// An admin client, and a topic with `partitions` partitions.
pub async fn topic(server: &Server, name: &str, partitions: u32) -> Admin {
    let admin = within("connect", Admin::connect(client(server)))
        .await
        .expect("connect admin");
    within(
        "create topic",
        admin.create_topic(name, partitions, TopicConfig::default()),
    )
    .await
    .expect("create topic");
    admin
}

/// Polls until `n` records arrived (or `STEP_TIMEOUT` passed, which fails the test).
pub async fn drain(consumer: &mut Consumer, n: usize) -> Vec<ConsumerRecord> {
    let mut out = Vec::new();
    within("drain", async {
        while out.len() < n {
            let got = consumer
                .poll(Duration::from_millis(200))
                .await
                .expect("poll");
            out.extend(got);
        }
    })
    .await;
    out
}
