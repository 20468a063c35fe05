//! The codecs of a records section: none, gzip, snappy (xerial framing), lz4 (frame), zstd.
//!
//! Owns: compressing a section as Kafka's Java producer would, and decompressing whatever Kafka
//! clients write, never producing more than the caller's bound. Must not know the batch layout:
//! it sees the records section as opaque bytes.

mod snappy;

use std::io::{Read, Write};

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use lz4_flex::frame::{BlockMode, BlockSize, FrameDecoder, FrameEncoder, FrameInfo};

use crate::batch::Compression;

/// zstd level Kafka's producer uses by default (`compression.zstd.level`).
const ZSTD_LEVEL: i32 = 3;

/// Why a records section could not be compressed or decompressed.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum CodecError {
    /// Decompressing would produce more than the caller allows.
    #[error("{} data decompresses to more than {limit} bytes", .compression.name())]
    TooLarge {
        /// Codec of the section.
        compression: Compression,
        /// The caller's bound, in bytes.
        limit: usize,
    },
    /// The compressed bytes are not valid for their codec.
    #[error("corrupt {} data: {reason}", .compression.name())]
    Corrupt {
        /// Codec of the section.
        compression: Compression,
        /// What the codec reported.
        reason: String,
    },
    /// The codec failed while compressing.
    #[error("{} compression failed: {reason}", .compression.name())]
    Compress {
        /// Codec of the section.
        compression: Compression,
        /// What the codec reported.
        reason: String,
    },
}

/// Appends `input` compressed with `compression` to `out`.
///
/// gzip uses the default level (6) and zstd level 3, like Kafka's producer defaults; lz4 writes
/// 64 KiB independent blocks, the only kind Kafka's Java reader handles; snappy uses xerial
/// framing with 32 KiB blocks, as Kafka's `SnappyOutputStream` does.
pub fn compress(
    compression: Compression,
    input: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    let failed = |error: &dyn std::fmt::Display| CodecError::Compress {
        compression,
        reason: error.to_string(),
    };
    match compression {
        Compression::None => out.extend_from_slice(input),
        Compression::Gzip => {
            let mut encoder = GzEncoder::new(out, flate2::Compression::default());
            encoder.write_all(input).map_err(|e| failed(&e))?;
            encoder.finish().map_err(|e| failed(&e))?;
        }
        Compression::Snappy => snappy::compress(input, out).map_err(|e| failed(&e))?,
        Compression::Lz4 => {
            let info = FrameInfo::new()
                .block_size(BlockSize::Max64KB)
                .block_mode(BlockMode::Independent);
            let mut encoder = FrameEncoder::with_frame_info(info, out);
            encoder.write_all(input).map_err(|e| failed(&e))?;
            encoder.finish().map_err(|e| failed(&e))?;
        }
        Compression::Zstd => {
            zstd::stream::copy_encode(input, out, ZSTD_LEVEL).map_err(|e| failed(&e))?
        }
    }
    Ok(())
}

/// Decompresses `input`, failing rather than producing more than `decompressed_bytes_max`
/// bytes. Snappy accepts both xerial framing and a plain raw block, as Kafka's reader does;
/// gzip accepts concatenated members and lz4 concatenated frames.
pub fn decompress(
    compression: Compression,
    input: &[u8],
    decompressed_bytes_max: usize,
) -> Result<Vec<u8>, CodecError> {
    let limit = decompressed_bytes_max;
    match compression {
        Compression::None => read_bounded(compression, input, limit),
        Compression::Gzip => read_bounded(compression, MultiGzDecoder::new(input), limit),
        Compression::Snappy => snappy::decompress(input, limit),
        Compression::Lz4 => read_bounded(compression, FrameDecoder::new(input), limit),
        Compression::Zstd => {
            let decoder = zstd::stream::read::Decoder::with_buffer(input)
                .map_err(|e| corrupt(compression, &e))?;
            read_bounded(compression, decoder, limit)
        }
    }
}

/// Reads `reader` to its end, but never more than `limit + 1` bytes: one past the bound tells
/// "too large" apart from "exactly the bound".
fn read_bounded(
    compression: Compression,
    reader: impl Read,
    limit: usize,
) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| corrupt(compression, &e))?;
    if out.len() > limit {
        return Err(CodecError::TooLarge { compression, limit });
    }
    Ok(out)
}

fn corrupt(compression: Compression, error: &dyn std::fmt::Display) -> CodecError {
    CodecError::Corrupt {
        compression,
        reason: error.to_string(),
    }
}
