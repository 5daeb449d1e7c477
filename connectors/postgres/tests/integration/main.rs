//! Integration tests against a real PostgreSQL (`PERCORE_TEST_PG_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`). When it is unreachable each test prints
//! `SKIPPED: ...` and passes, unless `PERCORE_REQUIRE_DBS=1`.

mod support;

mod concurrency;
mod errors;
mod routines;
mod schema;
mod stream;
mod transactions;
mod types;
