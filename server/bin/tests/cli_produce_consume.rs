//! `weir produce` from stdin and `weir consume` back: keys pick partitions as Kafka's murmur2
//! partitioner does, per-key order holds, values come back as JSON, text or base64 as over
//! REST, and the start and stop flags select what is printed.

mod cli_support;
mod common;

use std::collections::BTreeMap;

use cli_support::Cli;
use serde_json::{Value, json};
use weir_proto::partitioner::partition_for_key;

const PARTITIONS: u32 = 3;

const INPUT: &str = "alice:1\nbob:{\"n\":2}\ncarol:three\nalice:4\nbob:5\ndave:\nerin:x:y\n";

/// (key, value) pairs of `INPUT` as consume shows them.
fn expected() -> Vec<(&'static str, Value)> {
    vec![
        ("alice", json!(1)),
        ("bob", json!({"n": 2})),
        ("carol", json!("three")),
        ("alice", json!(4)),
        ("bob", json!(5)),
        ("dave", json!("")),
        ("erin", json!("x:y")),
    ]
}

#[test]
fn keyed_lines_come_back_on_their_partitions_in_order() {
    let server = common::Server::start();
    let cli = Cli::with_token(server.admin_token());
    let url = server.grpc.as_str();
    cli.ok(
        &[
            "topic",
            "create",
            "orders",
            "--partitions",
            "3",
            "--url",
            url,
        ],
        "",
    );

    let produced = cli.ok(
        &["produce", "orders", "--key-separator", ":", "--url", url],
        INPUT,
    );
    assert!(
        produced.stderr.contains("produced 7 records to orders"),
        "{}",
        produced.stderr
    );

    let records = cli
        .ok(&["consume", "orders", "--from-beginning", "--url", url], "")
        .json_lines();
    assert_eq!(records.len(), 7);
    let mut by_partition: BTreeMap<u64, Vec<&Value>> = BTreeMap::new();
    for r in &records {
        let key = r["key"].as_str().expect("text key");
        let partition = partition_for_key(key.as_bytes(), PARTITIONS).expect("partitions");
        assert_eq!(r["partition"], u64::from(partition), "{r}");
        assert!(r["timestamp"].as_i64().is_some_and(|t| t > 0), "{r}");
        assert!(r["headers"].is_object(), "{r}");
        by_partition
            .entry(u64::from(partition))
            .or_default()
            .push(r);
    }
    for (partition, records) in &by_partition {
        let offsets: Vec<i64> = records
            .iter()
            .filter_map(|r| r["offset"].as_i64())
            .collect();
        let mut sorted = offsets.clone();
        sorted.sort_unstable();
        assert_eq!(
            offsets, sorted,
            "partition {partition} printed out of order"
        );
        assert_eq!(sorted, (0..offsets.len() as i64).collect::<Vec<_>>());
    }
    // Per key, values come back in the order they were written.
    for (key, _) in expected() {
        let want: Vec<Value> = expected()
            .into_iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v)
            .collect();
        let got: Vec<Value> = records
            .iter()
            .filter(|r| r["key"] == key)
            .map(|r| r["value"].clone())
            .collect();
        assert_eq!(got, want, "values of key {key}");
    }
}

#[test]
fn start_and_stop_flags_select_records() {
    let server = common::Server::start();
    let cli = Cli::with_token(server.admin_token());
    let url = server.grpc.as_str();
    cli.ok(
        &[
            "topic",
            "create",
            "orders",
            "--partitions",
            "3",
            "--url",
            url,
        ],
        "",
    );
    cli.ok(
        &["produce", "orders", "--key-separator", ":", "--url", url],
        INPUT,
    );

    // Latest by default: without --follow there is nothing after the end.
    let latest = cli.ok(&["consume", "orders", "--url", url], "");
    assert!(latest.lines().is_empty(), "{}", latest.stdout);

    let all_by_time = cli.ok(&["consume", "orders", "--timestamp", "0", "--url", url], "");
    assert_eq!(all_by_time.lines().len(), 7);

    let alice_partition = partition_for_key(b"alice", PARTITIONS).expect("partitions");
    let alice = alice_partition.to_string();
    let one = cli.ok(
        &[
            "consume",
            "orders",
            "--partition",
            &alice,
            "--offset",
            "1",
            "--url",
            url,
        ],
        "",
    );
    let from_one = one.json_lines();
    assert!(!from_one.is_empty());
    assert!(from_one.iter().all(|r| r["offset"].as_i64() >= Some(1)));
    assert!(from_one.iter().all(|r| r["partition"] == alice_partition));

    let capped = cli.ok(
        &[
            "consume",
            "orders",
            "--from-beginning",
            "--max-records",
            "2",
            "--url",
            url,
        ],
        "",
    );
    assert_eq!(capped.lines().len(), 2);

    let missing = cli.fails(&["consume", "orders", "--partition", "7", "--url", url], "");
    assert!(
        missing.stderr.contains("has no partition 7"),
        "{}",
        missing.stderr
    );
    let no_topic = cli.fails(&["consume", "nope", "--url", url], "");
    assert!(
        no_topic.stderr.contains("TOPIC_NOT_FOUND"),
        "{}",
        no_topic.stderr
    );
}

#[test]
fn json_format_stops_at_the_first_line_that_is_not_json() {
    let server = common::Server::start();
    let cli = Cli::with_token(server.admin_token());
    let url = server.grpc.as_str();
    cli.ok(&["topic", "create", "events", "--url", url], "");

    let input = "{\"a\":1}\nnot json\n{\"b\":2}\n";
    let out = cli.fails(
        &["produce", "events", "--format", "json", "--url", url],
        input,
    );
    assert!(out.stderr.contains("line 2 is not json"), "{}", out.stderr);

    let records = cli
        .ok(&["consume", "events", "--from-beginning", "--url", url], "")
        .json_lines();
    let values: Vec<&Value> = records.iter().map(|r| &r["value"]).collect();
    assert_eq!(values, [&json!({"a": 1})]);
    assert_eq!(records[0]["key"], Value::Null);

    let no_separator = cli.fails(
        &["produce", "events", "--key-separator", "=", "--url", url],
        "k=v\nplain\n",
    );
    assert!(
        no_separator.stderr.contains("line 2 has no key separator"),
        "{}",
        no_separator.stderr
    );
}

#[test]
fn explicit_partition_wins_over_the_key() {
    let server = common::Server::start();
    let cli = Cli::with_token(server.admin_token());
    let url = server.grpc.as_str();
    cli.ok(
        &[
            "topic",
            "create",
            "pinned",
            "--partitions",
            "3",
            "--url",
            url,
        ],
        "",
    );
    let out = cli.ok(
        &[
            "produce",
            "pinned",
            "--partition",
            "2",
            "--key-separator",
            ",",
            "--url",
            url,
        ],
        "a,1\nb,2\nc,3\n",
    );
    assert!(out.stderr.contains("(partitions 2)"), "{}", out.stderr);
    let records = cli
        .ok(&["consume", "pinned", "--from-beginning", "--url", url], "")
        .json_lines();
    assert_eq!(records.len(), 3);
    assert!(records.iter().all(|r| r["partition"] == 2));
}
