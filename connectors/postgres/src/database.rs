//! [`PostgresDatabase`]: the per-core handle the API layer talks to.

use std::rc::Rc;

use percore_connector::{
    Database, DbError, Dialect, Executed, RowStream, Rows, TableSchema, Value,
};

use crate::pool::Pool;
use crate::session::PostgresSession;
use crate::{schema, stream, Config, DIALECT};

/// One core's view of a PostgreSQL service. Cheap to clone; create one per core, on that core.
#[derive(Clone)]
pub struct PostgresDatabase {
    pool: Rc<Pool>,
}

impl PostgresDatabase {
    /// No I/O: connections open on first use, so a database that is down at start-up does not
    /// stop the server, and one that comes back later is picked up without a restart.
    pub fn new(config: Config) -> Self {
        PostgresDatabase {
            pool: Rc::new(Pool::new(config)),
        }
    }

    pub fn config(&self) -> &Config {
        self.pool.config()
    }
}

impl Database for PostgresDatabase {
    type Session = PostgresSession;

    fn dialect(&self) -> &'static dyn Dialect {
        &DIALECT
    }

    async fn query(&self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        self.pool.shared().await?.query(sql, params, true).await
    }

    async fn query_stream(&self, sql: String, params: Vec<Value>) -> Result<RowStream, DbError> {
        stream::query_stream(&self.pool, sql, params).await
    }

    async fn execute(&self, sql: &str, params: &[Value]) -> Result<Executed, DbError> {
        let affected = self.pool.shared().await?.execute(sql, params, true).await?;
        Ok(Executed {
            affected,
            last_insert_id: None,
        })
    }

    async fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        self.pool.shared().await?.batch(sql).await
    }

    async fn session(&self) -> Result<PostgresSession, DbError> {
        Ok(PostgresSession::new(self.pool.exclusive().await?))
    }

    async fn tables(&self) -> Result<Vec<String>, DbError> {
        schema::tables(&*self.pool.shared().await?).await
    }

    async fn describe(&self, table: &str) -> Result<Option<TableSchema>, DbError> {
        schema::describe(&*self.pool.shared().await?, table).await
    }
}
