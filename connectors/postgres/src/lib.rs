//! PostgreSQL connector for percore, on tokio-postgres.
//!
//! Each core builds its own [`PostgresDatabase`]; its connections live and die on that core.
//! Queries and writes share a few pipelined connections round-robin; sessions (transactions)
//! and streams take a connection of their own. Every value is a bound parameter, typed by the
//! server's inference for the prepared statement; results decode to [`percore_connector::Value`].
//!
//! # Layout
//!
//! - `config.rs`: [`Config`] and `postgres://` URL parsing.
//! - `dialect.rs`: [`DIALECT`], PostgreSQL's SQL spelling (quoting, `$n`, types).
//! - `pool.rs`: the per-core pool: shared pipelined slots, exclusive leases.
//! - `conn.rs`: one connection: connect, statement cache, timeouts, retry on stale plans.
//! - `encode.rs`: `Value` to a parameter of the inferred type (binary or text format).
//! - `decode.rs` (+ `decode/`): binary results to `Value`: numeric, date/time, network types.
//! - `error.rs`: SQLSTATE and driver errors to `DbError` kinds, with client-safe messages.
//! - `stream.rs`: `query_stream`'s producer task and bounded channel.
//! - `session.rs`: [`PostgresSession`], transactions with rollback on drop.
//! - `schema.rs`: `tables()` and `describe()` from pg_catalog.
//! - `routine.rs`: `call_procedure` and `call_function` (streamed) on [`PostgresDatabase`].
//! - `database.rs`: [`PostgresDatabase`], the `Database` implementation tying these together.

mod config;
mod conn;
mod database;
mod decode;
mod dialect;
mod encode;
mod error;
mod pool;
mod routine;
mod schema;
mod session;
mod stream;

pub use config::Config;
pub use database::PostgresDatabase;
pub use dialect::{PostgresDialect, DIALECT};
pub use session::PostgresSession;
