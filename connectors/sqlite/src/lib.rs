//! The SQLite connector of percore: [`SqliteDatabase`] implements
//! [`percore_connector::Database`] over rusqlite with a bundled SQLite (no system library).
//!
//! # Threads, connections and why a slow write stalls nothing
//!
//! SQLite calls block, and the core's async thread serves every HTTP connection of the core,
//! so no statement ever runs on it. Each statement runs on tokio's blocking pool
//! (`spawn_blocking`, available in the core's `current_thread` runtime): the connection is
//! moved into the closure and handed back when it ends. The async thread only awaits.
//!
//! Per core there are `read_connections` read connections (`PRAGMA query_only`) and one write
//! connection. [`Database::query`] and streams run on a
//! read connection; a statement SQLite reports as writing (`INSERT ... RETURNING` sent as a
//! query) is rerun on the writer. Writes, DDL and [`SqliteSession`]s use the writer. The
//! database is in WAL mode, so readers never wait for the writer: while one session holds a
//! long write transaction, or one write statement runs for seconds, reads on the same core go
//! on at full speed on their own connections and threads, and the async thread keeps serving.
//! Only other writes on the core wait, for at most `busy_timeout` - just as SQLite makes a
//! writer on another core wait (its busy handler) before failing with `Timeout`.
//!
//! The statement timeout is enforced by SQLite's progress handler, which checks a deadline
//! every thousand VM instructions and interrupts the statement past it. The same hook stops a
//! statement whose caller went away (a cancelled request future, a dropped stream).
//!
//! # Layout
//!
//! - `lib.rs`: [`SqliteDatabase`] and its `Database` implementation.
//! - `config.rs`: [`Config`] and `sqlite:` URLs.
//! - `dialect.rs`: [`DIALECT`], SQL text for SQLite.
//! - `types.rs`: declared types to DreamFactory types by SQLite's affinity rules.
//! - `conn.rs`: opening a connection (WAL, `synchronous=NORMAL`, `foreign_keys=ON`) and the
//!   deadline/cancel control its progress handler reads.
//! - `pool.rs`: the per-core read and write pools and the lease that carries a connection to a
//!   blocking thread and back.
//! - `exec.rs`: running one statement (cached prepare, bind, step, read).
//! - `value.rs`: `Value` to parameter and result value to `Value`.
//! - `stream.rs`: `query_stream`, a producer thread and a bounded channel.
//! - `session.rs`: [`SqliteSession`], transactions on the writer.
//! - `describe.rs`: `tables` and `describe` through the schema pragmas.
//! - `error.rs`: rusqlite errors to classified, client-safe `DbError`s.

mod config;
mod conn;
mod describe;
mod dialect;
mod error;
mod exec;
mod pool;
mod session;
mod stream;
mod types;
mod value;

use std::rc::Rc;
use std::sync::Arc;

use percore_connector::{
    Database, DbError, Dialect, Executed, RowStream, Rows, TableSchema, Value,
};

pub use config::Config;
pub use dialect::{SqliteDialect, DIALECT};
pub use session::SqliteSession;

use conn::{CancelOnDrop, Role};
use error::internal;
use pool::{blocking, Lease, Pool};

/// One SQLite database as one core sees it. Cheap to clone; connections open on first use.
#[derive(Clone)]
pub struct SqliteDatabase {
    inner: Rc<Inner>,
}

struct Inner {
    config: Arc<Config>,
    read: Pool,
    write: Pool,
}

impl SqliteDatabase {
    /// No I/O: a file that cannot be opened now only fails the calls made while it cannot.
    pub fn new(config: Config) -> Self {
        let config = Arc::new(config);
        SqliteDatabase {
            inner: Rc::new(Inner {
                read: Pool::new(Role::Read, Arc::clone(&config), config.read_connections),
                write: Pool::new(Role::Write, Arc::clone(&config), 1),
                config,
            }),
        }
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    async fn reader(&self) -> Result<Lease, DbError> {
        self.inner
            .read
            .acquire(self.inner.config.statement_timeout)
            .await
    }

    async fn writer(&self) -> Result<Lease, DbError> {
        self.inner
            .write
            .acquire(self.inner.config.busy_timeout)
            .await
    }

    fn timeout(&self) -> std::time::Duration {
        self.inner.config.statement_timeout
    }

    /// Runs `f` on a read connection under the statement timeout.
    async fn on_reader<T: Send + 'static>(
        &self,
        f: impl FnOnce(&conn::Conn) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, DbError> {
        let mut lease = self.reader().await?;
        let cancel = CancelOnDrop::new(lease.conn());
        let timeout = self.timeout();
        let result = blocking(move || lease.run(timeout, f)).await;
        cancel.disarm();
        result?
    }
}

impl Database for SqliteDatabase {
    type Session = SqliteSession;

    fn dialect(&self) -> &'static dyn Dialect {
        &DIALECT
    }

    async fn query(&self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        let (sql, params): (Arc<str>, Arc<[Value]>) = (sql.into(), params.into());
        let read = exec::query(
            self.reader().await?,
            Arc::clone(&sql),
            Arc::clone(&params),
            self.timeout(),
        )
        .await?;
        if let Some(rows) = read {
            return Ok(rows);
        }
        exec::query(self.writer().await?, sql, params, self.timeout())
            .await?
            .ok_or_else(|| internal("The write connection refused a statement."))
    }

    async fn query_stream(&self, sql: String, params: Vec<Value>) -> Result<RowStream, DbError> {
        let (sql, params): (Arc<str>, Arc<[Value]>) = (sql.into(), params.into());
        let read = stream::start(
            self.reader().await?,
            Arc::clone(&sql),
            Arc::clone(&params),
            self.timeout(),
        )
        .await?;
        if let Some(rows) = read {
            return Ok(rows);
        }
        stream::start(self.writer().await?, sql, params, self.timeout())
            .await?
            .ok_or_else(|| internal("The write connection refused a statement."))
    }

    async fn execute(&self, sql: &str, params: &[Value]) -> Result<Executed, DbError> {
        exec::execute(
            self.writer().await?,
            sql.into(),
            params.into(),
            self.timeout(),
        )
        .await
    }

    async fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        exec::execute_batch(self.writer().await?, sql.to_owned(), self.timeout()).await
    }

    async fn session(&self) -> Result<SqliteSession, DbError> {
        Ok(SqliteSession::new(self.writer().await?, self.timeout()))
    }

    async fn tables(&self) -> Result<Vec<String>, DbError> {
        self.on_reader(describe::tables).await
    }

    async fn describe(&self, table: &str) -> Result<Option<TableSchema>, DbError> {
        let table = table.to_owned();
        self.on_reader(move |c| describe::describe(c, &table)).await
    }
}
