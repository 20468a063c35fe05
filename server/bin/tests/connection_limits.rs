//! `connections_max` against the real binary: on each listener (REST, gRPC), a connection past
//! the limit is closed at once and counted, and a slot comes back when a connection closes;
//! HTTP/2 streams per gRPC connection are bounded; a REST client too slow with its headers,
//! or a gRPC client that sends nothing, is disconnected.

mod common;
mod grpc_client;

use std::time::{Duration, Instant};

use grpc_client::{CALL_TIMEOUT, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use weir_proto::v1::ListTopicsRequest;
use weir_proto::v1::admin_client::AdminClient;

const CONNECTIONS_MAX: usize = 2;
/// Time-out of the test's own REST and gRPC calls: a call the server left waiting (instead of
/// refusing) would take this long to fail.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether the server closes `stream` (end-of-stream or a reset, after whatever it sends
/// first) within `CALL_TIMEOUT`.
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut rest = Vec::new();
    tokio::time::timeout(CALL_TIMEOUT, stream.read_to_end(&mut rest))
        .await
        .is_ok()
}

/// Retries `call` until it succeeds: the server frees a slot only once it sees a close.
async fn eventually<F, Fut, T, E>(what: &str, mut call: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: std::fmt::Debug,
{
    let deadline = Instant::now() + CALL_TIMEOUT;
    loop {
        match call().await {
            Ok(v) => return v,
            Err(e) if Instant::now() > deadline => panic!("{what} kept failing: {e:?}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// A server whose `[limits]` section is `limits`; the directory holds its config and data.
fn start_with_limits(limits: &str) -> (tempfile::TempDir, common::Server) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("weir.toml");
    std::fs::write(&config, format!("[limits]\n{limits}")).unwrap();
    let server = common::Server::start_in(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
    );
    (dir, server)
}

async fn rest_call(server: &common::Server) -> Result<(), String> {
    let client = server.client(CLIENT_TIMEOUT);
    let r = client
        .get(server.url("/v1/tenants/default/topics"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    r.error_for_status().map(drop).map_err(|e| e.to_string())
}

async fn grpc_call(server: &common::Server) -> Result<(), String> {
    let channel = tonic::transport::Channel::from_shared(server.grpc.clone())
        .expect("endpoint")
        .connect_timeout(CLIENT_TIMEOUT)
        .timeout(CLIENT_TIMEOUT)
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    let bearer: tonic::metadata::MetadataValue<_> = server.bearer().parse().expect("bearer");
    let mut admin = AdminClient::with_interceptor(channel, move |mut r: tonic::Request<()>| {
        r.metadata_mut().insert("authorization", bearer.clone());
        Ok(r)
    });
    let request = ListTopicsRequest {
        tenant: "default".into(),
    };
    admin
        .list_topics(request)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

/// A real call on `listener` (`rest` or `grpc`), on a new connection.
async fn call(server: &common::Server, listener: &str) -> Result<(), String> {
    match listener {
        "rest" => rest_call(server).await,
        _ => grpc_call(server).await,
    }
}

#[tokio::test]
async fn connections_past_connections_max_are_closed_counted_and_let_in_once_one_closes() {
    let (_dir, server) = start_with_limits(&format!("connections_max = {CONNECTIONS_MAX}\n"));
    let grpc_addr = server.grpc.trim_start_matches("http://").to_owned();
    let rest_addr = server.http.trim_start_matches("http://").to_owned();

    for (listener, addr) in [("rest", &rest_addr), ("grpc", &grpc_addr)] {
        // The listener's slots, all held by connections that send nothing.
        let mut held = Vec::new();
        for _ in 0..CONNECTIONS_MAX {
            held.push(
                within("connect", TcpStream::connect(addr))
                    .await
                    .expect("connect"),
            );
        }
        let mut past = within("connect", TcpStream::connect(addr))
            .await
            .expect("connect");
        assert!(
            closed_by_server(&mut past).await,
            "{listener}: the connection past the limit is closed"
        );
        let started = Instant::now();
        let refused = call(&server, listener).await;
        assert!(
            refused.is_err(),
            "{listener}: a call while the slots are held fails"
        );
        assert!(
            started.elapsed() < CLIENT_TIMEOUT,
            "{listener}: and fails at once"
        );

        // One closes: its slot comes back.
        held.pop();
        eventually(&format!("a {listener} call"), || call(&server, listener)).await;
        drop(held);
    }

    // Counted per listener (the REST client here needs a slot, which is free again).
    let metrics = eventually("GET /metrics", || async {
        let r = server
            .client(CALL_TIMEOUT)
            .get(server.url("/metrics"))
            .send()
            .await?;
        r.error_for_status()?.text().await
    })
    .await;
    for listener in ["rest", "grpc"] {
        let line = metrics
            .lines()
            .find(|l| {
                l.starts_with(&format!(
                    "weir_connections_refused_total{{listener=\"{listener}\"}}"
                ))
            })
            .unwrap_or_else(|| panic!("no refusal count for {listener} in:\n{metrics}"));
        let count: f64 = line.rsplit(' ').next().unwrap().parse().expect("a count");
        assert!(count >= 2.0, "{line}");
    }
}

#[tokio::test]
async fn a_connection_carries_at_most_grpc_streams_per_connection_max_calls_at_once() {
    let (_dir, server) = start_with_limits("grpc_streams_per_connection_max = 1\n");
    let mut c = grpc_client::connect(&server).await;
    grpc_client::create_topic(&mut c, "tail", 1, None).await;

    // A live tail holds the connection's one stream; a second call waits for it to end.
    let tail = within(
        "open fetch stream",
        c.fetch
            .fetch_stream(grpc_client::fetch_request("tail", 0, 0)),
    )
    .await
    .expect("fetch stream");
    let list = c.admin.list_topics(ListTopicsRequest {
        tenant: "default".into(),
    });
    let mut list = std::pin::pin!(list);
    let waited = tokio::time::timeout(Duration::from_millis(500), list.as_mut()).await;
    assert!(
        waited.is_err(),
        "the second call waits while the stream is open"
    );
    drop(tail);
    let listed = within("list topics", list).await.expect("list topics");
    assert_eq!(listed.into_inner().topics.len(), 1);
}

#[tokio::test]
async fn clients_that_send_too_little_in_time_are_disconnected_and_free_their_slot() {
    let (_dir, server) = start_with_limits(
        "connections_max = 1\nhttp_header_read_timeout_ms = 300\ngrpc_handshake_timeout_ms = 300\n",
    );

    // REST: half a request line, then nothing. gRPC: nothing at all. Either would hold the
    // listener's one slot for good.
    for (listener, addr, sent) in [
        ("rest", &server.http, &b"GET /healthz HT"[..]),
        ("grpc", &server.grpc, &b""[..]),
    ] {
        let addr = addr.trim_start_matches("http://");
        let mut slow = within("connect", TcpStream::connect(addr))
            .await
            .expect("connect");
        slow.write_all(sent).await.expect("write");
        let started = Instant::now();
        assert!(
            closed_by_server(&mut slow).await,
            "{listener}: the slow client is disconnected"
        );
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(250),
            "{listener}: not before its time: {waited:?}"
        );
        eventually(&format!("a {listener} call"), || call(&server, listener)).await;
    }
}
