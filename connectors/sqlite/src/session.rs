//! [`SqliteSession`]: the core's write connection, held for a transaction.
//!
//! Sessions use the writer because a transaction must see its own writes and SQLite has one
//! writer per database anyway. `begin` is `BEGIN IMMEDIATE`: the write lock is taken up front
//! (waiting up to the busy timeout for another core's writer), so a transaction never fails
//! halfway with `SQLITE_BUSY` when it upgrades from reading to writing. Reads on this core keep
//! running on the read connections meanwhile (WAL), seeing the last committed state.
//!
//! A write statement stopped by the statement timeout inside a transaction makes SQLite roll
//! the whole transaction back (as `sqlite3_interrupt` documents); a later `commit` then fails.

use std::sync::Arc;
use std::time::Duration;

use percore_connector::{DbError, Executed, Rows, Session, Value};

use crate::conn::{CancelOnDrop, Conn};
use crate::error::{classify, unavailable};
use crate::exec::{execute_blocking, query_blocking};
use crate::pool::{blocking, Lease};

pub struct SqliteSession {
    /// `None` once a statement was abandoned mid-way (its caller was cancelled) or the
    /// connection broke; dropping the lease rolled back whatever was open.
    lease: Option<Lease>,
    timeout: Duration,
}

impl SqliteSession {
    pub(crate) fn new(lease: Lease, timeout: Duration) -> Self {
        SqliteSession {
            lease: Some(lease),
            timeout,
        }
    }

    async fn run<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&Conn) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, DbError> {
        let mut lease = self.lease.take().ok_or_else(|| {
            unavailable("This session lost its connection (a statement was cancelled or the connection broke); start a new one.")
        })?;
        let cancel = CancelOnDrop::new(lease.conn());
        let timeout = self.timeout;
        let (lease, result) = blocking(move || {
            let result = lease.run(timeout, f);
            (lease, result)
        })
        .await?;
        cancel.disarm();
        if !lease.is_broken() {
            self.lease = Some(lease);
        }
        result
    }

    async fn control(&mut self, sql: &'static str) -> Result<(), DbError> {
        self.run(move |c| {
            c.db.prepare_cached(sql)
                .and_then(|mut s| s.raw_execute())
                .map(drop)
                .map_err(classify)
        })
        .await
    }
}

impl Session for SqliteSession {
    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        let (sql, params): (Arc<str>, Arc<[Value]>) = (sql.into(), params.into());
        let collected = self
            .run(move |c| query_blocking(c, &sql, &params, false))
            .await?;
        let (names, rows) = collected.unwrap_or_default();
        Ok(Rows {
            columns: names.into(),
            rows,
        })
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<Executed, DbError> {
        let (sql, params): (Arc<str>, Arc<[Value]>) = (sql.into(), params.into());
        self.run(move |c| execute_blocking(c, &sql, &params)).await
    }

    async fn begin(&mut self) -> Result<(), DbError> {
        self.control("BEGIN IMMEDIATE").await
    }

    async fn commit(&mut self) -> Result<(), DbError> {
        self.control("COMMIT").await
    }

    async fn rollback(&mut self) -> Result<(), DbError> {
        self.control("ROLLBACK").await
    }
}
