//! One core's worker: its thread, runtime, accept loop and all its per-core state.

use std::cell::RefCell;
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use arc_swap::{ArcSwap, Cache};
use futures_util::FutureExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::LocalSet;

use super::shutdown::{ConnTracker, Drain};
use super::Shared;
use crate::config::Snapshot;
use crate::http::{self, Engine, Handler, Limits, Request, Response};

/// Everything one core owns. Connections on this core share it through an `Rc`; it never
/// leaves the thread.
pub struct Worker {
    pub index: usize,
    pub cpu: usize,
    pub engine: Engine,
    pub shared: Arc<Shared>,
    /// This core's view of the published snapshot; refreshed lazily when a new one appears.
    snapshot: RefCell<Cache<Arc<ArcSwap<Snapshot>>, Arc<Snapshot>>>,
    /// The snapshot as this core hands it out (see [`Worker::snapshot`]).
    local_snapshot: RefCell<LocalSnapshot>,
    conns: ConnTracker,
    /// Connections being answered 503 (not counted in `conns`).
    rejecting: ConnTracker,
    /// Past this many open connections, new ones get 503 at once.
    pub max_connections: usize,
    /// This core's service instances and their connection pools.
    pub services: crate::services::Registry,
    /// This core's connections to the system database.
    pub system: crate::services::AnyDb,
    /// The system API's table engine over the system database (its own connections, opened
    /// on first use: most cores never serve an admin).
    pub system_api: crate::services::AnyService,
    /// Failed logins seen on this core (per account and per client address).
    pub throttle: crate::auth::throttle::CoreThrottle,
    /// Self-registrations seen on this core, per client address.
    pub registrations: crate::auth::throttle::CoreThrottle,
    /// This core's JavaScript runtime, for event scripts and scripted services.
    pub scripts: crate::scripts::QuickJs,
    /// The last `platform.session` text made on this core, reused while the caller is the same
    /// (calls on a keep-alive connection usually are).
    pub script_session: crate::api::scripted::SessionCache,
}

/// The snapshot behind a per-core, non-atomic count. The `Rc` around the `Arc` is deliberate:
/// one extra allocation per publish per core buys a request path that never writes the shared
/// count.
#[allow(clippy::redundant_allocation)]
pub type LocalSnapshot = Rc<Arc<Snapshot>>;

impl Worker {
    /// The current snapshot. Cheap: a pointer comparison and a non-atomic count. Handing out
    /// `Arc` clones instead would make every core bump the same reference count on every
    /// request, a cache line bouncing between cores on the hot path.
    pub fn snapshot(&self) -> LocalSnapshot {
        let mut cache = self.snapshot.borrow_mut();
        let current = cache.load();
        let mut local = self.local_snapshot.borrow_mut();
        if !Arc::ptr_eq(&local, current) {
            *local = Rc::new(Arc::clone(current));
        }
        Rc::clone(&local)
    }
}

impl Handler for Worker {
    fn call(&self, req: &Request<'_>) -> impl Future<Output = Response> {
        crate::api::dispatch(self, req)
    }
}

/// Connections being answered 503 at once, per core.
const MAX_REJECTING: usize = 256;

pub(super) struct ThreadContext {
    pub index: usize,
    pub cpu: usize,
    pub listener: std::net::TcpListener,
    pub shared: Arc<Shared>,
    pub stop: watch::Receiver<bool>,
    pub ready: mpsc::Sender<Result<(), (usize, String)>>,
    pub max_connections: usize,
    pub limits: Limits,
    pub shutdown_timeout: Duration,
}

/// Runs on each of the core's blocking-pool threads (SQLite statements, file I/O) as it starts:
/// they inherit the worker's CPU, and as ordinary threads every wake-up (one per statement)
/// would preempt the worker mid-request. `SCHED_BATCH` threads never preempt on wake-up, so
/// the worker goes on serving until it waits, and the statements queued meanwhile run
/// together: far fewer context switches, and the worker's caches stay warm.
fn blocking_threads_yield_to_worker() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: plain syscall on the calling thread with a valid parameter struct.
    if unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) } != 0 {
        tracing::debug!("could not make a blocking thread SCHED_BATCH");
    }
}

pub(super) fn run_thread(ctx: ThreadContext) {
    let cpu = ctx.cpu;
    let ready = ctx.ready.clone();
    let fail = move |message: String| {
        let _ = ready.send(Err((cpu, message)));
    };
    if !core_affinity::set_for_current(core_affinity::CoreId { id: cpu }) {
        tracing::warn!(cpu, "could not pin the worker thread; it will float");
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .on_thread_start(blocking_threads_yield_to_worker)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(e.to_string()),
    };
    let local = LocalSet::new();
    local.block_on(&rt, async move {
        let listener = match TcpListener::from_std(ctx.listener) {
            Ok(l) => l,
            Err(e) => return fail(e.to_string()),
        };
        let stats = Arc::clone(&ctx.shared.stats[ctx.index]);
        let system = match crate::system::open(&ctx.shared.snapshot.load().config) {
            Ok(db) => db,
            Err(e) => return fail(e.to_string()),
        };
        let system_api = match crate::system::open(&ctx.shared.snapshot.load().config) {
            Ok(db) => crate::services::AnyService::system(db),
            Err(e) => return fail(e.to_string()),
        };
        let scripts = match script_engine(&ctx.shared.snapshot.load().config) {
            Ok(engine) => engine,
            Err(e) => return fail(e.to_string()),
        };
        let worker = Rc::new(Worker {
            index: ctx.index,
            cpu,
            engine: Engine::new(ctx.limits, stats, Drain::default()),
            local_snapshot: RefCell::new(Rc::new(ctx.shared.snapshot.load())),
            snapshot: RefCell::new(ctx.shared.snapshot.reader()),
            shared: ctx.shared,
            conns: ConnTracker::default(),
            rejecting: ConnTracker::default(),
            max_connections: ctx.max_connections,
            services: crate::services::Registry::default(),
            system,
            system_api,
            throttle: crate::auth::throttle::CoreThrottle::new(Default::default()),
            registrations: crate::auth::throttle::CoreThrottle::new(
                crate::auth::throttle::Policy::registrations(),
            ),
            scripts,
            script_session: Default::default(),
        });
        let _ = ctx.ready.send(Ok(()));
        serve(worker, listener, ctx.stop, ctx.shutdown_timeout).await;
    });
}

/// The core's script runtime, created when the core starts (a runtime and its prelude cost
/// well under a millisecond; scripts compile on first use).
fn script_engine(
    config: &crate::config::Config,
) -> Result<crate::scripts::QuickJs, crate::scripts::ScriptError> {
    crate::scripts::QuickJs::with_options(crate::scripts::quickjs::QuickJsOptions {
        memory_limit: config.scripts.memory_limit,
        config: serde_json::json!({
            "server": "percore",
            "version": env!("CARGO_PKG_VERSION"),
            "api_version": "2.0",
        }),
        store: crate::scripts::Store::instance(),
    })
}

async fn serve(
    worker: Rc<Worker>,
    listener: TcpListener,
    mut stop: watch::Receiver<bool>,
    shutdown_timeout: Duration,
) {
    let ticker = Rc::clone(&worker);
    tokio::task::spawn_local(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tick.tick().await;
            ticker.engine.date.refresh();
        }
    });
    let drain = worker.engine.drain.clone();
    tokio::task::spawn_local(async move {
        // A dropped sender means the process is going away: drain as well.
        let _ = stop.wait_for(|stop| *stop).await;
        drain.start();
    });

    loop {
        tokio::select! {
            biased;
            _ = worker.engine.drain.wait() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => spawn_connection(&worker, stream, peer),
                Err(e) => {
                    // EMFILE and friends: back off briefly instead of spinning on the error.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
        }
    }
    // Connections the kernel completed before we stopped are served, not reset.
    while let Some(Ok((stream, peer))) = listener.accept().now_or_never() {
        spawn_connection(&worker, stream, peer);
    }
    drop(listener);
    let _ = tokio::time::timeout(shutdown_timeout, worker.conns.all_closed()).await;
}

fn spawn_connection(worker: &Rc<Worker>, stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let worker = Rc::clone(worker);
    if worker.conns.count() >= worker.max_connections {
        // Answering 503 costs a task and a descriptor for up to the linger time; under a flood
        // past MAX_REJECTING of those, new connections are closed without an answer instead.
        if worker.rejecting.count() >= MAX_REJECTING {
            worker.engine.stats.overload_rejected();
            return;
        }
        let slot = worker.rejecting.open();
        tokio::task::spawn_local(async move {
            http::conn::reject_overloaded(stream, &worker.engine).await;
            drop(slot);
        });
        return;
    }
    let guard = worker.conns.open();
    worker.engine.stats.connection_opened();
    tokio::task::spawn_local(async move {
        http::conn::serve(stream, peer, &worker.engine, &*worker).await;
        worker.engine.stats.connection_closed();
        drop(guard);
    });
}
