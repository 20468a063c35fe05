//! The examples in `sdk-rust/examples` run as written against a real server: the producer
//! sends its ten keyed records, and the consumer prints exactly those ten and exits after five
//! idle seconds. They are started with `cargo run --example`, as their doc comments say, with
//! the server's bootstrap admin key in `WEIR_TOKEN`.

mod common;
mod support;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Longest one example may take, compile included.
const EXAMPLE_TIMEOUT: Duration = Duration::from_secs(600);

/// `WEIR_TOKEN=TOKEN cargo run -q -p weir --example NAME -- ARGS`, bounded by
/// `EXAMPLE_TIMEOUT`.
fn run_example(name: &str, token: &str, args: &[&str]) -> Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(cargo)
        .args(["run", "-q", "-p", "weir", "--example", name, "--"])
        .args(args)
        .env("WEIR_TOKEN", token)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn cargo run");
    let deadline = Instant::now() + EXAMPLE_TIMEOUT;
    while child.try_wait().expect("wait for the example").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("example {name} did not finish within {EXAMPLE_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("example output")
}

#[tokio::test(flavor = "multi_thread")]
async fn producer_and_consumer_examples_run_as_written() {
    let server = common::Server::start();
    support::topic(&server, "orders", 3).await;
    let url = server.grpc.clone();
    let token = server.admin_token().to_owned();

    let produced = tokio::task::spawn_blocking({
        let (url, token) = (url.clone(), token.clone());
        move || run_example("producer", &token, &[&url, "orders"])
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&produced.stdout);
    assert!(
        produced.status.success(),
        "producer example failed: {stdout}\n{}",
        String::from_utf8_lossy(&produced.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("orders/")).count(),
        10,
        "{stdout}"
    );

    let consumed = tokio::task::spawn_blocking(move || {
        run_example("consumer", &token, &[&url, "orders", "billing"])
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&consumed.stdout);
    assert!(
        consumed.status.success(),
        "consumer example failed: {stdout}\n{}",
        String::from_utf8_lossy(&consumed.stderr)
    );
    let mut values: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .collect();
    values.sort_unstable();
    let mut expected: Vec<String> = (0..10).map(|i| format!("Some(\"order {i}\")")).collect();
    expected.sort_unstable();
    assert_eq!(values, expected, "{stdout}");
}
