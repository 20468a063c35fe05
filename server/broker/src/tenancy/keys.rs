//! API keys: opaque bearer secrets for scripts, curl and SDK quick starts.
//!
//! A key reads `weir_<id>_<secret>`: the id finds the record, the secret proves possession.
//! Owns generation (from the OS's random source), the stored form (SHA-256 of the whole key:
//! the secret has 256 bits of entropy, so a fast hash is enough) and the constant-time check.
//! Must never keep or log a secret: it exists only in the creation response.

use sha2::{Digest, Sha256};

use super::scope::{Permission, Scope};
use crate::{BrokerError, TenantId};

/// Every API key starts with this.
pub const KEY_PREFIX: &str = "weir_";
/// Random bytes in a key's id (hex in the key).
const ID_BYTES: usize = 8;
/// Random bytes in a key's secret (hex in the key).
const SECRET_BYTES: usize = 32;
/// Longest key name, in bytes.
pub const KEY_NAME_BYTES_MAX: usize = 100;
/// Most live (unrevoked) keys per tenant.
pub const KEYS_PER_TENANT_MAX: usize = 1_000;

/// A key as stored: never the secret, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Public id (16 hex characters), the part after `weir_`.
    pub id: String,
    /// Owning tenant.
    pub tenant: TenantId,
    /// What it is for, as its creator named it.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// SHA-256 of the whole key string.
    pub hash: [u8; 32],
    /// Creation time, ms since the epoch.
    pub created_ms: u64,
    /// When it stops working, ms since the epoch.
    pub expires_ms: Option<u64>,
    /// Subject of the principal that created it.
    pub created_by: String,
    /// When it was revoked, ms since the epoch.
    pub revoked_ms: Option<u64>,
}

impl ApiKey {
    /// Whether the key may authenticate at `now_ms`.
    pub fn usable(&self, now_ms: u64) -> bool {
        self.revoked_ms.is_none() && self.expires_ms.is_none_or(|e| now_ms < e)
    }

    /// Whether the key holds `admin`.
    pub fn is_admin(&self) -> bool {
        self.scopes
            .iter()
            .any(|s| s.permission == Permission::Admin)
    }
}

/// A fresh key: its id and the full secret string (to show once).
pub(crate) fn generate() -> Result<(String, String), BrokerError> {
    let mut bytes = [0u8; ID_BYTES + SECRET_BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|e| BrokerError::Internal(format!("no random source for a key: {e}")))?;
    let id = hex(&bytes[..ID_BYTES]);
    let key = format!("{KEY_PREFIX}{id}_{}", hex(&bytes[ID_BYTES..]));
    Ok((id, key))
}

/// The stored hash of a key string.
pub(crate) fn hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// The id inside a string that looks like a key (`weir_<16 hex>_<64 hex>`).
pub fn key_id(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(KEY_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let hex_of = |s: &str, n: usize| s.len() == 2 * n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hex_of(id, ID_BYTES) && hex_of(secret, SECRET_BYTES)).then_some(id)
}

/// Compares two hashes in time independent of where they differ.
pub(crate) fn same_hash(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

pub(crate) fn unhex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
        let pair = std::str::from_utf8(chunk).ok()?;
        out[i] = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

/// Checks a key's name: printable, 1 to `KEY_NAME_BYTES_MAX` bytes.
pub(crate) fn check_name(name: &str) -> Result<(), BrokerError> {
    if name.is_empty() || name.len() > KEY_NAME_BYTES_MAX || name.chars().any(char::is_control) {
        return Err(BrokerError::InvalidRequest(format!(
            "a key name is 1 to {KEY_NAME_BYTES_MAX} bytes without control characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_and_hash_round_trips() {
        let (id, key) = generate().unwrap();
        assert_eq!(key_id(&key), Some(id.as_str()));
        let h = hash(&key);
        assert_eq!(unhex32(&hex(&h)), Some(h));
        assert!(same_hash(&h, &hash(&key)));
        assert!(!same_hash(&h, &hash(&format!("{key}x"))));
        let (other, _) = generate().unwrap();
        assert_ne!(id, other);
    }

    #[test]
    fn strings_that_are_not_keys_have_no_id() {
        for s in [
            "",
            "weir_",
            "weir_abc_def",
            "eyJhbGciOiJFZERTQSJ9.x.y",
            "weir_0123456789abcdef_xyz",
        ] {
            assert_eq!(key_id(s), None, "{s}");
        }
    }
}
