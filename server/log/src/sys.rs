//! The two system calls the standard library lacks: positioned reads into memory not yet
//! initialised, and write-back hints to the kernel (with the thread that makes it so appends
//! never wait for them).
//!
//! Owns the only `unsafe` in the log. Must stay thin, documented wrappers.

use std::fs::File;
use std::io;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, OnceLock};

use bytes::BufMut;

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

/// Reads `len` bytes of `file` at `offset` into `dst`'s spare capacity, without zero-filling
/// it first; `dst` grows as it needs to (reserve up front to grow it once).
pub(crate) fn read_at_into(
    file: &File,
    mut offset: u64,
    mut len: usize,
    dst: &mut impl BufMut,
) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    while len > 0 {
        let chunk = dst.chunk_mut();
        let want = chunk.len().min(len);
        if want == 0 {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "read buffer is full",
            ));
        }
        let at = libc::off_t::try_from(offset)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "offset out of range"))?;
        #[allow(unsafe_code)]
        // SAFETY: pread writes at most `want` bytes through the pointer, and `chunk` is valid
        // for writes of `chunk.len() >= want` bytes (UninitSlice's contract). No reference to
        // the uninitialised bytes is made; the descriptor is open while `file` is borrowed.
        let read = unsafe { libc::pread(file.as_raw_fd(), chunk.as_mut_ptr().cast(), want, at) };
        let read = match usize::try_from(read) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => n,
            Err(_) => {
                let error = io::Error::last_os_error();
                if error.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(error);
            }
        };
        #[allow(unsafe_code)]
        // SAFETY: pread initialised the first `read` bytes of the chunk.
        unsafe {
            dst.advance_mut(read)
        };
        offset += crate::len_u64(read);
        len -= read;
    }
    Ok(())
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
