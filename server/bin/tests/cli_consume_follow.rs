//! `weir consume --follow` keeps reading: a record produced while it runs is printed. The
//! consumer is killed by the test once it printed; every wait is bounded.

mod cli_support;
mod common;

use cli_support::Cli;

fn value_of(line: &str) -> serde_json::Value {
    let record: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not json: {line:?}: {e}"));
    record["value"].clone()
}

#[test]
fn follow_prints_a_record_produced_later() {
    let server = common::Server::start();
    let cli = Cli::with_token(server.admin_token());
    let url = server.grpc.as_str();
    cli.ok(
        &["topic", "create", "live", "--partitions", "2", "--url", url],
        "",
    );
    cli.ok(
        &["produce", "live", "--partition", "0", "--url", url],
        "first\n",
    );

    let consumer = cli.start(&[
        "consume",
        "live",
        "--from-beginning",
        "--follow",
        "--url",
        url,
    ]);
    // The first record proves the consumer is past its start offsets before the next is written.
    assert_eq!(value_of(&consumer.next_line()), "first");

    cli.ok(
        &["produce", "live", "--partition", "1", "--url", url],
        "second\n",
    );
    assert_eq!(value_of(&consumer.next_line()), "second");
    cli.ok(&["produce", "live", "--url", url], "{\"third\":3}\n");
    assert_eq!(
        value_of(&consumer.next_line()),
        serde_json::json!({"third": 3})
    );
    consumer.kill();
}
