//! The outcome of a bench run: counts, throughput and a latency histogram, printed for people
//! or as one JSON object.
//!
//! Owns the histogram bounds and how figures are computed: throughput is bytes (or records)
//! divided by wall time, MB is 1,000,000 bytes, latencies are recorded in microseconds and
//! shown in milliseconds. Must not measure anything itself: the workers record, this adds up.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::units::MB;

/// Largest latency the histogram distinguishes (10 minutes, in µs); slower ones count as this.
const LATENCY_US_MAX: u64 = 600_000_000;
/// Significant decimal digits kept by the histogram (0.1 % error).
const LATENCY_DIGITS: u8 = 3;

/// An empty latency histogram in microseconds; every worker's has the same bounds, so they
/// merge without loss.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_US_MAX, LATENCY_DIGITS)
        .expect("constant histogram bounds are valid")
}

/// Records one latency.
pub fn record(latencies: &mut Histogram<u64>, latency: Duration) {
    let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
    latencies.saturating_record(micros.max(1));
}

/// Adds a worker's histogram into the total.
pub fn merge(total: &mut Histogram<u64>, part: &Histogram<u64>) {
    total
        .add(part)
        .expect("histograms made by `histogram()` share bounds");
}

/// Figures of one run; the field names are the `--json` output.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Records sent (produce) or received (consume).
    pub records: u64,
    /// Bytes counted (see the command's help for which bytes).
    pub bytes: u64,
    /// Wall time from the first request to the last answer.
    pub seconds: f64,
    /// `records / seconds`.
    pub records_per_sec: f64,
    /// `bytes / 1,000,000 / seconds`.
    pub mb_per_sec: f64,
    /// Median latency.
    pub p50_ms: f64,
    /// 99th percentile latency.
    pub p99_ms: f64,
    /// 99.9th percentile latency.
    pub p999_ms: f64,
    /// Largest latency.
    pub max_ms: f64,
}

impl Report {
    /// Computes the figures of a run that took `elapsed`.
    pub fn new(records: u64, bytes: u64, elapsed: Duration, latencies: &Histogram<u64>) -> Self {
        let seconds = elapsed.as_secs_f64().max(f64::MIN_POSITIVE);
        let ms = |micros: u64| micros as f64 / 1_000.0;
        let quantile = |q: f64| {
            if latencies.is_empty() {
                0.0
            } else {
                ms(latencies.value_at_quantile(q))
            }
        };
        Report {
            records,
            bytes,
            seconds,
            records_per_sec: records as f64 / seconds,
            mb_per_sec: bytes as f64 / MB as f64 / seconds,
            p50_ms: quantile(0.50),
            p99_ms: quantile(0.99),
            p999_ms: quantile(0.999),
            max_ms: ms(latencies.max()),
        }
    }

    /// Prints the report: two lines for people, or one JSON line with `json`.
    pub fn print(&self, json: bool, latency: &str) {
        if json {
            // A plain struct of numbers always serializes.
            let line = serde_json::to_string(self).unwrap_or_default();
            println!("{line}");
            return;
        }
        println!(
            "{} records, {:.2} MB in {:.2} s: {:.1} records/s, {:.2} MB/s (MB = 1,000,000 bytes)",
            self.records,
            self.bytes as f64 / MB as f64,
            self.seconds,
            self.records_per_sec,
            self.mb_per_sec
        );
        println!(
            "latency ({latency}): p50 {:.3} ms, p99 {:.3} ms, p999 {:.3} ms, max {:.3} ms",
            self.p50_ms, self.p99_ms, self.p999_ms, self.max_ms
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_is_bytes_over_wall_time() {
        let mut h = histogram();
        for ms in 1..=1_000 {
            record(&mut h, Duration::from_millis(ms));
        }
        let r = Report::new(2_000, 4 * MB, Duration::from_secs(2), &h);
        assert_eq!(r.records_per_sec, 1_000.0);
        assert_eq!(r.mb_per_sec, 2.0);
        assert!((r.p50_ms - 500.0).abs() < 1.0, "{}", r.p50_ms);
        assert!((r.max_ms - 1_000.0).abs() < 1.0, "{}", r.max_ms);
    }
}
