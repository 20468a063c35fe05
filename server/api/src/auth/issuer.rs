//! The server as its own token issuer: an Ed25519 key created on first start, short-lived
//! access tokens for API keys (`POST /v1/auth/token`) and the public JWKS
//! (`/.well-known/jwks.json`).
//!
//! Owns `<data-dir>/auth/signing-key.json` (mode 0600: the `kid` and the private seed). Must
//! not log or return the seed.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use weir_broker::Principal;

use super::Claims;
use super::keyset::{VerifyingKey, keys_of};

/// PKCS#8 v1 prefix of an Ed25519 private key, followed by the 32-byte seed (RFC 8410).
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

#[derive(Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    seed_hex: String,
}

/// The signing key of this server.
pub(crate) struct Issuer {
    kid: String,
    encoding: EncodingKey,
    /// The public JWKS, built once at open.
    jwks: JwkSet,
    /// Its keys by kid, ready to verify (every request with one of our tokens uses them).
    verifying: HashMap<String, VerifyingKey>,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Issuer({})", self.kid)
    }
}

impl Issuer {
    /// Loads the key under `dir`, creating it (0600) on first start.
    pub(crate) fn open(dir: &Path) -> Result<Issuer, String> {
        let path = dir.join("signing-key.json");
        let stored = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice::<StoredKey>(&bytes)
                .map_err(|e| format!("{} is damaged: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(dir, &path)?,
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let seed = decode_seed(&stored.seed_hex)
            .ok_or_else(|| format!("{} holds a malformed seed", path.display()))?;
        let public = ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .to_bytes();
        let mut der = ED25519_PKCS8_PREFIX.to_vec();
        der.extend_from_slice(&seed);
        let set = serde_json::json!({ "keys": [{
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(public),
            "kid": stored.kid,
            "alg": "EdDSA",
            "use": "sig",
        }]});
        let jwks: JwkSet = serde_json::from_value(set)
            .map_err(|e| format!("cannot build the public JWKS: {e}"))?;
        let verifying = keys_of(&jwks);
        if !verifying.contains_key(&stored.kid) {
            return Err("the signing key does not verify as EdDSA".into());
        }
        Ok(Issuer {
            kid: stored.kid,
            encoding: EncodingKey::from_ed_der(&der),
            jwks,
            verifying,
        })
    }

    /// The public JWKS.
    pub(crate) fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// The verifying key with this kid, if it is ours.
    pub(crate) fn verifying_key(&self, kid: &str) -> Option<VerifyingKey> {
        self.verifying.get(kid).cloned()
    }

    /// A signed access token for `principal`, valid for `ttl_secs`.
    pub(crate) fn issue(
        &self,
        principal: &Principal,
        incarnation: u64,
        issuer: &str,
        audience: &str,
        ttl_secs: u64,
    ) -> Result<String, String> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            iss: issuer.to_owned(),
            aud: audience.to_owned(),
            sub: principal.subject.clone(),
            exp: now + ttl_secs,
            iat: Some(now),
            nbf: Some(now),
            tid: principal.tenant.to_string(),
            tin: Some(incarnation),
            scope: principal
                .scopes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" "),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(|e| e.to_string())
    }
}

fn create(dir: &Path, path: &Path) -> Result<StoredKey, String> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let mut private = std::fs::DirBuilder::new();
    private
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut bytes = [0u8; 40];
    getrandom::fill(&mut bytes).map_err(|e| format!("no random source: {e}"))?;
    let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let stored = StoredKey {
        kid: format!("weir-{}", hex(&bytes[32..])),
        seed_hex: hex(&bytes[..32]),
    };
    let json = serde_json::to_vec_pretty(&serde_json::json!({
        "kid": stored.kid,
        "seed_hex": stored.seed_hex,
    }))
    .map_err(|e| e.to_string())?;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    file.write_all(&json)
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    Ok(stored)
}

fn decode_seed(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut seed = [0u8; 32];
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        seed[i] = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(seed)
}
