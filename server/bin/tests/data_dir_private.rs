//! Data at rest: what a fresh node writes is readable by its own user only, and two
//! processes never open one data directory.

mod auth_support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use auth_support::*;
use reqwest::StatusCode;
use serde_json::json;

/// Every directory and file under `dir` (itself included), with its mode.
fn modes(dir: &Path, out: &mut Vec<(String, bool, u32)>) {
    let meta = std::fs::metadata(dir).unwrap();
    out.push((
        dir.display().to_string(),
        true,
        meta.permissions().mode() & 0o777,
    ));
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            modes(&path, out);
        } else {
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            out.push((path.display().to_string(), false, mode));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_data_dir_is_private_and_locked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start_in(&data, &[]);
    let c = plain_client();
    let admin = server.admin_token().to_owned();
    create_topic(&c, &server, &admin, "default", "secrets").await;
    let records = json!({"records": [{"value": "card 4111"}]});
    let path = "/v1/tenants/default/topics/secrets/records";
    let (status, body) = call(&c, &server, "POST", path, Some(&admin), Some(records)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let group = json!({"topics": ["secrets"], "auto_offset_reset": "earliest"});
    let path = "/v1/tenants/default/groups/g/fetch";
    let (status, body) = call(&c, &server, "POST", path, Some(&admin), Some(group)).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A second process on the same directory is refused while the first runs.
    let second = Command::new(weir_testkit::weir_bin())
        .args([
            "serve",
            "--http-addr",
            "127.0.0.1:0",
            "--grpc-addr",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        !second.status.success(),
        "two nodes opened one data directory"
    );
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("in use by another weir process"),
        "{stderr}"
    );

    server.stop();
    let mut all = Vec::new();
    modes(&data, &mut all);
    assert!(all.iter().any(|(p, _, _)| p.ends_with(".log")), "{all:?}");
    for (path, is_dir, mode) in &all {
        let want = if *is_dir { 0o700 } else { 0o600 };
        assert_eq!(*mode, want, "{path} is {mode:o}");
    }
}
