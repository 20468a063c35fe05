//! Walking a segment file batch by batch from its start: recovery after an unclean stop and
//! rebuilding indexes. Owns the chunked reader; must not change the file (the caller truncates).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use weir_codec::batch::{BatchHeader, HEADER_LEN, validate};

use super::Indexes;
use crate::LogError;
use crate::config::BATCH_BYTES_MAX_CEILING;

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
                let rel = (header.base_offset - base_offset) as u32;
                indexes.on_batch(rel, pos as u32, header.total_len(), header.max_timestamp);
                pos += header.total_len() as u64;
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
    if header.total_len() > BATCH_BYTES_MAX_CEILING as usize {
        return Ok(Err(format!(
            "batch length {} is implausible",
            header.total_len()
        )));
    }
    if header.next_offset() - base_offset > i64::from(u32::MAX) {
        return Ok(Err("relative offset overflows the segment".into()));
    }
    if mode == ScanMode::ValidateCrc {
        let Some(bytes) = reader.bytes(pos, header.total_len())? else {
            return Ok(Err("torn batch".into()));
        };
        if let Err(e) = validate(bytes) {
            return Ok(Err(e.to_string()));
        }
    } else if pos + header.total_len() as u64 > reader.size {
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
        let end = pos + len as u64;
        if end > self.size {
            return Ok(None);
        }
        let buffered_end = self.buf_pos + self.buf.len() as u64;
        if pos < self.buf_pos || end > buffered_end {
            let want = (self.size - pos).min(len.max(SCAN_CHUNK_BYTES) as u64) as usize;
            self.buf.resize(want, 0);
            self.file.read_exact_at(&mut self.buf, pos)?;
            self.buf_pos = pos;
        }
        let start = (pos - self.buf_pos) as usize;
        Ok(Some(&self.buf[start..start + len]))
    }
}
