//! Consumer throughput from Rust (not a test): the ceiling the Python and Node SDKs, which
//! wrap this consumer, can reach. The flags are those of `sdk-python/bench/consume.py` and
//! `sdk-node/bench/consume.mjs`:
//!
//! `cargo run --release -p weir --example bench_consume -- --records 1000000 --size 100`
//! starts its own `weir serve` (`$WEIR_BIN`, else the workspace's debug build: set
//! `WEIR_BIN=target/release/weir` for meaningful figures), or give
//! `--url http://127.0.0.1:8781 --token T` for a running node.
//!
//! Fills a new topic with `--records` records of `--size` bytes (not timed), then reads them
//! all twice, each time with a new group: once with `Consumer::poll` (up to
//! `--max-poll-records` per call) and once one record at a time through
//! `Consumer::stream`, and prints records/s for each, from the first call to the last
//! record.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use weir::{Admin, AutoOffsetReset, ClientConfig, Consumer, Producer, ProducerRecord};

struct Args {
    url: Option<String>,
    token: Option<String>,
    records: usize,
    size: usize,
    partitions: u32,
    max_poll_records: usize,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        url: None,
        token: None,
        records: 1_000_000,
        size: 100,
        partitions: 8,
        max_poll_records: 500,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| v.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--url" => a.url = Some(value),
            "--token" => a.token = Some(value),
            "--records" => a.records = number(&value)? as usize,
            "--size" => a.size = number(&value)? as usize,
            "--partitions" => a.partitions = number(&value)? as u32,
            "--max-poll-records" => a.max_poll_records = number(&value)? as usize,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(a)
}

async fn consumer(
    url: &str,
    token: &Option<String>,
    topic: &str,
    tag: &str,
    a: &Args,
) -> Result<Consumer, weir::Error> {
    let mut builder = Consumer::builder()
        .url(url)
        .group(format!("{topic}-{tag}"))
        .subscribe([topic])
        .auto_offset_reset(AutoOffsetReset::Earliest)
        .max_poll_records(a.max_poll_records);
    if let Some(token) = token {
        builder = builder.token(token.clone());
    }
    builder.build().await
}

fn rate(records: usize, elapsed: Duration) -> String {
    format!("{:.0} records/s", records as f64 / elapsed.as_secs_f64())
}

async fn run(url: String, token: Option<String>, a: &Args) -> Result<(), weir::Error> {
    let topic = format!("bench-{}", std::process::id());
    let config = ClientConfig {
        url: url.clone(),
        token: token.clone(),
        ..ClientConfig::default()
    };
    Admin::connect(config)
        .await?
        .create_topic(&topic, a.partitions, Default::default())
        .await?;
    let mut builder = Producer::builder().url(url.clone());
    if let Some(token) = &token {
        builder = builder.token(token.clone());
    }
    let producer = builder.build().await?;
    let value = Bytes::from(vec![0u8; a.size]);
    for _ in 0..a.records {
        drop(
            producer
                .send(ProducerRecord::new(&topic, value.clone()))
                .await?,
        );
    }
    producer.close().await?;
    println!(
        "{} records of {} B, {} partitions, max_poll_records {}",
        a.records, a.size, a.partitions, a.max_poll_records
    );

    let mut polling = consumer(&url, &token, &topic, "poll", a).await?;
    let (mut seen, start) = (0, Instant::now());
    while seen < a.records {
        seen += polling.poll(Duration::from_secs(5)).await?.len();
    }
    println!("poll: {}", rate(seen, start.elapsed()));
    polling.close().await?;

    let mut iterating = consumer(&url, &token, &topic, "stream", a).await?;
    let (mut seen, mut bytes, start) = (0, 0, Instant::now());
    {
        let mut stream = std::pin::pin!(iterating.stream());
        while let Some(record) = stream.next().await {
            bytes += record?.value.map_or(0, |v| v.len());
            seen += 1;
            if seen == a.records {
                break;
            }
        }
    }
    println!(
        "stream: {} ({bytes} value bytes)",
        rate(seen, start.elapsed())
    );
    iterating.close().await
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let a = parse()?;
    let outcome = match a.url.clone() {
        Some(url) => run(url, a.token.clone(), &a).await,
        None => {
            let server = weir_testkit::Server::start();
            let token = Some(server.admin_token().to_owned());
            let outcome = run(server.grpc.clone(), token, &a).await;
            server.stop();
            outcome
        }
    };
    outcome.map_err(|e| e.to_string())
}
