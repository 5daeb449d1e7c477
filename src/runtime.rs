//! The per-core runtime: one pinned OS thread per core, each with its own tokio `current_thread`
//! runtime, `LocalSet`, `SO_REUSEPORT` listener and [`Worker`].
//!
//! Nothing on the request path crosses cores. What all cores read (the router, the config
//! snapshot, each core's counters for scraping) sits in one immutable [`Shared`] value.

mod listener;
pub mod shutdown;
pub mod sizing;
mod worker;

use std::net::SocketAddr;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use thiserror::Error;
use tokio::sync::watch;

use crate::api::Router;
use crate::auth::jwt::KeySet;
use crate::auth::password::Passwords;
use crate::config::{Config, ConfigError, SnapshotCell};
use crate::metrics::CoreStats;
pub use worker::Worker;

#[derive(Debug, Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the worker for CPU {cpu}: {message}")]
    Worker { cpu: usize, message: String },
    #[error("system database contents: {0}")]
    State(String),
}

/// Process-wide, read-only after start; every core holds an `Arc` of it.
pub struct Shared {
    pub router: Router,
    pub snapshot: SnapshotCell,
    /// Every core's counters, in core order, for `/metrics` and `/status`.
    pub stats: Vec<Arc<CoreStats>>,
    pub cpus: Vec<usize>,
    pub started: Instant,
    /// Session token signing and verification keys.
    pub keys: Arc<KeySet>,
    /// Password hashing, off the cores' event loops.
    pub passwords: Arc<Passwords>,
    /// Sessions logged out, checked on every authenticated request.
    pub revoked: Arc<crate::api::session::Revoked>,
}

/// A running server: its address and its worker threads.
pub struct Server {
    pub local_addr: SocketAddr,
    pub shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
    shutdown_timeout: Duration,
}

/// Binds every core's listener, starts and pins the workers, and returns once all of them
/// accept connections.
pub fn start(
    config: Config,
    boot: crate::system::Boot,
    passwords: Arc<Passwords>,
) -> Result<Server, StartError> {
    let allowed: Vec<usize> = core_affinity::get_core_ids()
        .map(|ids| ids.into_iter().map(|c| c.id).collect())
        .unwrap_or_else(|| {
            (0..std::thread::available_parallelism().map_or(1, |n| n.get())).collect()
        });
    let cpus = config.cores.resolve(&allowed)?;
    let nofile = sizing::raise_open_file_limit();
    let max_connections = sizing::max_connections_per_core(
        config.limits.max_connections_per_core,
        cpus.len(),
        nofile,
    );

    // Bind on this thread so a bad address fails the start; port 0 is resolved by the first
    // listener and reused by the rest, so every core shares one port.
    let mut addr = config.listen;
    let mut listeners = Vec::with_capacity(cpus.len());
    for _ in &cpus {
        let l = listener::bind(addr, config.backlog)
            .map_err(|source| StartError::Listen { addr, source })?;
        addr = l
            .local_addr()
            .map_err(|source| StartError::Listen { addr, source })?;
        listeners.push(l);
    }

    let config = Arc::new(config);
    let first = crate::system::state::snapshot(Arc::clone(&config), boot.state, None)
        .map_err(StartError::State)?;
    let shared = Arc::new(Shared {
        router: Router::new(),
        snapshot: SnapshotCell::new(first),
        stats: cpus
            .iter()
            .map(|_| Arc::new(CoreStats::default()))
            .collect(),
        cpus: cpus.clone(),
        started: Instant::now(),
        keys: boot.keys,
        passwords,
        revoked: Arc::new(crate::api::session::Revoked::new(boot.revoked)),
    });
    let (stop, stop_rx) = watch::channel(false);
    let (ready_tx, ready_rx) = mpsc::channel();
    let mut threads = Vec::with_capacity(cpus.len());
    for (index, (cpu, listener)) in cpus.iter().copied().zip(listeners).enumerate() {
        let ctx = worker::ThreadContext {
            index,
            cpu,
            listener,
            shared: Arc::clone(&shared),
            stop: stop_rx.clone(),
            ready: ready_tx.clone(),
            max_connections,
            limits: config.http_limits(),
            shutdown_timeout: config.shutdown_timeout,
        };
        let handle = std::thread::Builder::new()
            .name(format!("percore-{index}"))
            .spawn(move || worker::run_thread(ctx))
            .map_err(|e| StartError::Worker {
                cpu,
                message: e.to_string(),
            })?;
        threads.push(handle);
    }
    drop(ready_tx);
    let every = Duration::from_secs(2);
    if let Err(e) = crate::system::watch(Arc::clone(&shared), stop_rx.clone(), every) {
        tracing::warn!(error = %e, "cannot start the system database watcher");
    }
    for _ in &cpus {
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err((cpu, message))) => return Err(StartError::Worker { cpu, message }),
            Err(_) => {
                return Err(StartError::Worker {
                    cpu: usize::MAX,
                    message: "a worker exited during start".into(),
                })
            }
        }
    }
    tracing::info!(%addr, cores = cpus.len(), ?cpus, max_connections_per_core = max_connections, "serving");
    Ok(Server {
        local_addr: addr,
        shared,
        threads,
        stop,
        shutdown_timeout: config.shutdown_timeout,
    })
}

impl Server {
    /// Starts draining every core and waits for them, at most the configured shutdown timeout.
    /// Returns whether every core finished in time.
    pub fn shutdown(self) -> bool {
        let _ = self.stop.send(true);
        let deadline = Instant::now() + self.shutdown_timeout;
        while Instant::now() < deadline {
            if self.threads.iter().all(JoinHandle::is_finished) {
                for t in self.threads {
                    let _ = t.join();
                }
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        tracing::warn!("shutdown deadline reached with requests still in flight");
        false
    }

    /// Blocks until SIGTERM or SIGINT (caught by `signals`, installed before the server
    /// announced itself), then drains.
    pub fn run_until_signal(self, signals: Signals) -> bool {
        match signals.wait() {
            Ok(signal) => tracing::info!(signal, "draining"),
            Err(e) => tracing::error!(error = %e, "cannot wait for signals; draining now"),
        }
        self.shutdown()
    }
}

/// SIGTERM and SIGINT handlers. Install them before the server says it is listening: a signal
/// that arrives earlier would otherwise kill the process instead of draining it.
pub struct Signals {
    rt: tokio::runtime::Runtime,
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        let guard = rt.enter();
        let term = signal(SignalKind::terminate())?;
        let int = signal(SignalKind::interrupt())?;
        drop(guard);
        Ok(Signals { rt, term, int })
    }

    fn wait(mut self) -> std::io::Result<&'static str> {
        let (term, int) = (&mut self.term, &mut self.int);
        Ok(self.rt.block_on(async {
            tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            }
        }))
    }
}
