//! One connection held for a caller: transactions, and statements that must see each other.

use std::time::Duration;

use percore_connector::{DbError, ErrorKind, Executed, Rows, Session, Value};

use crate::exec;
use crate::pool::PooledConn;

/// A pooled connection held until dropped. Dropping it inside a transaction closes the
/// connection instead of returning it, and the server rolls the transaction back; an explicit
/// [`Session::rollback`] keeps the connection for reuse.
pub struct MysqlSession {
    conn: PooledConn,
    limit: Duration,
    in_transaction: bool,
}

impl MysqlSession {
    pub(crate) fn new(conn: PooledConn, limit: Duration) -> MysqlSession {
        MysqlSession {
            conn,
            limit,
            in_transaction: false,
        }
    }

    async fn control(&mut self, sql: &str) -> Result<(), DbError> {
        exec::batch(&mut self.conn, self.limit, sql).await
    }
}

impl Session for MysqlSession {
    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        exec::query(&mut self.conn, self.limit, sql, params).await
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<Executed, DbError> {
        exec::execute(&mut self.conn, self.limit, sql, params).await
    }

    async fn begin(&mut self) -> Result<(), DbError> {
        if self.in_transaction {
            // MySQL would silently commit the open transaction and start another.
            return Err(DbError::new(
                ErrorKind::Internal,
                "A transaction is already open.",
            ));
        }
        self.control("START TRANSACTION").await?;
        self.in_transaction = true;
        Ok(())
    }

    async fn commit(&mut self) -> Result<(), DbError> {
        self.control("COMMIT").await?;
        self.in_transaction = false;
        Ok(())
    }

    async fn rollback(&mut self) -> Result<(), DbError> {
        self.control("ROLLBACK").await?;
        self.in_transaction = false;
        Ok(())
    }
}

impl Drop for MysqlSession {
    fn drop(&mut self) {
        if self.in_transaction {
            // Rolling back needs an await; closing the connection has the same effect.
            self.conn.broken = true;
        }
    }
}
