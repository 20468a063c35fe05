//! The data directory itself: created private (0700), warned about when another user can read
//! it, and locked so two processes never open it at once (a second `weir serve`, or
//! `weir admin recover` beside a running node).
//!
//! Owns `<data-dir>/lock` (an advisory exclusive lock, released when the process exits, even
//! by kill -9). Must not change the mode of a directory that already exists: that is the
//! operator's call, so it only warns.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::BrokerError;

/// Creates (0700) or checks the data directory and its `topics/`, and takes its lock.
pub(crate) fn open(data: &Path) -> Result<std::fs::File, BrokerError> {
    let unavailable = |what: &str, e: std::io::Error| {
        BrokerError::StorageUnavailable(format!("{what} {}: {e}", data.display()))
    };
    match std::fs::metadata(data) {
        Ok(meta) if meta.permissions().mode() & 0o077 != 0 => tracing::warn!(
            dir = %data.display(),
            mode = format!("{:o}", meta.permissions().mode() & 0o777),
            "the data directory is open to other users; `chmod 700` it so they cannot read records"
        ),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {} // created below, 0700
        Err(e) => return Err(unavailable("read", e)),
    }
    weir_log::private::create_dir_all(&data.join("topics"))
        .map_err(|e| unavailable("create", e))?;
    let path = data.join("lock");
    let file = weir_log::private::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| unavailable("open the lock of", e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(BrokerError::StorageUnavailable(format!(
            "{} is in use by another weir process (stop it first)",
            data.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(unavailable("lock", e)),
    }
}
