//! The result of one run as data ([`RunReport`]) and its text, JSON and
//! CSV renderings. Sweeps embed these reports unchanged.

use crate::engine::{ErrorCounts, Outcome};
use crate::error::{write_file, Result};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

/// Latency figures in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Latency {
    pub min: f64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    /// What was run (scenario name, sweep point, or the URL).
    pub label: String,
    pub url: String,
    pub method: String,
    /// `closed` or `open`.
    pub mode: String,
    pub users: usize,
    pub threads: usize,
    /// Target rate in open loop.
    pub rate: Option<f64>,
    /// Requests finished (successes and failures), warm-up excluded.
    pub requests: u64,
    pub ok: u64,
    pub errors: ErrorCounts,
    pub error_total: u64,
    pub elapsed_s: f64,
    pub rps: f64,
    pub latency_ms: Latency,
}

pub struct RunMeta<'a> {
    pub label: &'a str,
    pub url: &'a str,
    pub method: &'a str,
    pub users: usize,
    pub threads: usize,
    pub rate: Option<f64>,
}

impl RunReport {
    pub fn new(meta: RunMeta<'_>, out: &Outcome) -> RunReport {
        let s = &out.stats;
        let h = &s.hist;
        let ms = |us: u64| us as f64 / 1000.0;
        let latency_ms = if h.is_empty() {
            Latency::default()
        } else {
            Latency {
                min: ms(h.min()),
                mean: h.mean() / 1000.0,
                p50: ms(h.value_at_quantile(0.50)),
                p90: ms(h.value_at_quantile(0.90)),
                p99: ms(h.value_at_quantile(0.99)),
                p999: ms(h.value_at_quantile(0.999)),
                max: ms(h.max()),
            }
        };
        let requests = s.requests();
        let error_total = s.errors.total();
        let elapsed_s = out.elapsed.as_secs_f64();
        RunReport {
            label: meta.label.to_string(),
            url: meta.url.to_string(),
            method: meta.method.to_string(),
            mode: if meta.rate.is_some() {
                "open"
            } else {
                "closed"
            }
            .into(),
            users: meta.users,
            threads: meta.threads,
            rate: meta.rate,
            requests,
            ok: requests - error_total,
            errors: s.errors,
            error_total,
            elapsed_s,
            rps: if elapsed_s > 0.0 {
                requests as f64 / elapsed_s
            } else {
                0.0
            },
            latency_ms,
        }
    }

    /// The ab-style text summary.
    pub fn summary(&self) -> String {
        let mut t = String::new();
        let l = &self.latency_ms;
        let _ = writeln!(t, "Target:        {} {}", self.method, self.url);
        let rate = self
            .rate
            .map(|r| format!(", rate {r} req/s"))
            .unwrap_or_default();
        let _ = writeln!(
            t,
            "Load:          {} loop, {} users on {} threads{rate}",
            self.mode, self.users, self.threads
        );
        let _ = writeln!(
            t,
            "Requests:      {} in {:.3} s",
            self.requests, self.elapsed_s
        );
        let kinds = self.errors.describe();
        let kinds = if kinds.is_empty() {
            String::new()
        } else {
            format!(" ({kinds})")
        };
        let _ = writeln!(t, "Errors:        {}{kinds}", self.error_total);
        let _ = writeln!(t, "Requests/sec:  {:.2}", self.rps);
        let _ = writeln!(
            t,
            "Latency (ms):  min {:.3}  mean {:.3}  p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
            l.min, l.mean, l.p50, l.p90, l.p99, l.p999, l.max
        );
        t
    }

    pub const CSV_HEADER: &'static str = "label,url,method,mode,users,threads,rate,requests,ok,errors,err_connect,err_timeout,err_read,err_4xx,err_5xx,err_body,elapsed_s,rps,min_ms,mean_ms,p50_ms,p90_ms,p99_ms,p999_ms,max_ms";

    pub fn csv_row(&self) -> String {
        let e = &self.errors;
        let l = &self.latency_ms;
        format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.6},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3}",
            csv_field(&self.label),
            csv_field(&self.url),
            self.method,
            self.mode,
            self.users,
            self.threads,
            self.rate.map(|r| r.to_string()).unwrap_or_default(),
            self.requests,
            self.ok,
            self.error_total,
            e.connect,
            e.timeout,
            e.read,
            e.status_4xx,
            e.status_5xx,
            e.body,
            self.elapsed_s,
            self.rps,
            l.min,
            l.mean,
            l.p50,
            l.p90,
            l.p99,
            l.p999,
            l.max
        )
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Several reports as CSV, one row each.
pub fn csv(reports: &[RunReport]) -> String {
    let mut out = String::from(RunReport::CSV_HEADER);
    out.push('\n');
    for r in reports {
        out.push_str(&r.csv_row());
        out.push('\n');
    }
    out
}

pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    write_file(path, serde_json::to_string_pretty(value)? + "\n")
}

pub fn write_csv(path: &Path, reports: &[RunReport]) -> Result<()> {
    write_file(path, csv(reports))
}
