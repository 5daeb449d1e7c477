//! `loadgen sweep concurrency`: 20, 40, ..., 240 users on complex-get, each
//! both as a burst (total requests = users, as the study ran ab) and as a
//! steady run of fixed duration.

use super::process;
use super::{parse_list, write_outputs, ServerOpts, SweepOpts};
use crate::error::Result;
use crate::report::RunReport;
use crate::scenario::ScenarioName;
use crate::target::Url;
use clap::Args;
use serde::{Deserialize, Serialize};

#[derive(Debug, Args)]
pub struct ConcurrencyArgs {
    /// User counts: a list or LO..HI:STEP.
    #[arg(long = "users", id = "user_counts", default_value = "20..240:20")]
    pub user_counts: String,
    /// Length of each steady run.
    #[arg(long, default_value = "10s")]
    pub steady: humantime::Duration,
    /// Server to load; without it loadgen starts one on all cores.
    #[arg(long)]
    pub base: Option<String>,
    #[command(flatten)]
    pub server: ServerOpts,
    #[command(flatten)]
    pub sweep: SweepOpts,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UsersPoint {
    pub users: usize,
    pub burst: RunReport,
    pub steady: RunReport,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConcurrencySweep {
    pub sweep: String,
    pub scenario: String,
    pub steady_s: f64,
    pub points: Vec<UsersPoint>,
}

pub fn run(a: ConcurrencyArgs) -> Result<()> {
    let fallback = ScenarioName::ComplexGet;
    let dir = a.sweep.out_dir("concurrency")?;
    let users = parse_list(&a.user_counts)?;
    let (_server, base) = match &a.base {
        Some(b) => (None, Url::parse(b)?),
        None => {
            let bin = process::server_bin(a.server.server_bin.as_deref())?;
            let (p, url) = process::start_server(
                &bin,
                process::cpu_count(),
                &a.server.server_args,
                &dir.join("server"),
                None,
                &a.server.ready_path,
            )?;
            (Some(p), url)
        }
    };
    let mut points = Vec::new();
    for &u in &users {
        let mut burst = a.sweep.load.clone();
        burst.users = Some(u);
        burst.requests = Some(u as u64);
        burst.duration = None;
        burst.rate = None;
        let burst = a
            .sweep
            .run_point(fallback, &base, &format!("burst-{u}-users"), &burst)?;
        let mut steady = a.sweep.load.clone();
        steady.users = Some(u);
        steady.duration = Some(a.steady);
        let steady = a
            .sweep
            .run_point(fallback, &base, &format!("steady-{u}-users"), &steady)?;
        points.push(UsersPoint {
            users: u,
            burst,
            steady,
        });
    }
    let result = ConcurrencySweep {
        sweep: "concurrency".into(),
        scenario: a.sweep.label(fallback),
        steady_s: std::time::Duration::from(a.steady).as_secs_f64(),
        points,
    };
    let table = super::table::concurrency_table(&result);
    let svg = super::chart::concurrency_chart(&result)?;
    let reports: Vec<RunReport> = result
        .points
        .iter()
        .flat_map(|p| [p.burst.clone(), p.steady.clone()])
        .collect();
    super::write_requested(&a.sweep, &result, &reports)?;
    write_outputs(
        &dir,
        &result,
        &reports,
        &table,
        &[("concurrency.svg".into(), svg)],
    )
}
