//! The per-core pools (N read connections, one writer) and the [`Lease`] that carries a
//! connection to a blocking thread and back home.
//!
//! A connection is either idle in its pool's channel or held by exactly one `Lease`, which also
//! holds a semaphore permit: the permits bound how many connections exist. Idle connections
//! sit in a `std::sync::mpsc` channel rather than a `RefCell<Vec<_>>` because leases finish on
//! blocking threads (when a statement completes after its caller stopped waiting, or a
//! session's rollback runs on drop) and must be able to hand the connection back from there;
//! the permit is released only after the connection is home, so the next holder finds it.

use std::cell::Cell;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use percore_connector::{DbError, ErrorKind};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Config;
use crate::conn::{self, Conn, Role};
use crate::error::{breaks_connection, internal, unavailable};

thread_local! {
    /// Set on every thread that has run one of our blocking closures: tokio's blocking pool
    /// threads never run async tasks, so work found here may block.
    static ON_BLOCKING_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Runs SQLite work on the runtime's blocking pool, never on the core's async thread.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, DbError> {
    spawn_blocking(f).await.map_err(|e| {
        if e.is_panic() {
            internal("The SQLite worker failed.")
        } else {
            unavailable("The server is shutting down.")
        }
    })
}

/// Starts `f` on the blocking pool without waiting for it.
pub(crate) fn spawn_blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> tokio::task::JoinHandle<T> {
    tokio::task::spawn_blocking(move || {
        ON_BLOCKING_THREAD.with(|b| b.set(true));
        f()
    })
}

pub(crate) struct Pool {
    role: Role,
    config: Arc<Config>,
    permits: Arc<Semaphore>,
    idle_tx: mpsc::Sender<Conn>,
    idle_rx: mpsc::Receiver<Conn>,
}

impl Pool {
    pub(crate) fn new(role: Role, config: Arc<Config>, size: usize) -> Self {
        let (idle_tx, idle_rx) = mpsc::channel();
        Pool {
            role,
            config,
            permits: Arc::new(Semaphore::new(size.max(1))),
            idle_tx,
            idle_rx,
        }
    }

    /// A connection of this pool, waiting at most `wait` for one to be free and at most the
    /// connect timeout for a new one to open.
    pub(crate) async fn acquire(&self, wait: Duration) -> Result<Lease, DbError> {
        let permit =
            match tokio::time::timeout(wait, Arc::clone(&self.permits).acquire_owned()).await {
                Ok(Ok(permit)) => permit,
                Ok(Err(_)) => return Err(internal("The connection pool is closed.")),
                Err(_) => return Err(self.busy()),
            };
        let home = self.idle_tx.clone();
        if let Ok(conn) = self.idle_rx.try_recv() {
            return Ok(Lease::new(conn, self.role, permit, home));
        }
        let config = Arc::clone(&self.config);
        let role = self.role;
        // The permit travels with the opening: if the caller gives up at the connect timeout,
        // a connection that opens late still comes home and is used by the next caller.
        let opening =
            blocking(move || conn::open(&config, role).map(|c| Lease::new(c, role, permit, home)));
        match tokio::time::timeout(self.config.connect_timeout, opening).await {
            Ok(lease) => lease?,
            Err(_) => Err(unavailable(
                "Opening the SQLite database took longer than the connect timeout.",
            )),
        }
    }

    fn busy(&self) -> DbError {
        let message = match self.role {
            Role::Write => {
                "Another session on this core held the write connection past the busy timeout."
            }
            Role::Read => "No read connection became free within the statement timeout.",
        };
        DbError::new(ErrorKind::Timeout, message)
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Closing the last connection checkpoints the WAL: file I/O, kept off the async thread.
        let idle: Vec<Conn> = self.idle_rx.try_iter().collect();
        if !idle.is_empty() {
            off_async_thread(move || drop(idle));
        }
    }
}

/// A connection checked out of its pool. Dropping it sends the connection home: rolled back
/// first if a transaction is still open, closed instead if it broke.
pub(crate) struct Lease {
    conn: Option<Conn>,
    role: Role,
    permit: Option<OwnedSemaphorePermit>,
    home: mpsc::Sender<Conn>,
    broken: bool,
}

impl Lease {
    fn new(conn: Conn, role: Role, permit: OwnedSemaphorePermit, home: mpsc::Sender<Conn>) -> Self {
        Lease {
            conn: Some(conn),
            role,
            permit: Some(permit),
            home,
            broken: false,
        }
    }

    pub(crate) fn conn(&self) -> &Conn {
        // Only `Drop` takes the connection out.
        self.conn
            .as_ref()
            .expect("a live lease holds its connection")
    }

    pub(crate) fn role(&self) -> Role {
        self.role
    }

    /// Runs `f` (on a blocking thread) under the statement deadline; an error that breaks the
    /// connection marks it to be closed instead of reused.
    pub(crate) fn run<T>(
        &mut self,
        timeout: Duration,
        f: impl FnOnce(&Conn) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let conn = self.conn();
        conn.ctl.arm(timeout);
        let result = f(conn);
        conn.ctl.disarm();
        if let Err(e) = &result {
            self.broken |= breaks_connection(e);
        }
        result
    }

    pub(crate) fn is_broken(&self) -> bool {
        self.broken
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        let permit = self.permit.take();
        let home = self.home.clone();
        if !self.broken && conn.db.is_autocommit() {
            // The common case needs no SQLite call at all.
            let _ = home.send(conn);
            drop(permit);
            return;
        }
        let broken = self.broken;
        off_async_thread(move || {
            conn.ctl.next_run();
            conn.ctl.disarm();
            let reusable =
                !broken && conn.db.execute_batch("ROLLBACK").is_ok() && conn.db.is_autocommit();
            if reusable {
                let _ = home.send(conn);
            } else {
                drop(conn);
            }
            drop(permit);
        });
    }
}

/// Runs `f` here when this is a blocking thread (or there is no runtime to hand it to), and on
/// the blocking pool otherwise.
fn off_async_thread(f: impl FnOnce() + Send + 'static) {
    if ON_BLOCKING_THREAD.with(Cell::get) {
        return f();
    }
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            drop(handle.spawn_blocking(move || {
                ON_BLOCKING_THREAD.with(|b| b.set(true));
                f()
            }));
        }
        Err(_) => f(),
    }
}
