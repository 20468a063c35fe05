//! Tenancy through the SDK: an administrator creates a tenant, its key and quotas; the key
//! produces and consumes in its tenant only; usage shows it; a revoked key stops working.

mod common;
mod support;

use common::Server;
use support::{client, within};
use weir::tenancy::QuotaChange;
use weir::{Admin, ClientConfig, ErrorCode, Producer, ProducerRecord};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_keys_quotas_and_usage_through_the_sdk() {
    let server = Server::start();
    let root = within("connect", Admin::connect(client(&server)))
        .await
        .unwrap();
    within("create tenant", root.create_tenant("acme"))
        .await
        .unwrap();
    let err = within("again", root.create_tenant("acme"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::TenantAlreadyExists), "{err}");
    let quotas = QuotaChange {
        topics: Some(3),
        produce_bytes_per_sec: Some(10_000_000),
        ..QuotaChange::default()
    };
    let set = within("set quotas", root.set_quotas("acme", quotas))
        .await
        .unwrap();
    assert_eq!((set.topics, set.produce_bytes_per_sec), (3, 10_000_000));

    // An admin of acme makes a key for its producers, as the tenant itself.
    let acme_root = ClientConfig {
        tenant: "acme".into(),
        ..client(&server)
    };
    let acme_admin = within("connect", Admin::connect(acme_root)).await.unwrap();
    let created = within(
        "create key",
        acme_admin.create_key(
            "svc",
            &["topics:admin", "topics:write", "topics:read"],
            None,
        ),
    )
    .await
    .unwrap();
    assert!(created.key.starts_with("weir_"));
    let id = created.info.as_ref().unwrap().id.clone();
    let acme = ClientConfig {
        tenant: "acme".into(),
        token: Some(created.key.clone()),
        ..client(&server)
    };
    let admin = within("connect", Admin::connect(acme.clone()))
        .await
        .unwrap();
    within(
        "create topic",
        admin.create_topic("orders", 2, Default::default()),
    )
    .await
    .unwrap();
    let producer = within(
        "producer",
        Producer::builder()
            .config(Default::default())
            .url(server.grpc.clone())
            .tenant("acme")
            .token(created.key.clone())
            .build(),
    )
    .await
    .unwrap();
    let delivery = within(
        "send",
        producer.send(ProducerRecord::new("orders", "hi").key("k")),
    )
    .await
    .unwrap();
    within("delivery", delivery).await.unwrap();
    within("close", producer.close()).await.unwrap();

    let usage = within("usage", admin.usage("acme")).await.unwrap();
    assert_eq!((usage.topics, usage.partitions), (1, 2), "{usage:?}");
    // The key sees its own tenant only, and cannot raise its quotas.
    let seen = within("list tenants", admin.list_tenants()).await.unwrap();
    assert_eq!(
        seen.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["acme"]
    );
    let err = within(
        "raise quotas",
        admin.set_quotas("acme", QuotaChange::default()),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Forbidden), "{err}");
    let err = within("other tenant", admin.quotas("default"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::TenantNotFound), "{err}");

    let keys = within("list keys", acme_admin.list_keys()).await.unwrap();
    assert_eq!(keys.len(), 1);
    within("revoke", acme_admin.revoke_key(&id)).await.unwrap();
    let err = within("after revoke", admin.list_topics())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Unauthenticated), "{err}");
    server.stop();
}
