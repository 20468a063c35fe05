//! Shared by the auth and tenancy suites: an external token issuer the test controls (Ed25519
//! keys published in a JWKS file the server trusts), token minting with every kind of flaw,
//! and a server started with that issuer trusted.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

pub use weir_testkit::Server;

/// `iss` of the test issuer.
pub const ISSUER: &str = "https://issuer.test";
/// `aud` the server expects from the test issuer.
pub const AUDIENCE: &str = "weir-tests";
/// How often the server reloads the JWKS file in these tests.
pub const JWKS_REFRESH_MS: u64 = 300;

/// PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410).
const PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// One signing key of the test issuer.
#[derive(Debug, Clone)]
pub struct TestKey {
    pub kid: String,
    seed: [u8; 32],
}

impl TestKey {
    pub fn new(kid: &str, seed: u8) -> TestKey {
        TestKey {
            kid: kid.to_owned(),
            seed: [seed; 32],
        }
    }

    fn public(&self) -> [u8; 32] {
        SigningKey::from_bytes(&self.seed)
            .verifying_key()
            .to_bytes()
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Value {
        json!({"kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(self.public()),
               "kid": self.kid, "alg": "EdDSA", "use": "sig"})
    }

    /// Signs `claims` with this key.
    pub fn sign(&self, claims: &Value) -> String {
        let mut der = PKCS8_PREFIX.to_vec();
        der.extend_from_slice(&self.seed);
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(&der)).unwrap()
    }

    /// An HS256 token whose HMAC secret is this key's public key bytes: the classic
    /// "RS/HS confusion" forgery.
    pub fn forge_hs256(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        let secret = URL_SAFE_NO_PAD.encode(self.public());
        jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }
}

/// An unsigned token (`alg: none`).
pub fn alg_none(kid: &str, claims: &Value) -> String {
    let header = json!({"alg": "none", "typ": "JWT", "kid": kid});
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// `token` without its signature.
pub fn strip_signature(token: &str) -> String {
    let cut = token.rfind('.').unwrap();
    format!("{}.", &token[..cut])
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Valid claims for `tenant` with `scope`, expiring in an hour.
pub fn claims(tenant: &str, scope: &str) -> Value {
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "tid": tenant, "scope": scope,
           "exp": now() + 3600, "iat": now()})
}

/// Writes the JWKS file the server reads.
pub fn publish(path: &Path, keys: &[&TestKey]) {
    let set = json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()});
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, set.to_string()).unwrap();
    std::fs::rename(tmp, path).unwrap();
}

/// A server trusting the test issuer (JWKS at `<dir>/jwks.json`, published from `keys`),
/// with `extra` TOML appended to its config.
pub fn start_trusting(dir: &Path, keys: &[&TestKey], extra: &str) -> (Server, PathBuf) {
    let jwks = dir.join("jwks.json");
    publish(&jwks, keys);
    let source = format!("jwks_file = \"{}\"", jwks.display());
    (start_with_source(dir, &source, extra), jwks)
}

/// A server trusting the test issuer with its keys at `source` (a `jwks_file = ...` or
/// `jwks_url = ...` line), with `extra` TOML appended to its config.
pub fn start_with_source(dir: &Path, source: &str, extra: &str) -> Server {
    let config = dir.join("weir.toml");
    std::fs::write(
        &config,
        format!(
            "maintenance_interval_ms = 100\n{extra}\n[auth]\njwks_refresh_ms = {JWKS_REFRESH_MS}\njwks_refetch_ms_min = 0\n\
             [[auth.trusted]]\nissuer = \"{ISSUER}\"\naudience = \"{AUDIENCE}\"\n{source}\n"
        ),
    )
    .unwrap();
    Server::start_in(&dir.join("data"), &["--config", config.to_str().unwrap()])
}

pub fn plain_client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Sends `method path` with `bearer` (if any) and a JSON body; returns status and body.
pub async fn call(
    c: &Client,
    s: &Server,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = c.request(method.parse().unwrap(), s.url(path));
    if let Some(b) = bearer {
        request = request.bearer_auth(b);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Creates an API key in `tenant` with `scopes`, as `admin`; returns (id, key).
pub async fn create_key(
    c: &Client,
    s: &Server,
    admin: &str,
    tenant: &str,
    scopes: &[&str],
) -> (String, String) {
    let (status, body) = call(
        c,
        s,
        "POST",
        &format!("/v1/tenants/{tenant}/keys"),
        Some(admin),
        Some(json!({"name": "test", "scopes": scopes})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["id"].as_str().unwrap().to_owned(),
        body["key"].as_str().unwrap().to_owned(),
    )
}

/// Creates a tenant as `admin`.
pub async fn create_tenant(c: &Client, s: &Server, admin: &str, name: &str) {
    let (status, body) = call(
        c,
        s,
        "POST",
        "/v1/admin/tenants",
        Some(admin),
        Some(json!({"name": name})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Creates a topic in `tenant` as `bearer`.
pub async fn create_topic(c: &Client, s: &Server, bearer: &str, tenant: &str, name: &str) {
    let (status, body) = call(
        c,
        s,
        "POST",
        &format!("/v1/tenants/{tenant}/topics"),
        Some(bearer),
        Some(json!({"name": name, "partitions": 1})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}
