//! The committed OpenAPI document must be exactly what the code generates, so SDKs, the web
//! console and users reading `openapi/openapi.json` never see a stale contract.
//!
//! After a deliberate REST change: `WEIR_BLESS=1 cargo test -p weir-api --test openapi`
//! (or `weir openapi > openapi/openapi.json`), and review the diff.

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/openapi.json");

#[test]
fn committed_openapi_matches_the_code() {
    let generated = weir_api::openapi().to_pretty_json().expect("renders") + "\n";
    if std::env::var_os("WEIR_BLESS").is_some() {
        std::fs::write(PATH, &generated).expect("write openapi.json");
    }
    let committed = std::fs::read_to_string(PATH).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json differs from the code: run `WEIR_BLESS=1 cargo test -p weir-api --test openapi` and review the diff"
    );
}

#[test]
fn every_error_response_is_problem_json() {
    let doc: serde_json::Value =
        serde_json::from_str(&weir_api::openapi().to_json().unwrap()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/v1/tenants/{tenant}/topics/{topic}/records"));
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            for (status, resp) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    let content = resp["content"].as_object();
                    let ok = content.is_some_and(|c| c.contains_key("application/problem+json"))
                        || path.ends_with("readyz");
                    assert!(ok, "{method} {path} {status} is not problem+json");
                }
            }
        }
    }
}
