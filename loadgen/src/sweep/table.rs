//! Text tables in the shape of the DreamFactory study's: req/s and mean
//! time per size; min / max / mean time by users.

use super::{ConcurrencySweep, SizeSweep};
use std::fmt::Write as _;

pub fn size_table(s: &SizeSweep) -> String {
    let mut t = format!("{} sweep, {}\n", s.sweep, s.scenario);
    let _ = writeln!(
        t,
        "{:>10} | {:>12} | {:>10} | {:>10} | {:>10} | {:>8}",
        s.unit, "req/s", "mean ms", "p99 ms", "requests", "errors"
    );
    let _ = writeln!(t, "{}", "-".repeat(75));
    for p in &s.points {
        let r = &p.report;
        let _ = writeln!(
            t,
            "{:>10} | {:>12.2} | {:>10.2} | {:>10.2} | {:>10} | {:>8}",
            p.size, r.rps, r.latency_ms.mean, r.latency_ms.p99, r.requests, r.error_total
        );
    }
    t
}

pub fn concurrency_table(s: &ConcurrencySweep) -> String {
    let mut t = format!(
        "concurrency sweep, {} (burst: requests = users; steady: {} s)\n",
        s.scenario, s.steady_s
    );
    let _ = writeln!(
        t,
        "{:>6} | {:>9} {:>9} {:>9} | {:>10} {:>8} {:>8} {:>8} {:>8} {:>8} | {:>6}",
        "users",
        "min ms",
        "max ms",
        "mean ms",
        "req/s",
        "min",
        "mean",
        "p50",
        "p99",
        "max",
        "errors"
    );
    let _ = writeln!(t, "{:>6} | {:^29} | {:^55} |", "", "burst", "steady (ms)");
    let _ = writeln!(t, "{}", "-".repeat(110));
    for p in &s.points {
        let (b, st) = (&p.burst.latency_ms, &p.steady.latency_ms);
        let _ = writeln!(
            t,
            "{:>6} | {:>9.2} {:>9.2} {:>9.2} | {:>10.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} | {:>6}",
            p.users,
            b.min,
            b.max,
            b.mean,
            p.steady.rps,
            st.min,
            st.mean,
            st.p50,
            st.p99,
            st.max,
            p.burst.error_total + p.steady.error_total
        );
    }
    t
}
