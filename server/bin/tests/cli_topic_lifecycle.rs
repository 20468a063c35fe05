//! `weir topic create | list | describe | delete` against a real server: tables for people,
//! JSON in the REST API's shapes, and server errors shown with their ErrorCode.

mod cli_support;
mod common;

use cli_support::Cli;

#[test]
fn topic_create_list_describe_delete() {
    let server = common::Server::start();
    let cli = Cli::with_token(server.admin_token());
    let url = server.grpc.as_str();

    let created = cli.ok(
        &[
            "topic",
            "create",
            "orders",
            "--partitions",
            "3",
            "--retention-ms",
            "60000",
            "--url",
            url,
        ],
        "",
    );
    assert!(
        created
            .stdout
            .contains("created topic orders with 3 partitions"),
        "{}",
        created.stdout
    );
    let json = cli
        .ok(
            &[
                "topic",
                "create",
                "audit",
                "--url",
                url,
                "--json",
                "--retention-bytes",
                "-1",
            ],
            "",
        )
        .json();
    assert_eq!(json["name"], "audit");
    assert_eq!(json["partitions"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["config"]["retention_bytes"], -1);

    let table = cli.ok(&["topic", "list", "--url", url], "").stdout;
    let header = table.lines().next().unwrap_or_default();
    assert!(
        header.starts_with("NAME") && header.contains("PARTITIONS"),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("orders") && l.contains(" 3 ")),
        "{table}"
    );
    let listed = cli
        .ok(&["topic", "list", "--url", url, "--json"], "")
        .json();
    let names: Vec<&str> = listed["topics"]
        .as_array()
        .expect("topics array")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["audit", "orders"]);

    let described = cli
        .ok(&["topic", "describe", "orders", "--url", url, "--json"], "")
        .json();
    let partitions = described["partitions"].as_array().expect("partitions");
    assert_eq!(partitions.len(), 3);
    assert!(partitions.iter().all(|p| p["high_watermark"] == 0));
    assert_eq!(described["config"]["retention_ms"], 60000);
    let text = cli
        .ok(&["topic", "describe", "orders", "--url", url], "")
        .stdout;
    assert!(
        text.contains("retention_ms") && text.contains("60000"),
        "{text}"
    );
    assert!(text.contains("HIGH_WATERMARK"), "{text}");

    let duplicate = cli.fails(&["topic", "create", "orders", "--url", url], "");
    assert!(
        duplicate.stderr.contains("TOPIC_ALREADY_EXISTS"),
        "{}",
        duplicate.stderr
    );

    let deleted = cli.ok(&["topic", "delete", "orders", "--url", url], "");
    assert!(
        deleted.stdout.contains("deleted topic orders"),
        "{}",
        deleted.stdout
    );
    let gone = cli.fails(&["topic", "describe", "orders", "--url", url], "");
    assert!(gone.stderr.contains("TOPIC_NOT_FOUND"), "{}", gone.stderr);
    let listed = cli
        .ok(&["topic", "list", "--url", url, "--json"], "")
        .json();
    assert_eq!(listed["topics"].as_array().map(Vec::len), Some(1));
}

#[test]
fn tenant_and_url_come_from_the_environment() {
    let server = common::Server::start();
    let out = cli_support::command(&["topic", "create", "from-env"])
        .env("WEIR_URL", &server.grpc)
        .env("WEIR_TENANT", "default")
        .env("WEIR_TOKEN", server.admin_token())
        .output()
        .expect("run weir");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wrong_tenant = cli_support::command(&["topic", "list", "--tenant", "nobody"])
        .env("WEIR_URL", &server.grpc)
        .env("WEIR_TOKEN", server.admin_token())
        .output()
        .expect("run weir");
    assert_eq!(wrong_tenant.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&wrong_tenant.stderr);
    assert!(stderr.contains("TENANT_NOT_FOUND"), "{stderr}");
}
