//! Tenancy as broker operations both transports call: tenants, API keys, quotas and usage.
//!
//! Owns the changes of keys and quotas (metadata commands; rights are checked here, existence
//! and counts by the image), authentication of API keys, rate admission and the count and
//! storage quotas. Every change takes the acting `Principal` and is written to the audit log.
//! Must not verify JWTs (weir-api does, then builds the `Principal`) and must not know
//! transports.

use std::time::{Duration, Instant};

use crate::metadata::{MetadataImage, TenancyCmd, unix_ms};
use crate::tenancy::{
    Action, ApiKey, Credential, Meter, NewKey, Principal, Quotas, Rate, Refusal, Scope, TenantInfo,
    Usage, key_id, keys, parse_scopes,
};
use crate::{Broker, BrokerError, TenantId};

/// How long a tenant's storage total may be reused before summing its partitions again.
const STORAGE_CACHE: Duration = Duration::from_millis(250);

impl Broker {
    /// The quotas in force for `tenant`: its own, or the configured defaults.
    pub fn quotas(&self, tenant: &TenantId) -> Quotas {
        self.image().quotas(tenant, self.config.quota_defaults)
    }

    /// Replaces `tenant`'s quotas.
    pub fn set_quotas(
        &self,
        by: &Principal,
        tenant: &TenantId,
        quotas: Quotas,
    ) -> Result<(), BrokerError> {
        by.authorize(tenant, Action::Administer)?;
        self.propose(|_| {
            Ok(TenancyCmd::SetQuotas {
                tenant: tenant.clone(),
                quotas,
            }
            .into())
        })?;
        self.audit.record(by, "quotas.set", tenant.as_str(), "");
        Ok(())
    }

    /// Creates a tenant with the default quotas (needs `admin`).
    pub fn create_tenant(&self, by: &Principal, tenant: &TenantId) -> Result<(), BrokerError> {
        if !by.is_admin() {
            return Err(BrokerError::Forbidden(format!(
                "{} does not hold admin",
                by.subject
            )));
        }
        self.insert_tenant(tenant)?;
        self.audit.record(by, "tenant.create", tenant.as_str(), "");
        Ok(())
    }

    /// Deletes a tenant that has no topics and no consumer groups; its keys stop working.
    pub fn delete_tenant(&self, by: &Principal, tenant: &TenantId) -> Result<(), BrokerError> {
        by.authorize(tenant, Action::Administer)?;
        if !self.group_names(tenant)?.is_empty() {
            return Err(BrokerError::TenantNotEmpty(format!(
                "tenant {tenant:?} still has consumer groups"
            )));
        }
        self.propose(|_| {
            Ok(TenancyCmd::DeleteTenant {
                tenant: tenant.clone(),
            }
            .into())
        })?;
        self.audit.record(by, "tenant.delete", tenant.as_str(), "");
        Ok(())
    }

    /// Tenants `by` may see, with their summaries.
    pub fn list_tenants(&self, by: &Principal) -> Vec<TenantInfo> {
        self.tenants()
            .into_iter()
            .filter(|t| by.sees(t))
            .filter_map(|t| self.tenant_info(&t).ok())
            .collect()
    }

    /// One tenant's summary.
    pub fn tenant_info(&self, tenant: &TenantId) -> Result<TenantInfo, BrokerError> {
        let now = unix_ms();
        let image = self.image();
        known(&image, tenant)?;
        let keys = count(image.live_keys(tenant, now));
        Ok(TenantInfo {
            name: tenant.clone(),
            quotas: self.quotas(tenant),
            keys,
            usage: self.usage(tenant)?,
        })
    }

    /// Creates an API key in `tenant` with at most the scopes `by` holds.
    pub fn create_key(
        &self,
        by: &Principal,
        tenant: &TenantId,
        name: &str,
        scopes: Vec<Scope>,
        expires_ms: Option<u64>,
    ) -> Result<NewKey, BrokerError> {
        by.authorize(tenant, Action::ManageKeys)?;
        by.may_grant(&scopes)?;
        keys::check_name(name)?;
        if scopes.is_empty() {
            return Err(BrokerError::InvalidRequest(
                "a key needs at least one scope".into(),
            ));
        }
        let created_ms = unix_ms();
        if expires_ms.is_some_and(|e| e <= created_ms) {
            return Err(BrokerError::InvalidRequest(
                "expires_at is in the past".into(),
            ));
        }
        let (id, secret) = keys::generate()?;
        let hash = keys::hash(&secret);
        let key = ApiKey {
            id,
            tenant: tenant.clone(),
            name: name.to_owned(),
            scopes,
            hash,
            created_ms,
            expires_ms,
            created_by: by.subject.clone(),
            revoked_ms: None,
        };
        self.propose(|_| Ok(TenancyCmd::CreateKey(key.clone()).into()))?;
        self.audit
            .record(by, "key.create", tenant.as_str(), &key.id);
        Ok(NewKey { key, secret })
    }

    /// Keys of `tenant`, revoked ones included, oldest first.
    pub fn list_keys(&self, by: &Principal, tenant: &TenantId) -> Result<Vec<ApiKey>, BrokerError> {
        by.authorize(tenant, Action::ManageKeys)?;
        let image = self.image();
        known(&image, tenant)?;
        let mut keys: Vec<ApiKey> = image
            .keys()
            .filter(|k| &k.tenant == tenant)
            .cloned()
            .collect();
        keys.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        Ok(keys)
    }

    /// Revokes a key of `tenant`; it stops authenticating at once, and so do the tokens
    /// issued for it. Nobody revokes a key holding more than they hold (the rule creating
    /// follows), and the last live `admin` key cannot be revoked: that would leave nobody able
    /// to administer the server (`weir admin recover` is the way back if it happens anyway).
    pub fn revoke_key(
        &self,
        by: &Principal,
        tenant: &TenantId,
        id: &str,
    ) -> Result<(), BrokerError> {
        by.authorize(tenant, Action::ManageKeys)?;
        let now = unix_ms();
        self.propose(|image| {
            known(image, tenant)?;
            let key = match image.key(id) {
                Some(k) if &k.tenant == tenant && k.revoked_ms.is_none() => k,
                _ => return Err(BrokerError::KeyNotFound(id.to_owned())),
            };
            by.may_grant(&key.scopes).map_err(|_| {
                BrokerError::Forbidden(format!(
                    "{} cannot revoke key {id}: the key holds scopes the caller does not",
                    by.subject
                ))
            })?;
            Ok(TenancyCmd::RevokeKey {
                id: id.to_owned(),
                at_ms: now,
            }
            .into())
        })?;
        self.audit.record(by, "key.revoke", tenant.as_str(), id);
        Ok(())
    }

    /// Creates a new `admin` key of tenant `default` and returns it: the way back when no
    /// admin key is left. Run by `weir admin recover` on the node itself, never over the
    /// network; audited as `key.recover` by `system:recover`.
    pub fn recover_admin_key(&self) -> Result<NewKey, BrokerError> {
        let default = TenantId::parse(crate::DEFAULT_TENANT)?;
        let mut system = Principal::anonymous(default.clone());
        system.subject = "system:recover".into();
        if !self.tenant_exists(&default) {
            self.insert_tenant(&default)?;
        }
        let scopes = parse_scopes(["admin"])?;
        let key = self.create_key(&system, &default, "recovered-admin", scopes, None)?;
        self.audit
            .record(&system, "key.recover", default.as_str(), &key.key.id);
        Ok(key)
    }

    /// Whether a token this server issued is still backed by what it was issued for: its
    /// tenant (the same incarnation, not a later tenant of the same name) and, for a token
    /// issued for an API key (`sub` = `key:<id>`), that key, live and in that tenant. One
    /// read of the in-memory state: it runs on every request carrying such a token.
    pub fn check_issued(
        &self,
        tenant: &TenantId,
        incarnation: u64,
        subject: &str,
    ) -> Result<(), BrokerError> {
        let refused = || BrokerError::Unauthenticated("the token's credential is gone".into());
        let image = self.image();
        if image.tenant(tenant).map(|t| t.incarnation) != Some(incarnation) {
            return Err(refused());
        }
        if let Some(id) = subject.strip_prefix("key:") {
            let key = image.key(id).ok_or_else(refused)?;
            if &key.tenant != tenant || !key.usable(unix_ms()) {
                return Err(refused());
            }
        }
        Ok(())
    }

    /// Whether API key `id` is still live, in `tenant`, which still exists. One read of the
    /// in-memory state: long-lived streams ask it before each request or read.
    pub fn check_key(&self, id: &str, tenant: &TenantId) -> Result<(), BrokerError> {
        let refused = || BrokerError::Unauthenticated("invalid, expired or revoked API key".into());
        let image = self.image();
        let key = image.key(id).ok_or_else(refused)?;
        if &key.tenant != tenant || !key.usable(unix_ms()) || image.tenant(tenant).is_none() {
            return Err(refused());
        }
        Ok(())
    }

    /// The incarnation of `tenant` (see `check_issued`), if it exists.
    pub fn tenant_incarnation(&self, tenant: &TenantId) -> Option<u64> {
        self.image().tenant(tenant).map(|t| t.incarnation)
    }

    /// The principal an API key stands for. Every failure reads the same to the caller.
    pub fn authenticate_key(&self, key: &str) -> Result<Principal, BrokerError> {
        let refused = || BrokerError::Unauthenticated("invalid, expired or revoked API key".into());
        let id = key_id(key).ok_or_else(refused)?;
        let image = self.image();
        let stored = image.key(id).ok_or_else(refused)?;
        if !keys::same_hash(&stored.hash, &keys::hash(key)) || !stored.usable(unix_ms()) {
            return Err(refused());
        }
        if image.tenant(&stored.tenant).is_none() {
            return Err(refused());
        }
        Ok(Principal {
            subject: format!("key:{}", stored.id),
            tenant: stored.tenant.clone(),
            scopes: stored.scopes.clone(),
            credential: Credential::ApiKey(stored.id.clone()),
        })
    }

    /// Refuses a request when `tenant` is already too deep in debt on `rate`.
    pub fn check_rate(&self, tenant: &TenantId, rate: Rate) -> Result<(), BrokerError> {
        let quotas = self.quotas(tenant);
        let t = self.config.throttling;
        let now = Instant::now();
        self.meter(tenant, |m| m.check(&quotas, rate, t, now))
            .map_err(|r| refused(tenant, r))
    }

    /// Counts `amount` against `rate`; returns how long to hold the response.
    pub fn charge_rate(&self, tenant: &TenantId, rate: Rate, amount: u64) -> Duration {
        let quotas = self.quotas(tenant);
        let t = self.config.throttling;
        let now = Instant::now();
        let delay = self.meter(tenant, |m| m.charge(&quotas, rate, amount, t, now));
        held(tenant, delay)
    }

    /// `check_rate` then `charge_rate` of one, under one lock: the admission of every
    /// authenticated request against `requests_per_sec`. Returns how long to hold it.
    pub fn admit_request(&self, tenant: &TenantId) -> Result<Duration, BrokerError> {
        let quotas = self.quotas(tenant);
        let t = self.config.throttling;
        let now = Instant::now();
        let delay = self
            .meter(tenant, |m| {
                m.check(&quotas, Rate::Requests, t, now)?;
                Ok(m.charge(&quotas, Rate::Requests, 1, t, now))
            })
            .map_err(|r| refused(tenant, r))?;
        Ok(held(tenant, delay))
    }

    fn meter<T>(&self, tenant: &TenantId, f: impl FnOnce(&mut Meter) -> T) -> T {
        let mut meters = self.meters.lock().unwrap_or_else(|p| p.into_inner());
        // Every request passes here: look up before cloning the key for an insert.
        if let Some(meter) = meters.get_mut(tenant) {
            return f(meter);
        }
        f(meters
            .entry(tenant.clone())
            .or_insert_with(|| Meter::new(Instant::now())))
    }

    /// Refuses a write of `incoming` bytes that would take `tenant` past its storage quota.
    pub fn check_storage(&self, tenant: &TenantId, incoming: u64) -> Result<(), BrokerError> {
        let max = self.quotas(tenant).storage_bytes;
        if max == 0 {
            return Ok(());
        }
        let stored = self.storage_bytes(tenant);
        if stored.saturating_add(incoming) > max {
            return Err(BrokerError::StorageQuotaExceeded {
                stored,
                incoming,
                max,
            });
        }
        Ok(())
    }

    /// Bytes stored in `tenant`'s partitions (summed at most every `STORAGE_CACHE`).
    pub fn storage_bytes(&self, tenant: &TenantId) -> u64 {
        let now = Instant::now();
        if let Some((at, bytes)) = self
            .storage_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(tenant)
            && now.saturating_duration_since(*at) < STORAGE_CACHE
        {
            return *bytes;
        }
        let bytes: u64 = self
            .list_topics(tenant)
            .unwrap_or_default()
            .iter()
            .flat_map(|t| t.partitions())
            .map(|p| p.offsets().size_bytes)
            .sum();
        metrics::gauge!("weir_tenant_storage_bytes", "tenant" => tenant.to_string())
            .set(bytes as f64);
        self.storage_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(tenant.clone(), (now, bytes));
        bytes
    }

    /// The most live tails `tenant` may hold open, given the server's per-tenant limit.
    pub fn live_tails_max(&self, tenant: &TenantId, server_max: usize) -> usize {
        narrowed(server_max, self.quotas(tenant).live_tails)
    }

    /// The largest record `tenant` may produce.
    pub fn record_bytes_max(&self, tenant: &TenantId) -> usize {
        narrowed(
            self.config.limits.record_bytes_max,
            self.quotas(tenant).record_bytes_max,
        )
    }

    /// The largest request `tenant` may send, given the transport's own limit.
    pub fn request_bytes_max(&self, tenant: &TenantId, transport_max: usize) -> usize {
        narrowed(transport_max, self.quotas(tenant).request_bytes_max)
    }

    /// The most consumer groups `tenant` may have.
    pub(crate) fn groups_max(&self, tenant: &TenantId) -> usize {
        let q = self.quotas(tenant).groups;
        narrowed(self.groups.limits().groups_max, q)
    }

    /// What `tenant` uses now.
    pub fn usage(&self, tenant: &TenantId) -> Result<Usage, BrokerError> {
        let topics = self.list_topics(tenant)?;
        let partitions = topics.iter().map(|t| u64::from(t.partition_count())).sum();
        let now = Instant::now();
        let (produce, fetch, requests, throttle, refusals) = self.meter(tenant, |m| {
            (
                m.last_second(Rate::Produce, now),
                m.last_second(Rate::Fetch, now),
                m.last_second(Rate::Requests, now),
                m.throttle_ms_total(),
                m.refusals_total(),
            )
        });
        Ok(Usage {
            produce_bytes_per_sec: produce,
            fetch_bytes_per_sec: fetch,
            requests_per_sec: requests,
            storage_bytes: self.storage_bytes(tenant),
            topics: count(topics.len()),
            partitions,
            groups: count(self.group_names(tenant).map_or_else(
                |e| {
                    // A node that coordinates groups did not answer: usage (and the tenant
                    // lists it is part of) still answers, with the groups this node knows.
                    tracing::warn!(%tenant, error = %e, "counting only this node's groups");
                    self.groups.names(tenant).len()
                },
                |names| names.len(),
            )),
            throttle_time_ms_total: throttle,
            throttled_requests_total: refusals,
        })
    }
}

/// A rate refusal, counted in the metrics.
fn refused(tenant: &TenantId, r: Refusal) -> BrokerError {
    metrics::counter!("weir_quota_refusals_total", "tenant" => tenant.to_string(), "quota" => r.rate.name())
        .increment(1);
    BrokerError::Throttled(r)
}

/// A hold, counted in the metrics.
fn held(tenant: &TenantId, delay: Duration) -> Duration {
    if !delay.is_zero() {
        metrics::counter!("weir_tenant_throttle_time_ms_total", "tenant" => tenant.to_string())
            .increment(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
    }
    delay
}

/// Refuses a tenant the image does not hold.
fn known(image: &MetadataImage, tenant: &TenantId) -> Result<(), BrokerError> {
    match image.tenant(tenant) {
        Some(_) => Ok(()),
        None => Err(BrokerError::TenantNotFound(tenant.to_string())),
    }
}

/// `limit` narrowed by a quota (0 = no narrowing).
fn narrowed(limit: usize, quota: u64) -> usize {
    if quota == 0 {
        limit
    } else {
        limit.min(usize::try_from(quota).unwrap_or(usize::MAX))
    }
}

/// A count as the API reports it (`usize` is at most 64 bits on every target Weir builds for).
fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
