//! Per-core engine state the connection loop reads: limits, the cached `Date`, counters, the
//! drain signal and the in-flight gate. One per worker; never shared across cores.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use super::date::DateCache;
use crate::metrics::CoreStats;
use crate::runtime::shutdown::Drain;

/// The engine's limits, resolved from configuration once at start.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Request line plus headers; past it, 431.
    pub max_head_bytes: usize,
    pub max_headers: usize,
    /// Decided from `Content-Length` before any body byte is read; past it, 413.
    pub max_body_bytes: u64,
    /// From a request's first byte to its last header byte (slowloris defence); 408.
    pub header_timeout: Duration,
    /// How long a keep-alive connection may sit between requests.
    pub idle_timeout: Duration,
    /// From the end of the head to the end of the body.
    pub body_timeout: Duration,
    pub gzip_min_bytes: usize,
    pub gzip_level: u32,
    /// Requests being handled on this core at once; past it, 503 with `Retry-After`.
    pub max_in_flight: usize,
    pub access_log: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head_bytes: 16 * 1024,
            max_headers: 64,
            max_body_bytes: 16 * 1024 * 1024,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            gzip_min_bytes: 1024,
            gzip_level: 1,
            max_in_flight: 2048,
            access_log: false,
        }
    }
}

pub struct Engine {
    pub limits: Limits,
    pub date: DateCache,
    pub stats: Arc<CoreStats>,
    pub drain: Drain,
    in_flight: Cell<usize>,
}

impl Engine {
    pub fn new(limits: Limits, stats: Arc<CoreStats>, drain: Drain) -> Self {
        Engine {
            limits,
            date: DateCache::default(),
            stats,
            drain,
            in_flight: Cell::new(0),
        }
    }

    /// Takes an in-flight slot, or `None` when the core is at its cap.
    pub fn admit(&self) -> Option<InFlight<'_>> {
        let n = self.in_flight.get();
        if n >= self.limits.max_in_flight {
            return None;
        }
        self.in_flight.set(n + 1);
        Some(InFlight(&self.in_flight))
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.get()
    }
}

/// Gives the slot back on drop, including when the handler's future is dropped mid-way.
pub struct InFlight<'a>(&'a Cell<usize>);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}
