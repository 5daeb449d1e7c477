//! The study's three sweeps. Each point is an ordinary run (same engine,
//! same [`RunReport`]); a sweep adds the processes around it, a table in
//! the study's shape, JSON / CSV files and SVG charts in `--out`.

mod chart;
mod concurrency;
mod horizontal;
mod process;
mod table;
mod vertical;

pub use concurrency::{ConcurrencyArgs, ConcurrencySweep, UsersPoint};
pub use horizontal::HorizontalArgs;
pub use vertical::VerticalArgs;

use crate::cli::{LoadOpts, ScenarioTarget};
use crate::error::{write_file, Error, Result};
use crate::report::{self, RunReport};
use crate::request::ids::Dist;
use crate::request::Paths;
use crate::runner::{self, Defaults, RequestSpec};
use crate::scenario::{self, ScenarioName};
use crate::target::Url;
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum SweepCommand {
    /// One server on 1, 2, 4, ... cores (or one URL per size).
    Vertical(VerticalArgs),
    /// 1..N server instances behind nginx or haproxy (or given LB URLs).
    Horizontal(HorizontalArgs),
    /// 20, 40, ..., 240 users, as a burst and as a steady run.
    Concurrency(ConcurrencyArgs),
}

/// What every sweep point sends, and where results go.
#[derive(Debug, Args, Clone)]
pub struct SweepOpts {
    /// Scenario to run at each point (default depends on the sweep).
    #[arg(long, value_enum)]
    pub scenario: Option<ScenarioName>,
    /// GET this path instead of a scenario (e.g. /healthz).
    #[arg(long)]
    pub path: Option<String>,
    #[arg(long, default_value = "db")]
    pub service: String,
    #[arg(long, default_value = "contact")]
    pub table: String,
    #[arg(long, default_value = "1..100000")]
    pub ids: String,
    #[arg(long, value_enum, default_value_t = Dist::Uniform)]
    pub dist: Dist,
    #[arg(long, default_value = "loadgen-created-ids.txt")]
    pub ids_file: PathBuf,
    /// Output directory (default loadgen-results/<sweep>-<unix time>); it
    /// gets every run's JSON and CSV, sweep.json, sweep.csv, table.txt and
    /// the SVG chart. `--json` / `--csv` additionally write the whole sweep.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub load: LoadOpts,
}

/// How sweeps start servers.
#[derive(Debug, Args, Clone)]
pub struct ServerOpts {
    /// Server binary, run as `BIN serve --cores N --listen ADDR --data-dir DIR`.
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// Extra server argument (repeatable), e.g. --server-arg=--system-db --server-arg=URL.
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    pub server_args: Vec<String>,
    /// Path polled until it answers 200 before loading a server.
    #[arg(long, default_value = "/healthz")]
    pub ready_path: String,
    /// Do not pin the server and loadgen to separate cores.
    #[arg(long)]
    pub no_pin: bool,
}

/// One point of a vertical or horizontal sweep.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SizePoint {
    pub label: String,
    pub size: usize,
    pub report: RunReport,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SizeSweep {
    pub sweep: String,
    pub scenario: String,
    /// What `size` counts: cores or instances.
    pub unit: String,
    pub points: Vec<SizePoint>,
}

impl SweepOpts {
    fn label(&self, fallback: ScenarioName) -> String {
        match &self.path {
            Some(p) => format!("GET {p}"),
            None => self.scenario.unwrap_or(fallback).as_str().to_string(),
        }
    }

    /// The output directory, created.
    fn out_dir(&self, sweep: &str) -> Result<PathBuf> {
        let dir = self.out.clone().unwrap_or_else(|| {
            let ts = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            PathBuf::from(format!("loadgen-results/{sweep}-{ts}"))
        });
        std::fs::create_dir_all(&dir).map_err(Error::file(&dir))?;
        Ok(dir)
    }

    /// Runs one point against `base` with `load` (a per-point copy of the
    /// load options).
    fn run_point(
        &self,
        fallback: ScenarioName,
        base: &Url,
        label: &str,
        load: &LoadOpts,
    ) -> Result<RunReport> {
        let mut done = match &self.path {
            Some(path) => {
                let spec = RequestSpec {
                    label: label.to_string(),
                    url: base.clone(),
                    method: "GET".into(),
                    paths: Paths::Fixed(path.clone()),
                    body: None,
                    capture_ids: false,
                };
                let headers = runner::headers(load, base)?;
                let defaults = scenario::build(fallback, &self.target(base), None).map_or(
                    Defaults {
                        requests: 1000,
                        users: 100,
                    },
                    |s| s.defaults,
                );
                runner::execute(&spec, load, defaults, &headers, None)?
            }
            None => {
                let name = self.scenario.unwrap_or(fallback);
                scenario::run_scenario(name, &self.target(base), load, None)?
            }
        };
        done.report.label = label.to_string();
        eprintln!(
            "  {label}: {:.1} req/s, mean {:.2} ms, {} errors",
            done.report.rps, done.report.latency_ms.mean, done.report.error_total
        );
        Ok(done.report)
    }

    fn target(&self, base: &Url) -> ScenarioTarget {
        ScenarioTarget {
            base: base.base(),
            service: self.service.clone(),
            table: self.table.clone(),
            ids: self.ids.clone(),
            dist: self.dist,
            ids_file: self.ids_file.clone(),
        }
    }
}

/// Comma-separated numbers (`1,2,4`) or a range with step (`20..240:20`).
pub fn parse_list(s: &str) -> Result<Vec<usize>> {
    let bad = || Error::Arg(format!("{s:?}: expected 1,2,4 or 20..240:20"));
    if let Some((range, step)) = s.split_once(':') {
        let (a, b) = range.split_once("..").ok_or_else(bad)?;
        let (a, b, step): (usize, usize, usize) = (
            a.parse().map_err(|_| bad())?,
            b.trim_start_matches('=').parse().map_err(|_| bad())?,
            step.parse().map_err(|_| bad())?,
        );
        return Ok((a..=b).step_by(step.max(1)).collect());
    }
    s.split(',')
        .map(|p| p.trim().parse().map_err(|_| bad()))
        .collect()
}

/// Writes every run's JSON/CSV, the sweep's JSON/CSV, the table and charts.
fn write_outputs(
    dir: &Path,
    sweep: &impl Serialize,
    reports: &[RunReport],
    table: &str,
    charts: &[(String, String)],
) -> Result<()> {
    for r in reports {
        let name: String = r
            .label
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        report::write_json(&dir.join(format!("run-{name}.json")), r)?;
        report::write_csv(
            &dir.join(format!("run-{name}.csv")),
            std::slice::from_ref(r),
        )?;
    }
    report::write_json(&dir.join("sweep.json"), sweep)?;
    report::write_csv(&dir.join("sweep.csv"), reports)?;
    write_file(dir.join("table.txt"), table)?;
    for (name, svg) in charts {
        write_file(dir.join(name), svg)?;
    }
    println!("{table}");
    println!("Results in {}", dir.display());
    Ok(())
}

/// Also honours `--json` / `--csv` for the whole sweep.
fn write_requested(opts: &SweepOpts, sweep: &impl Serialize, reports: &[RunReport]) -> Result<()> {
    if let Some(p) = &opts.load.json {
        report::write_json(p, sweep)?;
    }
    if let Some(p) = &opts.load.csv {
        report::write_csv(p, reports)?;
    }
    Ok(())
}

/// Table, files and chart of a vertical or horizontal sweep.
fn finish_size_sweep(opts: &SweepOpts, dir: &Path, result: &SizeSweep) -> Result<()> {
    let table = table::size_table(result);
    let svg = chart::size_chart(result)?;
    let reports: Vec<RunReport> = result.points.iter().map(|p| p.report.clone()).collect();
    write_requested(opts, result, &reports)?;
    write_outputs(
        dir,
        result,
        &reports,
        &table,
        &[(format!("{}.svg", result.sweep), svg)],
    )
}

pub fn run_command(cmd: SweepCommand) -> Result<()> {
    match cmd {
        SweepCommand::Vertical(a) => vertical::run(a),
        SweepCommand::Horizontal(a) => horizontal::run(a),
        SweepCommand::Concurrency(a) => concurrency::run(a),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lists_and_stepped_ranges() {
        assert_eq!(super::parse_list("1,2, 4").unwrap(), vec![1, 2, 4]);
        assert_eq!(
            super::parse_list("20..100:20").unwrap(),
            vec![20, 40, 60, 80, 100]
        );
        assert!(super::parse_list("a,b").is_err());
    }
}
