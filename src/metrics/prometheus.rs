//! Prometheus text exposition (format 0.0.4) of all cores' counters, summed at scrape time.
//! Written by hand: a few counters do not need a registry crate on the request path.

use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use super::{CoreStats, LATENCY_BUCKETS_US};

pub fn render(cores: &[Arc<CoreStats>], uptime_secs: f64) -> String {
    let sum = |f: &dyn Fn(&CoreStats) -> u64| cores.iter().map(|c| f(c)).sum::<u64>();
    let mut out = String::with_capacity(4096);
    let _ = writeln!(
        out,
        "# HELP percore_uptime_seconds Seconds since the server started."
    );
    let _ = writeln!(out, "# TYPE percore_uptime_seconds gauge");
    let _ = writeln!(out, "percore_uptime_seconds {uptime_secs:.3}");

    let _ = writeln!(
        out,
        "# HELP percore_http_responses_total Responses sent, by status class."
    );
    let _ = writeln!(out, "# TYPE percore_http_responses_total counter");
    for (i, class) in ["1xx", "2xx", "3xx", "4xx", "5xx"].iter().enumerate() {
        let n = sum(&|c| c.responses[i].load(Relaxed));
        let _ = writeln!(out, "percore_http_responses_total{{class=\"{class}\"}} {n}");
    }

    let _ = writeln!(out, "# HELP percore_http_request_duration_seconds Time from a complete request to its response being queued.");
    let _ = writeln!(
        out,
        "# TYPE percore_http_request_duration_seconds histogram"
    );
    let mut cumulative = 0;
    for (i, bound) in LATENCY_BUCKETS_US.iter().enumerate() {
        cumulative += sum(&|c| c.latency_buckets[i].load(Relaxed));
        let le = *bound as f64 / 1e6;
        let _ = writeln!(
            out,
            "percore_http_request_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}"
        );
    }
    cumulative += sum(&|c| c.latency_buckets[LATENCY_BUCKETS_US.len()].load(Relaxed));
    let _ = writeln!(
        out,
        "percore_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
    );
    let total_us = sum(&|c| c.latency_sum_us.load(Relaxed));
    let _ = writeln!(
        out,
        "percore_http_request_duration_seconds_sum {}",
        total_us as f64 / 1e6
    );
    let _ = writeln!(
        out,
        "percore_http_request_duration_seconds_count {cumulative}"
    );

    let _ = writeln!(
        out,
        "# HELP percore_open_connections Open client connections, per core."
    );
    let _ = writeln!(out, "# TYPE percore_open_connections gauge");
    for (i, c) in cores.iter().enumerate() {
        let _ = writeln!(
            out,
            "percore_open_connections{{core=\"{i}\"}} {}",
            c.open_connections()
        );
    }
    for (name, help, get) in [
        (
            "percore_connections_accepted_total",
            "Connections accepted.",
            &(|c: &CoreStats| c.accepted_connections.load(Relaxed)) as &dyn Fn(&CoreStats) -> u64,
        ),
        (
            "percore_overload_rejections_total",
            "Connections and requests answered 503 at a per-core cap.",
            &|c: &CoreStats| c.overload_rejections.load(Relaxed),
        ),
        (
            "percore_bytes_received_total",
            "Bytes read from clients.",
            &|c: &CoreStats| c.bytes_in.load(Relaxed),
        ),
        (
            "percore_bytes_sent_total",
            "Bytes written to clients.",
            &|c: &CoreStats| c.bytes_out.load(Relaxed),
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} counter");
        let _ = writeln!(out, "{name} {}", sum(get));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn merges_cores() {
        let a = Arc::new(CoreStats::default());
        let b = Arc::new(CoreStats::default());
        a.record_response(200, Duration::from_micros(10));
        b.record_response(200, Duration::from_micros(10));
        b.record_response(404, Duration::from_micros(10));
        let text = render(&[a, b], 1.0);
        assert!(text.contains("percore_http_responses_total{class=\"2xx\"} 2"));
        assert!(text.contains("percore_http_responses_total{class=\"4xx\"} 1"));
        assert!(text.contains("percore_http_request_duration_seconds_count 3"));
        assert!(text.contains("percore_open_connections{core=\"1\"} 0"));
    }
}
