//! gRPC Admin tenancy methods: tenants, API keys, quotas and usage, over the same broker
//! operations and checks as REST (`rest/tenants.rs`).
//!
//! Owns the conversion between `weir.v1` tenancy messages and broker types only.

use weir_broker::tenancy::{
    ApiKey, TenantInfo as BrokerTenant, Usage as BrokerUsage, parse_scopes,
};
use weir_broker::{Action, Principal, Quotas as BrokerQuotas, TenantId};
use weir_proto::v1::{
    CreateKeyRequest, CreatedKey, DeleteTenantResponse, KeyInfo, KeyRef, ListKeysResponse,
    ListTenantsResponse, Quotas, RevokeKeyResponse, SetQuotasRequest, TenantInfo, TenantRef, Usage,
};

use crate::access::authorize;
use crate::dto::tenants::QuotasChange;
use crate::{ApiError, ApiState};

fn quotas(q: BrokerQuotas) -> Quotas {
    Quotas {
        produce_bytes_per_sec: q.produce_bytes_per_sec,
        fetch_bytes_per_sec: q.fetch_bytes_per_sec,
        requests_per_sec: q.requests_per_sec,
        storage_bytes: q.storage_bytes,
        topics: q.topics,
        partitions: q.partitions,
        groups: q.groups,
        record_bytes_max: q.record_bytes_max,
        request_bytes_max: q.request_bytes_max,
        live_tails: q.live_tails,
    }
}

fn usage(u: BrokerUsage) -> Usage {
    Usage {
        produce_bytes_per_sec: u.produce_bytes_per_sec,
        fetch_bytes_per_sec: u.fetch_bytes_per_sec,
        requests_per_sec: u.requests_per_sec,
        storage_bytes: u.storage_bytes,
        topics: u.topics,
        partitions: u.partitions,
        groups: u.groups,
        throttle_time_ms_total: u.throttle_time_ms_total,
        throttled_requests_total: u.throttled_requests_total,
    }
}

fn tenant_info(t: BrokerTenant) -> TenantInfo {
    TenantInfo {
        name: t.name.to_string(),
        quotas: Some(quotas(t.quotas)),
        keys: t.keys,
        usage: Some(usage(t.usage)),
    }
}

fn key_info(k: &ApiKey) -> KeyInfo {
    KeyInfo {
        id: k.id.clone(),
        name: k.name.clone(),
        scopes: k.scopes.iter().map(ToString::to_string).collect(),
        created_at_ms: k.created_ms,
        expires_at_ms: k.expires_ms,
        revoked_at_ms: k.revoked_ms,
        created_by: k.created_by.clone(),
    }
}

pub(super) fn create_tenant(
    state: &ApiState,
    caller: &Principal,
    r: TenantRef,
) -> Result<TenantInfo, ApiError> {
    let tenant = TenantId::parse(&r.tenant)?;
    state.broker.create_tenant(caller, &tenant)?;
    Ok(tenant_info(state.broker.tenant_info(&tenant)?))
}

pub(super) fn list_tenants(state: &ApiState, caller: &Principal) -> ListTenantsResponse {
    ListTenantsResponse {
        tenants: state
            .broker
            .list_tenants(caller)
            .into_iter()
            .map(tenant_info)
            .collect(),
    }
}

pub(super) fn describe_tenant(
    state: &ApiState,
    caller: &Principal,
    r: TenantRef,
) -> Result<TenantInfo, ApiError> {
    let tenant = authorize(state, caller, &r.tenant, Action::ReadTenant)?;
    Ok(tenant_info(state.broker.tenant_info(&tenant)?))
}

pub(super) fn delete_tenant(
    state: &ApiState,
    caller: &Principal,
    r: TenantRef,
) -> Result<DeleteTenantResponse, ApiError> {
    let tenant = authorize(state, caller, &r.tenant, Action::Administer)?;
    state.broker.delete_tenant(caller, &tenant)?;
    Ok(DeleteTenantResponse {})
}

pub(super) fn create_key(
    state: &ApiState,
    caller: &Principal,
    r: CreateKeyRequest,
) -> Result<CreatedKey, ApiError> {
    let tenant = authorize(state, caller, &r.tenant, Action::ManageKeys)?;
    let scopes = parse_scopes(r.scopes.iter().map(String::as_str))?;
    let new = state
        .broker
        .create_key(caller, &tenant, &r.name, scopes, r.expires_at_ms)?;
    Ok(CreatedKey {
        info: Some(key_info(&new.key)),
        key: new.secret,
    })
}

pub(super) fn list_keys(
    state: &ApiState,
    caller: &Principal,
    r: TenantRef,
) -> Result<ListKeysResponse, ApiError> {
    let tenant = authorize(state, caller, &r.tenant, Action::ManageKeys)?;
    let keys = state.broker.list_keys(caller, &tenant)?;
    Ok(ListKeysResponse {
        keys: keys.iter().map(key_info).collect(),
    })
}

pub(super) fn revoke_key(
    state: &ApiState,
    caller: &Principal,
    r: KeyRef,
) -> Result<RevokeKeyResponse, ApiError> {
    let tenant = authorize(state, caller, &r.tenant, Action::ManageKeys)?;
    state.broker.revoke_key(caller, &tenant, &r.id)?;
    Ok(RevokeKeyResponse {})
}

pub(super) fn get_quotas(
    state: &ApiState,
    caller: &Principal,
    r: TenantRef,
) -> Result<Quotas, ApiError> {
    let tenant = authorize(state, caller, &r.tenant, Action::ReadTenant)?;
    Ok(quotas(state.broker.quotas(&tenant)))
}

pub(super) fn set_quotas(
    state: &ApiState,
    caller: &Principal,
    r: SetQuotasRequest,
) -> Result<Quotas, ApiError> {
    let tenant = authorize(state, caller, &r.tenant, Action::Administer)?;
    let change = QuotasChange {
        produce_bytes_per_sec: r.produce_bytes_per_sec,
        fetch_bytes_per_sec: r.fetch_bytes_per_sec,
        requests_per_sec: r.requests_per_sec,
        storage_bytes: r.storage_bytes,
        topics: r.topics,
        partitions: r.partitions,
        groups: r.groups,
        record_bytes_max: r.record_bytes_max,
        request_bytes_max: r.request_bytes_max,
        live_tails: r.live_tails,
    };
    let new = change.apply_to(state.broker.quotas(&tenant));
    state.broker.set_quotas(caller, &tenant, new)?;
    Ok(quotas(new))
}

pub(super) fn get_usage(
    state: &ApiState,
    caller: &Principal,
    r: TenantRef,
) -> Result<Usage, ApiError> {
    let tenant = authorize(state, caller, &r.tenant, Action::ReadTenant)?;
    Ok(usage(state.broker.usage(&tenant)?))
}
