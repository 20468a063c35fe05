//! Command in, image out: every metadata command and every refusal, with no server, no disk
//! (except the store's own tests) and no clock.

use super::command::{
    Command, CoordinatorCmd, NodeCmd, NodeSpec, ProducerIdCmd, TenancyCmd, TopicCmd,
};
use super::image::{MetadataImage, Policy};
use super::wire::StoredCommand;
use crate::tenancy::{ApiKey, KEYS_PER_TENANT_MAX, Quotas, parse_scopes};
use crate::{BrokerError, TenantId, TopicConfig, TopicName};

fn policy() -> Policy {
    Policy {
        quota_defaults: Quotas::default(),
        topic_partitions_max: 100,
    }
}

fn tenant(name: &str) -> TenantId {
    TenantId::parse(name).unwrap()
}

fn topic_name(name: &str) -> TopicName {
    TopicName::parse(name).unwrap()
}

fn create_tenant(name: &str) -> Command {
    TenancyCmd::CreateTenant {
        tenant: tenant(name),
        incarnation: 7,
    }
    .into()
}

fn create_topic(image: &MetadataImage, t: &str, name: &str, partitions: u32) -> Command {
    TopicCmd::Create {
        id: image.next_topic_id(),
        tenant: tenant(t),
        name: topic_name(name),
        partitions,
        config: TopicConfig::default(),
        replicas: None,
    }
    .into()
}

fn key(id: &str, t: &str, scopes: &[&str]) -> ApiKey {
    ApiKey {
        id: id.into(),
        tenant: tenant(t),
        name: format!("key {id}"),
        scopes: parse_scopes(scopes.iter().copied()).unwrap(),
        hash: [7; 32],
        created_ms: 1_000,
        expires_ms: None,
        created_by: "test".into(),
        revoked_ms: None,
    }
}

/// Validates, then applies; panics on a refusal.
fn run(image: &mut MetadataImage, command: Command) {
    image.validate(&command, &policy()).unwrap();
    image.apply(&command);
}

/// The refusal of `command`, which must leave the image as it was.
fn refusal(image: &MetadataImage, command: Command, policy: &Policy) -> BrokerError {
    image.validate(&command, policy).unwrap_err()
}

fn with_tenant(name: &str) -> MetadataImage {
    let mut image = MetadataImage::default();
    run(&mut image, create_tenant(name));
    image
}

#[test]
fn tenants_are_created_once_and_deleted_when_empty() {
    let mut image = with_tenant("acme");
    assert_eq!(image.version(), 1);
    assert_eq!(image.tenant(&tenant("acme")).unwrap().incarnation, 7);
    let again = refusal(&image, create_tenant("acme"), &policy());
    assert!(
        matches!(again, BrokerError::TenantAlreadyExists(_)),
        "{again:?}"
    );

    let c = create_topic(&image, "acme", "orders", 1);
    run(&mut image, c);
    let delete: Command = TenancyCmd::DeleteTenant {
        tenant: tenant("acme"),
    }
    .into();
    let busy = refusal(&image, delete.clone(), &policy());
    assert!(matches!(busy, BrokerError::TenantNotEmpty(_)), "{busy:?}");

    let id = image
        .topic(&tenant("acme"), &topic_name("orders"))
        .unwrap()
        .id;
    run(&mut image, TopicCmd::Delete { id }.into());
    run(&mut image, delete.clone());
    assert!(image.tenant(&tenant("acme")).is_none());
    let gone = refusal(&image, delete, &policy());
    assert!(matches!(gone, BrokerError::TenantNotFound(_)), "{gone:?}");
}

#[test]
fn topics_are_created_grown_reconfigured_and_deleted() {
    let mut image = with_tenant("acme");
    let c = create_topic(&image, "acme", "orders", 2);
    run(&mut image, c);
    let spec = image
        .topic(&tenant("acme"), &topic_name("orders"))
        .unwrap()
        .clone();
    assert_eq!((spec.id, spec.partitions), (0, 2));
    assert_eq!(image.next_topic_id(), 1);

    let config = TopicConfig {
        retention_ms: None,
        ..TopicConfig::default()
    };
    let alter = TopicCmd::Alter {
        id: spec.id,
        partitions: 5,
        config: config.clone(),
    };
    run(&mut image, alter.into());
    let spec = image.topics()[&0].clone();
    assert_eq!((spec.partitions, spec.config), (5, config));

    run(&mut image, TopicCmd::Delete { id: 0 }.into());
    assert!(image.topics().is_empty());
    assert!(image.tenant(&tenant("acme")).unwrap().topics.is_empty());
    // Ids are never reused, even after the topic with the highest one is gone.
    assert_eq!(image.next_topic_id(), 1);
}

#[test]
fn topic_refusals() {
    let mut image = with_tenant("acme");
    let c = create_topic(&image, "acme", "orders", 2);
    run(&mut image, c);
    let p = policy();

    let dup = refusal(&image, create_topic(&image, "acme", "orders", 1), &p);
    assert!(matches!(dup, BrokerError::TopicAlreadyExists(_)), "{dup:?}");
    let nobody = refusal(&image, create_topic(&image, "nobody", "x", 1), &p);
    assert!(
        matches!(nobody, BrokerError::TenantNotFound(_)),
        "{nobody:?}"
    );
    for partitions in [0, 101] {
        let bad = refusal(&image, create_topic(&image, "acme", "x", partitions), &p);
        assert!(matches!(bad, BrokerError::InvalidPartitions(_)), "{bad:?}");
    }
    let stale_id = TopicCmd::Create {
        id: 42,
        tenant: tenant("acme"),
        name: topic_name("x"),
        partitions: 1,
        config: TopicConfig::default(),
        replicas: None,
    };
    assert!(matches!(
        refusal(&image, stale_id.into(), &p),
        BrokerError::Internal(_)
    ));
    let bad_config = TopicCmd::Create {
        id: image.next_topic_id(),
        tenant: tenant("acme"),
        name: topic_name("x"),
        partitions: 1,
        config: TopicConfig {
            flush_records: Some(1),
            flush_ms: Some(1),
            ..TopicConfig::default()
        },
        replicas: None,
    };
    let bad = refusal(&image, bad_config.into(), &p);
    assert!(matches!(bad, BrokerError::InvalidConfig { .. }), "{bad:?}");

    let shrink = TopicCmd::Alter {
        id: 0,
        partitions: 1,
        config: TopicConfig::default(),
    };
    let shrink = refusal(&image, shrink.into(), &p);
    assert!(
        matches!(shrink, BrokerError::InvalidPartitions(_)),
        "{shrink:?}"
    );
    let missing = TopicCmd::Alter {
        id: 9,
        partitions: 3,
        config: TopicConfig::default(),
    };
    let missing = refusal(&image, missing.into(), &p);
    assert!(
        matches!(missing, BrokerError::TopicNotFound(_)),
        "{missing:?}"
    );
    let missing = refusal(&image, TopicCmd::Delete { id: 9 }.into(), &p);
    assert!(
        matches!(missing, BrokerError::TopicNotFound(_)),
        "{missing:?}"
    );
}

#[test]
fn count_quotas_refuse_only_what_adds() {
    let mut image = with_tenant("acme");
    let quotas = Quotas {
        topics: 1,
        partitions: 3,
        ..Quotas::default()
    };
    let set = TenancyCmd::SetQuotas {
        tenant: tenant("acme"),
        quotas,
    };
    run(&mut image, set.into());
    assert_eq!(image.quotas(&tenant("acme"), Quotas::default()), quotas);

    let c = create_topic(&image, "acme", "a", 2);
    run(&mut image, c);
    let second = refusal(&image, create_topic(&image, "acme", "b", 1), &policy());
    assert!(
        matches!(second, BrokerError::CountQuotaExceeded(_)),
        "{second:?}"
    );
    let grow = |partitions| TopicCmd::Alter {
        id: 0,
        partitions,
        config: TopicConfig::default(),
    };
    run(&mut image, grow(3).into());
    let more = refusal(&image, grow(4).into(), &policy());
    assert!(
        matches!(more, BrokerError::CountQuotaExceeded(_)),
        "{more:?}"
    );

    // A tenant without quotas of its own gets the policy's defaults.
    let mut other = with_tenant("beta");
    let strict = Policy {
        quota_defaults: Quotas {
            topics: 1,
            ..Quotas::default()
        },
        ..policy()
    };
    let c = create_topic(&other, "beta", "a", 1);
    other.validate(&c, &strict).unwrap();
    other.apply(&c);
    let over = refusal(&other, create_topic(&other, "beta", "b", 1), &strict);
    assert!(
        matches!(over, BrokerError::CountQuotaExceeded(_)),
        "{over:?}"
    );
}

#[test]
fn apply_never_refuses_what_the_log_holds() {
    // Validation read a policy that has since changed: replay must rebuild the same image.
    let mut image = with_tenant("acme");
    let c = create_topic(&image, "acme", "big", 100);
    run(&mut image, c.clone());
    let tighter = Policy {
        topic_partitions_max: 10,
        ..policy()
    };
    let mut replayed = with_tenant("acme");
    assert!(replayed.validate(&c, &tighter).is_err());
    replayed.apply(&c);
    assert_eq!(replayed, image);

    // Commands naming what no longer exists are no-ops (and still count as applied).
    let before = image.clone();
    image.apply(&TopicCmd::Delete { id: 77 }.into());
    let revoke = TenancyCmd::RevokeKey {
        id: "nope".into(),
        at_ms: 1,
    };
    image.apply(&revoke.into());
    assert_eq!(image.version(), before.version() + 2);
    assert_eq!(image.topics(), before.topics());
}

#[test]
fn keys_are_created_counted_and_revoked() {
    let mut image = with_tenant("acme");
    run(
        &mut image,
        TenancyCmd::CreateKey(key("a1", "acme", &["admin"])).into(),
    );
    run(
        &mut image,
        TenancyCmd::CreateKey(key("a2", "acme", &["admin"])).into(),
    );
    run(
        &mut image,
        TenancyCmd::CreateKey(key("r1", "acme", &["topics:read"])).into(),
    );
    assert_eq!(image.live_keys(&tenant("acme"), 2_000), 3);

    let dup = refusal(
        &image,
        TenancyCmd::CreateKey(key("r1", "acme", &["topics:read"])).into(),
        &policy(),
    );
    assert!(matches!(dup, BrokerError::Internal(_)), "{dup:?}");
    let nobody = refusal(
        &image,
        TenancyCmd::CreateKey(key("x", "nobody", &["topics:read"])).into(),
        &policy(),
    );
    assert!(
        matches!(nobody, BrokerError::TenantNotFound(_)),
        "{nobody:?}"
    );

    let revoke = |id: &str| -> Command {
        TenancyCmd::RevokeKey {
            id: id.into(),
            at_ms: 3_000,
        }
        .into()
    };
    run(&mut image, revoke("a1"));
    assert_eq!(image.key("a1").unwrap().revoked_ms, Some(3_000));
    let twice = refusal(&image, revoke("a1"), &policy());
    assert!(matches!(twice, BrokerError::KeyNotFound(_)), "{twice:?}");
    let last_admin = refusal(&image, revoke("a2"), &policy());
    assert!(
        matches!(last_admin, BrokerError::Forbidden(_)),
        "{last_admin:?}"
    );
    run(&mut image, revoke("r1"));
    assert_eq!(image.live_keys(&tenant("acme"), 4_000), 1);

    // Deleting a tenant removes its keys.
    run(
        &mut image,
        TenancyCmd::DeleteTenant {
            tenant: tenant("acme"),
        }
        .into(),
    );
    assert_eq!(image.keys().count(), 0);
}

#[test]
fn keys_per_tenant_are_bounded() {
    let mut image = with_tenant("acme");
    for i in 0..KEYS_PER_TENANT_MAX {
        image.apply(&TenancyCmd::CreateKey(key(&format!("k{i}"), "acme", &["topics:read"])).into());
    }
    let over = refusal(
        &image,
        TenancyCmd::CreateKey(key("one-more", "acme", &["topics:read"])).into(),
        &policy(),
    );
    assert!(
        matches!(over, BrokerError::CountQuotaExceeded(_)),
        "{over:?}"
    );
}

#[test]
fn quotas_need_a_tenant() {
    let image = MetadataImage::default();
    let set = TenancyCmd::SetQuotas {
        tenant: tenant("ghost"),
        quotas: Quotas::default(),
    };
    let ghost = refusal(&image, set.into(), &policy());
    assert!(matches!(ghost, BrokerError::TenantNotFound(_)), "{ghost:?}");
}

#[test]
fn producer_id_blocks_follow_each_other() {
    let mut image = MetadataImage::default();
    run(
        &mut image,
        ProducerIdCmd::Reserve {
            start: 0,
            end: 1000,
        }
        .into(),
    );
    assert_eq!(image.producer_ids_end(), 1000);
    for (start, end) in [(0, 2000), (1000, 1000), (1500, 2500)] {
        let bad = refusal(
            &image,
            ProducerIdCmd::Reserve { start, end }.into(),
            &policy(),
        );
        assert!(
            matches!(bad, BrokerError::Internal(_)),
            "{start}..{end}: {bad:?}"
        );
    }
    run(
        &mut image,
        ProducerIdCmd::Reserve {
            start: 1000,
            end: 2000,
        }
        .into(),
    );
    assert_eq!(image.producer_ids_end(), 2000);
}

/// An image touching every kind of command.
fn busy_image() -> MetadataImage {
    let mut image = with_tenant("acme");
    run(&mut image, create_tenant("beta"));
    let quotas = Quotas {
        topics: 9,
        ..Quotas::default()
    };
    run(
        &mut image,
        TenancyCmd::SetQuotas {
            tenant: tenant("beta"),
            quotas,
        }
        .into(),
    );
    for name in ["a", "b", "c"] {
        let c = create_topic(&image, "acme", name, 2);
        run(&mut image, c);
    }
    run(&mut image, TopicCmd::Delete { id: 2 }.into());
    let grow = TopicCmd::Alter {
        id: 0,
        partitions: 4,
        config: TopicConfig::default(),
    };
    run(&mut image, grow.into());
    run(
        &mut image,
        TenancyCmd::CreateKey(key("k1", "acme", &["admin"])).into(),
    );
    run(
        &mut image,
        TenancyCmd::CreateKey(key("k2", "beta", &["topics:read:orders"])).into(),
    );
    run(
        &mut image,
        TenancyCmd::RevokeKey {
            id: "k2".into(),
            at_ms: 5,
        }
        .into(),
    );
    run(
        &mut image,
        ProducerIdCmd::Reserve {
            start: 0,
            end: 1000,
        }
        .into(),
    );
    run(
        &mut image,
        NodeCmd::Register(node(1, Some("rack-a"))).into(),
    );
    run(&mut image, NodeCmd::Register(node(2, None)).into());
    run(
        &mut image,
        CoordinatorCmd::Place {
            shard: 7,
            replicas: vec![2],
        }
        .into(),
    );
    run(&mut image, NodeCmd::Fence { id: 2 }.into());
    image
}

fn node(id: u32, rack: Option<&str>) -> NodeSpec {
    NodeSpec {
        id,
        http_addr: format!("127.0.0.{id}:8780"),
        grpc_addr: format!("127.0.0.{id}:8781"),
        rack: rack.map(str::to_owned),
        fenced: false,
        token_jwks: Some(format!("{{\"keys\":[{{\"kid\":\"k{id}\"}}]}}")),
    }
}

#[test]
fn a_snapshot_rebuilds_the_same_image() {
    let image = busy_image();
    let commands = image.to_commands();
    let rebuilt = MetadataImage::from_snapshot(image.version(), image.next_topic_id(), &commands);
    assert_eq!(rebuilt, image);
    // The deleted topic's id stays used.
    assert_eq!(rebuilt.next_topic_id(), 3);
}

#[test]
fn every_command_keeps_its_stored_shape() {
    let image = busy_image();
    for command in image.to_commands() {
        let stored = StoredCommand::from(&command);
        let json = serde_json::to_string(&stored).unwrap();
        let back: StoredCommand = serde_json::from_str(&json).unwrap();
        assert_eq!(Command::try_from(back).unwrap(), command, "{json}");
    }
    // Lines as earlier versions wrote them still read back.
    let old = [
        r#"{"op":"create_tenant","tenant":"default"}"#,
        r#"{"op":"create_topic","id":3,"tenant":"default","name":"t","partitions":2,"config":{"retention_ms":604800000,"retention_bytes":null,"segment_bytes":1073741824,"segment_ms":604800000,"batch_bytes_max":1048576,"flush_records":null,"flush_ms":null}}"#,
        r#"{"op":"set_quotas","tenant":"default","quotas":{"topics":4}}"#,
        r#"{"op":"reserve_producer_ids","start":0,"end":1000}"#,
    ];
    for line in old {
        let stored: StoredCommand = serde_json::from_str(line).unwrap();
        let command = Command::try_from(stored.clone()).unwrap();
        assert_eq!(StoredCommand::from(&command), stored, "{line}");
    }
    let unknown = r#"{"op":"create_tenant","tenant":"x","extra":1}"#;
    assert!(serde_json::from_str::<StoredCommand>(unknown).is_err());
}

#[test]
fn a_command_built_on_an_older_image_is_rebased_onto_a_newer_one() {
    let mut older = with_tenant("acme");
    run(
        &mut older,
        ProducerIdCmd::Reserve {
            start: 0,
            end: 1000,
        }
        .into(),
    );
    let mut newer = older.clone();
    let c = create_topic(&newer, "acme", "taken-meanwhile", 1);
    run(&mut newer, c);
    run(
        &mut newer,
        ProducerIdCmd::Reserve {
            start: 1000,
            end: 2000,
        }
        .into(),
    );

    // Built against `older`: the id and the block it names are already used in `newer`.
    let create = create_topic(&older, "acme", "orders", 2);
    let reserve: Command = ProducerIdCmd::Reserve {
        start: older.producer_ids_end(),
        end: older.producer_ids_end() + 1000,
    }
    .into();
    assert!(newer.validate(&create, &policy()).is_err());
    assert!(newer.validate(&reserve, &policy()).is_err());

    let create = newer.rebase(create);
    let reserve = newer.rebase(reserve);
    assert_eq!(
        create,
        TopicCmd::Create {
            id: 1,
            tenant: tenant("acme"),
            name: topic_name("orders"),
            partitions: 2,
            config: TopicConfig::default(),
            replicas: None,
        }
        .into()
    );
    assert_eq!(
        reserve,
        ProducerIdCmd::Reserve {
            start: 2000,
            end: 3000
        }
        .into()
    );
    run(&mut newer, create);
    run(&mut newer, reserve);
    // Everything else passes through unchanged.
    let revoke: Command = TenancyCmd::RevokeKey {
        id: "k".into(),
        at_ms: 1,
    }
    .into();
    assert_eq!(newer.rebase(revoke.clone()), revoke);
}

#[test]
fn an_import_rebuilds_a_whole_image_only_into_an_empty_one() {
    let old = busy_image();
    let import = old.to_import();
    let stored = serde_json::to_string(&StoredCommand::from(&import)).unwrap();
    let back = Command::try_from(serde_json::from_str::<StoredCommand>(&stored).unwrap()).unwrap();
    assert_eq!(back, import, "an import keeps its stored shape");

    let mut fresh = MetadataImage::default();
    assert!(fresh.is_empty());
    fresh.validate(&import, &policy()).unwrap();
    fresh.apply(&import);
    assert_eq!(fresh.version(), 1, "an import counts as one command");
    assert_eq!(fresh.tenants().count(), old.tenants().count());
    assert_eq!(fresh.topics(), old.topics(), "topic ids are kept");
    assert_eq!(fresh.keys().count(), old.keys().count());
    assert_eq!(fresh.next_topic_id(), old.next_topic_id());
    assert_eq!(fresh.producer_ids_end(), old.producer_ids_end());
    assert!(fresh.holds(&old));
    assert!(!with_tenant("acme").holds(&old));

    // Into an image that holds anything it is refused, and a no-op if the log holds it.
    let mut busy = with_tenant("someone-else");
    let before = busy.clone();
    assert!(matches!(
        refusal(&busy, import.clone(), &policy()),
        BrokerError::InvalidRequest(_)
    ));
    busy.apply(&import);
    assert_eq!(busy.topics(), before.topics());
    assert_eq!(busy.version(), before.version() + 1);

    // An import inside an import is refused.
    let nested = Command::Import(super::command::Imported {
        next_topic_id: 0,
        commands: vec![import],
    });
    assert!(
        MetadataImage::default()
            .validate(&nested, &policy())
            .is_err()
    );
}

#[test]
fn nodes_register_are_fenced_unfenced_and_leave() {
    let mut image = MetadataImage::default();
    run(&mut image, NodeCmd::Register(node(3, Some("a"))).into());
    assert_eq!(image.nodes()[&3], node(3, Some("a")));
    assert!(image.is_empty(), "registrations do not stop an import");
    run(&mut image, NodeCmd::Fence { id: 3 }.into());
    assert!(image.nodes()[&3].fenced);
    run(&mut image, NodeCmd::Unfence { id: 3 }.into());
    assert!(!image.nodes()[&3].fenced);
    // A node that registers again (new addresses) is live.
    run(&mut image, NodeCmd::Fence { id: 3 }.into());
    let mut moved = node(3, None);
    moved.http_addr = "10.0.0.3:80".into();
    run(&mut image, NodeCmd::Register(moved.clone()).into());
    assert_eq!(image.nodes()[&3], moved);
    run(&mut image, NodeCmd::Unregister { id: 3 }.into());
    assert!(image.nodes().is_empty());

    let refused = [
        NodeCmd::Fence { id: 9 },
        NodeCmd::Unfence { id: 9 },
        NodeCmd::Unregister { id: 9 },
        NodeCmd::Register(node(0, None)),
        NodeCmd::Register(NodeSpec {
            http_addr: String::new(),
            ..node(4, None)
        }),
        NodeCmd::Register(node(4, Some(""))),
        NodeCmd::Register(node(4, Some(&"r".repeat(65)))),
        NodeCmd::Register(node(4, Some("a\nb"))),
    ];
    for command in refused {
        let e = refusal(&image, command.clone().into(), &policy());
        assert!(
            matches!(e, BrokerError::InvalidRequest(_)),
            "{command:?}: {e:?}"
        );
    }
}

#[test]
fn partitions_are_placed_over_live_nodes_and_racks() {
    let mut image = with_tenant("acme");
    // Placed while no node is registered (a node run alone): on whichever node has it.
    let c = create_topic(&image, "acme", "early", 2);
    run(&mut image, c);
    let early = image
        .topic(&tenant("acme"), &topic_name("early"))
        .unwrap()
        .clone();
    assert_eq!(early.replicas, vec![Vec::<u32>::new(); 2]);
    assert!(early.hosted_on(1, Some(7)) && early.hosted_on(1, None));
    assert_eq!(early.leader(0), None);

    // The first node to register adopts them.
    run(&mut image, NodeCmd::Register(node(1, Some("a"))).into());
    let early = image
        .topic(&tenant("acme"), &topic_name("early"))
        .unwrap()
        .clone();
    assert_eq!(early.replicas, vec![vec![1], vec![1]]);
    assert!(!early.hosted_on(0, Some(2)));
    run(&mut image, NodeCmd::Register(node(2, Some("a"))).into());
    run(&mut image, NodeCmd::Register(node(3, Some("b"))).into());
    run(&mut image, NodeCmd::Register(node(4, None)).into());
    run(&mut image, NodeCmd::Fence { id: 4 }.into());

    // Racks interleaved (none, a, b: 1 then 3, then 2), fenced nodes left out, each topic
    // starting one node further (by id); every live node leads as many partitions.
    let c = create_topic(&image, "acme", "spread", 6);
    run(&mut image, c);
    let spread = image
        .topic(&tenant("acme"), &topic_name("spread"))
        .unwrap()
        .clone();
    assert_eq!(spread.id, 1);
    let leaders: Vec<u32> = (0..6).map(|p| spread.leader(p).unwrap()).collect();
    assert_eq!(leaders, [3, 2, 1, 3, 2, 1]);
    assert!(spread.hosted_on(0, Some(3)) && !spread.hosted_on(0, Some(1)));

    // Added partitions are placed too; existing ones stay where they are.
    run(
        &mut image,
        TopicCmd::Alter {
            id: 1,
            partitions: 8,
            config: TopicConfig::default(),
        }
        .into(),
    );
    let grown = image
        .topic(&tenant("acme"), &topic_name("spread"))
        .unwrap()
        .clone();
    assert_eq!(grown.replicas[..6], spread.replicas[..]);
    assert_eq!(grown.replicas[6..], [vec![3], vec![2]]);

    // A snapshot keeps placements, also of partitions placed before the nodes registered.
    let rebuilt =
        MetadataImage::from_snapshot(image.version(), image.next_topic_id(), &image.to_commands());
    assert_eq!(rebuilt, image);

    // A proposal naming a placement must cover every partition with registered nodes.
    let mut bad = create_topic(&image, "acme", "bad", 2);
    if let Command::Topic(TopicCmd::Create { replicas, .. }) = &mut bad {
        *replicas = Some(vec![vec![1], vec![9]]);
    }
    assert!(matches!(
        refusal(&image, bad, &policy()),
        BrokerError::InvalidRequest(_)
    ));
}

#[test]
fn group_coordination_is_placed_once_per_shard_on_the_least_loaded_live_node() {
    let mut image = with_tenant("acme");
    let place = |shard, replicas: &[u32]| -> Command {
        CoordinatorCmd::Place {
            shard,
            replicas: replicas.to_vec(),
        }
        .into()
    };
    // No node to place it on: a node run alone coordinates every group itself.
    assert_eq!(image.coordinator_for_new_shard(), None);
    assert!(matches!(
        refusal(&image, place(0, &[1]), &policy()),
        BrokerError::InvalidRequest(_)
    ));
    for id in 1..=3 {
        run(&mut image, NodeCmd::Register(node(id, None)).into());
    }
    // Shards go to the live node coordinating the fewest, so they spread as they are used.
    for shard in [4, 9, 13, 21] {
        let to = image.coordinator_for_new_shard().unwrap();
        run(&mut image, place(shard, &[to]));
    }
    assert_eq!(image.coordinator(4), Some(1));
    assert_eq!(image.coordinator(9), Some(2));
    assert_eq!(image.coordinator(13), Some(3));
    assert_eq!(image.coordinator(21), Some(1));
    assert_eq!(image.coordinator(5), None);
    // A fenced node takes no new shard.
    run(&mut image, NodeCmd::Fence { id: 2 }.into());
    assert_eq!(image.coordinator_for_new_shard(), Some(3));
    // A placed shard stays where it is: a second placement (a node whose image was behind
    // asked too) is taken and changes nothing.
    image.validate(&place(4, &[3]), &policy()).unwrap();
    image.apply(&place(4, &[3]));
    assert_eq!(image.coordinator(4), Some(1));
    // Shards beyond the fixed count, empty and unregistered placements are refused.
    let max = crate::groups::OFFSETS_SHARDS;
    for bad in [place(max, &[1]), place(5, &[]), place(5, &[9])] {
        assert!(matches!(
            refusal(&image, bad, &policy()),
            BrokerError::InvalidRequest(_)
        ));
    }
    // A snapshot keeps the placement.
    let rebuilt =
        MetadataImage::from_snapshot(image.version(), image.next_topic_id(), &image.to_commands());
    assert_eq!(rebuilt, image);
}

#[test]
fn a_group_always_hashes_to_the_same_shard() {
    use crate::groups::{OFFSETS_SHARDS, offsets_shard};
    let shard = offsets_shard(&tenant("acme"), "billing");
    assert!(shard < OFFSETS_SHARDS);
    assert_eq!(shard, offsets_shard(&tenant("acme"), "billing"));
    // Spread: 500 groups land on most shards.
    let used: std::collections::BTreeSet<u32> = (0..500)
        .map(|i| offsets_shard(&tenant("acme"), &format!("g{i}")))
        .collect();
    assert!(used.len() > 40, "{}", used.len());
}
