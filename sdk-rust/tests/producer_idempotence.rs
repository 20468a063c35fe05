//! Idempotent producer against the real binary, through a loopback TCP proxy that cuts the
//! connection right after forwarding requests (so their responses are lost and the producer
//! resends batches the server already stored): every record is stored exactly once and in
//! send order per key.

mod common;
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use support::{client, drain, topic, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use weir::{Consumer, Producer, ProducerRecord, TopicPartition};

/// Client-to-server bytes a proxied connection forwards before the proxy cuts it.
const CUT_AFTER_BYTES: usize = 16 << 10;
/// Connections the proxy cuts; later ones live.
const CUTS: usize = 4;

/// Starts a proxy to `server` (host:port) and returns its `http://` address and the number of
/// cuts made so far.
async fn cutting_proxy(server: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
    let addr = listener.local_addr().expect("proxy address");
    let cuts = Arc::new(AtomicUsize::new(0));
    let made = Arc::clone(&cuts);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(upstream) = TcpStream::connect(&server).await else {
                continue;
            };
            tokio::spawn(pipe(client, upstream, Arc::clone(&made)));
        }
    });
    (format!("http://{addr}"), cuts)
}

/// Forwards both ways; after `CUT_AFTER_BYTES` upstream, drops both sockets (while cuts
/// remain), so the requests just forwarded get no response.
async fn pipe(client: TcpStream, upstream: TcpStream, cuts: Arc<AtomicUsize>) {
    let (mut client_in, mut client_out) = client.into_split();
    let (mut server_in, mut server_out) = upstream.into_split();
    let up = async {
        let mut buf = vec![0u8; 8 << 10];
        let mut forwarded = 0;
        loop {
            let n = match client_in.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if server_out.write_all(&buf[..n]).await.is_err() {
                return;
            }
            forwarded += n;
            if forwarded > CUT_AFTER_BYTES && cuts.fetch_add(1, Ordering::SeqCst) < CUTS {
                return;
            }
        }
    };
    let down = tokio::io::copy(&mut server_in, &mut client_out);
    tokio::select! {
        () = up => {}
        _ = down => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resent_batches_are_stored_once_and_in_order_through_a_cutting_proxy() {
    let server = common::Server::start();
    topic(&server, "exactly-once", 2).await;
    let upstream = server.grpc.trim_start_matches("http://").to_owned();
    let (proxy, cuts) = cutting_proxy(upstream).await;
    let p = Producer::builder()
        .url(&proxy)
        .token(server.admin_token())
        .request_timeout(Duration::from_secs(5))
        .linger(Duration::ZERO)
        .batch_bytes(1 << 10)
        .max_in_flight(5)
        .retry_backoff(Duration::from_millis(20))
        .build()
        .await
        .expect("producer");
    let (keys, total) = (6u32, 3000u32);
    let mut deliveries = Vec::new();
    for i in 0..total {
        let key = i % keys;
        let r = ProducerRecord::new("exactly-once", format!("{}-{}", i / keys, "v".repeat(40)))
            .key(format!("k{key}"))
            .partition(key % 2);
        deliveries.push(within("send", p.send(r)).await.expect("send"));
    }
    for d in deliveries {
        within("delivery", d).await.expect("delivered");
    }
    assert!(
        cuts.load(Ordering::SeqCst) >= CUTS,
        "the proxy never cut a connection"
    );
    let tps: Vec<TopicPartition> = (0..2)
        .map(|q| TopicPartition::new("exactly-once", q))
        .collect();
    let mut c = reader(&server, &tps).await;
    let records = drain(&mut c, total as usize).await;
    // Nothing beyond the records sent: wait a little for any duplicate to show up.
    let extra = c
        .poll(Duration::from_millis(500))
        .await
        .expect("poll")
        .len();
    assert_eq!(
        records.len() + extra,
        total as usize,
        "records stored more than once"
    );
    let mut next: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    for r in &records {
        let value = std::str::from_utf8(r.value.as_deref().unwrap()).unwrap();
        let n: u64 = value.split('-').next().unwrap().parse().unwrap();
        let expected = next.entry(r.key.clone().unwrap().to_vec()).or_insert(0);
        assert_eq!(n, *expected, "a key's records duplicated or out of order");
        *expected += 1;
    }
    assert_eq!(next.len(), keys as usize);
}

async fn reader(server: &common::Server, partitions: &[TopicPartition]) -> Consumer {
    let mut c = Consumer::builder()
        .config(weir::ConsumerConfig {
            client: client(server),
            auto_offset_reset: weir::AutoOffsetReset::Earliest,
            ..weir::ConsumerConfig::default()
        })
        .build()
        .await
        .expect("consumer");
    c.assign(partitions).expect("assign");
    c
}
