//! One SQLite connection, opened with the service's pragmas, and the [`Control`] through which
//! the async side stops the statement it runs: at its deadline, or when the caller gave up.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use percore_connector::DbError;
use rusqlite::{Connection, OpenFlags};

use crate::config::Config;
use crate::error::{classify, unavailable};

/// How many SQLite VM instructions run between two deadline checks: a few microseconds of work,
/// so a timeout lands promptly while `Instant::now()` stays off the profile.
const PROGRESS_OPS: i32 = 1000;

/// Prepared statements kept per connection (rusqlite's LRU keyed by SQL text).
const STATEMENT_CACHE: usize = 128;

/// Which pool a connection belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// `query_only`: a statement that would write is sent to the writer instead.
    Read,
    Write,
}

pub(crate) struct Conn {
    pub(crate) db: Connection,
    pub(crate) ctl: Arc<Control>,
}

/// Shared between the connection's progress handler (on whichever blocking thread runs it) and
/// the async side. Every use of the connection gets a new run number, so a late cancel aimed at
/// an earlier run can never stop a later statement.
pub(crate) struct Control {
    /// Nanoseconds since [`epoch`] after which the running statement is interrupted; 0 = none.
    deadline: AtomicU64,
    run: AtomicU64,
    cancelled: AtomicU64,
}

impl Control {
    pub(crate) fn new() -> Self {
        Control {
            deadline: AtomicU64::new(0),
            run: AtomicU64::new(0),
            // No run ever reaches this number.
            cancelled: AtomicU64::new(u64::MAX),
        }
    }

    /// Starts a new run and returns its number, for [`CancelOnDrop`].
    pub(crate) fn next_run(&self) -> u64 {
        self.run.fetch_add(1, Relaxed) + 1
    }

    pub(crate) fn arm(&self, timeout: Duration) {
        let ns = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX / 2);
        self.deadline.store(now_ns().saturating_add(ns), Relaxed);
    }

    pub(crate) fn disarm(&self) {
        self.deadline.store(0, Relaxed);
    }

    fn should_stop(&self) -> bool {
        if self.cancelled.load(Relaxed) == self.run.load(Relaxed) {
            return true;
        }
        let deadline = self.deadline.load(Relaxed);
        deadline != 0 && now_ns() >= deadline
    }
}

/// Interrupts run `run` when dropped while armed: a caller that stops waiting (client gone,
/// stream dropped) does not leave SQLite computing for nobody.
pub(crate) struct CancelOnDrop {
    ctl: Arc<Control>,
    run: u64,
    armed: bool,
}

impl CancelOnDrop {
    pub(crate) fn new(conn: &Conn) -> Self {
        CancelOnDrop {
            run: conn.ctl.next_run(),
            ctl: Arc::clone(&conn.ctl),
            armed: true,
        }
    }

    pub(crate) fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if self.armed {
            self.ctl.cancelled.store(self.run, Relaxed);
        }
    }
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ns() -> u64 {
    // +1 keeps 0 free to mean "no deadline".
    u64::try_from(epoch().elapsed().as_nanos()).unwrap_or(u64::MAX / 2) + 1
}

/// Opens and configures a connection. Blocking: runs on a blocking thread.
pub(crate) fn open(config: &Config, role: Role) -> Result<Conn, DbError> {
    let _ = epoch();
    let path: &Path = &config.path;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            unavailable(format!(
                "The SQLite database directory cannot be created ({}).",
                e.kind()
            ))
        })?;
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let db = Connection::open_with_flags(path, flags).map_err(|e| match classify(e) {
        e if e.kind == percore_connector::ErrorKind::Unavailable => e,
        e => unavailable(format!(
            "The SQLite database cannot be opened: {}",
            e.message
        )),
    })?;
    // A busy wait longer than the statement timeout would outlast the statement it serves.
    db.busy_timeout(config.busy_timeout.min(config.statement_timeout))
        .map_err(classify)?;
    // WAL lets readers run beside the writer; the mode is persistent, so this is a no-op after
    // the first connection. NORMAL is durable across application crashes in WAL mode.
    let _mode: String = db
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(classify)?;
    db.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
        .map_err(classify)?;
    if role == Role::Read {
        db.execute_batch("PRAGMA query_only = ON;")
            .map_err(classify)?;
    }
    db.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let ctl = Arc::new(Control::new());
    let handler_ctl = Arc::clone(&ctl);
    db.progress_handler(PROGRESS_OPS, Some(move || handler_ctl.should_stop()));
    Ok(Conn { db, ctl })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_reaches_only_its_own_run() {
        let ctl = Arc::new(Control::new());
        let first = ctl.next_run();
        ctl.cancelled.store(first, Relaxed);
        assert!(ctl.should_stop());
        ctl.next_run();
        assert!(
            !ctl.should_stop(),
            "a stale cancel must not stop the next run"
        );
        ctl.arm(Duration::ZERO);
        assert!(ctl.should_stop());
        ctl.disarm();
        assert!(!ctl.should_stop());
    }
}
