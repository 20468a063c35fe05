//! Walking a segment file batch by batch from its start: recovery after an unclean stop and
//! rebuilding indexes. Owns the chunked reader; must not change the file (the caller truncates).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use weir_codec::batch::{BatchHeader, HEADER_LEN, validate};

use super::Indexes;
use crate::config::BATCH_BYTES_MAX_CEILING;
use crate::{LogError, len_u64};

/// Bytes read from the file at a time while scanning.
const SCAN_CHUNK_BYTES: usize = 1 << 20;

/// How much of each batch a scan checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScanMode {
    /// Headers and offsets only: the data is known to be durable and whole.
    HeadersOnly,
    /// Headers, offsets and every batch's CRC-32C: data after the last recovery point.
    ValidateCrc,
}

/// What a scan found: the valid prefix of the file and the indexes for it.
#[derive(Debug)]
pub(crate) struct ScanResult {
    /// Bytes of whole, valid batches from the start of the file.
    pub(crate) end: u64,
    /// Offset after the last valid batch.
    pub(crate) next_offset: i64,
    pub(crate) indexes: Indexes,
    /// Why the scan stopped before the end of the file, if it did.
    pub(crate) stopped: Option<String>,
}

/// Scans `file` (of `size` bytes, first offset `base_offset`) and returns its valid prefix.
pub(crate) fn scan(
    file: &File,
    path: &Path,
    size: u64,
    base_offset: i64,
    index_interval_bytes: u32,
    mode: ScanMode,
) -> Result<ScanResult, LogError> {
    let mut reader = ChunkReader::new(file, size);
    let mut indexes = Indexes::new(index_interval_bytes);
    let mut pos = 0u64;
    let mut next_offset = base_offset;
    let mut stopped = None;
    while pos < size {
        match next_batch(&mut reader, pos, next_offset, base_offset, mode) {
            Ok(Ok(header)) => {
                // `next_batch` cut the scan before either could pass u32::MAX.
                let rel = u32::try_from(header.base_offset - base_offset)
                    .expect("next_batch refuses relative offsets past u32::MAX");
                let position =
                    u32::try_from(pos).expect("next_batch refuses positions past u32::MAX");
                indexes.on_batch(rel, position, header.total_len(), header.max_timestamp);
                pos += len_u64(header.total_len());
                next_offset = header.next_offset();
            }
            Ok(Err(reason)) => {
                stopped = Some(format!("at byte {pos}: {reason}"));
                break;
            }
            Err(e) => return Err(LogError::io("read segment", path)(e)),
        }
    }
    Ok(ScanResult {
        end: pos,
        next_offset,
        indexes,
        stopped,
    })
}

/// Reads and checks the batch at `pos`. The outer error is I/O; the inner one says why the
/// bytes at `pos` are not a valid continuation of the log.
fn next_batch(
    reader: &mut ChunkReader<'_>,
    pos: u64,
    expected_offset: i64,
    base_offset: i64,
    mode: ScanMode,
) -> std::io::Result<Result<BatchHeader, String>> {
    // Index positions are u32; the log rolls long before (segment_bytes is at most 2 GiB).
    if u32::try_from(pos).is_err() {
        return Ok(Err("batch starts past u32::MAX bytes".into()));
    }
    let Some(head) = reader.bytes(pos, HEADER_LEN)? else {
        return Ok(Err("torn batch header".into()));
    };
    let header = match BatchHeader::parse(head) {
        Ok(h) => h,
        Err(e) => return Ok(Err(e.to_string())),
    };
    if header.base_offset != expected_offset {
        return Ok(Err(format!(
            "batch base offset {} where {expected_offset} was expected",
            header.base_offset
        )));
    }
    if len_u64(header.total_len()) > u64::from(BATCH_BYTES_MAX_CEILING) {
        return Ok(Err(format!(
            "batch length {} is implausible",
            header.total_len()
        )));
    }
    if !super::holds(base_offset, header.last_offset()) {
        return Ok(Err("relative offset overflows the segment".into()));
    }
    if mode == ScanMode::ValidateCrc {
        let Some(bytes) = reader.bytes(pos, header.total_len())? else {
            return Ok(Err("torn batch".into()));
        };
        if let Err(e) = validate(bytes) {
            return Ok(Err(e.to_string()));
        }
    } else if pos + len_u64(header.total_len()) > reader.size {
        return Ok(Err("torn batch".into()));
    }
    Ok(Ok(header))
}

/// Serves byte ranges of a file from a buffer refilled in large sequential reads.
struct ChunkReader<'a> {
    file: &'a File,
    size: u64,
    buf: Vec<u8>,
    buf_pos: u64,
}

impl<'a> ChunkReader<'a> {
    fn new(file: &'a File, size: u64) -> Self {
        ChunkReader {
            file,
            size,
            buf: Vec::new(),
            buf_pos: 0,
        }
    }

    /// `len` bytes at `pos`, or `None` if the file ends first.
    fn bytes(&mut self, pos: u64, len: usize) -> std::io::Result<Option<&[u8]>> {
        let end = pos + len_u64(len);
        if end > self.size {
            return Ok(None);
        }
        let buffered_end = self.buf_pos + len_u64(self.buf.len());
        if pos < self.buf_pos || end > buffered_end {
            let chunk = len.max(SCAN_CHUNK_BYTES);
            let want = usize::try_from(self.size - pos).map_or(chunk, |rest| rest.min(chunk));
            self.buf.resize(want, 0);
            self.file.read_exact_at(&mut self.buf, pos)?;
            self.buf_pos = pos;
        }
        // `buf_pos <= pos` and `pos + len <= buf_pos + buf.len()`: inside the buffer.
        let start = usize::try_from(pos - self.buf_pos).expect("pos lies inside the buffer");
        Ok(Some(&self.buf[start..start + len]))
    }
}
