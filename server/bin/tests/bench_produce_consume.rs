//! `weir bench produce` and `weir bench consume --json` against a real server: the last stdout
//! line is one JSON object with every figure. No timing is asserted, only counts and fields.

mod cli_support;
mod common;

use cli_support::Cli;
use serde_json::Value;

const FIELDS: [&str; 9] = [
    "records",
    "bytes",
    "seconds",
    "records_per_sec",
    "mb_per_sec",
    "p50_ms",
    "p99_ms",
    "p999_ms",
    "max_ms",
];

fn report(stdout: &str) -> Value {
    let last = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .expect("a last line");
    let value: Value = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("last line is not json: {last:?}: {e}"));
    for field in FIELDS {
        assert!(value[field].is_number(), "{field} missing in {value}");
    }
    value
}

#[test]
fn bench_produce_then_consume_report_json() {
    let server = common::Server::start();
    let cli = Cli::with_token(server.admin_token());
    let url = server.grpc.as_str();

    let produced = report(
        &cli.ok(
            &[
                "bench",
                "produce",
                "--url",
                url,
                "--total-bytes",
                "5000000",
                "--json",
            ],
            "",
        )
        .stdout,
    );
    // 1000-byte records in batches of 1000: exactly five batches.
    assert_eq!(produced["records"], 5_000);
    assert_eq!(produced["bytes"], 5_000_000);
    assert!(produced["max_ms"].as_f64() > Some(0.0));

    let described = cli
        .ok(&["topic", "describe", "bench", "--url", url, "--json"], "")
        .json();
    let stored: i64 = described["partitions"]
        .as_array()
        .expect("partitions")
        .iter()
        .filter_map(|p| p["high_watermark"].as_i64())
        .sum();
    assert_eq!(stored, 5_000);
    assert_eq!(described["partitions"].as_array().map(Vec::len), Some(8));

    let consumed = report(
        &cli.ok(&["bench", "consume", "--url", url, "--json"], "")
            .stdout,
    );
    assert_eq!(consumed["records"], 5_000);
    assert!(consumed["bytes"].as_u64() > Some(5_000_000));
}

#[test]
fn bench_produce_compressed_for_a_duration() {
    let server = common::Server::start();
    let cli = Cli::with_token(server.admin_token());
    let url = server.grpc.as_str();
    let args = [
        "bench",
        "produce",
        "--url",
        url,
        "--topic",
        "zipped",
        "--partitions",
        "2",
        "--producers",
        "2",
        "--compression",
        "zstd",
        "--acks",
        "all",
        "--records-per-batch",
        "100",
        "--duration",
        "1s",
        "--json",
    ];
    let produced = report(&cli.ok(&args, "").stdout);
    assert!(produced["records"].as_u64() > Some(0));
    let consumed = report(
        &cli.ok(
            &[
                "bench",
                "consume",
                "--url",
                url,
                "--topic",
                "zipped",
                "--consumers",
                "1",
                "--json",
            ],
            "",
        )
        .stdout,
    );
    assert_eq!(consumed["records"], produced["records"]);
}
