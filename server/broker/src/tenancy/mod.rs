//! Tenancy's domain types: principals and scopes, API keys, quotas and meters, and what a
//! tenant's summary holds.
//!
//! Owns the rules that need no state: scope parsing and `Principal::authorize`, the key format
//! and its hash, token buckets. Must not hold metadata or change it (`crate::tenants` does, as
//! broker operations) and must not verify JWTs (weir-api does, then builds the `Principal`).

pub(crate) mod keys;
mod quota;
mod scope;

pub use keys::{ApiKey, KEY_NAME_BYTES_MAX, KEY_PREFIX, KEYS_PER_TENANT_MAX, key_id};
pub(crate) use keys::{hex, unhex32};
pub use quota::{Meter, Quotas, Rate, Refusal, Throttling};
pub use scope::{
    Action, Credential, NamePattern, Permission, Principal, SCOPE_BYTES_MAX, SCOPES_MAX, Scope,
    parse_scopes,
};

use crate::{BrokerError, TenantId};

/// A new key as created: the stored record and the secret, shown once.
#[derive(Debug)]
pub struct NewKey {
    /// The stored record.
    pub key: ApiKey,
    /// The full key string; not stored anywhere.
    pub secret: String,
}

/// What a tenant holds and uses now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Produced bytes in the last complete second.
    pub produce_bytes_per_sec: u64,
    /// Fetched bytes in the last complete second.
    pub fetch_bytes_per_sec: u64,
    /// Requests in the last complete second.
    pub requests_per_sec: u64,
    /// Bytes in all the tenant's partitions.
    pub storage_bytes: u64,
    /// Topics.
    pub topics: u64,
    /// Partitions.
    pub partitions: u64,
    /// Consumer groups.
    pub groups: u64,
    /// Milliseconds responses were held for rate quotas since start.
    pub throttle_time_ms_total: u64,
    /// Requests refused for a rate quota since start.
    pub throttled_requests_total: u64,
}

/// A tenant's summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantInfo {
    /// Name.
    pub name: TenantId,
    /// Quotas in force.
    pub quotas: Quotas,
    /// Live (unrevoked, unexpired) API keys.
    pub keys: u64,
    /// Usage now.
    pub usage: Usage,
}

/// A random, non-zero tenant incarnation.
pub(crate) fn new_incarnation() -> Result<u64, BrokerError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes)
        .map_err(|e| BrokerError::Internal(format!("no random source: {e}")))?;
    Ok(u64::from_le_bytes(bytes).max(1))
}
