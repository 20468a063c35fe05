//! A client command pointed at a port nobody listens on says where it tried and what to do,
//! and exits with code 1.

mod cli_support;

use std::net::TcpListener;

#[test]
fn unreachable_server_is_named_with_exit_code_1() {
    // Bind and release a port so that, very likely, nothing listens on it.
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}");
    for args in [
        vec!["topic", "list", "--url", url.as_str()],
        vec!["consume", "t", "--url", url.as_str()],
        vec!["bench", "produce", "--url", url.as_str(), "--json"],
    ] {
        let out = cli_support::fails(&args, "");
        assert!(
            out.stderr.contains(&format!("cannot reach weir at {url}")),
            "{args:?}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains("(is `weir serve` running?)"),
            "{}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{}", out.stdout);
    }
}

#[test]
fn a_bad_url_is_a_usage_error() {
    let out = cli_support::fails(&["topic", "list", "--url", "not a url"], "");
    assert!(out.stderr.contains("invalid --url"), "{}", out.stderr);
}
