//! Snappy as Kafka stores it: xerial's `SnappyOutputStream` framing around raw snappy blocks.
//!
//! Owns: the xerial stream header, 32 KiB block chunking and the raw-snappy fallback that
//! Kafka's reader (xerial's `SnappyInputStream`) also accepts. Must not grow its output past
//! the caller's bound: each block's declared length is checked before any allocation.

use snap::raw::{Decoder, Encoder, decompress_len, max_compress_len};

use super::{CodecError, corrupt};
use crate::batch::Compression;

/// xerial's stream magic: 0x82 "SNAPPY" 0.
const MAGIC: [u8; 8] = *b"\x82SNAPPY\x00";
/// Format version and minimum compatible version that follow the magic (both 1, big endian).
const VERSIONS: [u8; 8] = [0, 0, 0, 1, 0, 0, 0, 1];
/// Uncompressed bytes per chunk, xerial's default block size.
const BLOCK_BYTES: usize = 32 * 1024;
/// Each chunk is `[u32 BE compressed length][raw snappy block]`.
const CHUNK_LEN_BYTES: usize = 4;

/// Appends `input` in xerial framing.
pub(super) fn compress(input: &[u8], out: &mut Vec<u8>) -> Result<(), snap::Error> {
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSIONS);
    let mut encoder = Encoder::new();
    for block in input.chunks(BLOCK_BYTES) {
        let len_at = out.len();
        let data_at = len_at + CHUNK_LEN_BYTES;
        out.resize(data_at + max_compress_len(block.len()), 0);
        let written = encoder.compress(block, &mut out[data_at..])?;
        out.truncate(data_at + written);
        // A 32 KiB block never compresses to more than ~38 KiB, so the length fits a u32.
        out[len_at..data_at].copy_from_slice(&(written as u32).to_be_bytes());
    }
    Ok(())
}

/// Decompresses xerial-framed or plain raw snappy into at most `limit` bytes.
pub(super) fn decompress(input: &[u8], limit: usize) -> Result<Vec<u8>, CodecError> {
    let mut decoder = Decoder::new();
    let mut out = Vec::new();
    match input.strip_prefix(&MAGIC) {
        Some(stream) => decompress_xerial(&mut decoder, stream, limit, &mut out)?,
        None => append_block(&mut decoder, input, limit, &mut out)?,
    }
    Ok(out)
}

/// `stream` starts after a magic: versions, then chunks. xerial also allows a new header
/// between chunks (concatenated streams); a chunk length cannot start with 0x82 in practice.
fn decompress_xerial(
    decoder: &mut Decoder,
    stream: &[u8],
    limit: usize,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    let mut rest = skip_versions(stream)?;
    while !rest.is_empty() {
        if let Some(stream) = rest.strip_prefix(&MAGIC) {
            rest = skip_versions(stream)?;
            continue;
        }
        let (len, after) = rest
            .split_first_chunk::<CHUNK_LEN_BYTES>()
            .ok_or_else(|| snappy_corrupt(&"truncated chunk length"))?;
        let len = u32::from_be_bytes(*len) as usize;
        let (block, after) = after
            .split_at_checked(len)
            .ok_or_else(|| snappy_corrupt(&"truncated chunk"))?;
        append_block(decoder, block, limit, out)?;
        rest = after;
    }
    Ok(())
}

fn skip_versions(stream: &[u8]) -> Result<&[u8], CodecError> {
    stream
        .get(VERSIONS.len()..)
        .ok_or_else(|| snappy_corrupt(&"truncated xerial header"))
}

/// Decompresses one raw snappy block onto the end of `out`.
fn append_block(
    decoder: &mut Decoder,
    block: &[u8],
    limit: usize,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    let len = decompress_len(block).map_err(|e| snappy_corrupt(&e))?;
    let start = out.len();
    let end = start
        .checked_add(len)
        .filter(|end| *end <= limit)
        .ok_or(CodecError::TooLarge {
            compression: Compression::Snappy,
            limit,
        })?;
    out.resize(end, 0);
    let written = decoder
        .decompress(block, &mut out[start..])
        .map_err(|e| snappy_corrupt(&e))?;
    out.truncate(start + written);
    Ok(())
}

fn snappy_corrupt(error: &dyn std::fmt::Display) -> CodecError {
    corrupt(Compression::Snappy, error)
}
