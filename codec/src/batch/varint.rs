//! Kafka's zigzag varints (32-bit) and varlongs (64-bit), as in the Java client's `ByteUtils`.
//!
//! Owns: encoding, encoded sizes and bounds-checked decoding of both. Must not know what the
//! numbers mean: the record layout lives in `record` (writing) and `decode` (reading).

use super::RecordError;

/// Most bytes a varint may take; Java rejects a sixth continuation byte.
const VARINT_BYTES_MAX: usize = 5;
/// Most bytes a varlong may take; Java rejects an eleventh.
const VARLONG_BYTES_MAX: usize = 10;

/// Appends `value` as a zigzag varint.
pub(crate) fn write_varint(out: &mut Vec<u8>, value: i32) {
    write_unsigned(out, u64::from(zigzag32(value)));
}

/// Appends `value` as a zigzag varlong.
pub(crate) fn write_varlong(out: &mut Vec<u8>, value: i64) {
    write_unsigned(out, zigzag64(value));
}

/// Bytes `write_varint(value)` appends.
pub(crate) fn varint_len(value: i32) -> usize {
    unsigned_len(u64::from(zigzag32(value)))
}

/// Bytes `write_varlong(value)` appends.
pub(crate) fn varlong_len(value: i64) -> usize {
    unsigned_len(zigzag64(value))
}

/// Reads a varint from the front of `bytes`; returns the value and how many bytes it took.
pub(crate) fn read_varint(bytes: &[u8]) -> Result<(i32, usize), RecordError> {
    let (raw, len) = read_unsigned(bytes, VARINT_BYTES_MAX)?;
    // Like Java, a fifth byte's bits above the 32nd are dropped rather than rejected.
    let raw = raw as u32;
    Ok((((raw >> 1) as i32) ^ -((raw & 1) as i32), len))
}

/// Reads a varlong from the front of `bytes`; returns the value and how many bytes it took.
pub(crate) fn read_varlong(bytes: &[u8]) -> Result<(i64, usize), RecordError> {
    let (raw, len) = read_unsigned(bytes, VARLONG_BYTES_MAX)?;
    Ok((((raw >> 1) as i64) ^ -((raw & 1) as i64), len))
}

fn zigzag32(value: i32) -> u32 {
    ((value << 1) ^ (value >> 31)) as u32
}

fn zigzag64(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn write_unsigned(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn unsigned_len(value: u64) -> usize {
    let bits = 64 - (value | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

fn read_unsigned(bytes: &[u8], len_max: usize) -> Result<(u64, usize), RecordError> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().take(len_max).enumerate() {
        // i < 10, so the shift is at most 63; bits shifted past 64 are dropped, as in Java.
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    if bytes.len() < len_max {
        Err(RecordError::Truncated {
            needed: bytes.len() + 1,
            available: bytes.len(),
        })
    } else {
        Err(RecordError::VarintTooLong)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint_bytes(value: i32) -> Vec<u8> {
        let mut out = Vec::new();
        write_varint(&mut out, value);
        out
    }

    #[test]
    fn small_values_match_kafka_zigzag() {
        assert_eq!(varint_bytes(0), [0x00]);
        assert_eq!(varint_bytes(-1), [0x01]);
        assert_eq!(varint_bytes(1), [0x02]);
        assert_eq!(varint_bytes(-64), [0x7f]);
        assert_eq!(varint_bytes(64), [0x80, 0x01]);
        assert_eq!(varint_bytes(i32::MIN), [0xff, 0xff, 0xff, 0xff, 0x0f]);
    }

    #[test]
    fn extremes_round_trip_with_predicted_lengths() {
        for value in [0, 1, -1, 63, -64, 64, i32::MAX, i32::MIN] {
            let bytes = varint_bytes(value);
            assert_eq!(bytes.len(), varint_len(value));
            assert_eq!(read_varint(&bytes), Ok((value, bytes.len())));
        }
        for value in [0, -1, i64::MAX, i64::MIN, 1 << 40] {
            let mut bytes = Vec::new();
            write_varlong(&mut bytes, value);
            assert_eq!(bytes.len(), varlong_len(value));
            assert_eq!(read_varlong(&bytes), Ok((value, bytes.len())));
        }
    }

    #[test]
    fn overlong_and_truncated_varints_are_errors() {
        assert_eq!(read_varint(&[0x80; 6]), Err(RecordError::VarintTooLong));
        assert_eq!(read_varlong(&[0xff; 11]), Err(RecordError::VarintTooLong));
        assert!(matches!(
            read_varint(&[0x80, 0x80]),
            Err(RecordError::Truncated { .. })
        ));
        assert!(matches!(
            read_varint(&[]),
            Err(RecordError::Truncated { .. })
        ));
    }
}
