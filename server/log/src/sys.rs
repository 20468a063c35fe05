//! The one system call the standard library lacks: starting write-back of a file range.
//!
//! Owns the only `unsafe` in the log. Must stay a thin, documented wrapper; anything that
//! touches memory through a pointer does not belong here.

use std::fs::File;

/// Asks the kernel to start writing the dirty pages of `file` in `[offset, offset + len)` to
/// disk, and returns without waiting for them (`sync_file_range` with
/// `SYNC_FILE_RANGE_WRITE`). Says nothing about durability.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub(crate) fn start_writeback(file: &File, offset: u64, len: u64) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return Ok(());
    };
    // SAFETY: sync_file_range reads no memory of ours: it takes a descriptor and three
    // integers. The descriptor stays open for the call because `file` is borrowed.
    let rc = unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE)
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Elsewhere the kernel's own write-back is all there is.
#[cfg(not(target_os = "linux"))]
pub(crate) fn start_writeback(_file: &File, _offset: u64, _len: u64) -> std::io::Result<()> {
    Ok(())
}
