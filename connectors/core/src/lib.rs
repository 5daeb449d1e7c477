//! The contract between percore's API pipeline and its database connectors.
//!
//! # Layout
//!
//! - [`Database`]: the per-core handle a connector gives the API (a pool whose connections never
//!   leave the core), with [`Session`] for work that needs one connection (transactions).
//! - [`Dialect`]: everything about SQL text that differs between databases (quoting,
//!   placeholders, LIMIT/OFFSET, RETURNING, upsert, types). The API builds SQL only through it.
//! - [`Value`] and [`Row`]: bound parameters and result values; rows stream as [`RowStream`].
//! - [`schema`]: tables, columns, keys and relations as introspected by the connector.
//! - [`DbError`]: one error type, classified so the API can pick the HTTP status.
//!
//! Connectors live beside this crate: `connectors/sqlite`, `connectors/postgres`,
//! `connectors/mysql`.

mod dialect;
mod error;
pub mod schema;
pub mod value;

use std::future::Future;
use std::rc::Rc;

use futures_util::stream::LocalBoxStream;

pub use dialect::{Dialect, Routine, Upsert};
pub use error::{DbError, ErrorKind};
pub use schema::{Column, ColumnType, ForeignKey, TableSchema};
pub use value::Value;

/// One result row; values in the order of [`Rows::columns`].
pub type Row = Vec<Value>;

/// Column names of a result, shared by all its rows.
pub type Columns = Rc<[String]>;

/// A whole result, for queries known to be small.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    pub columns: Columns,
    pub rows: Vec<Row>,
}

/// A result delivered row by row as the database produces it, so a million-row read runs in
/// bounded memory. The stream owns whatever connection it needs; dropping it cancels the rest.
pub struct RowStream {
    pub columns: Columns,
    pub rows: LocalBoxStream<'static, Result<Row, DbError>>,
}

/// What a write reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Executed {
    pub affected: u64,
    /// The generated key of the last inserted row, where the database reports one this way
    /// (SQLite, MySQL). PostgreSQL uses `RETURNING` instead.
    pub last_insert_id: Option<i64>,
}

/// Work on one connection, held until dropped: transactions, or several statements that must
/// see each other's effects. Dropping a session inside a transaction rolls it back.
pub trait Session {
    fn query(&mut self, sql: &str, params: &[Value])
        -> impl Future<Output = Result<Rows, DbError>>;
    fn execute(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> impl Future<Output = Result<Executed, DbError>>;
    fn begin(&mut self) -> impl Future<Output = Result<(), DbError>>;
    fn commit(&mut self) -> impl Future<Output = Result<(), DbError>>;
    fn rollback(&mut self) -> impl Future<Output = Result<(), DbError>>;
}

/// A database as one core sees it. Cheap to clone (an `Rc` inside); never `Send`, because its
/// connections belong to the core that opened them.
pub trait Database: Clone + 'static {
    type Session: Session;

    fn dialect(&self) -> &'static dyn Dialect;

    /// Runs a query and collects its rows.
    fn query(&self, sql: &str, params: &[Value]) -> impl Future<Output = Result<Rows, DbError>>;

    /// Runs a query and streams its rows.
    fn query_stream(
        &self,
        sql: String,
        params: Vec<Value>,
    ) -> impl Future<Output = Result<RowStream, DbError>>;

    fn execute(
        &self,
        sql: &str,
        params: &[Value],
    ) -> impl Future<Output = Result<Executed, DbError>>;

    /// Runs statements that take no parameters and return nothing (DDL), in order.
    fn execute_batch(&self, sql: &str) -> impl Future<Output = Result<(), DbError>>;

    /// A connection of its own, for transactions.
    fn session(&self) -> impl Future<Output = Result<Self::Session, DbError>>;

    /// Names of the tables (and views) visible to the service.
    fn tables(&self) -> impl Future<Output = Result<Vec<String>, DbError>>;

    /// One table's columns, keys and foreign keys; `None` when it does not exist.
    fn describe(&self, table: &str) -> impl Future<Output = Result<Option<TableSchema>, DbError>>;
}
