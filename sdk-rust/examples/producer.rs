//! A small producer: sends a few keyed records to a topic and prints where each landed.
//!
//! Run `weir serve`, `export WEIR_TOKEN=$(cat weir-data/bootstrap-admin.token)` (an API key;
//! the example sends it as its credential) and `weir topic create orders`, then
//! `cargo run -p weir --example producer -- http://127.0.0.1:8781 orders`.

use std::time::Duration;

use weir::{Compression, Producer, ProducerRecord};

#[tokio::main]
async fn main() -> Result<(), weir::Error> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| weir::URL_DEFAULT.to_owned());
    let topic = args.next().unwrap_or_else(|| "orders".to_owned());
    let mut builder = Producer::builder()
        .url(url)
        .linger(Duration::from_millis(5))
        .compression(Compression::Zstd);
    if let Ok(token) = std::env::var("WEIR_TOKEN") {
        builder = builder.token(token);
    }
    let producer = builder.build().await?;
    let mut deliveries = Vec::new();
    for i in 0..10 {
        let record =
            ProducerRecord::new(&topic, format!("order {i}")).key(format!("customer-{}", i % 3));
        deliveries.push(producer.send(record).await?);
    }
    for delivery in deliveries {
        let stored = delivery.await?;
        println!(
            "{}/{} at offset {}",
            stored.topic, stored.partition, stored.offset
        );
    }
    producer.close().await
}
