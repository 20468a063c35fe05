//! Authentication: from an `Authorization: Bearer <credential>` header (REST) or metadata
//! entry (gRPC) to a verified `Principal`.
//!
//! Owns credential verification for both transports: API keys (looked up by the broker) and
//! JWTs (this server's own, or from trusted issuers' JWKS). Only asymmetric algorithms
//! (EdDSA, ES256, RS256) are accepted; `iss`, `aud`, `exp` and `sub` are required, `nbf` is
//! honoured with `leeway_secs`. Every refusal is the same `UNAUTHENTICATED` shape, so a
//! caller learns nothing about which check failed. Must not authorize: that is
//! `Principal::authorize` in the broker, called by handlers.

mod issuer;
mod keyset;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, Validation};
use serde::{Deserialize, Serialize};
use weir_broker::tenancy::{Credential, Scope};
use weir_broker::{Broker, Principal, TenantId};
use weir_proto::ErrorCode;

pub use keyset::{JWKS_BYTES_MAX, JWKS_FETCH_TIMEOUT, JwksSource};

use crate::ApiError;
use issuer::Issuer;
use keyset::{KeySet, VerifyingKey};

/// Longest credential accepted in a header, in bytes.
pub const CREDENTIAL_BYTES_MAX: usize = 16 << 10;

/// Whether requests must carry credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Every request but health, readiness (and public metrics) needs a credential.
    Required,
    /// Nobody is asked for anything: every caller is an administrator of every tenant. For
    /// local experiments only.
    Off,
}

/// An external issuer whose tokens are trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedIssuer {
    /// Expected `iss`.
    pub issuer: String,
    /// Expected `aud`.
    pub audience: String,
    /// Where its keys are.
    pub jwks: JwksSource,
}

/// How the server authenticates callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// Required or off.
    pub mode: AuthMode,
    /// `iss` of the tokens this server issues.
    pub issuer: String,
    /// `aud` of the tokens this server issues (and expects in them).
    pub audience: String,
    /// Lifetime of tokens issued for API keys, in seconds.
    pub token_ttl_secs: u64,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway_secs: u64,
    /// Whether `/metrics` answers without a credential.
    pub metrics_public: bool,
    /// External issuers trusted in addition to this server.
    pub trusted: Vec<TrustedIssuer>,
    /// How often trusted issuers' key sets are reloaded, in milliseconds.
    pub jwks_refresh_ms: u64,
    /// Least time between two reloads caused by an unknown `kid`, in milliseconds.
    pub jwks_refetch_ms_min: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            mode: AuthMode::Required,
            issuer: "weir".into(),
            audience: "weir".into(),
            token_ttl_secs: 900,
            leeway_secs: 5,
            metrics_public: false,
            trusted: Vec::new(),
            jwks_refresh_ms: 300_000,
            jwks_refetch_ms_min: 10_000,
        }
    }
}

/// JWT claims Weir reads and writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Claims {
    pub(crate) iss: String,
    pub(crate) aud: String,
    pub(crate) sub: String,
    pub(crate) exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) nbf: Option<u64>,
    /// Tenant.
    pub(crate) tid: String,
    /// The tenant's incarnation, in tokens this server issues: a token of a deleted tenant
    /// never works for a later tenant of the same name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tin: Option<u64>,
    /// Space-separated scopes.
    #[serde(default)]
    pub(crate) scope: String,
}

#[derive(Deserialize)]
struct IssuerOnly {
    iss: Option<String>,
}

/// Verifies credentials and issues tokens.
#[derive(Debug)]
pub struct Authenticator {
    config: AuthConfig,
    issuer: Issuer,
    trusted: Vec<(TrustedIssuer, Arc<KeySet>)>,
    /// Keys other nodes of the cluster registered, parsed once per node and JWKS.
    peers: std::sync::Mutex<HashMap<u32, PeerKeys>>,
}

/// A node's registered JWKS and the keys parsed from it, by `kid`.
type PeerKeys = (String, HashMap<String, VerifyingKey>);

/// A token issued for an API key.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The JWT.
    pub token: String,
    /// Seconds it is valid for.
    pub expires_in: u64,
}

impl Authenticator {
    /// Loads (or creates) this server's signing key under `<data_dir>/auth`.
    pub fn open(config: AuthConfig, data_dir: &Path) -> Result<Authenticator, String> {
        let issuer = Issuer::open(&data_dir.join("auth"))?;
        let refresh = Duration::from_millis(config.jwks_refresh_ms.max(1));
        let refetch = Duration::from_millis(config.jwks_refetch_ms_min);
        let trusted = config
            .trusted
            .iter()
            .map(|t| {
                let set = KeySet::new(t.jwks.clone(), refresh, refetch);
                (t.clone(), Arc::new(set))
            })
            .collect();
        Ok(Authenticator {
            config,
            issuer,
            trusted,
            peers: std::sync::Mutex::default(),
        })
    }

    /// Loads trusted key sets now and keeps refreshing them in the background.
    pub async fn start(&self) {
        for (_, set) in &self.trusted {
            set.reload().await;
            tokio::spawn(Arc::clone(set).refresh_forever());
        }
    }

    /// The configuration.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// This server's public keys as a JWKS document.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::to_value(self.issuer.jwks()).unwrap_or_default()
    }

    /// A short-lived token standing for `principal`, bound to its tenant's incarnation and
    /// (through `sub`) to its API key: it stops working when either goes.
    pub fn issue(&self, broker: &Broker, principal: &Principal) -> Result<IssuedToken, ApiError> {
        let ttl = self.config.token_ttl_secs;
        let incarnation = broker
            .tenant_incarnation(&principal.tenant)
            .ok_or_else(refused)?;
        let token = self
            .issuer
            .issue(
                principal,
                incarnation,
                &self.config.issuer,
                &self.config.audience,
                ttl,
            )
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("cannot sign a token: {e}")))?;
        Ok(IssuedToken {
            token,
            expires_in: ttl,
        })
    }

    /// The principal behind an `Authorization` value (`None` when the request has none).
    pub async fn authenticate(
        &self,
        broker: &Broker,
        authorization: Option<&[u8]>,
    ) -> Result<Principal, ApiError> {
        if self.config.mode == AuthMode::Off {
            return Ok(Principal::anonymous(default_tenant()));
        }
        let credential = bearer(authorization)?;
        if credential.starts_with(weir_broker::tenancy::KEY_PREFIX) {
            return Ok(broker.authenticate_key(credential)?);
        }
        self.verify_jwt(broker, credential).await
    }

    async fn verify_jwt(&self, broker: &Broker, token: &str) -> Result<Principal, ApiError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| refused())?;
        if !matches!(
            header.alg,
            Algorithm::EdDSA | Algorithm::ES256 | Algorithm::RS256
        ) {
            return Err(refused());
        }
        let kid = header.kid.ok_or_else(refused)?;
        let iss = jsonwebtoken::dangerous::insecure_decode_claims::<IssuerOnly>(token)
            .ok()
            .and_then(|c| c.iss)
            .ok_or_else(refused)?;
        let ours = iss == self.config.issuer;
        let (audience, key) = if ours {
            let key = self
                .issuer
                .verifying_key(&kid)
                .or_else(|| self.peer_key(broker, &kid));
            (self.config.audience.as_str(), key)
        } else {
            let (trusted, set) = self
                .trusted
                .iter()
                .find(|(t, _)| t.issuer == iss)
                .ok_or_else(refused)?;
            (trusted.audience.as_str(), set.get_or_refetch(&kid).await)
        };
        let key = key.ok_or_else(refused)?;
        let mut validation = Validation::new(key.alg);
        validation.set_issuer(&[&iss]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = self.config.leeway_secs;
        validation.validate_nbf = true;
        let claims = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map_err(|_| refused())?
            .claims;
        let tenant = TenantId::parse(&claims.tid).map_err(|_| refused())?;
        if ours {
            // A token of ours dies with its key and its tenant, not only when it expires.
            broker
                .check_issued(&tenant, claims.tin.unwrap_or(0), &claims.sub)
                .map_err(|_| refused())?;
        }
        // Scopes of other systems (`openid`, ...) in the same token are not ours: skip them.
        let scopes: Vec<Scope> = claims
            .scope
            .split_ascii_whitespace()
            .filter_map(|s| Scope::parse(s).ok())
            .collect();
        Ok(Principal {
            subject: claims.sub,
            tenant,
            scopes,
            credential: Credential::Jwt {
                issuer: iss,
                expires_at: claims.exp,
                incarnation: ours.then(|| claims.tin.unwrap_or(0)),
            },
        })
    }

    /// The key `kid` of another node of the cluster, from the JWKS it registered: a token any
    /// node issued verifies on every node (while its issuer stays registered).
    fn peer_key(&self, broker: &Broker, kid: &str) -> Option<VerifyingKey> {
        let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        for node in broker.nodes() {
            let Some(jwks) = node.token_jwks else {
                continue;
            };
            let stale = peers.get(&node.id).is_none_or(|(seen, _)| *seen != jwks);
            if stale {
                let keys = serde_json::from_str::<JwkSet>(&jwks)
                    .map(|set| keyset::keys_of(&set))
                    .unwrap_or_default();
                peers.insert(node.id, (jwks, keys));
            }
            if let Some(key) = peers.get(&node.id).and_then(|(_, keys)| keys.get(kid)) {
                return Some(key.clone());
            }
        }
        None
    }

    /// This node's token-verifying keys as JSON, for the other nodes of its cluster.
    pub fn jwks_json(&self) -> String {
        self.jwks().to_string()
    }

    /// Whether `caller`, authenticated when a long-lived stream opened, still stands: its
    /// API key live and its tenant there; a token unexpired and, if this server issued it,
    /// still backed by its key and tenant. Streams (ProduceStream, FetchStream, live tails)
    /// ask before each request or read, so revoking a key, deleting a tenant or a token
    /// expiring ends them as it refuses a new call.
    pub fn recheck(&self, broker: &Broker, caller: &Principal) -> Result<(), ApiError> {
        match &caller.credential {
            Credential::Anonymous => Ok(()),
            Credential::ApiKey(id) => broker.check_key(id, &caller.tenant).map_err(|_| refused()),
            Credential::Jwt {
                expires_at,
                incarnation,
                ..
            } => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                if now > expires_at.saturating_add(self.config.leeway_secs) {
                    return Err(refused());
                }
                match incarnation {
                    Some(tin) => broker
                        .check_issued(&caller.tenant, *tin, &caller.subject)
                        .map_err(|_| refused()),
                    None => Ok(()),
                }
            }
        }
    }
}

fn default_tenant() -> TenantId {
    TenantId::parse(weir_broker::DEFAULT_TENANT).expect("the default tenant name is valid")
}

fn refused() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthenticated,
        "the credential is invalid, expired or not trusted",
    )
}

/// The credential of `Bearer <credential>`.
fn bearer(authorization: Option<&[u8]>) -> Result<&str, ApiError> {
    let value = authorization.ok_or_else(|| {
        ApiError::new(
            ErrorCode::Unauthenticated,
            "missing credential: send Authorization: Bearer <API key or token>",
        )
    })?;
    if value.len() > CREDENTIAL_BYTES_MAX {
        return Err(refused());
    }
    let value = std::str::from_utf8(value).map_err(|_| refused())?;
    let (scheme, credential) = value.split_once(' ').ok_or_else(refused)?;
    if !scheme.eq_ignore_ascii_case("bearer") || credential.trim().is_empty() {
        return Err(ApiError::new(
            ErrorCode::Unauthenticated,
            "expected Authorization: Bearer <API key or token>",
        ));
    }
    Ok(credential.trim())
}

/// Where the bootstrap admin credential of a data directory is written.
pub fn bootstrap_token_path(data_dir: &Path) -> PathBuf {
    data_dir.join("bootstrap-admin.token")
}
