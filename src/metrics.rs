//! Per-core counters, merged only when `/metrics` or `/status` is read.
//!
//! Each core owns one [`CoreStats`] and is its only writer, so an increment is a plain load and
//! store (no locked read-modify-write, no cache-line ping-pong between cores); scrapes on any core
//! read every core's values with relaxed loads. The struct is aligned so that two cores' counters
//! never share a cache line.

mod prometheus;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

pub use prometheus::render;

/// Upper bounds of the latency buckets, in microseconds (the last bucket is +Inf).
pub const LATENCY_BUCKETS_US: [u64; 16] = [
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 10_000_000,
];

#[derive(Default)]
#[repr(align(128))]
pub struct CoreStats {
    /// Responses by status class: index 0 is 1xx ... index 4 is 5xx.
    pub responses: [AtomicU64; 5],
    pub latency_buckets: [AtomicU64; LATENCY_BUCKETS_US.len() + 1],
    pub latency_sum_us: AtomicU64,
    pub open_connections: AtomicU64,
    pub accepted_connections: AtomicU64,
    /// Connections and requests refused with 503 because a per-core cap was reached.
    pub overload_rejections: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
}

/// Adds `n` to a counter that only the calling core writes.
#[inline]
fn bump(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(n), Relaxed);
}

impl CoreStats {
    pub fn record_response(&self, status: u16, latency: Duration) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        bump(&self.responses[class], 1);
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let bucket = LATENCY_BUCKETS_US
            .iter()
            .position(|&b| us <= b)
            .unwrap_or(LATENCY_BUCKETS_US.len());
        bump(&self.latency_buckets[bucket], 1);
        bump(&self.latency_sum_us, us);
    }

    pub fn bytes_in(&self, n: usize) {
        bump(&self.bytes_in, n as u64);
    }

    pub fn bytes_out(&self, n: usize) {
        bump(&self.bytes_out, n as u64);
    }

    pub fn connection_opened(&self) {
        bump(&self.accepted_connections, 1);
        bump(&self.open_connections, 1);
    }

    pub fn connection_closed(&self) {
        let open = self.open_connections.load(Relaxed);
        self.open_connections.store(open.saturating_sub(1), Relaxed);
    }

    pub fn overload_rejected(&self) {
        bump(&self.overload_rejections, 1);
    }

    pub fn open_connections(&self) -> u64 {
        self.open_connections.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_lands_in_its_bucket() {
        let s = CoreStats::default();
        s.record_response(204, Duration::from_micros(75));
        s.record_response(503, Duration::from_secs(60));
        assert_eq!(s.latency_buckets[1].load(Relaxed), 1);
        assert_eq!(s.latency_buckets[LATENCY_BUCKETS_US.len()].load(Relaxed), 1);
        assert_eq!(s.responses[1].load(Relaxed), 1);
        assert_eq!(s.responses[4].load(Relaxed), 1);
    }
}
