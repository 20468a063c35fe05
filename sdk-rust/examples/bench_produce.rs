//! Producer throughput from Rust, one record per `Producer::send` (not a test): the ceiling the
//! Python and Node SDKs, which wrap this producer, can reach. The flags are those of
//! `sdk-python/bench/produce.py` and `sdk-node/bench/produce.mjs`:
//!
//! `cargo run --release -p weir --example bench_produce -- --size 100 --records 2000000`
//! starts its own `weir serve` (`$WEIR_BIN`, else the workspace's debug build: build the
//! release server and set `WEIR_BIN=target/release/weir` for meaningful figures), or give
//! `--url http://127.0.0.1:8781 --token T` for a running node.
//!
//! Sends `--records` records of `--size` bytes (one payload shared, no keys, so the sticky
//! partitioner fills batches), keeps every 1000th delivery to check it, flushes, and prints
//! records/s for the send loop and for the whole run, after a warm-up.

use std::time::{Duration, Instant};

use bytes::Bytes;
use weir::{Admin, ClientConfig, Compression, Producer, ProducerRecord};

struct Args {
    url: Option<String>,
    token: Option<String>,
    records: usize,
    warmup: usize,
    size: usize,
    partitions: u32,
    compression: Compression,
    linger_ms: u64,
    batch_bytes: Option<usize>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        url: None,
        token: None,
        records: 300_000,
        warmup: 20_000,
        size: 1024,
        partitions: 8,
        compression: Compression::None,
        linger_ms: 5,
        batch_bytes: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| v.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--url" => a.url = Some(value),
            "--token" => a.token = Some(value),
            "--records" => a.records = number(&value)? as usize,
            "--warmup" => a.warmup = number(&value)? as usize,
            "--size" => a.size = number(&value)? as usize,
            "--partitions" => a.partitions = number(&value)? as u32,
            "--compression" => a.compression = value.parse().map_err(|e| format!("{e}"))?,
            "--linger-ms" => a.linger_ms = number(&value)?,
            "--batch-bytes" => a.batch_bytes = Some(number(&value)? as usize),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(a)
}

async fn run(url: String, token: Option<String>, a: &Args) -> Result<(), weir::Error> {
    let topic = format!("bench-{}", std::process::id());
    let config = ClientConfig {
        url: url.clone(),
        token: token.clone(),
        ..ClientConfig::default()
    };
    let admin = Admin::connect(config).await?;
    admin
        .create_topic(&topic, a.partitions, Default::default())
        .await?;
    let mut builder = Producer::builder()
        .url(url)
        .linger(Duration::from_millis(a.linger_ms))
        .compression(a.compression);
    if let Some(token) = token {
        builder = builder.token(token);
    }
    if let Some(bytes) = a.batch_bytes {
        builder = builder.batch_bytes(bytes);
    }
    let producer = builder.build().await?;
    let value = Bytes::from(vec![0u8; a.size]);
    for _ in 0..a.warmup {
        drop(
            producer
                .send(ProducerRecord::new(&topic, value.clone()))
                .await?,
        );
    }
    producer.flush().await?;
    let mut checked = Vec::with_capacity(a.records / 1000 + 1);
    let start = Instant::now();
    for i in 0..a.records {
        let delivery = producer
            .send(ProducerRecord::new(&topic, value.clone()))
            .await?;
        if i % 1000 == 0 {
            checked.push(delivery);
        }
    }
    let queued = start.elapsed();
    producer.flush().await?;
    let total = start.elapsed();
    for delivery in checked {
        delivery.await?;
    }
    producer.close().await?;
    let rate = a.records as f64 / total.as_secs_f64();
    println!(
        "{} records of {} B, {} partitions, compression {:?}, linger {} ms",
        a.records, a.size, a.partitions, a.compression, a.linger_ms
    );
    println!(
        "send loop: {:.0} records/s queued",
        a.records as f64 / queued.as_secs_f64()
    );
    println!(
        "end to end: {rate:.0} records/s, {:.1} MB/s ({:.2} s)",
        rate * a.size as f64 / 1e6,
        total.as_secs_f64()
    );
    Ok(())
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
