//! Slots for live tails (`records:stream`): at most `sse_streams_max` open on the node and at
//! most a tenant's share (`sse_streams_per_tenant_max`, narrowed by its `live_tails` quota),
//! so one tenant cannot take every tail.
//!
//! Owns the counts. A `TailSlot` is held by the response stream itself, so the slot comes back
//! the moment the client's connection drops the response, not when the tail's task next
//! notices. Must not decide the limits (config and quotas do).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use weir_broker::TenantId;
use weir_proto::ErrorCode;

use crate::ApiError;

/// Open live tails per tenant (the node's count is their sum).
#[derive(Debug)]
pub(crate) struct TailSlots {
    node_max: usize,
    open: Mutex<HashMap<TenantId, usize>>,
}

/// One open live tail; gives its slot back when dropped.
#[derive(Debug)]
pub(crate) struct TailSlot {
    slots: Arc<TailSlots>,
    tenant: TenantId,
}

impl TailSlots {
    pub(crate) fn new(node_max: usize) -> TailSlots {
        TailSlots {
            node_max,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// A slot for `tenant`, which may hold `tenant_max`; refused when the tenant holds its
    /// share (COUNT_QUOTA_EXCEEDED) or the node is full (UNAVAILABLE).
    pub(crate) fn take(
        self: &Arc<Self>,
        tenant: &TenantId,
        tenant_max: usize,
    ) -> Result<TailSlot, ApiError> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let held = open.get(tenant).copied().unwrap_or(0);
        if held >= tenant_max {
            return Err(ApiError::new(
                ErrorCode::CountQuotaExceeded,
                format!(
                    "tenant {tenant} holds {held} live tails, the most it may (sse_streams_per_tenant_max or its live_tails quota)"
                ),
            ));
        }
        if open.values().sum::<usize>() >= self.node_max {
            return Err(ApiError::new(
                ErrorCode::Unavailable,
                "too many live tails open (sse_streams_max)",
            ));
        }
        *open.entry(tenant.clone()).or_default() += 1;
        Ok(TailSlot {
            slots: Arc::clone(self),
            tenant: tenant.clone(),
        })
    }
}

impl Drop for TailSlot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(held) = open.get_mut(&self.tenant) {
            *held -= 1;
            if *held == 0 {
                open.remove(&self.tenant);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_gets_its_share_and_slots_come_back_on_drop() {
        let slots = Arc::new(TailSlots::new(3));
        let (a, b) = (TenantId::parse("a").unwrap(), TenantId::parse("b").unwrap());
        let a1 = slots.take(&a, 2).unwrap();
        let _a2 = slots.take(&a, 2).unwrap();
        let refused = slots.take(&a, 2).unwrap_err();
        assert_eq!(refused.code, ErrorCode::CountQuotaExceeded);
        let b1 = slots.take(&b, 2).unwrap();
        assert_eq!(slots.take(&b, 2).unwrap_err().code, ErrorCode::Unavailable);
        drop(a1);
        let _b2 = slots.take(&b, 2).unwrap();
        drop(b1);
        assert_eq!(slots.open.lock().unwrap().get(&b), Some(&1));
    }
}
