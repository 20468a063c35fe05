//! `weir dev cluster --nodes 3`: one command runs three real `weir serve` processes that form
//! a cluster; records produced through one node are read through another; SIGTERM stops every
//! node cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

const WITHIN: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_command_runs_a_three_node_cluster_and_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut dev = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args([
            "dev",
            "cluster",
            "--nodes",
            "3",
            "--base-port",
            "0",
            "--auth",
            "none",
        ])
        .arg("--dir")
        .arg(dir.path().join("cluster"))
        .env("WEIR_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = mpsc::channel();
    let stdout = dev.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut rest = Vec::new();
    while rest.len() < 3 {
        let line = lines.recv_timeout(WITHIN).expect("the nodes' addresses");
        if let Some(url) = line
            .strip_prefix("weir dev: node ")
            .and_then(|l| l.split("REST ").nth(1))
            .and_then(|l| l.split_whitespace().next())
        {
            rest.push(url.to_owned());
        }
    }
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    // The three found one cluster, every node live.
    let deadline = Instant::now() + WITHIN;
    loop {
        let view: Option<Value> = match c.get(format!("{}/v1/cluster", rest[0])).send().await {
            Ok(r) => r.json().await.ok(),
            Err(_) => None,
        };
        let live = view.as_ref().is_some_and(|v| {
            v["voters"] == json!([1, 2, 3])
                && v["nodes"]
                    .as_array()
                    .is_some_and(|n| n.len() == 3 && n.iter().all(|n| n["liveness"] == "live"))
        });
        if live {
            break;
        }
        assert!(Instant::now() < deadline, "no cluster of three: {view:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Created through node 2, written through node 3, read through node 1.
    let r = c
        .post(format!("{}/v1/tenants/default/topics", rest[1]))
        .json(&json!({"name": "t", "partitions": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = c
        .post(format!("{}/v1/tenants/default/topics/t/records", rest[2]))
        .json(&json!({"records": [{"value": "a", "partition": 0}, {"value": "b", "partition": 1}, {"value": "c", "partition": 2}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut values = Vec::new();
    for p in 0..3 {
        let body: Value = c
            .get(format!(
                "{}/v1/tenants/default/topics/t/partitions/{p}/records",
                rest[0]
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        values.extend(
            body["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["value"].as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(values, ["a", "b", "c"]);

    // SIGTERM stops every node cleanly, then the command.
    let status = Command::new("kill")
        .args(["-TERM", &dev.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + WITHIN;
    let exit = loop {
        if let Some(exit) = dev.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "weir dev cluster did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    let printed: Vec<String> = lines.try_iter().collect();
    for id in 1..=3 {
        let clean = format!("node {id}| weir: stopped cleanly");
        assert!(printed.contains(&clean), "{printed:#?}");
    }
    assert!(
        printed.iter().any(|l| l == "weir dev: stopped"),
        "{printed:#?}"
    );
}
