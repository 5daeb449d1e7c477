//! Integration tests against a real SQLite file in a temporary directory.
//!
//! # Layout
//!
//! - `support.rs`: a core-like runtime (`current_thread` + `LocalSet`) and a fresh database.
//! - `values.rs`: type round trips, NULLs, verbatim parameters, value errors.
//! - `schema.rs`: `tables`, `describe`, DDL.
//! - `stream.rs`: streaming a large result, dropping a stream.
//! - `sessions.rs`: transactions, drop-rollback, writer contention.
//! - `failures.rs`: error classification, timeouts, an unusable path, cancellation.
//! - `concurrency.rs`: many queries on one core; reads while a slow write runs.

mod concurrency;
mod failures;
mod schema;
mod sessions;
mod stream;
mod support;
mod values;
