//! SDK side of the tests: an `Admin` on a test server, a bound around every await (a test
//! fails, never hangs), topic creation and draining a consumer.
//!
//! Must not start or stop servers (that is `common`) and must not assert on a scenario.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use weir::admin::TopicConfig;
use weir::{Admin, ClientConfig, Consumer, ConsumerRecord};

/// Longest any one awaited step may take.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(15);

/// Client settings for a test server.
pub fn client(url: &str) -> ClientConfig {
    ClientConfig {
        url: url.to_owned(),
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

/// An admin client, and a topic with `partitions` partitions.
pub async fn topic(url: &str, name: &str, partitions: u32) -> Admin {
    let admin = within("connect", Admin::connect(client(url)))
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
