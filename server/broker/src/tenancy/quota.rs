//! Per-tenant quotas: rates as token buckets, and what a tenant used.
//!
//! Owns the admission rule both transports share. A rate is checked before the work (refused
//! only when the tenant is already deep in debt, so one request larger than the burst still
//! passes) and charged after it; the charge returns how long to hold the response so the
//! tenant's achieved rate converges to its quota. Must not sleep or know transports: callers
//! delay responses and report `throttle_time_ms`.

use std::time::{Duration, Instant};

/// A tenant's quotas; 0 means unlimited. Stored in the metadata log as `StoredQuotas`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quotas {
    /// Produced bytes (RecordBatch bytes) per second.
    pub produce_bytes_per_sec: u64,
    /// Fetched bytes per second.
    pub fetch_bytes_per_sec: u64,
    /// Requests per second, any kind.
    pub requests_per_sec: u64,
    /// Bytes stored in all the tenant's partitions.
    pub storage_bytes: u64,
    /// Topics.
    pub topics: u64,
    /// Partitions over all topics.
    pub partitions: u64,
    /// Consumer groups.
    pub groups: u64,
    /// Largest record (key + value + headers), bytes; never above the server's limit.
    pub record_bytes_max: u64,
    /// Largest request body or message, bytes; never above the server's limit.
    pub request_bytes_max: u64,
    /// Live tails (REST Server-Sent Events streams) open at once; never above the server's
    /// per-tenant limit.
    pub live_tails: u64,
}

/// Which rate a charge counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    /// Produce bytes.
    Produce,
    /// Fetch bytes.
    Fetch,
    /// Requests.
    Requests,
}

impl Rate {
    /// The quota's name, as in `Quotas` and error messages.
    pub fn name(self) -> &'static str {
        match self {
            Rate::Produce => "produce_bytes_per_sec",
            Rate::Fetch => "fetch_bytes_per_sec",
            Rate::Requests => "requests_per_sec",
        }
    }

    fn limit(self, q: &Quotas) -> u64 {
        match self {
            Rate::Produce => q.produce_bytes_per_sec,
            Rate::Fetch => q.fetch_bytes_per_sec,
            Rate::Requests => q.requests_per_sec,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// How rates absorb bursts and overage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttling {
    /// Burst allowance: a bucket holds this many milliseconds of its rate.
    pub burst_ms: u64,
    /// Debt, in milliseconds of the rate, past which requests are refused (HTTP 429 /
    /// RESOURCE_EXHAUSTED) instead of accepted and delayed.
    pub delay_ms_max: u64,
}

impl Default for Throttling {
    fn default() -> Self {
        Throttling {
            burst_ms: 500,
            delay_ms_max: 1_000,
        }
    }
}

/// A refusal: the rate and when to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// The rate over quota.
    pub rate: Rate,
    /// The quota, per second.
    pub limit: u64,
    /// When the request would be admitted.
    pub retry_after: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Tokens left; negative while the tenant is in debt.
    tokens: f64,
    last: Instant,
}

/// Counts per one-second window, for reporting current rates.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    current: u64,
    last: u64,
}

impl Window {
    fn roll(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.start);
        if elapsed >= Duration::from_secs(2) {
            self.last = 0;
            self.current = 0;
            self.start = now;
        } else if elapsed >= Duration::from_secs(1) {
            self.last = self.current;
            self.current = 0;
            self.start += Duration::from_secs(1);
        }
    }
}

/// The rate state of one tenant.
#[derive(Debug, Clone)]
pub struct Meter {
    buckets: [Option<Bucket>; 3],
    windows: [Window; 3],
    throttle_ms_total: u64,
    refusals_total: u64,
}

impl Meter {
    /// A meter with full buckets.
    pub fn new(now: Instant) -> Meter {
        let window = Window {
            start: now,
            current: 0,
            last: 0,
        };
        Meter {
            buckets: [None; 3],
            windows: [window; 3],
            throttle_ms_total: 0,
            refusals_total: 0,
        }
    }

    fn bucket(&mut self, rate: Rate, limit: u64, t: Throttling, now: Instant) -> &mut Bucket {
        let burst = burst(limit, t);
        let b = self.buckets[rate.index()].get_or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * limit as f64).min(burst);
        b.last = now;
        b
    }

    /// Refuses when the tenant's debt on `rate` is already past `delay_ms_max`.
    pub fn check(
        &mut self,
        q: &Quotas,
        rate: Rate,
        t: Throttling,
        now: Instant,
    ) -> Result<(), Refusal> {
        let limit = rate.limit(q);
        if limit == 0 {
            return Ok(());
        }
        let floor = -(limit as f64) * t.delay_ms_max as f64 / 1000.0;
        let tokens = self.bucket(rate, limit, t, now).tokens;
        if tokens >= floor {
            return Ok(());
        }
        self.refusals_total += 1;
        Err(Refusal {
            rate,
            limit,
            retry_after: Duration::from_secs_f64((floor - tokens) / limit as f64),
        })
    }

    /// Counts `amount` against `rate`; returns how long to hold the response.
    pub fn charge(
        &mut self,
        q: &Quotas,
        rate: Rate,
        amount: u64,
        t: Throttling,
        now: Instant,
    ) -> Duration {
        let window = &mut self.windows[rate.index()];
        window.roll(now);
        window.current += amount;
        let limit = rate.limit(q);
        if limit == 0 {
            return Duration::ZERO;
        }
        let b = self.bucket(rate, limit, t, now);
        b.tokens -= amount as f64;
        if b.tokens >= 0.0 {
            return Duration::ZERO;
        }
        let delay = Duration::from_secs_f64(-b.tokens / limit as f64);
        self.throttle_ms_total += u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        delay
    }

    /// Amount counted in the last complete second.
    pub fn last_second(&mut self, rate: Rate, now: Instant) -> u64 {
        let window = &mut self.windows[rate.index()];
        window.roll(now);
        window.last
    }

    /// Milliseconds responses were held, in total.
    pub fn throttle_ms_total(&self) -> u64 {
        self.throttle_ms_total
    }

    /// Requests refused for a rate, in total.
    pub fn refusals_total(&self) -> u64 {
        self.refusals_total
    }
}

fn burst(limit: u64, t: Throttling) -> f64 {
    (limit as f64 * t.burst_ms as f64 / 1000.0).max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Throttling = Throttling {
        burst_ms: 1_000,
        delay_ms_max: 1_000,
    };

    fn quota(produce: u64) -> Quotas {
        Quotas {
            produce_bytes_per_sec: produce,
            ..Quotas::default()
        }
    }

    #[test]
    fn unlimited_never_delays_or_refuses() {
        let now = Instant::now();
        let mut m = Meter::new(now);
        let q = Quotas::default();
        for _ in 0..100 {
            assert!(m.check(&q, Rate::Produce, T, now).is_ok());
            assert_eq!(m.charge(&q, Rate::Produce, 1 << 30, T, now), Duration::ZERO);
        }
    }

    #[test]
    fn admitted_bytes_follow_the_rate_plus_one_burst() {
        // A client that waits out every delay: simulate time as the sum of delays.
        let start = Instant::now();
        let mut m = Meter::new(start);
        let q = quota(1_000_000);
        let mut now = start;
        let mut acked = 0u64;
        while now < start + Duration::from_secs(10) {
            assert!(m.check(&q, Rate::Produce, T, now).is_ok());
            let delay = m.charge(&q, Rate::Produce, 64 * 1024, T, now);
            now += delay.max(Duration::from_millis(1));
            acked += 64 * 1024;
        }
        let secs = now.duration_since(start).as_secs_f64();
        let rate = acked as f64 / secs;
        assert!(rate <= 1_100_000.0 + 64.0 * 1024.0 / secs, "{rate}");
        assert!(rate >= 900_000.0, "{rate}");
    }

    #[test]
    fn deep_debt_is_refused_with_a_retry_delay() {
        let now = Instant::now();
        let mut m = Meter::new(now);
        let q = quota(1_000);
        // Burst 1000, then 2500 of debt: past the 1000 ms (= 1000 bytes) delay bound.
        m.charge(&q, Rate::Produce, 3_500, T, now);
        let refusal = m.check(&q, Rate::Produce, T, now).unwrap_err();
        assert_eq!(refusal.rate, Rate::Produce);
        assert_eq!(refusal.retry_after, Duration::from_millis(1_500));
        // Once the debt is repaid down to the bound, requests pass again.
        let later = now + Duration::from_millis(1_500);
        assert!(m.check(&q, Rate::Produce, T, later).is_ok());
    }

    #[test]
    fn one_request_larger_than_the_burst_still_passes() {
        let now = Instant::now();
        let mut m = Meter::new(now);
        let q = quota(1_000);
        assert!(m.check(&q, Rate::Produce, T, now).is_ok());
        let delay = m.charge(&q, Rate::Produce, 5_000, T, now);
        assert_eq!(delay, Duration::from_secs(4));
    }
}
