//! Connection limits against the real binary: on each listener (REST, gRPC), idle connections
//! make way for newcomers when the slots run out, one address holds at most its share, a
//! connection busy with an authenticated client is not cut for a stranger, floods of idle
//! sockets leave health checks and real clients served; HTTP/2 streams per gRPC connection
//! are bounded; a REST client too slow with its headers or its body, or a gRPC client that
//! sends nothing, is disconnected.

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

/// A connection to `addr` from the loopback address `from` (127.0.0.x), as another machine's.
async fn connect_from(from: &str, addr: &str) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(format!("{from}:0").parse().expect("address"))
        .expect("bind");
    within("connect", socket.connect(addr.parse().expect("address")))
        .await
        .expect("connect")
}

/// A REST call from `from` (another client address than the tests' default).
async fn rest_call_from(server: &common::Server, from: &str, path: &str) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .local_address(from.parse::<std::net::IpAddr>().expect("address"))
        .timeout(CLIENT_TIMEOUT)
        .build()
        .expect("client");
    let r = client
        .get(server.url(path))
        .header("authorization", server.bearer())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    r.error_for_status().map(drop).map_err(|e| e.to_string())
}

/// The value of the metric line starting with `prefix` in `/metrics`.
async fn metric(server: &common::Server, prefix: &str) -> f64 {
    let metrics = eventually("GET /metrics", || async {
        let r = server
            .client(CALL_TIMEOUT)
            .get(server.url("/metrics"))
            .send()
            .await?;
        r.error_for_status()?.text().await
    })
    .await;
    let line = metrics
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} in:\n{metrics}"));
    line.rsplit(' ').next().unwrap().parse().expect("a count")
}

#[tokio::test]
async fn idle_connections_make_way_for_newcomers_when_the_slots_run_out() {
    let (_dir, server) = start_with_limits(&format!("connections_max = {CONNECTIONS_MAX}\n"));
    let grpc_addr = server.grpc.trim_start_matches("http://").to_owned();
    let rest_addr = server.http.trim_start_matches("http://").to_owned();

    for (listener, addr) in [("rest", &rest_addr), ("grpc", &grpc_addr)] {
        // Every slot held by a connection that sends nothing: a newcomer is not locked out,
        // the idlest idle connection is closed for it.
        let mut held = Vec::new();
        for _ in 0..CONNECTIONS_MAX {
            held.push(
                within("connect", TcpStream::connect(addr))
                    .await
                    .expect("connect"),
            );
        }
        call(&server, listener)
            .await
            .unwrap_or_else(|e| panic!("{listener}: a real call was locked out: {e}"));
        assert!(
            closed_by_server(&mut held[0]).await,
            "{listener}: the idlest connection made way"
        );
        drop(held);
    }
    for listener in ["rest", "grpc"] {
        let prefix = format!("weir_connections_evicted_total{{listener=\"{listener}\"}}");
        let evicted = metric(&server, &prefix).await;
        assert!(evicted >= 1.0, "{prefix} {evicted}");
    }
}

#[tokio::test]
async fn one_address_holds_at_most_its_share() {
    let (_dir, server) = start_with_limits("connections_per_address_max = 2\n");
    let grpc_addr = server.grpc.trim_start_matches("http://").to_owned();
    let rest_addr = server.http.trim_start_matches("http://").to_owned();
    for (listener, addr) in [("rest", &rest_addr), ("grpc", &grpc_addr)] {
        let held = [
            connect_from("127.0.0.3", addr).await,
            connect_from("127.0.0.3", addr).await,
        ];
        let mut past = connect_from("127.0.0.3", addr).await;
        assert!(
            closed_by_server(&mut past).await,
            "{listener}: a third connection from one address is closed"
        );
        // Another address is served as usual.
        call(&server, listener)
            .await
            .unwrap_or_else(|e| panic!("{listener}: another address was refused: {e}"));
        drop(held);
    }
    let prefix = "weir_connections_refused_total{listener=\"rest\",reason=\"per_address\"}";
    assert!(metric(&server, prefix).await >= 1.0);
}

#[tokio::test]
async fn a_busy_authenticated_connection_is_not_cut_for_a_newcomer() {
    let (_dir, server) = start_with_limits("connections_max = 1\n");
    // One keep-alive connection that just authenticated and was answered.
    let client = server.client(CLIENT_TIMEOUT);
    let topics = server.url("/v1/tenants/default/topics");
    client
        .get(&topics)
        .send()
        .await
        .expect("first call")
        .error_for_status()
        .expect("ok");
    let rest_addr = server.http.trim_start_matches("http://");
    let mut stranger = within("connect", TcpStream::connect(rest_addr))
        .await
        .expect("connect");
    assert!(
        closed_by_server(&mut stranger).await,
        "a newcomer is refused while the only connection is busy"
    );
    // Quiet for longer than the eviction minimum (1 s): then it makes way.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    rest_call_from(&server, "127.0.0.2", "/v1/tenants/default/topics")
        .await
        .expect("a newcomer takes the quiet connection's place");
}

#[tokio::test]
async fn floods_of_idle_sockets_leave_health_and_real_clients_served() {
    let (_dir, server) = start_with_limits(
        "connections_max = 32\nconnections_unauthenticated_max = 8\nconnections_per_address_max = 16\n",
    );
    let rest_addr = server.http.trim_start_matches("http://").to_owned();
    // 200 sockets that never send a byte, from ten addresses.
    let mut flood = Vec::new();
    for i in 0..200 {
        let from = format!("127.0.0.{}", 10 + i % 10);
        flood.push(connect_from(&from, &rest_addr).await);
    }
    let mut served = 0;
    for i in 0..24 {
        let path = if i % 2 == 0 {
            "/healthz"
        } else {
            "/v1/tenants/default/topics"
        };
        if rest_call_from(&server, "127.0.0.2", path).await.is_ok() {
            served += 1;
        }
    }
    assert_eq!(served, 24, "requests served during the flood");
    drop(flood);
}

#[tokio::test]
async fn a_request_body_slower_than_its_deadline_is_cut() {
    let (_dir, server) = start_with_limits("http_body_read_timeout_ms = 500\n");
    let rest_addr = server.http.trim_start_matches("http://");
    let mut slow = within("connect", TcpStream::connect(rest_addr))
        .await
        .expect("connect");
    let head = format!(
        "POST /v1/tenants/default/topics HTTP/1.1\r\nhost: x\r\nauthorization: {}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"na",
        server.bearer()
    );
    slow.write_all(head.as_bytes()).await.expect("write");
    let started = Instant::now();
    let mut answer = Vec::new();
    within("the answer", slow.read_to_end(&mut answer))
        .await
        .expect("read");
    let waited = started.elapsed();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("http_body_read_timeout_ms"), "{answer}");
    assert!(
        waited >= Duration::from_millis(450),
        "cut before its time: {waited:?}"
    );
    call(&server, "rest")
        .await
        .expect("the server still serves");
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
