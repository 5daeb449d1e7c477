//! A connection held for one caller: transactions and statements that must see each other.

use percore_connector::{DbError, Executed, Rows, Session, Value};

use crate::pool::Lease;

pub struct PostgresSession {
    lease: Lease,
    /// Set before BEGIN is sent and cleared only once COMMIT/ROLLBACK has answered, so a future
    /// dropped halfway still counts as "maybe in a transaction" and gets rolled back.
    in_transaction: bool,
}

impl PostgresSession {
    pub(crate) fn new(lease: Lease) -> Self {
        PostgresSession {
            lease,
            in_transaction: false,
        }
    }

    async fn end(&mut self, sql: &str) -> Result<(), DbError> {
        let result = self.lease.conn().batch(sql).await;
        // Whatever the answer, the server has left the transaction: a failed COMMIT rolls back,
        // and a broken connection is not reused.
        self.in_transaction = false;
        result
    }
}

impl Session for PostgresSession {
    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        self.lease
            .conn()
            .query(sql, params, !self.in_transaction)
            .await
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<Executed, DbError> {
        let affected = self
            .lease
            .conn()
            .execute(sql, params, !self.in_transaction)
            .await?;
        Ok(Executed {
            affected,
            last_insert_id: None,
        })
    }

    async fn begin(&mut self) -> Result<(), DbError> {
        self.in_transaction = true;
        self.lease.conn().batch("BEGIN").await
    }

    async fn commit(&mut self) -> Result<(), DbError> {
        self.end("COMMIT").await
    }

    async fn rollback(&mut self) -> Result<(), DbError> {
        self.end("ROLLBACK").await
    }
}

impl Drop for PostgresSession {
    fn drop(&mut self) {
        // The lease returns the connection to the pool right after this; the queued ROLLBACK
        // reaches the server before any statement of the connection's next user.
        if self.in_transaction {
            self.lease.conn().rollback_detached();
        }
    }
}
