//! `loadgen seed`: the study's `contact` dataset, deterministic and
//! idempotent, either through a service's REST API or into a database URL.

mod data;
mod drivers;
mod http;
mod sql;

pub use data::{Contact, Rows, CITIES};

use crate::cli::LoadOpts;
use crate::error::{Error, Result};
use crate::target::Url;
use clap::Args;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Seed through this server's REST API (e.g. http://127.0.0.1:8080).
    #[arg(long, conflicts_with = "db")]
    pub base: Option<String>,
    /// Database service name for --base.
    #[arg(long, default_value = "db")]
    pub service: String,
    /// Seed a database directly: postgres://, mysql:// or sqlite://path.
    #[arg(long)]
    pub db: Option<String>,
    #[arg(long, default_value = "contact")]
    pub table: String,
    #[arg(long, default_value_t = 100_000)]
    pub rows: u64,
    /// Rows per INSERT or POST.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    #[arg(long, value_name = "EMAIL:PASSWORD")]
    pub login: Option<String>,
    #[arg(long, value_name = "EMAIL:PASSWORD")]
    pub admin_login: Option<String>,
    #[arg(long)]
    pub api_key: Option<String>,
}

/// `loadgen seed`.
pub fn run_command(args: SeedArgs) -> Result<()> {
    if !args
        .table
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(Error::Arg(format!(
            "table name {:?} must be [A-Za-z0-9_]",
            args.table
        )));
    }
    let start = Instant::now();
    let wrote = match (&args.base, &args.db) {
        (Some(base), None) => {
            let base = Url::parse(base)?;
            let opts = LoadOpts {
                login: args.login.clone(),
                admin_login: args.admin_login.clone(),
                api_key: args.api_key.clone(),
                ..LoadOpts::default()
            };
            let mut headers = crate::runner::headers(&opts, &base)?;
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
            http::HttpSeed {
                base: &base,
                service: &args.service,
                table: &args.table,
                headers: &headers,
            }
            .seed(args.rows, args.batch.max(1))?
        }
        (None, Some(url)) => seed_db(url, &args.table, args.rows, args.batch)?,
        _ => return Err(Error::Arg("give either --base URL or --db URL".into())),
    };
    let what = if wrote {
        "seeded"
    } else {
        "already present, left as is:"
    };
    println!(
        "{what} {} rows in {} ({:.1} s)",
        args.rows,
        args.table,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Seeds `table` in the database at `url`; true when rows were written.
pub fn seed_db(url: &str, table: &str, rows: u64, batch: usize) -> Result<bool> {
    let (mut sink, dialect) = drivers::open(url)?;
    sql::seed(sink.as_mut(), dialect, table, rows, batch.max(1)).map_err(Error::Db)
}

/// Drops `table` in the database at `url` (test clean-up).
pub fn drop_db_table(url: &str, table: &str) -> Result<()> {
    let (mut sink, _) = drivers::open(url)?;
    sink.exec(&sql::drop_table(table)).map_err(Error::Db)
}
