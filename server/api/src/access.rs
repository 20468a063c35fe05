//! The front door both transports share, with no axum or tonic in it: who is calling
//! (`enter`: authenticate, mark the connection, admit), the tenant check in front of every
//! handler (`authorize`), holding responses for rate quotas (`hold`) and refusing a produce
//! before anything is written (`admit_produce`). The REST extractor (`rest::extract::Caller`)
//! and the gRPC one (`grpc::grpc_caller`) only take the credential out of their request and
//! call `enter`; a Kafka listener will do the same.
//!
//! Must not decide policy: credentials are verified by `auth`, permissions by
//! `Principal::authorize`, quotas by the broker. This file only puts them in the same order on
//! every route.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use weir_broker::{Action, Principal, Rate, TenantId};
use weir_proto::ErrorCode;

use crate::{ApiError, ApiState};

/// Whether a connection has carried an authenticated request. The listener puts one in every
/// request's extensions (REST) or connect info (gRPC); authentication sets it, and the
/// listener keeps connections that never authenticated on a smaller budget.
#[derive(Debug, Clone, Default)]
pub struct ConnectionAuth(Arc<AtomicBool>);

impl ConnectionAuth {
    /// Whether a request on the connection authenticated.
    pub fn is_authenticated(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn set(connection: Option<&ConnectionAuth>) {
        if let Some(c) = connection {
            c.0.store(true, Ordering::Relaxed);
        }
    }
}

/// The verified, admitted caller of a request that carried `authorization` (the raw
/// `Authorization` value) on `connection`.
pub(crate) async fn enter(
    state: &ApiState,
    authorization: Option<&[u8]>,
    connection: Option<&ConnectionAuth>,
) -> Result<Principal, ApiError> {
    let principal = state
        .auth
        .authenticate(&state.broker, authorization)
        .await?;
    ConnectionAuth::set(connection);
    admit(state, &principal).await?;
    Ok(principal)
}

/// Counts one request against the caller's tenant: refused when the tenant is deep in debt,
/// held briefly when a little over. An administrator acts across tenants: its requests are
/// counted against the tenant each one acts on, in `authorize`, never against its own.
pub(crate) async fn admit(state: &ApiState, principal: &Principal) -> Result<(), ApiError> {
    if principal.is_admin() {
        return Ok(());
    }
    let delay = state.broker.admit_request(&principal.tenant)?;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    Ok(())
}

/// The tenant named in a request, once the caller may act in it and it exists. A tenant the
/// caller may not see reads exactly like a missing one.
pub(crate) fn authorize(
    state: &ApiState,
    caller: &Principal,
    name: &str,
    action: Action<'_>,
) -> Result<TenantId, ApiError> {
    let tenant = TenantId::parse(name)?;
    caller.authorize(&tenant, action)?;
    if !state.broker.tenant_exists(&tenant) {
        return Err(ApiError::new(
            ErrorCode::TenantNotFound,
            format!("tenant {name:?} not found"),
        ));
    }
    if caller.is_admin() {
        // Counted against the tenant acted on (see `admit`); refused when it is deep in debt,
        // never held, so an administrator's calls do not wait behind a tenant's clients.
        state.broker.admit_request(&tenant)?;
    }
    Ok(tenant)
}

/// Counts `amount` against `rate` and waits as long as the quota says; returns the wait in
/// milliseconds (reported to callers as `throttle_time_ms`).
pub(crate) async fn hold(state: &ApiState, tenant: &TenantId, rate: Rate, amount: u64) -> u64 {
    let delay = state.broker.charge_rate(tenant, rate, amount);
    if delay > Duration::ZERO {
        tokio::time::sleep(delay).await;
    }
    u64::try_from(delay.as_millis()).unwrap_or(u64::MAX)
}

/// A byte count as quotas take it. Saturates, though it never has to: `usize` is at most 64
/// bits on every target Weir builds for, and a charge that large would be refused anyway.
pub(crate) fn amount(bytes: usize) -> u64 {
    u64::try_from(bytes).unwrap_or(u64::MAX)
}

/// Refuses a produce of `bytes` before anything is written: rate debt, storage quota and the
/// tenant's request size.
pub(crate) fn admit_produce(
    state: &ApiState,
    tenant: &TenantId,
    bytes: usize,
    transport_max: usize,
) -> Result<(), ApiError> {
    let max = state.broker.request_bytes_max(tenant, transport_max);
    if bytes > max {
        return Err(ApiError::new(
            ErrorCode::RequestTooLarge,
            format!("request of {bytes} bytes exceeds request_bytes_max {max}"),
        ));
    }
    state.broker.check_rate(tenant, Rate::Produce)?;
    state.broker.check_storage(tenant, amount(bytes))?;
    Ok(())
}
