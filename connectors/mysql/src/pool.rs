//! The per-core connection pool: at most `pool_size` connections, opened lazily, owned by one
//! core and never shared with another, so it needs no lock (`Rc`, `Cell`, `RefCell`).
//!
//! A caller that finds no idle connection and no room to open one queues a oneshot sender;
//! a returned connection (or, when one was dropped, the right to open a new one) is handed to
//! the oldest waiter still listening. Grants travel inside guards ([`PooledConn`], [`Slot`])
//! whose `Drop` gives them back, so a waiter that gives up never leaks a connection.
//!
//! Mysql_async's own `Pool` is not used: it is built to be shared across threads, and its
//! recycler would run cleanup for our connections on whatever task it pleases.

use std::cell::{Cell, RefCell};
use std::collections::{HashSet, VecDeque};
use std::rc::Rc;
use std::time::{Duration, Instant};

use mysql_async::consts::StatusFlags;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, DriverError, Opts};
use percore_connector::{DbError, ErrorKind};
use tokio::sync::oneshot;
use tokio::time::timeout;

use crate::config::Config;
use crate::error::classify;

/// An idle connection older than this is pinged before use, so a server restart or
/// `wait_timeout` shows up as a reconnect rather than as a failed request.
const PING_AFTER: Duration = Duration::from_secs(30);

pub(crate) struct Pool {
    inner: Rc<Inner>,
}

struct Inner {
    config: Config,
    opts: Opts,
    idle: RefCell<Vec<(Conn, Instant)>>,
    /// Connections idle, in use or being opened.
    open: Cell<usize>,
    waiters: RefCell<VecDeque<oneshot::Sender<Grant>>>,
    /// MariaDB JSON columns as `(table, column)`, learnt by `describe`: on the wire they are
    /// LONGTEXT, and only this tells their results to decode as JSON.
    json_columns: JsonColumns,
}

/// `(table, column)` pairs; shared with result decoding.
pub(crate) type JsonColumns = Rc<RefCell<HashSet<(String, String)>>>;

enum Grant {
    Conn(PooledConn),
    /// Room for one more connection: the waiter opens it.
    Connect(Slot),
    /// Opening a connection failed; everyone waiting gets the error instead of waiting out
    /// the same failure in turn.
    Failed(DbError),
}

impl Pool {
    pub(crate) fn new(config: Config) -> Pool {
        let opts = config.opts();
        Pool {
            inner: Rc::new(Inner {
                config,
                opts,
                idle: RefCell::new(Vec::new()),
                open: Cell::new(0),
                waiters: RefCell::new(VecDeque::new()),
                json_columns: JsonColumns::default(),
            }),
        }
    }

    pub(crate) fn config(&self) -> &Config {
        &self.inner.config
    }

    /// A connection for the caller alone, until the guard drops.
    pub(crate) async fn get(&self) -> Result<PooledConn, DbError> {
        let inner = &self.inner;
        loop {
            let idle = inner.idle.borrow_mut().pop();
            if let Some((conn, since)) = idle {
                let mut pooled = PooledConn::new(conn, inner.clone(), true);
                if since.elapsed() < PING_AFTER || pooled.ping(inner.config.connect_timeout).await {
                    return Ok(pooled);
                }
                // A dead idle connection means the others are probably dead too.
                pooled.broken = true;
                inner.clear_idle();
                continue;
            }
            if inner.open.get() < inner.config.pool_size.max(1) {
                inner.open.set(inner.open.get() + 1);
                return Slot::new(inner.clone()).connect().await;
            }
            let (tx, rx) = oneshot::channel();
            inner.waiters.borrow_mut().push_back(tx);
            // Waiting for a turn counts against the statement timeout: a pool saturated by
            // slow statements answers `Timeout` rather than queueing without bound.
            match timeout(
                crate::exec::client_limit(inner.config.statement_timeout),
                rx,
            )
            .await
            {
                Err(_) => {
                    return Err(DbError::new(
                        ErrorKind::Timeout,
                        "No database connection became free within the statement timeout.",
                    ))
                }
                Ok(Err(_)) => continue,
                Ok(Ok(Grant::Conn(conn))) => return Ok(conn),
                Ok(Ok(Grant::Connect(slot))) => return slot.connect().await,
                Ok(Ok(Grant::Failed(err))) => return Err(err),
            }
        }
    }
}

impl Inner {
    fn give_back(self: &Rc<Self>, conn: Conn) {
        let mut pooled = PooledConn::new(conn, self.clone(), true);
        loop {
            let waiter = self.waiters.borrow_mut().pop_front();
            let Some(waiter) = waiter else { break };
            match waiter.send(Grant::Conn(pooled)) {
                Ok(()) => return,
                Err(Grant::Conn(back)) => pooled = back,
                Err(_) => unreachable!("send returns the grant it was given"),
            }
        }
        let conn = pooled
            .conn
            .take()
            .expect("a pooled connection holds its connection");
        self.idle.borrow_mut().push((conn, Instant::now()));
    }

    /// One connection closed: its place goes to the oldest waiter.
    fn slot_freed(self: &Rc<Self>) {
        self.open.set(self.open.get().saturating_sub(1));
        let waiter = self.waiters.borrow_mut().pop_front();
        if let Some(waiter) = waiter {
            self.open.set(self.open.get() + 1);
            // A waiter that stopped listening drops the slot, which frees it again for the next.
            let _ = waiter.send(Grant::Connect(Slot::new(self.clone())));
        }
    }

    fn fail_waiters(&self, err: &DbError) {
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        for waiter in waiters {
            let _ = waiter.send(Grant::Failed(err.clone()));
        }
    }

    fn clear_idle(self: &Rc<Self>) {
        let idle = std::mem::take(&mut *self.idle.borrow_mut());
        for (conn, _) in idle {
            drop(conn);
            self.slot_freed();
        }
    }
}

/// The right to one open connection, held while connecting.
pub(crate) struct Slot {
    pool: Option<Rc<Inner>>,
}

impl Slot {
    fn new(pool: Rc<Inner>) -> Slot {
        Slot { pool: Some(pool) }
    }

    async fn connect(mut self) -> Result<PooledConn, DbError> {
        let pool = self.pool.clone().expect("an armed slot");
        let config = &pool.config;
        let opened = match timeout(config.connect_timeout, Conn::new(pool.opts.clone())).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(err)) => Err(classify(&err)),
            Err(_) => Err(DbError::unavailable(
                "The database did not accept a connection in time.",
            )),
        };
        let result = match opened {
            Ok(mut conn) => match timeout(config.connect_timeout, setup(&mut conn, config)).await {
                Ok(()) => Ok(conn),
                Err(_) => Err(DbError::unavailable("The database did not answer in time.")),
            },
            Err(err) => Err(err),
        };
        match result {
            Ok(conn) => {
                self.pool = None;
                Ok(PooledConn::new(conn, pool, false))
            }
            Err(mut err) => {
                if err.kind != ErrorKind::Unavailable {
                    // Bad credentials or an unknown database: the service is unavailable
                    // whatever the request was.
                    err.kind = ErrorKind::Unavailable;
                }
                pool.fail_waiters(&err);
                Err(err)
            }
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            pool.slot_freed();
        }
    }
}

/// Session settings: the server-side statement timeout (MariaDB's `max_statement_time` in
/// seconds covers every statement; MySQL's `max_execution_time` in ms only SELECT, the
/// client-side timer covers the rest) and strict mode.
async fn setup(conn: &mut Conn, config: &Config) {
    let mariadb = conn.server_version().0 >= 10;
    let mut sets = Vec::new();
    let limit = config.statement_timeout;
    if !limit.is_zero() {
        sets.push(if mariadb {
            format!("max_statement_time = {:.3}", limit.as_secs_f64())
        } else {
            format!("max_execution_time = {}", limit.as_millis())
        });
    }
    if config.strict_mode {
        sets.push("sql_mode = CONCAT(@@SESSION.sql_mode, ',STRICT_ALL_TABLES')".to_owned());
    }
    if sets.is_empty() {
        return;
    }
    if let Err(err) = conn
        .query_drop(format!("SET SESSION {}", sets.join(", ")))
        .await
    {
        // A fork without the timeout variable still gets the client-side timer.
        tracing::warn!(error = %err, "mysql session setup failed; continuing without it");
    }
}

/// A connection checked out of the pool. Dropping it returns the connection, unless it may be
/// in an unknown state: broken, cancelled mid-statement, or inside a transaction. Then it is
/// closed (the server rolls back what it left open) and its place freed.
pub(crate) struct PooledConn {
    conn: Option<Conn>,
    pool: Rc<Inner>,
    /// Set while a statement runs; still set at drop means the caller was cancelled.
    pub(crate) busy: bool,
    pub(crate) broken: bool,
    reused: bool,
}

impl PooledConn {
    fn new(conn: Conn, pool: Rc<Inner>, reused: bool) -> PooledConn {
        PooledConn {
            conn: Some(conn),
            pool,
            busy: false,
            broken: false,
            reused,
        }
    }

    /// True when a connection that had already served a statement failed as a connection:
    /// most likely the server restarted or dropped it while idle, and a read can be retried
    /// on a fresh connection.
    pub(crate) fn went_stale(&self) -> bool {
        self.reused && self.broken
    }

    pub(crate) fn conn(&mut self) -> &mut Conn {
        self.conn
            .as_mut()
            .expect("a pooled connection holds its connection")
    }

    /// The MariaDB JSON columns known so far (see [`Inner::json_columns`]).
    pub(crate) fn json_columns(&self) -> JsonColumns {
        self.pool.json_columns.clone()
    }

    /// Records which of `table`'s columns hold JSON, replacing what was known.
    pub(crate) fn set_json_columns(&self, table: &str, columns: impl Iterator<Item = String>) {
        let mut known = self.pool.json_columns.borrow_mut();
        known.retain(|(t, _)| t != table);
        known.extend(columns.map(|c| (table.to_owned(), c)));
    }

    /// Broken, or still running an abandoned statement (after a client-side timeout).
    pub(crate) fn unusable(&self) -> bool {
        self.broken || self.busy
    }

    /// The statement ended and the connection is in a known state again.
    pub(crate) fn settle(&mut self) {
        self.busy = false;
    }

    /// After a lost connection. Unless the driver itself gave up (a protocol error on this
    /// connection alone), the others opened to the same server are likely gone too.
    pub(crate) fn mark_broken(&mut self, err: &mysql_async::Error) {
        self.broken = true;
        let driver_only = matches!(err, mysql_async::Error::Driver(d) if !matches!(d, DriverError::ConnectionClosed));
        if !driver_only {
            self.pool.clear_idle();
        }
    }

    async fn ping(&mut self, limit: Duration) -> bool {
        self.busy = true;
        let alive = matches!(timeout(limit, self.conn().ping()).await, Ok(Ok(())));
        self.busy = !alive;
        alive
    }

    fn reusable(&self) -> bool {
        let Some(conn) = &self.conn else { return false };
        let in_transaction = conn.last_ok_packet().is_some_and(|ok| {
            ok.status_flags()
                .contains(StatusFlags::SERVER_STATUS_IN_TRANS)
        });
        !self.busy && !self.broken && !conn.is_disconnected() && !in_transaction
    }
}

impl Drop for PooledConn {
    fn drop(&mut self) {
        if self.reusable() {
            if let Some(conn) = self.conn.take() {
                self.pool.give_back(conn);
            }
            return;
        }
        let Some(conn) = self.conn.take() else { return };
        if self.busy {
            crate::exec::kill_query(&self.pool.opts, self.pool.config.connect_timeout, conn.id());
        }
        drop(conn);
        self.pool.slot_freed();
    }
}
