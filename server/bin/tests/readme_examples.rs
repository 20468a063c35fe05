//! The README's REST examples run as written against a real server: the `sh` block of the
//! "REST API by example" section is executed with bash, only the `WEIR=` address line pointed
//! at the test server's port and the `TOKEN=` line at its data directory's bootstrap key file.

mod common;

use std::process::Command;

const README: &str = include_str!("../../../README.md");

/// The first ```sh block after `heading`.
fn sh_block_after(heading: &str) -> String {
    let section = README.split(heading).nth(1).expect("README section");
    let start = section.find("```sh\n").expect("sh block") + "```sh\n".len();
    let end = section[start..].find("```").expect("block end");
    section[start..start + end].to_owned()
}

#[test]
fn readme_curl_examples_run_as_written() {
    let server = common::Server::start();
    let script = sh_block_after("## REST API by example");
    let address_line = "WEIR=http://127.0.0.1:8780";
    assert!(
        script.contains(address_line),
        "the example sets {address_line}"
    );
    let token_line = "TOKEN=$(cat weir-data/bootstrap-admin.token)";
    assert!(script.contains(token_line), "the example sets {token_line}");
    let token_file = server.data_dir.join("bootstrap-admin.token");
    assert!(token_file.exists(), "{} is missing", token_file.display());
    let script = script
        .replace(address_line, &format!("WEIR={}", server.http))
        .replace(
            token_line,
            &format!("TOKEN=$(cat '{}')", token_file.display()),
        );
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "README example failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(r#""name":"orders""#), "{stdout}");
    assert!(stdout.contains(r#""results":[{"partition":"#), "{stdout}");
    assert!(stdout.contains(r#""key":"user-1""#), "{stdout}");
    assert!(stdout.contains(r#""high_watermark":"#), "{stdout}");
    assert!(stdout.contains(r#""member_id":"#), "{stdout}");
    assert!(
        stdout.contains(r#""value":{"item":"book","qty":2}"#),
        "{stdout}"
    );
    assert!(stdout.contains(r#""group":"billing""#), "{stdout}");
    assert!(stdout.contains(r#""code":"TOPIC_NOT_FOUND""#), "{stdout}");
}
