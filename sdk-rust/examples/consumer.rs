//! A small consumer: joins a group on a topic and prints records until none arrive for five
//! seconds, committing automatically, then leaves the group.
//!
//! Run `weir serve` and `export WEIR_TOKEN=$(cat weir-data/bootstrap-admin.token)` (an API
//! key; the example sends it as its credential), then
//! `cargo run -p weir --example consumer -- http://127.0.0.1:8781 orders billing`.

use std::time::Duration;

use weir::{AutoOffsetReset, Consumer};

#[tokio::main]
async fn main() -> Result<(), weir::Error> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| weir::URL_DEFAULT.to_owned());
    let topic = args.next().unwrap_or_else(|| "orders".to_owned());
    let group = args.next().unwrap_or_else(|| "example".to_owned());
    let mut builder = Consumer::builder()
        .url(url)
        .group(group)
        .subscribe([topic])
        .auto_offset_reset(AutoOffsetReset::Earliest);
    if let Ok(token) = std::env::var("WEIR_TOKEN") {
        builder = builder.token(token);
    }
    let mut consumer = builder.build().await?;
    loop {
        let records = consumer.poll(Duration::from_secs(5)).await?;
        if records.is_empty() {
            break;
        }
        for r in records {
            let value = r.value.as_deref().map(String::from_utf8_lossy);
            println!("{}/{}@{}: {:?}", r.topic, r.partition, r.offset, value);
        }
    }
    consumer.close().await
}
