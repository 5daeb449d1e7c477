//! The per-core pool: shared pipelined connections, plus exclusive ones for sessions and streams.
//!
//! tokio-postgres pipelines concurrent requests on one connection (each waits only for its own
//! responses, in order), so `query`/`execute` borrow a shared connection round-robin and never
//! wait for a free one. Work that changes session state (a transaction) or that may hold the
//! connection's read side for long (a stream whose reader is slow would stall every request
//! pipelined behind it) takes an exclusive connection instead: an idle one, or a new one, at
//! most `pool_size` at a time. Nothing here is shared across cores, so `Rc`/`RefCell` suffice;
//! no borrow is held across an `.await`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use futures_util::future::{FutureExt, LocalBoxFuture, Shared};
use percore_connector::DbError;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::conn::{self, Conn};
use crate::Config;

type Connecting = Shared<LocalBoxFuture<'static, Result<Rc<Conn>, DbError>>>;

enum Slot {
    Empty,
    /// One attempt shared by every caller that lands on this slot meanwhile, so fifty requests
    /// arriving at a cold pool open `pool_size` connections, not fifty.
    Connecting(Connecting),
    Ready(Rc<Conn>),
}

pub(crate) struct Pool {
    settings: Rc<Settings>,
    slots: RefCell<Vec<Slot>>,
    next: Cell<usize>,
    idle: RefCell<Vec<Rc<Conn>>>,
    exclusive: Arc<Semaphore>,
}

/// What opening a connection needs, shared with in-flight connect futures.
struct Settings {
    pg: tokio_postgres::Config,
    init_sql: String,
    config: Config,
}

impl Pool {
    pub fn new(config: Config) -> Self {
        let size = config.pool_size.max(1);
        Pool {
            settings: Rc::new(Settings {
                pg: config.pg_config(),
                init_sql: config.init_sql(),
                config,
            }),
            slots: RefCell::new((0..size).map(|_| Slot::Empty).collect()),
            next: Cell::new(0),
            idle: RefCell::new(Vec::new()),
            exclusive: Arc::new(Semaphore::new(size)),
        }
    }

    pub fn config(&self) -> &Config {
        &self.settings.config
    }

    async fn open(&self) -> Result<Rc<Conn>, DbError> {
        let settings = &self.settings;
        conn::connect(&settings.pg, &settings.init_sql, &settings.config).await
    }

    /// A connect attempt that runs as a task of its own: it makes progress (and its connect
    /// timeout means what it says) even when every caller waiting on it has gone away.
    fn open_detached(&self) -> Connecting {
        let settings = self.settings.clone();
        let task = tokio::task::spawn_local(async move {
            conn::connect(&settings.pg, &settings.init_sql, &settings.config).await
        });
        async move {
            task.await.unwrap_or_else(|_| {
                Err(DbError::unavailable(
                    "The database connection attempt was cancelled.",
                ))
            })
        }
        .boxed_local()
        .shared()
    }

    /// A shared connection, round-robin. A slot whose connection broke (or was never opened)
    /// is reopened here, so a database that comes back is used again without a restart.
    pub async fn shared(&self) -> Result<Rc<Conn>, DbError> {
        let len = self.slots.borrow().len();
        let index = self.next.get();
        self.next.set((index + 1) % len);
        let attempt = {
            let mut slots = self.slots.borrow_mut();
            match &slots[index] {
                Slot::Ready(conn) if conn.usable() => return Ok(conn.clone()),
                Slot::Connecting(attempt) => attempt.clone(),
                Slot::Ready(_) | Slot::Empty => {
                    let attempt = self.open_detached();
                    slots[index] = Slot::Connecting(attempt.clone());
                    attempt
                }
            }
        };
        let result = attempt.clone().await;
        let mut slots = self.slots.borrow_mut();
        // Only the attempt still installed may settle the slot; a newer one may have replaced it.
        if matches!(&slots[index], Slot::Connecting(current) if current.ptr_eq(&attempt)) {
            slots[index] = match &result {
                Ok(conn) => Slot::Ready(conn.clone()),
                Err(_) => Slot::Empty,
            };
        }
        result
    }

    /// A connection for the caller alone until the lease drops. Waits for a free lease at most
    /// the statement timeout (or the connect timeout when that is longer).
    pub async fn exclusive(self: &Rc<Self>) -> Result<Lease, DbError> {
        let config = self.config();
        let wait = config.statement_timeout.max(config.connect_timeout);
        let permit = match tokio::time::timeout(wait, self.exclusive.clone().acquire_owned()).await
        {
            Ok(Ok(permit)) => permit,
            _ => {
                return Err(DbError::unavailable(
                    "All database connections of this worker are busy.",
                ))
            }
        };
        let reused = loop {
            let Some(conn) = self.idle.borrow_mut().pop() else {
                break None;
            };
            if conn.usable() {
                break Some(conn);
            }
        };
        let conn = match reused {
            Some(conn) => conn,
            None => self.open().await?,
        };
        Ok(Lease {
            conn,
            pool: self.clone(),
            _permit: permit,
        })
    }
}

/// An exclusively held connection; back to the idle list on drop when still healthy.
pub(crate) struct Lease {
    conn: Rc<Conn>,
    pool: Rc<Pool>,
    _permit: OwnedSemaphorePermit,
}

impl Lease {
    pub fn conn(&self) -> &Conn {
        &self.conn
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.conn.usable() {
            self.pool.idle.borrow_mut().push(self.conn.clone());
        }
    }
}
