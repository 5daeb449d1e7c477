//! Child processes of a sweep (servers and load balancers), CPU pinning,
//! and free ports. Children are stopped with SIGTERM on drop so nginx's
//! master takes its workers down with it.

use crate::blocking;
use crate::error::{Error, Result};
use crate::target::Url;
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const READY_LIMIT: Duration = Duration::from_secs(60);

/// A running child, stopped when dropped.
pub struct Proc {
    name: String,
    child: Child,
}

impl Proc {
    /// Starts `argv` (optionally under `taskset -c cpus`), logging to `log`.
    pub fn spawn(name: &str, argv: &[String], cpus: Option<&str>, log: &Path) -> Result<Proc> {
        let out = File::create(log).map_err(Error::file(log))?;
        let err = out.try_clone()?;
        let mut cmd = match cpus {
            Some(c) => {
                let mut cmd = Command::new("taskset");
                cmd.arg("-c").arg(c).args(argv);
                cmd
            }
            None => {
                let mut cmd = Command::new(&argv[0]);
                cmd.args(&argv[1..]);
                cmd
            }
        };
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| Error::Server(format!("cannot start {}: {e}", argv.join(" "))))?;
        Ok(Proc {
            name: name.to_string(),
            child,
        })
    }

    /// Fails if the process has already exited.
    pub fn check_alive(&mut self) -> Result<()> {
        match self.child.try_wait()? {
            Some(status) => Err(Error::Server(format!(
                "{} exited early ({status}); see its log",
                self.name
            ))),
            None => Ok(()),
        }
    }

    /// Waits until `url` answers 200.
    pub fn wait_ready(&mut self, url: &Url) -> Result<()> {
        blocking::wait_ready(url, READY_LIMIT, || self.check_alive())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free right now on 127.0.0.1 (the kernel picks it).
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// CPUs online on the machine, whatever this process's affinity (which
/// `available_parallelism` reflects, and which sweeps change).
pub fn cpu_count() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).unwrap_or(1).max(1)
}

/// The affinity the process started with, restored after each sweep point.
fn original_affinity() -> &'static libc::cpu_set_t {
    static ORIGINAL: OnceLock<libc::cpu_set_t> = OnceLock::new();
    ORIGINAL.get_or_init(|| {
        // SAFETY: sched_getaffinity fills the zeroed plain-data set.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set);
            set
        }
    })
}

/// `a-b` CPU list for taskset.
pub fn cpu_list(range: std::ops::Range<usize>) -> String {
    if range.len() == 1 {
        range.start.to_string()
    } else {
        format!("{}-{}", range.start, range.end - 1)
    }
}

/// Pins the calling thread (and so the workers it spawns later) to `cpus`;
/// `None` restores the affinity the process started with.
pub fn pin_self(cpus: Option<std::ops::Range<usize>>) {
    let original = *original_affinity();
    // SAFETY: cpu_set_t is plain data; the CPU_* helpers only touch it.
    unsafe {
        let set = match cpus {
            Some(cpus) => {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                for c in cpus {
                    libc::CPU_SET(c, &mut set);
                }
                set
            }
            None => original,
        };
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// `name` found on PATH.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The percore binary: `--server-bin`, else `percore` on PATH, else the
/// workspace's release build.
pub fn server_bin(given: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = on_path("percore") {
        return Ok(p);
    }
    for p in ["../target/release/percore", "target/release/percore"] {
        if Path::new(p).is_file() {
            return Ok(PathBuf::from(p));
        }
    }
    Err(Error::Server(
        "percore not found: pass --server-bin PATH".into(),
    ))
}

/// Starts `bin serve --cores N --listen 127.0.0.1:PORT --data-dir DIR ...`
/// and waits for `ready_path`; returns the process and its base URL.
pub fn start_server(
    bin: &Path,
    cores: usize,
    extra: &[String],
    data_dir: &Path,
    cpus: Option<&str>,
    ready_path: &str,
) -> Result<(Proc, Url)> {
    std::fs::create_dir_all(data_dir).map_err(Error::file(data_dir))?;
    let port = free_port()?;
    let mut argv: Vec<String> = vec![
        bin.display().to_string(),
        "serve".into(),
        "--cores".into(),
        cores.to_string(),
        "--listen".into(),
        format!("127.0.0.1:{port}"),
        "--data-dir".into(),
        data_dir.display().to_string(),
    ];
    argv.extend(extra.iter().cloned());
    let mut proc = Proc::spawn("server", &argv, cpus, &data_dir.join("server.log"))?;
    let base = Url::parse(&format!("http://127.0.0.1:{port}"))?;
    proc.wait_ready(&Url::parse(&format!("{}{ready_path}", base.base()))?)?;
    Ok((proc, base))
}
