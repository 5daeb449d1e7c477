//! `percore doctor`: checks the host limits that bite a thread-per-core server
//! holding many connections, and names the exact line that fixes each one.
//!
//! This file reads the host (/proc, /sys, libc); [`checks`] judges what was
//! read. Nothing here panics: whatever cannot be read becomes a `Warn` that
//! says so, since a doctor that crashes on a locked-down container is no help.
//! Recommended settings ship in `tuning/` (sysctl.d, limits.d, percore.service;
//! sizing in tuning/README.md).

use std::fmt::Write as _;

mod checks;

use checks::{backlog, cpus, memlock, nofile, parse_cpu_max, port_range, thp, tw_reuse, Limit};

/// Ordered so the worst level of a report is `iter().map(|f| f.level).max()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// One check's verdict: `current` is what the host has, `advice` the exact
/// line to change (shown for `Warn` and `Fail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub check: &'static str,
    pub level: Level,
    pub current: String,
    pub advice: String,
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|e| format!("{path}: {e}"))
}

fn read_sysctl(name: &str) -> Result<String, String> {
    read(&format!("/proc/sys/{}", name.replace('.', "/")))
}

/// `get` is a `getrlimit` call; taking it as a closure sidesteps the resource
/// argument's type, which differs between glibc and musl.
fn rlimit(get: impl FnOnce(&mut libc::rlimit) -> libc::c_int) -> Result<(Limit, Limit), String> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    if get(&mut r) != 0 {
        return Err(format!("getrlimit: {}", std::io::Error::last_os_error()));
    }
    // rlim_t is u32 on some 32-bit targets, hence the cast.
    #[allow(clippy::unnecessary_cast)]
    let conv = |v: libc::rlim_t| (v != libc::RLIM_INFINITY).then_some(v as u64);
    Ok((conv(r.rlim_cur), conv(r.rlim_max)))
}

/// The CPU quota of this process's own cgroup (v2), if it has one.
fn cgroup_cpu_quota() -> Option<f64> {
    let cg = read("/proc/self/cgroup").ok()?;
    let path = cg.lines().find_map(|l| l.strip_prefix("0::"))?;
    let own = read(&format!(
        "/sys/fs/cgroup{}/cpu.max",
        path.trim_end_matches('/')
    ));
    parse_cpu_max(&own.or_else(|_| read("/sys/fs/cgroup/cpu.max")).ok()?)
}

#[cfg(target_os = "linux")]
fn affinity_count() -> Result<usize, String> {
    // SAFETY: cpu_set_t is a plain bit array, so all-zero is a valid empty set,
    // and the kernel writes at most the size we pass into it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: pid 0 is this thread; `set` is valid for `size` bytes.
    if unsafe { libc::sched_getaffinity(0, size, &mut set) } != 0 {
        return Err(format!(
            "sched_getaffinity: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: `set` was initialised above.
    Ok(unsafe { libc::CPU_COUNT(&set) }.max(0) as usize)
}

#[cfg(not(target_os = "linux"))]
fn affinity_count() -> Result<usize, String> {
    Err("sched_getaffinity is Linux-only".to_string())
}

/// Runs every check against this host. Never panics; see the module docs.
pub fn check_host() -> Vec<Finding> {
    // SAFETY: sysconf has no preconditions.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    let online = (online > 0).then_some(online as usize);
    let sysctl = |name, why| backlog(name, why, read_sysctl(name));
    // SAFETY (both getrlimit calls): the closure is handed a valid rlimit.
    let nofile_lim = rlimit(|r| unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, r) });
    let memlock_lim = rlimit(|r| unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, r) });
    vec![
        nofile(nofile_lim),
        sysctl(
            "net.core.somaxconn",
            "it silently caps every listen() backlog, so bursts of new connections are dropped",
        ),
        sysctl(
            "net.ipv4.tcp_max_syn_backlog",
            "half-open connections beyond it are dropped (or answered with syncookies)",
        ),
        port_range(read_sysctl("net.ipv4.ip_local_port_range")),
        memlock(memlock_lim),
        cpus(online, affinity_count(), cgroup_cpu_quota()),
        thp(read("/sys/kernel/mm/transparent_hugepage/enabled")),
        tw_reuse(read_sysctl("net.ipv4.tcp_tw_reuse")),
    ]
}

/// One line per check; Warn and Fail add an indented advice line.
pub fn render(findings: &[Finding]) -> String {
    let width = findings.iter().map(|f| f.check.len()).max().unwrap_or(0);
    let mut out = String::new();
    for f in findings {
        let tag = match f.level {
            Level::Ok => " ok ",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        let _ = writeln!(out, "[{tag}] {:width$}  {}", f.check, f.current);
        if f.level != Level::Ok && !f.advice.is_empty() {
            let _ = writeln!(out, "       -> {}", f.advice);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::checks::finding;
    use super::*;

    #[test]
    fn render_lines() {
        let out = render(&[
            finding("a", Level::Ok, "fine", "hidden"),
            finding("longer", Level::Warn, "low", "raise it"),
            finding("c", Level::Fail, "bad", "fix it"),
        ]);
        let want = "[ ok ] a       fine\n[warn] longer  low\n       -> raise it\n\
                    [FAIL] c       bad\n       -> fix it\n";
        assert_eq!(out, want);
        assert_eq!(render(&[]), "");
    }

    #[test]
    fn host_check_does_not_panic() {
        let f = check_host();
        assert_eq!(f.len(), 8);
        assert_eq!(render(&f).lines().filter(|l| l.starts_with('[')).count(), 8);
    }
}
