//! The audit log: one JSON line per change to tenants, keys, quotas, topics and groups, saying
//! who (subject and tenant of the principal), what (action and target) and when.
//!
//! Owns `<data-dir>/audit.log`: append-only, each line written whole with one `write` and
//! synced before the change is reported done. Must never contain a secret (key strings and
//! tokens never reach it) and must not decide anything: it records what the broker did.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use serde::Serialize;

use crate::BrokerError;
use crate::metadata::unix_ms;
use crate::tenancy::Principal;

/// The audit log file of a node.
#[derive(Debug)]
pub(crate) struct Audit {
    file: Mutex<File>,
}

#[derive(Serialize)]
struct Line<'a> {
    ts_ms: u64,
    subject: &'a str,
    principal_tenant: &'a str,
    action: &'a str,
    tenant: &'a str,
    target: &'a str,
}

impl Audit {
    pub(crate) fn open(path: &Path) -> Result<Audit, BrokerError> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| {
                BrokerError::StorageUnavailable(format!("open {}: {e}", path.display()))
            })?;
        Ok(Audit {
            file: Mutex::new(file),
        })
    }

    /// Records that `by` did `action` on `target` in `tenant`.
    pub(crate) fn record(&self, by: &Principal, action: &str, tenant: &str, target: &str) {
        let line = Line {
            ts_ms: unix_ms(),
            subject: &by.subject,
            principal_tenant: by.tenant.as_str(),
            action,
            tenant,
            target,
        };
        let mut bytes = serde_json::to_vec(&line).unwrap_or_default();
        bytes.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        // The change itself is already durable; a failed audit write is reported loudly but
        // cannot undo it.
        if let Err(e) = file.write_all(&bytes).and_then(|()| file.sync_data()) {
            tracing::error!(error = %e, action, tenant, target, "audit log write failed");
        }
    }
}
