//! REST produce throughput: batched JSON records (1 KiB string values, 500 per request) POSTed
//! over loopback HTTP to the real axum router backed by a real broker on a temp directory.
//! Measures the whole REST path: HTTP, JSON parsing, partitioning, batch encoding, append.
//! Client and server share the machine's cores. Requests carry an admin API key, as every
//! request to a server with authentication on does.

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use weir_api::{ApiState, AuthConfig, Authenticator, GatewayLimits, NodeInfo};
use weir_broker::tenancy::parse_scopes;
use weir_broker::{
    Broker, BrokerConfig, DEFAULT_TENANT, Principal, TenantId, TopicConfig, TopicName,
};

const RECORDS_PER_REQUEST: usize = 500;
const VALUE_BYTES: usize = 1024;

fn bench_rest_produce(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let broker = Arc::new(Broker::open(BrokerConfig::new(dir.path())).unwrap());
    let tenant = TenantId::parse(DEFAULT_TENANT).unwrap();
    let admin = Principal::anonymous(tenant.clone());
    broker
        .create_topic(
            &admin,
            &tenant,
            TopicName::parse("bench").unwrap(),
            8,
            TopicConfig::default(),
        )
        .unwrap();
    let scopes = parse_scopes(["admin"]).unwrap();
    let key = broker
        .create_key(&admin, &tenant, "bench", scopes, None)
        .unwrap();
    let bearer = format!("Bearer {}", key.secret);
    let auth = Authenticator::open(AuthConfig::default(), dir.path()).unwrap();
    let state = ApiState::new(
        broker,
        GatewayLimits::default(),
        NodeInfo::default(),
        None,
        auth,
    );
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!(
        "http://{}/v1/tenants/default/topics/bench/records",
        listener.local_addr().unwrap()
    );
    rt.spawn(async move { axum::serve(listener, weir_api::rest::router(state)).await });

    let value = "x".repeat(VALUE_BYTES);
    let records: Vec<Value> = (0..RECORDS_PER_REQUEST)
        .map(|i| json!({"key": format!("key-{i}"), "value": value}))
        .collect();
    let body = serde_json::to_vec(&json!({ "records": records })).unwrap();
    let client = reqwest::Client::new();

    let mut group = c.benchmark_group("rest_produce");
    group.throughput(Throughput::Elements(RECORDS_PER_REQUEST as u64));
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("500_records_of_1KiB_per_request", |b| {
        b.iter(|| {
            rt.block_on(async {
                let r = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("authorization", &bearer)
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success());
                r.bytes().await.unwrap()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench_rest_produce);
criterion_main!(benches);
