//! percore: a thread-per-core REST API platform speaking DreamFactory's v2 API.
//!
//! # Layout
//!
//! The request path, in the order a request meets it:
//!
//! - [`runtime`]: the per-core runtime. [`runtime::start`] pins one OS thread per core, each with
//!   its own tokio `current_thread` runtime, `SO_REUSEPORT` listener and [`runtime::Worker`] (all
//!   per-core state). Shutdown draining and the overload caps live here too.
//! - [`http`]: our HTTP/1.1 engine on `httparse`. [`http::conn`] is the connection loop
//!   (keep-alive, pipelining, timeouts, limits), [`http::parse`] turns bytes into a zero-copy
//!   [`http::Request`] view, [`http::body`] frames request bodies, [`http::write`] encodes
//!   responses (cached `Date`, chunked streaming, gzip).
//! - [`api`]: the API pipeline: route -> authorize ([`api::caller`]: session and/or API key ->
//!   role -> compiled role check, the role's filter handed on) -> parse -> plan -> execute ->
//!   respond. [`api::router`] is built once and read by every core; endpoints live beside it,
//!   the system API (`api/system/`) among them.
//! - [`envelope`]: DreamFactory's error envelope, the one place errors become JSON.
//! - [`metrics`]: per-core counters (single writer each), merged only when `/metrics` is scraped.
//! - [`config`]: typed configuration (TOML < `PERCORE_*` env < flags), validated once, and the
//!   immutable [`config::Snapshot`] every core reads and that can be swapped at run time.
//! - [`auth`]: the primitives sessions and keys rest on: JWTs with key ids (HS256, RS256,
//!   ES256), argon2id passwords, login throttling, API keys; the role rules compiled for the
//!   per-request check ([`auth::access`]) and what the check reads ([`auth::authz`]).
//! - [`services`]: what lives under `/api/v2/{service}`; [`services::db`] is the database API
//!   over the connectors in `connectors/`.
//! - [`system`]: the system database (migrations, users, revocations, stored services) and
//!   first-start bootstrap; [`system::state`] loads everything requests read from it into one
//!   snapshot, republished on every change and polled by other instances.
//! - [`scripts`]: the server-side JavaScript engine behind a small trait (QuickJS, one runtime
//!   per core, time and memory limits); `api::scripted` runs event scripts around service
//!   calls and answers scripted services.
//! - [`doctor`]: host checks for high-load deployments (`percore doctor`).

pub mod api;
pub mod auth;
pub mod config;
pub mod doctor;
pub mod envelope;
pub mod http;
pub mod metrics;
pub mod runtime;
pub mod scripts;
pub mod services;
pub mod system;
pub mod telemetry;
