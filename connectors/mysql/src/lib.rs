//! MySQL and MariaDB connector for percore, on `mysql_async` (plain TCP or unix socket, no TLS
//! backend, no system libraries).
//!
//! Each core builds its own [`MysqlDatabase`]: a pool of up to `pool_size` connections that
//! open on first use and never leave the core. Every value is a bound parameter of a prepared
//! statement, cached per connection by SQL text.
//!
//! # Layout
//!
//! - `lib.rs`: [`MysqlDatabase`], the [`Database`] implementation.
//! - `config.rs`: [`Config`] and its `mysql://` URL form.
//! - `pool.rs`: the per-core pool, its waiters, and session setup at connect.
//! - `exec.rs`: one statement under the statement timeout; killing abandoned statements.
//! - `stream.rs`: [`Database::query_stream`]'s producer task and bounded channel.
//! - `session.rs`: [`MysqlSession`], transactions on one connection.
//! - `convert.rs`: [`Value`] to parameters, result columns to [`Value`].
//! - `schema.rs`: `tables()` and `describe()` from `information_schema`.
//! - `dialect.rs`: [`DIALECT`], backtick quoting, `?`, `ON DUPLICATE KEY`, column types.
//! - `error.rs`: server error codes to [`ErrorKind`](percore_connector::ErrorKind).

mod config;
mod convert;
mod dialect;
mod error;
mod exec;
mod pool;
mod schema;
mod session;
mod stream;

use std::rc::Rc;
use std::time::Duration;

use percore_connector::{
    Database, DbError, Dialect, Executed, RowStream, Rows, TableSchema, Value,
};

pub use config::Config;
pub use dialect::{MysqlDialect, DIALECT};
pub use session::MysqlSession;

/// One core's view of a MySQL/MariaDB database. Cheap to clone; not `Send`.
#[derive(Clone)]
pub struct MysqlDatabase {
    pool: Rc<pool::Pool>,
}

impl MysqlDatabase {
    /// No I/O: connections open on first use, so a database that is down at start does not
    /// stop the server.
    pub fn new(config: Config) -> Self {
        MysqlDatabase {
            pool: Rc::new(pool::Pool::new(config)),
        }
    }

    pub fn config(&self) -> &Config {
        self.pool.config()
    }

    fn limit(&self) -> Duration {
        exec::client_limit(self.pool.config().statement_timeout)
    }
}

impl Database for MysqlDatabase {
    type Session = MysqlSession;

    fn dialect(&self) -> &'static dyn Dialect {
        &DIALECT
    }

    async fn query(&self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        let mut conn = self.pool.get().await?;
        match exec::query(&mut conn, self.limit(), sql, params).await {
            // Reads are retried once after a restart or an idle disconnect; writes are not,
            // since the first attempt may have been applied.
            Err(_) if conn.went_stale() => {
                drop(conn);
                let mut conn = self.pool.get().await?;
                exec::query(&mut conn, self.limit(), sql, params).await
            }
            result => result,
        }
    }

    async fn query_stream(&self, sql: String, params: Vec<Value>) -> Result<RowStream, DbError> {
        let conn = self.pool.get().await?;
        match stream::start(conn, self.limit(), sql.clone(), &params).await {
            Ok(rows) => Ok(rows),
            Err(err) if err.stale => {
                let conn = self.pool.get().await?;
                stream::start(conn, self.limit(), sql, &params)
                    .await
                    .map_err(|e| e.error)
            }
            Err(err) => Err(err.error),
        }
    }

    async fn execute(&self, sql: &str, params: &[Value]) -> Result<Executed, DbError> {
        let mut conn = self.pool.get().await?;
        exec::execute(&mut conn, self.limit(), sql, params).await
    }

    async fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        let mut conn = self.pool.get().await?;
        exec::batch(&mut conn, self.limit(), sql).await
    }

    async fn session(&self) -> Result<MysqlSession, DbError> {
        Ok(MysqlSession::new(self.pool.get().await?, self.limit()))
    }

    async fn tables(&self) -> Result<Vec<String>, DbError> {
        let mut conn = self.pool.get().await?;
        match schema::tables(&mut conn, self.limit()).await {
            Err(_) if conn.went_stale() => {
                drop(conn);
                schema::tables(&mut self.pool.get().await?, self.limit()).await
            }
            result => result,
        }
    }

    async fn describe(&self, table: &str) -> Result<Option<TableSchema>, DbError> {
        let mut conn = self.pool.get().await?;
        match schema::describe(&mut conn, self.limit(), table).await {
            Err(_) if conn.went_stale() => {
                drop(conn);
                schema::describe(&mut self.pool.get().await?, self.limit(), table).await
            }
            result => result,
        }
    }
}
