//! Command-line definitions (clap derive). Each subcommand's work lives in
//! its own module; this file only describes flags and dispatches.

use crate::engine::Driver;
use crate::request::ids::Dist;
use crate::scenario::ScenarioName;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    version,
    about = "Thread-per-core HTTP load generator"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process, so the variants' size difference costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load one URL (or a URL list / id template), like `ab`.
    Run(RunArgs),
    /// Run a DreamFactory benchmark scenario against a service.
    Scenario(ScenarioArgs),
    /// Create the `contact` benchmark table (100,000 rows).
    Seed(crate::seed::SeedArgs),
    /// Reproduce the study's sweeps.
    #[command(subcommand)]
    Sweep(crate::sweep::SweepCommand),
    /// Print each figure's change between two JSON results, in percent.
    Compare(CompareArgs),
    /// A tiny HTTP server with percore's command line, standing in for it
    /// in tests and calibration (`/healthz`, `/status/N`, `/delay/MS`, ...).
    #[command(hide = true)]
    Serve(crate::stub_server::ServeArgs),
}

/// Options shared by every command that generates load.
#[derive(Debug, Clone, Args, Default)]
pub struct LoadOpts {
    /// Total requests (closed loop), warm-up excluded.
    #[arg(short = 'n', long = "requests")]
    pub requests: Option<u64>,
    /// Concurrent users (connections).
    #[arg(short = 'c', long = "concurrency")]
    pub users: Option<usize>,
    /// Run for this long instead of a request count (e.g. 30s).
    #[arg(short = 'd', long)]
    pub duration: Option<humantime::Duration>,
    /// Open loop: this many requests per second in total; latency is
    /// measured from each request's intended send time.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Worker threads (default: one per core, at most one per user).
    #[arg(short = 't', long)]
    pub threads: Option<usize>,
    /// Warm-up excluded from results: a duration (2s) or a request count.
    #[arg(long)]
    pub warmup: Option<String>,
    /// Requests in flight per connection (closed loop).
    #[arg(long, default_value_t = 1)]
    pub pipeline: usize,
    /// Per-request timeout (0 disables it).
    #[arg(long, default_value = "30s")]
    pub timeout: humantime::Duration,
    /// Count a `body` error when the response body lacks this text.
    #[arg(long)]
    pub expect: Option<String>,
    /// Extra header, `Name: value` (repeatable).
    #[arg(short = 'H', long = "header")]
    pub headers: Vec<String>,
    /// Log in first (POST /api/v2/user/session) as `email:password`.
    #[arg(long, value_name = "EMAIL:PASSWORD")]
    pub login: Option<String>,
    /// Log in as a system admin (/api/v2/system/admin/session).
    #[arg(long, value_name = "EMAIL:PASSWORD")]
    pub admin_login: Option<String>,
    /// Send `X-DreamFactory-API-Key: KEY`.
    #[arg(long)]
    pub api_key: Option<String>,
    /// Write the result as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the result as CSV.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// I/O driver.
    #[arg(long, value_enum, default_value_t = Driver::default())]
    pub driver: Driver,
    /// Measure open-loop latency from the actual send (no coordinated-
    /// omission correction); for demonstrating the difference only.
    #[arg(long, hide = true)]
    pub uncorrected: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// `http://host:port/path`; `{id}` in it is replaced by a random id.
    pub url: String,
    /// HTTP method (default GET, or POST when a body is given).
    #[arg(short = 'm', long)]
    pub method: Option<String>,
    /// Request body, or `@file` to read it from a file.
    #[arg(short = 'b', long)]
    pub body: Option<String>,
    /// File of URLs or paths, one per line, cycled in order (same host as URL).
    #[arg(long)]
    pub urls: Option<PathBuf>,
    /// Range for `{id}`, e.g. 1..100000.
    #[arg(long, default_value = "1..100000")]
    pub ids: String,
    /// Id distribution.
    #[arg(long, value_enum, default_value_t = Dist::Uniform)]
    pub dist: Dist,
    #[command(flatten)]
    pub load: LoadOpts,
}

#[derive(Debug, Args, Clone)]
pub struct ScenarioArgs {
    pub name: ScenarioName,
    #[command(flatten)]
    pub target: ScenarioTarget,
    #[command(flatten)]
    pub load: LoadOpts,
}

/// Where a scenario sends its requests.
#[derive(Debug, Args, Clone)]
pub struct ScenarioTarget {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub base: String,
    /// DreamFactory database service name.
    #[arg(long, default_value = "db")]
    pub service: String,
    #[arg(long, default_value = "contact")]
    pub table: String,
    /// Id range for simple-get.
    #[arg(long, default_value = "1..100000")]
    pub ids: String,
    #[arg(long, value_enum, default_value_t = Dist::Uniform)]
    pub dist: Dist,
    /// Where `post` writes the ids it created and `delete` reads them.
    #[arg(long, default_value = "loadgen-created-ids.txt")]
    pub ids_file: PathBuf,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Baseline result (a run or sweep JSON).
    pub a: PathBuf,
    /// New result.
    pub b: PathBuf,
}

/// Runs the parsed command.
pub fn dispatch(cli: Cli) -> crate::error::Result<()> {
    match cli.command {
        Command::Run(args) => crate::runner::run_command(args),
        Command::Scenario(args) => crate::scenario::run_command(args),
        Command::Seed(args) => crate::seed::run_command(args),
        Command::Sweep(cmd) => crate::sweep::run_command(cmd),
        Command::Compare(args) => crate::compare::run_command(&args.a, &args.b),
        Command::Serve(args) => crate::stub_server::run_command(args),
    }
}
