//! Per-worker measurements. Each worker thread owns one [`Stats`] (no
//! atomics on the hot path); they are merged once the run is over.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Failed requests by cause.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorCounts {
    /// TCP connect refused or failed.
    pub connect: u64,
    /// No complete response within `--timeout`.
    pub timeout: u64,
    /// Socket error, early close or unparsable response.
    pub read: u64,
    pub status_4xx: u64,
    pub status_5xx: u64,
    /// The body did not contain the `--expect` text.
    pub body: u64,
}

impl ErrorCounts {
    pub fn total(&self) -> u64 {
        self.connect + self.timeout + self.read + self.status_4xx + self.status_5xx + self.body
    }

    pub fn add(&mut self, o: &ErrorCounts) {
        self.connect += o.connect;
        self.timeout += o.timeout;
        self.read += o.read;
        self.status_4xx += o.status_4xx;
        self.status_5xx += o.status_5xx;
        self.body += o.body;
    }

    /// Non-zero kinds as `kind=count`, for the one-line summary.
    pub fn describe(&self) -> String {
        let kinds = [
            ("connect", self.connect),
            ("timeout", self.timeout),
            ("read", self.read),
            ("4xx", self.status_4xx),
            ("5xx", self.status_5xx),
            ("body", self.body),
        ];
        let parts: Vec<String> = kinds
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| format!("{k}={n}"))
            .collect();
        parts.join(" ")
    }
}

/// Transport-level failure kinds (status and body errors come with a response).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Connect,
    Timeout,
    Read,
}

pub struct Stats {
    /// Latency in microseconds.
    pub hist: Histogram<u64>,
    pub errors: ErrorCounts,
    /// Responses received (any status).
    pub responses: u64,
    pub first_send: Option<Instant>,
    pub last_done: Option<Instant>,
    /// Ids found in response bodies, when capture is on.
    pub ids: Vec<u64>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            // 1 µs .. 1 h at 3 significant digits: a few hundred KiB, whatever the run length.
            hist: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("static bounds are valid"),
            errors: ErrorCounts::default(),
            responses: 0,
            first_send: None,
            last_done: None,
            ids: Vec::new(),
        }
    }
}

impl Stats {
    pub fn mark_send(&mut self, at: Instant) {
        if self.first_send.is_none_or(|f| at < f) {
            self.first_send = Some(at);
        }
    }

    fn mark_done(&mut self, at: Instant) {
        if self.last_done.is_none_or(|l| at > l) {
            self.last_done = Some(at);
        }
    }

    pub fn response(&mut self, status: u16, body_ok: bool, latency: Duration, now: Instant) {
        self.responses += 1;
        self.hist
            .saturating_record(latency.as_micros().max(1) as u64);
        match status / 100 {
            4 => self.errors.status_4xx += 1,
            5 => self.errors.status_5xx += 1,
            _ if !body_ok => self.errors.body += 1,
            _ => {}
        }
        self.mark_done(now);
    }

    pub fn failure(&mut self, kind: Failure, count: u64, now: Instant) {
        match kind {
            Failure::Connect => self.errors.connect += count,
            Failure::Timeout => self.errors.timeout += count,
            Failure::Read => self.errors.read += count,
        }
        self.mark_done(now);
    }

    pub fn merge(&mut self, o: Stats) {
        self.hist.add(&o.hist).expect("same bounds everywhere");
        self.errors.add(&o.errors);
        self.responses += o.responses;
        if let Some(f) = o.first_send {
            self.mark_send(f);
        }
        if let Some(l) = o.last_done {
            self.mark_done(l);
        }
        self.ids.extend(o.ids);
    }

    /// Requests that finished one way or another.
    pub fn requests(&self) -> u64 {
        self.responses + self.errors.connect + self.errors.timeout + self.errors.read
    }
}
