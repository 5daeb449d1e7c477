//! loadgen: the percore project's load generator. It reproduces the
//! DreamFactory scalability study (vertical, horizontal and concurrency
//! sweeps) against percore or any HTTP/1.1 API.
//!
//! # Layout
//!
//! - `main.rs`: parses the command line and calls [`cli::dispatch`].
//! - [`cli`]: clap definitions of every subcommand and the shared load flags.
//! - [`runner`]: flags to [`engine::LoadConfig`], run, report; used by all commands.
//! - [`engine`]: the thread-per-core monoio engine. `engine.rs` holds the
//!   config and the run orchestration; `engine/worker.rs` one thread's runtime;
//!   `engine/conn.rs` the closed- and open-loop connection loops;
//!   `engine/response.rs` the incremental HTTP/1.1 response parser;
//!   `engine/stats.rs` per-worker histograms and error counts.
//! - [`request`]: pre-rendered requests, URL lists and `{id}` templates
//!   (`request/ids.rs`: uniform / zipf / sequential ids).
//! - [`report`]: one run's figures and their text / JSON / CSV forms.
//! - [`scenario`]: simple-get, complex-get, post, delete.
//! - [`seed`]: the `contact` dataset, over HTTP or straight into a database.
//! - [`sweep`]: vertical, horizontal and concurrency sweeps, their server and
//!   load-balancer processes, tables and SVG charts.
//! - [`compare`]: percent change between two JSON results.
//! - [`stub_server`]: the tiny HTTP server standing in for percore in tests.
//! - [`blocking`], [`auth`], [`target`], [`error`]: small helpers.
//!
//! Outside `src/`: `tests/engine.rs` (counts, open-loop rate, CO correction,
//! error kinds, in-process), `tests/cli.rs` (the binary: outputs, scenarios,
//! seeding, every sweep), `tests/percore.rs` (against a built percore, else
//! skipped), and `scripts/vs-wrk.sh` (the side-by-side measurement with wrk).
//! The LB config templates live in the repository's `tuning/`.

pub mod auth;
pub mod blocking;
pub mod cli;
pub mod compare;
pub mod engine;
pub mod error;
mod progress;
pub mod report;
pub mod request;
pub mod runner;
pub mod scenario;
pub mod seed;
pub mod stub_server;
pub mod sweep;
pub mod target;
