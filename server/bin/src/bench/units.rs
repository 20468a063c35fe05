//! Sizes and durations on the `weir bench` command line: `5000000`, `500MB`, `2GB`, `1GiB`,
//! `10s`, `500ms`, `2m`.
//!
//! Owns the unit rules (decimal MB = 1,000,000 bytes, as throughput figures are reported;
//! binary KiB/MiB/GiB when asked for). Must not accept zero or negative quantities: a bench
//! of nothing is a mistake.

use std::time::Duration;

/// One megabyte as bench figures count it: 1,000,000 bytes.
pub const MB: u64 = 1_000_000;

/// Parses a byte count such as `5000000`, `500MB`, `2GB` or `1GiB`.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let (number, unit) = split_unit(text);
    let scale: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" | "k" => 1_000,
        "mb" | "m" => MB,
        "gb" | "g" => 1_000 * MB,
        "tb" | "t" => 1_000_000 * MB,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => {
            return Err(format!(
                "unknown size unit {unit:?}, expected B, KB, MB, GB, KiB, MiB or GiB"
            ));
        }
    };
    let value = positive(number, text)? * scale as f64;
    if value >= u64::MAX as f64 {
        return Err(format!("size {text:?} is too large"));
    }
    Ok(value.round() as u64)
}

/// Parses a duration such as `10s`, `500ms`, `2m` or `1h`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = split_unit(text);
    let seconds: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        "h" => 3_600.0,
        _ => {
            return Err(format!(
                "unknown duration unit {unit:?}, expected ms, s, m or h"
            ));
        }
    };
    Duration::try_from_secs_f64(positive(number, text)? * seconds)
        .map_err(|e| format!("duration {text:?} is out of range: {e}"))
}

fn split_unit(text: &str) -> (&str, &str) {
    let text = text.trim();
    let at = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(text.len());
    (&text[..at], text[at..].trim())
}

fn positive(number: &str, text: &str) -> Result<f64, String> {
    let value: f64 = number
        .replace('_', "")
        .parse()
        .map_err(|_| format!("{text:?} is not a number with an optional unit"))?;
    if !(value.is_finite() && value > 0.0) {
        return Err(format!("{text:?} must be greater than zero"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_decimal_unless_binary_units_are_named() {
        assert_eq!(parse_bytes("5000000"), Ok(5_000_000));
        assert_eq!(parse_bytes("500MB"), Ok(500_000_000));
        assert_eq!(parse_bytes("2 GB"), Ok(2_000_000_000));
        assert_eq!(parse_bytes("1.5kb"), Ok(1_500));
        assert_eq!(parse_bytes("1GiB"), Ok(1 << 30));
        assert!(parse_bytes("0").is_err());
        assert!(parse_bytes("12 parsecs").is_err());
        assert!(parse_bytes("MB").is_err());
    }

    #[test]
    fn durations_default_to_seconds() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("1 fortnight").is_err());
    }
}
