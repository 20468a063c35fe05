//! Write-back hints to the kernel: the one system call the standard library lacks, and the
//! thread that makes it so appends never wait for it.
//!
//! Owns the only `unsafe` in the log. Must stay a thin, documented wrapper; anything that
//! touches memory through a pointer does not belong here.

use std::fs::File;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, OnceLock};

/// Write-back starts queued for the background thread. When the disk is slower than the
/// appends, starting write-back blocks in the kernel; the queue fills and further hints are
/// dropped (the kernel's own flusher still writes everything), so appends never wait for it.
pub const WRITEBACK_QUEUE_MAX: usize = 64;

/// A range of one file whose write-back should start.
type Hint = (Arc<File>, u64, u64);

/// Queues a write-back start of `file`'s `[offset, offset + len)` for the process's one
/// write-back thread, started on first use. Returns whether the hint was queued.
pub(crate) fn start_writeback_later(file: &Arc<File>, offset: u64, len: u64) -> bool {
    static QUEUE: OnceLock<Option<SyncSender<Hint>>> = OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (tx, rx) = sync_channel::<Hint>(WRITEBACK_QUEUE_MAX);
        let thread = std::thread::Builder::new()
            .name("weir-writeback".into())
            .spawn(move || {
                for (file, offset, len) in rx {
                    // A failed hint changes nothing: fsync reports real write errors.
                    let _ = start_writeback(&file, offset, len);
                }
            });
        thread.ok().map(|_| tx)
    });
    queue
        .as_ref()
        .is_some_and(|tx| tx.try_send((Arc::clone(file), offset, len)).is_ok())
}

/// Asks the kernel to start writing the dirty pages of `file` in `[offset, offset + len)` to
/// disk, and returns once the writes are submitted, without waiting for them
/// (`sync_file_range` with `SYNC_FILE_RANGE_WRITE`). Says nothing about durability.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn start_writeback(file: &File, offset: u64, len: u64) -> std::io::Result<()> {
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
fn start_writeback(_file: &File, _offset: u64, _len: u64) -> std::io::Result<()> {
    Ok(())
}
