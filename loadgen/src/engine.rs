//! The load engine: thread-per-core workers on monoio, each running its
//! share of the connections as local tasks. [`run`] is the only entry.
//!
//! Closed loop: every connection sends as soon as its previous response
//! arrived (optionally `pipeline` requests at a time), drawing tickets from
//! one shared counter so `-n` is exact. Open loop: connection `j` of `C`
//! owns request indices `j, j+C, j+2C, ...`, each due at `start + i/rate`;
//! latency is measured from that due time (coordinated-omission correction,
//! as wrk2 does), so a stalled server shows up as queueing delay.

mod conn;
mod response;
mod stats;
mod worker;

pub use response::{Done, ProtocolError, ResponseReader};
pub use stats::{ErrorCounts, Failure, Stats};

use crate::error::{Error, Result};
use crate::request::RequestPlan;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// When a run stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    Count(u64),
    Duration(Duration),
}

/// What is excluded at the start of a run.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Warmup {
    #[default]
    None,
    Count(u64),
    Duration(Duration),
}

/// Which monoio driver the workers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Driver {
    /// io_uring when the kernel allows it, else epoll (monoio's FusionDriver).
    #[default]
    Auto,
    /// io_uring only.
    Uring,
    /// epoll.
    Legacy,
}

#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub addr: SocketAddr,
    pub plan: Arc<RequestPlan>,
    pub users: usize,
    pub threads: usize,
    pub stop: Stop,
    /// Requests per second across all connections: open loop when set.
    pub rate: Option<f64>,
    pub warmup: Warmup,
    /// Requests in flight per connection (closed loop only).
    pub pipeline: usize,
    pub timeout: Duration,
    /// Measure open-loop latency from the intended send time.
    pub co_correction: bool,
    /// Body must contain this text, else a `body` error.
    pub expect: Option<Vec<u8>>,
    /// Collect `"id":N` values from bodies (used by the post scenario).
    pub capture_ids: bool,
    pub driver: Driver,
    /// Print a live progress line to stderr.
    pub progress: bool,
}

impl LoadConfig {
    pub fn new(addr: SocketAddr, plan: RequestPlan) -> LoadConfig {
        LoadConfig {
            addr,
            plan: Arc::new(plan),
            users: 1,
            threads: default_threads(),
            stop: Stop::Count(1),
            rate: None,
            warmup: Warmup::None,
            pipeline: 1,
            timeout: Duration::from_secs(30),
            co_correction: true,
            expect: None,
            capture_ids: false,
            driver: Driver::default(),
            progress: false,
        }
    }
}

pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Merged measurements of one run.
pub struct Outcome {
    pub stats: Stats,
    /// From the first measured send to the last measured completion.
    pub elapsed: Duration,
}

/// State shared by all workers for the run's duration.
pub(crate) struct Shared {
    pub cfg: LoadConfig,
    pub start: Instant,
    tickets: AtomicU64,
    warm_tickets: AtomicU64,
    /// Nanoseconds after `start` at which measuring began (0 = not yet).
    measure_origin: AtomicU64,
    pub cursor: Arc<AtomicU64>,
    pub done: AtomicU64,
    pub failed: AtomicU64,
    pub finished: AtomicBool,
}

/// What a closed-loop connection may do next.
pub(crate) enum Take {
    Warmup(usize),
    Measured(usize),
    Stop,
}

impl Shared {
    /// Claims up to `want` requests for a closed-loop connection.
    pub fn take(&self, want: usize, now: Instant) -> Take {
        match self.cfg.warmup {
            Warmup::Duration(d) if now < self.start + d => return Take::Warmup(want),
            Warmup::Count(w) if self.warm_tickets.load(Ordering::Relaxed) < w => {
                let got = self.warm_tickets.fetch_add(want as u64, Ordering::Relaxed);
                if got < w {
                    return Take::Warmup(want.min((w - got) as usize));
                }
            }
            _ => {}
        }
        let origin = self.origin(now);
        match self.cfg.stop {
            Stop::Count(n) => {
                let got = self.tickets.fetch_add(want as u64, Ordering::Relaxed);
                if got >= n {
                    Take::Stop
                } else {
                    Take::Measured(want.min((n - got) as usize))
                }
            }
            Stop::Duration(d) if now >= origin + d => Take::Stop,
            Stop::Duration(_) => Take::Measured(want),
        }
    }

    /// The instant measuring began, fixing it on the first call.
    fn origin(&self, now: Instant) -> Instant {
        // A plain load first: a CAS per request would bounce the cache line
        // between workers.
        let set = self.measure_origin.load(Ordering::Relaxed);
        if set != 0 {
            return self.start + Duration::from_nanos(set);
        }
        let ns = now.saturating_duration_since(self.start).as_nanos().max(1) as u64;
        let prev =
            self.measure_origin
                .compare_exchange(0, ns, Ordering::Relaxed, Ordering::Relaxed);
        match prev {
            Ok(_) => now,
            Err(prev) => self.start + Duration::from_nanos(prev),
        }
    }

    /// Open loop: how many leading request indices are warm-up.
    pub fn open_warmup_count(&self, rate: f64) -> u64 {
        match self.cfg.warmup {
            Warmup::None => 0,
            Warmup::Count(w) => w,
            Warmup::Duration(d) => (d.as_secs_f64() * rate).ceil() as u64,
        }
    }
}

/// Runs the load described by `cfg` and returns the merged measurements.
pub fn run(cfg: LoadConfig) -> Result<Outcome> {
    if cfg.users == 0 {
        return Err(Error::Arg("need at least one user (-c)".into()));
    }
    if cfg.rate.is_some_and(|r| r.is_nan() || r <= 0.0) {
        return Err(Error::Arg("--rate must be positive".into()));
    }
    let threads = cfg.threads.clamp(1, cfg.users);
    let progress = cfg.progress;
    let shared = Arc::new(Shared {
        cfg,
        start: Instant::now(),
        tickets: AtomicU64::new(0),
        warm_tickets: AtomicU64::new(0),
        measure_origin: AtomicU64::new(0),
        cursor: Arc::default(),
        done: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        finished: AtomicBool::new(false),
    });
    let results: Vec<Result<Stats>> = std::thread::scope(|s| {
        let ticker = progress.then(|| s.spawn(|| crate::progress::ticker(&shared)));
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let conns: Vec<usize> = (t..shared.cfg.users).step_by(threads).collect();
                let shared = shared.clone();
                std::thread::Builder::new()
                    .name(format!("loadgen-{t}"))
                    .spawn_scoped(s, move || worker::run(shared, conns))
                    .expect("spawning a worker thread")
            })
            .collect();
        let results = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::Arg("worker panicked".into())))
            })
            .collect();
        shared.finished.store(true, Ordering::Relaxed);
        if let Some(t) = ticker {
            let _ = t.join();
        }
        results
    });
    let mut stats = Stats::default();
    for r in results {
        stats.merge(r?);
    }
    let elapsed = match (stats.first_send, stats.last_done) {
        (Some(a), Some(b)) => b.saturating_duration_since(a),
        _ => Duration::ZERO,
    };
    Ok(Outcome { stats, elapsed })
}
