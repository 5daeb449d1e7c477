//! Default capacity from the machine: the per-core connection cap (Apache's MaxClients,
//! sized from memory) and the open-file limit it must fit under.

/// What one open connection may cost in user space at its working size: read and write
/// buffers, a de-chunking buffer in use, the task and its timers. Deliberately generous: a cap
/// that is too low answers 503, one that is too high runs the machine out of memory.
pub const BYTES_PER_CONNECTION: u64 = 64 * 1024;
/// File descriptors kept free for database connections, log files and the like.
const RESERVED_FDS: u64 = 256;

/// Raises the soft open-file limit to the hard limit (as most servers do) and returns the
/// resulting soft limit.
pub fn raise_open_file_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    lim.rlim_cur
}

/// Physical memory, or the cgroup (container) limit when that is lower.
pub fn memory_bytes() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let (pages, page) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    let physical = u64::try_from(pages).unwrap_or(0) * u64::try_from(page).unwrap_or(0);
    let cgroup = cgroup_memory_max();
    match cgroup {
        Some(limit) if limit < physical || physical == 0 => limit,
        _ => physical.max(1 << 30),
    }
}

/// The cgroup v2 memory limit of this process: its own cgroup's `memory.max` (a systemd unit's
/// `MemoryMax=`), else the root one (a container's limit); `None` when unlimited or unknown.
fn cgroup_memory_max() -> Option<u64> {
    let own = std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("0::"))
                .map(|path| format!("/sys/fs/cgroup{}/memory.max", path.trim_end()))
        });
    own.into_iter()
        .chain(std::iter::once("/sys/fs/cgroup/memory.max".to_string()))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .find_map(|s| s.trim().parse::<u64>().ok())
}

/// The per-core connection cap: the configured value, or half of memory divided by the
/// per-connection cost, bounded by the open-file limit, split across cores.
pub fn max_connections_per_core(configured: usize, cores: usize, nofile: u64) -> usize {
    if configured > 0 {
        return configured;
    }
    let by_memory = memory_bytes() / 2 / BYTES_PER_CONNECTION;
    let by_files = nofile.saturating_sub(RESERVED_FDS);
    let total = by_memory.min(by_files).max(64);
    usize::try_from(total / cores.max(1) as u64)
        .unwrap_or(usize::MAX)
        .max(16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_value_wins_and_files_bound_the_default() {
        assert_eq!(max_connections_per_core(100, 4, 1 << 20), 100);
        assert_eq!(max_connections_per_core(0, 2, 1024 + RESERVED_FDS), 512);
    }
}
