//! The judging half of `percore doctor`: pure functions from what was read
//! on the host to a [`Finding`], so the tests can feed them any host. Each
//! advice names the exact line to set and the file in `tuning/` that has it.

use std::fmt::Write as _;

use super::{Finding, Level};

const SYSCTL: &str = "in /etc/sysctl.d/90-percore.conf (copy tuning/sysctl.d/90-percore.conf), \
                      then `sysctl --system`";
const WANT_NOFILE: u64 = 65_536;
const WANT_MEMLOCK: u64 = 64 << 20;
const WANT_BACKLOG: u64 = 4096;
const WANT_PORTS: u32 = 28_000;

/// A resource limit; `None` is unlimited (`RLIM_INFINITY`).
pub(super) type Limit = Option<u64>;

pub(super) fn finding(
    check: &'static str,
    level: Level,
    current: impl Into<String>,
    advice: impl Into<String>,
) -> Finding {
    let (current, advice) = (current.into(), advice.into());
    Finding {
        check,
        level,
        current,
        advice,
    }
}

fn ok_if(good: bool) -> Level {
    if good {
        Level::Ok
    } else {
        Level::Warn
    }
}

/// What an unreadable source turns into: a warning, never a panic or a guess.
fn unread(check: &'static str, err: String, advice: &str) -> Finding {
    finding(check, Level::Warn, format!("could not read: {err}"), advice)
}

fn at_least(limit: Limit, want: u64) -> bool {
    limit.is_none_or(|v| v >= want)
}

fn show(limit: Limit) -> String {
    limit.map_or_else(|| "unlimited".to_string(), |v| v.to_string())
}

pub(super) fn nofile(lim: Result<(Limit, Limit), String>) -> Finding {
    const CHECK: &str = "open files (RLIMIT_NOFILE)";
    let advice = "every connection holds a descriptor (see the nofile math in tuning/README.md): \
                  set `LimitNOFILE=1048576` in the unit (tuning/percore.service) or \
                  `* soft nofile 1048576` and `* hard nofile 1048576` in \
                  /etc/security/limits.d/percore.conf (tuning/limits.d/percore.conf)";
    let (soft, hard) = match lim {
        Ok(l) => l,
        Err(e) => return unread(CHECK, e, advice),
    };
    // `percore serve` raises its soft limit to the hard one at start, so the
    // hard limit is what counts; below 4096 the connection cap (bounded by
    // it) is too small for any real load.
    let level = match hard {
        h if at_least(h, WANT_NOFILE) => Level::Ok,
        h if at_least(h, 4096) => Level::Warn,
        _ => Level::Fail,
    };
    let current = format!(
        "soft {}, hard {} (serve raises soft to hard; want hard >= 65536)",
        show(soft),
        show(hard)
    );
    finding(CHECK, level, current, advice)
}

pub(super) fn memlock(lim: Result<(Limit, Limit), String>) -> Finding {
    const CHECK: &str = "locked memory (RLIMIT_MEMLOCK)";
    let advice = "io_uring rings (charged to memlock before Linux 5.12) and pinned buffers need \
                  it: set `LimitMEMLOCK=infinity` in the unit (tuning/percore.service) or \
                  `* - memlock unlimited` in /etc/security/limits.d/percore.conf \
                  (tuning/limits.d/percore.conf)";
    match lim {
        Err(e) => unread(CHECK, e, advice),
        Ok((soft, hard)) => {
            let current = format!("soft {}, hard {} (want >= 64 MiB)", show(soft), show(hard));
            finding(CHECK, ok_if(at_least(soft, WANT_MEMLOCK)), current, advice)
        }
    }
}

/// A queue-length sysctl that must be at least `WANT_BACKLOG`; 65535 is advised.
/// `why` says what a short queue does.
pub(super) fn backlog(check: &'static str, why: &str, raw: Result<String, String>) -> Finding {
    let advice = format!("`{check} = 65535` {SYSCTL}; {why}");
    let value = match raw {
        Ok(s) => s,
        Err(e) => return unread(check, e, &advice),
    };
    match value.parse::<u64>() {
        Ok(v) if v >= WANT_BACKLOG => finding(check, Level::Ok, v.to_string(), advice),
        Ok(v) => finding(
            check,
            Level::Warn,
            format!("{v} (want >= {WANT_BACKLOG})"),
            advice,
        ),
        Err(_) => finding(
            check,
            Level::Warn,
            format!("unparseable: {value:?}"),
            advice,
        ),
    }
}

/// `ip_local_port_range` is "LOW<tab>HIGH"; returns the inclusive bounds.
fn parse_port_range(s: &str) -> Option<(u16, u16)> {
    let mut it = s.split_whitespace().map(str::parse::<u16>);
    match (it.next(), it.next(), it.next()) {
        (Some(Ok(lo)), Some(Ok(hi)), None) if lo <= hi => Some((lo, hi)),
        _ => None,
    }
}

pub(super) fn port_range(raw: Result<String, String>) -> Finding {
    const CHECK: &str = "net.ipv4.ip_local_port_range";
    // Ephemeral ports bound outbound connections per destination (database
    // pools, proxies, load generators on this host), not inbound ones.
    let advice = format!(
        "`net.ipv4.ip_local_port_range = 1024 65535` {SYSCTL}; matters on hosts that open many \
         outbound connections (load generators, proxies, database pools)"
    );
    let raw = match raw {
        Ok(s) => s,
        Err(e) => return unread(CHECK, e, &advice),
    };
    let Some((lo, hi)) = parse_port_range(&raw) else {
        return finding(CHECK, Level::Warn, format!("unparseable: {raw:?}"), advice);
    };
    let width = u32::from(hi) - u32::from(lo) + 1;
    let current = format!("{lo}-{hi}, {width} ports (want >= {WANT_PORTS})");
    finding(CHECK, ok_if(width >= WANT_PORTS), current, advice)
}

/// The selected mode in a sysfs choice list such as "always [madvise] never".
fn parse_bracketed(s: &str) -> Option<&str> {
    let start = s.find('[')? + 1;
    let len = s[start..].find(']')?;
    Some(&s[start..start + len])
}

pub(super) fn thp(raw: Result<String, String>) -> Finding {
    const CHECK: &str = "transparent hugepages";
    // Informational only: `always` can add khugepaged compaction stalls to tail
    // latency, `madvise` lets the allocator opt in; neither breaks percore.
    let advice = "informational; `madvise` is the usual choice for latency-sensitive servers";
    match raw {
        Err(e) => unread(CHECK, e, advice),
        Ok(s) => {
            let mode = parse_bracketed(&s).unwrap_or(&s);
            finding(CHECK, Level::Ok, format!("{mode} (informational)"), advice)
        }
    }
}

pub(super) fn tw_reuse(raw: Result<String, String>) -> Finding {
    const CHECK: &str = "net.ipv4.tcp_tw_reuse";
    // Lets outbound connects reuse TIME_WAIT ports; the server side of a
    // connection never needs it, so only 0 is worth a warning.
    let advice = format!("`net.ipv4.tcp_tw_reuse = 1` {SYSCTL}");
    let (level, current) = match raw.as_deref().map(str::trim) {
        Err(e) => return unread(CHECK, e.clone(), &advice),
        Ok("1") => (Level::Ok, "1 (enabled)".to_string()),
        Ok("2") => (Level::Ok, "2 (loopback only, kernel default)".to_string()),
        Ok("0") => (Level::Warn, "0 (disabled)".to_string()),
        Ok(other) => (Level::Warn, format!("unexpected value {other:?}")),
    };
    finding(CHECK, level, current, advice)
}

/// cgroup v2 `cpu.max`: "QUOTA PERIOD" or "max PERIOD"; returns CPUs' worth.
pub(super) fn parse_cpu_max(s: &str) -> Option<f64> {
    let mut it = s.split_whitespace();
    let quota: f64 = it.next()?.parse().ok()?;
    let period: f64 = it.next()?.parse().ok()?;
    (period > 0.0).then(|| quota / period)
}

pub(super) fn cpus(
    online: Option<usize>,
    allowed: Result<usize, String>,
    quota: Option<f64>,
) -> Finding {
    const CHECK: &str = "CPUs (online vs affinity)";
    let pin = "percore runs one worker per CPU in its affinity mask; pin explicitly with \
               `cores = N` in percore.toml or `--cores N` (tuning/README.md, sizing cores)";
    let allowed = match allowed {
        Ok(n) => n,
        Err(e) => return unread(CHECK, e, pin),
    };
    let online_s = online.map_or_else(|| "?".to_string(), |n| n.to_string());
    let plural = if allowed == 1 { "" } else { "s" };
    let mut current = format!(
        "{online_s} online, {allowed} in affinity mask: cores = \"all\" starts {allowed} \
         worker{plural}"
    );
    let mut level = Level::Ok;
    let mut advice = pin.to_string();
    if online.is_some_and(|n| allowed < n) {
        level = Level::Warn;
        advice = format!(
            "taskset, a cpuset or CPUAffinity= restricts this process to {allowed} of \
             {online_s} CPUs; {pin}"
        );
    }
    // A quota below the mask means N workers time-share fewer CPUs and stall
    // each other at every throttling period: fewer, unthrottled workers win.
    if let Some(q) = quota.filter(|&q| q < allowed as f64) {
        let _ = write!(current, ", cgroup quota {q:.1} CPUs");
        level = Level::Warn;
        let cores = (q.floor() as usize).max(1);
        advice = format!(
            "cgroup cpu.max allows {q:.1} CPUs but {allowed} workers would start; \
             set `cores = {cores}` ({pin})"
        );
    }
    finding(CHECK, level, current, advice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::read;

    #[test]
    fn port_range_parsing() {
        assert_eq!(parse_port_range("32768\t60999"), Some((32768, 60999)));
        assert_eq!(parse_port_range(" 1024 65535\n"), Some((1024, 65535)));
        assert_eq!(parse_port_range("60999 32768"), None);
        assert_eq!(parse_port_range("1024"), None);
        assert_eq!(parse_port_range("1 2 3"), None);
        assert_eq!(parse_port_range("a b"), None);
        assert_eq!(port_range(Ok("32768 60999".into())).level, Level::Ok); // 28232 ports
        assert_eq!(port_range(Ok("50000 60000".into())).level, Level::Warn);
        assert_eq!(port_range(Ok("junk".into())).level, Level::Warn);
    }

    #[test]
    fn small_parsers() {
        assert_eq!(parse_bracketed("always [madvise] never"), Some("madvise"));
        assert_eq!(parse_bracketed("never"), None);
        assert_eq!(parse_cpu_max("200000 100000"), Some(2.0));
        assert_eq!(parse_cpu_max("max 100000"), None);
        assert_eq!(parse_cpu_max("1 0"), None);
    }

    #[test]
    fn limits_and_sysctls() {
        assert_eq!(nofile(Ok((Some(1 << 20), None))).level, Level::Ok);
        assert_eq!(nofile(Ok((Some(1024), Some(524_288)))).level, Level::Ok);
        assert_eq!(nofile(Ok((Some(1024), Some(20_000)))).level, Level::Warn);
        assert_eq!(nofile(Ok((Some(1024), Some(1024)))).level, Level::Fail);
        assert_eq!(memlock(Ok((None, None))).level, Level::Ok);
        assert_eq!(
            memlock(Ok((Some(8 << 20), Some(8 << 20)))).level,
            Level::Warn
        );
        let low = backlog("net.core.somaxconn", "", Ok("128".into()));
        assert_eq!(
            (low.level, low.current.as_str()),
            (Level::Warn, "128 (want >= 4096)")
        );
        assert_eq!(backlog("s", "", Ok("4096".into())).level, Level::Ok);
        assert_eq!(tw_reuse(Ok("2".into())).level, Level::Ok);
        assert_eq!(tw_reuse(Ok("0".into())).level, Level::Warn);
    }

    #[test]
    fn unreadable_is_a_warning() {
        let f = backlog("s", "", read("/nonexistent/percore"));
        assert_eq!(f.level, Level::Warn);
        assert!(f
            .current
            .starts_with("could not read: /nonexistent/percore"));
        assert_eq!(thp(Err("gone".into())).level, Level::Warn);
    }

    #[test]
    fn cpu_restrictions() {
        assert_eq!(cpus(Some(8), Ok(8), None).level, Level::Ok);
        let f = cpus(Some(8), Ok(2), None);
        assert!(f.level == Level::Warn && f.current.contains("starts 2 workers"));
        let f = cpus(Some(64), Ok(64), Some(2.5));
        assert!(f.level == Level::Warn && f.advice.contains("`cores = 2`"));
        assert_eq!(cpus(Some(4), Ok(4), Some(8.0)).level, Level::Ok);
    }
}
