//! JSON Web Key sets of trusted issuers: which public key verifies a token, by `kid`.
//!
//! Owns loading a JWKS from a file or an `https://` (or `http://`) URL — https verified against
//! the system's certificate roots with rustls — background refresh, and the one
//! rate-limited refetch an unknown `kid` may trigger. Keys are only asymmetric (EdDSA, ES256,
//! RS256); HMAC keys in a set are ignored, so a token signed with a public key as an HMAC
//! secret never verifies. Fails closed: a set that could not be refreshed for
//! `3 × jwks_refresh_ms` holds no keys.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};

/// Largest JWKS document accepted, in bytes.
pub const JWKS_BYTES_MAX: usize = 1 << 20;
/// How long fetching a JWKS URL may take.
pub const JWKS_FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Where an issuer's keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// A JWKS file, re-read on refresh.
    File(PathBuf),
    /// An `http://` URL.
    Url(String),
}

/// A verifying key and the one algorithm it verifies.
#[derive(Clone)]
pub(crate) struct VerifyingKey {
    pub(crate) key: DecodingKey,
    pub(crate) alg: Algorithm,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerifyingKey({:?})", self.alg)
    }
}

/// The keys of a JWKS, by `kid`.
pub(crate) fn keys_of(set: &JwkSet) -> HashMap<String, VerifyingKey> {
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let Some(kid) = &jwk.common.key_id else {
            continue;
        };
        let alg = match &jwk.algorithm {
            AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
                Algorithm::EdDSA
            }
            AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
                Algorithm::ES256
            }
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            _ => continue,
        };
        // A key published for another algorithm is not used for this one.
        let declared = jwk.common.key_algorithm;
        let agrees = match declared {
            None => true,
            Some(KeyAlgorithm::EdDSA) => alg == Algorithm::EdDSA,
            Some(KeyAlgorithm::ES256) => alg == Algorithm::ES256,
            Some(KeyAlgorithm::RS256) => alg == Algorithm::RS256,
            Some(_) => false,
        };
        if !agrees {
            continue;
        }
        if let Ok(key) = DecodingKey::from_jwk(jwk) {
            keys.insert(kid.clone(), VerifyingKey { key, alg });
        }
    }
    keys
}

#[derive(Debug)]
struct Loaded {
    keys: HashMap<String, VerifyingKey>,
    fetched: Instant,
}

/// The keys of one trusted issuer.
#[derive(Debug)]
pub(crate) struct KeySet {
    source: JwksSource,
    loaded: RwLock<Option<Loaded>>,
    /// When the last refetch for an unknown `kid` ran.
    refetched: tokio::sync::Mutex<Option<Instant>>,
    refresh: Duration,
    refetch_min: Duration,
}

type HttpsClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    http_body_util::Empty<bytes::Bytes>,
>;

/// One client for every JWKS fetch: rustls on ring (its own provider, not the process-wide
/// default) with the system's roots. `None` when the system's roots cannot be read; https
/// fetches then fail (and the issuer's tokens are refused), http ones still work.
fn https_client() -> Option<&'static HttpsClient> {
    static CLIENT: std::sync::OnceLock<Option<HttpsClient>> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let provider = rustls::crypto::ring::default_provider();
            let connector = hyper_rustls::HttpsConnectorBuilder::new()
                .with_provider_and_native_roots(provider)
                .map_err(
                    |e| tracing::warn!(error = %e, "no system certificate roots for https JWKS"),
                )
                .ok()?
                .https_or_http()
                .enable_http1()
                .build();
            let executor = hyper_util::rt::TokioExecutor::new();
            Some(hyper_util::client::legacy::Client::builder(executor).build(connector))
        })
        .as_ref()
}

impl KeySet {
    pub(crate) fn new(source: JwksSource, refresh: Duration, refetch_min: Duration) -> KeySet {
        KeySet {
            source,
            loaded: RwLock::new(None),
            refetched: tokio::sync::Mutex::new(None),
            refresh,
            refetch_min,
        }
    }

    /// The key for `kid`, if the set holds one and is not stale.
    pub(crate) fn get(&self, kid: &str) -> Option<VerifyingKey> {
        let loaded = self.loaded.read().unwrap_or_else(|p| p.into_inner());
        let loaded = loaded.as_ref()?;
        if loaded.fetched.elapsed() > self.refresh.saturating_mul(3) {
            return None;
        }
        loaded.keys.get(kid).cloned()
    }

    /// The key for `kid`, refetching the set once if it is unknown and the last refetch is
    /// older than `jwks_refetch_ms_min`.
    pub(crate) async fn get_or_refetch(&self, kid: &str) -> Option<VerifyingKey> {
        if let Some(key) = self.get(kid) {
            return Some(key);
        }
        let mut last = self.refetched.lock().await;
        // Another request may have refetched while this one waited.
        if let Some(key) = self.get(kid) {
            return Some(key);
        }
        if last.is_some_and(|at| at.elapsed() < self.refetch_min) {
            return None;
        }
        *last = Some(Instant::now());
        drop(last);
        self.reload().await;
        self.get(kid)
    }

    /// Loads the set now; on failure keeps the previous keys (until they go stale).
    pub(crate) async fn reload(&self) {
        match self.fetch().await {
            Ok(set) => {
                let keys = keys_of(&set);
                tracing::debug!(source = ?self.source, keys = keys.len(), "loaded JWKS");
                *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = Some(Loaded {
                    keys,
                    fetched: Instant::now(),
                });
            }
            Err(e) => tracing::warn!(source = ?self.source, error = %e, "cannot load JWKS"),
        }
    }

    async fn fetch(&self) -> Result<JwkSet, String> {
        let bytes = match &self.source {
            JwksSource::File(path) => tokio::fs::read(path)
                .await
                .map_err(|e| format!("read {}: {e}", path.display()))?,
            JwksSource::Url(url) => tokio::time::timeout(JWKS_FETCH_TIMEOUT, get(url))
                .await
                .map_err(|_| format!("GET {url}: no answer within {JWKS_FETCH_TIMEOUT:?}"))??,
        };
        if bytes.len() > JWKS_BYTES_MAX {
            return Err(format!("JWKS larger than {JWKS_BYTES_MAX} bytes"));
        }
        serde_json::from_slice(&bytes).map_err(|e| format!("not a JWKS: {e}"))
    }

    /// Refreshes the set every `jwks_refresh_ms` until the runtime stops.
    pub(crate) async fn refresh_forever(self: std::sync::Arc<Self>) {
        let mut tick = tokio::time::interval(self.refresh);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.reload().await;
        }
    }
}

/// GETs `url`, reading at most `JWKS_BYTES_MAX` bytes of body.
async fn get(url: &str) -> Result<Vec<u8>, String> {
    use http_body_util::BodyExt;
    let client = https_client().ok_or_else(|| format!("GET {url}: no TLS client"))?;
    let uri: axum::http::Uri = url
        .parse()
        .map_err(|e| format!("bad JWKS URL {url:?}: {e}"))?;
    let response = client
        .get(uri)
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("GET {url}: {}", response.status()));
    }
    let limited = http_body_util::Limited::new(response.into_body(), JWKS_BYTES_MAX);
    let body = limited
        .collect()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    Ok(body.to_bytes().to_vec())
}
