//! Fuzz target: arbitrary bytes through every reader of weir-proto.
//!
//! Owns: feeding input to `validate`, `decode`, `batches` and each codec's `decompress`, raw
//! and again with lengths and CRC fixed up so the fuzzer gets past the checksum into the record
//! parser and the codecs. Must not assert anything but "no panic, no unbounded allocation".

#![no_main]

use libfuzzer_sys::fuzz_target;
use weir_codec::batch::{self, Compression, DecodeLimits, HEADER_LEN, LOG_OVERHEAD};
use weir_codec::compression;

/// Small enough that a decompression bomb is cheap, large enough for real batches.
const LIMITS: DecodeLimits = DecodeLimits {
    decompressed_bytes_max: 4 << 20,
};

fuzz_target!(|data: &[u8]| {
    read_everything(data);
    if data.len() >= HEADER_LEN {
        let mut fixed = data.to_vec();
        fix_length_and_crc(&mut fixed);
        read_everything(&fixed);
    }
    if let Some((&selector, section)) = data.split_first() {
        let codec = Compression::ALL[usize::from(selector) % Compression::ALL.len()];
        let _ = compression::decompress(codec, section, LIMITS.decompressed_bytes_max);
    }
});

fn read_everything(bytes: &[u8]) {
    let _ = batch::validate(bytes);
    let _ = batch::decode(bytes, &LIMITS);
    for (_, one) in batch::batches(bytes).flatten() {
        let _ = batch::decode(one, &LIMITS);
    }
}

/// Makes `batchLength` cover the input and the CRC-32C match, as a valid producer would.
fn fix_length_and_crc(batch: &mut [u8]) {
    let Ok(batch_length) = i32::try_from(batch.len() - LOG_OVERHEAD) else {
        return;
    };
    batch[8..12].copy_from_slice(&batch_length.to_be_bytes());
    let crc = crc32c::crc32c(&batch[21..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
}
