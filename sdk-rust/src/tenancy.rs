//! Tenancy administration on `Admin`: tenants, API keys, quotas and usage, as far as the
//! credential allows (tenants and quota changes need `admin`; keys need `keys:admin` in the
//! tenant, and a key never gets more than its creator holds; quotas and usage are readable by
//! any principal of the tenant).
//!
//! Owns the conversion between the SDK's arguments and `weir.v1` Admin tenancy messages.

use weir_proto::v1::{CreateKeyRequest, KeyRef, ListTenantsRequest, SetQuotasRequest, TenantRef};

pub use weir_proto::v1::{CreatedKey, KeyInfo, Quotas, TenantInfo, Usage};

use crate::{Admin, Error};

/// Quotas to change; `None` keeps the current value, `Some(0)` means unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuotaChange {
    /// Produced bytes per second.
    pub produce_bytes_per_sec: Option<u64>,
    /// Fetched bytes per second.
    pub fetch_bytes_per_sec: Option<u64>,
    /// Requests per second.
    pub requests_per_sec: Option<u64>,
    /// Bytes stored over all partitions.
    pub storage_bytes: Option<u64>,
    /// Topics.
    pub topics: Option<u64>,
    /// Partitions over all topics.
    pub partitions: Option<u64>,
    /// Consumer groups.
    pub groups: Option<u64>,
    /// Largest record, bytes.
    pub record_bytes_max: Option<u64>,
    /// Largest request, bytes.
    pub request_bytes_max: Option<u64>,
    /// Live tails (REST Server-Sent Events streams) open at once.
    pub live_tails: Option<u64>,
}

impl Admin {
    /// Creates a tenant (needs `admin`).
    pub async fn create_tenant(&self, name: &str) -> Result<TenantInfo, Error> {
        let request = tenant_ref(name);
        let mut admin = self.conn.admin();
        self.conn
            .call("create tenant", admin.create_tenant(request))
            .await
    }

    /// Tenants the credential can see: all for `admin`, else its own.
    pub async fn list_tenants(&self) -> Result<Vec<TenantInfo>, Error> {
        let mut admin = self.conn.admin();
        let list = self
            .conn
            .call("list tenants", admin.list_tenants(ListTenantsRequest {}))
            .await?;
        Ok(list.tenants)
    }

    /// Deletes a tenant without topics or groups (needs `admin`); its keys stop working.
    pub async fn delete_tenant(&self, name: &str) -> Result<(), Error> {
        let mut admin = self.conn.admin();
        self.conn
            .call("delete tenant", admin.delete_tenant(tenant_ref(name)))
            .await?;
        Ok(())
    }

    /// Creates an API key in this client's tenant. The secret is in `CreatedKey::key`, in
    /// this answer only. `expires_at_ms`: milliseconds since the epoch.
    pub async fn create_key(
        &self,
        name: &str,
        scopes: &[&str],
        expires_at_ms: Option<u64>,
    ) -> Result<CreatedKey, Error> {
        let request = CreateKeyRequest {
            tenant: self.tenant(),
            name: name.to_owned(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            expires_at_ms,
        };
        let mut admin = self.conn.admin();
        self.conn
            .call("create key", admin.create_key(request))
            .await
    }

    /// This tenant's keys, revoked ones included (never their secrets).
    pub async fn list_keys(&self) -> Result<Vec<KeyInfo>, Error> {
        let mut admin = self.conn.admin();
        let list = self
            .conn
            .call("list keys", admin.list_keys(tenant_ref(&self.tenant())))
            .await?;
        Ok(list.keys)
    }

    /// Revokes one of this tenant's keys; it stops working at once.
    pub async fn revoke_key(&self, id: &str) -> Result<(), Error> {
        let request = KeyRef {
            tenant: self.tenant(),
            id: id.to_owned(),
        };
        let mut admin = self.conn.admin();
        self.conn
            .call("revoke key", admin.revoke_key(request))
            .await?;
        Ok(())
    }

    /// The quotas in force for `tenant` (0 = unlimited).
    pub async fn quotas(&self, tenant: &str) -> Result<Quotas, Error> {
        let mut admin = self.conn.admin();
        self.conn
            .call("get quotas", admin.get_quotas(tenant_ref(tenant)))
            .await
    }

    /// Changes `tenant`'s quotas (needs `admin`); returns the quotas now in force.
    pub async fn set_quotas(&self, tenant: &str, change: QuotaChange) -> Result<Quotas, Error> {
        let request = SetQuotasRequest {
            tenant: tenant.to_owned(),
            produce_bytes_per_sec: change.produce_bytes_per_sec,
            fetch_bytes_per_sec: change.fetch_bytes_per_sec,
            requests_per_sec: change.requests_per_sec,
            storage_bytes: change.storage_bytes,
            topics: change.topics,
            partitions: change.partitions,
            groups: change.groups,
            record_bytes_max: change.record_bytes_max,
            request_bytes_max: change.request_bytes_max,
            live_tails: change.live_tails,
        };
        let mut admin = self.conn.admin();
        self.conn
            .call("set quotas", admin.set_quotas(request))
            .await
    }

    /// What `tenant` uses now: rates of the last second, storage, counts, throttle time.
    pub async fn usage(&self, tenant: &str) -> Result<Usage, Error> {
        let mut admin = self.conn.admin();
        self.conn
            .call("get usage", admin.get_usage(tenant_ref(tenant)))
            .await
    }
}

fn tenant_ref(tenant: &str) -> TenantRef {
    TenantRef {
        tenant: tenant.to_owned(),
    }
}
