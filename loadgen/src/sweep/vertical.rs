//! `loadgen sweep vertical`: one server on 1, 2, 4, ... cores. loadgen
//! starts each size itself, pinning the server to the top cores and itself
//! to the rest while any are left, or loads one given URL per size.

use super::process::{self, cpu_count, cpu_list, pin_self};
use super::{finish_size_sweep, parse_list, ServerOpts, SizePoint, SizeSweep, SweepOpts};
use crate::error::{Error, Result};
use crate::scenario::ScenarioName;
use crate::target::Url;
use clap::Args;

#[derive(Debug, Args)]
pub struct VerticalArgs {
    /// Core counts (default 1,2,4,... up to this machine's count).
    #[arg(long)]
    pub sizes: Option<String>,
    /// Remote servers instead: one base URL per size, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub urls_per_size: Vec<String>,
    #[command(flatten)]
    pub server: ServerOpts,
    #[command(flatten)]
    pub sweep: SweepOpts,
}

/// 1, 2, 4, ... up to `max`, plus `max` itself.
pub fn default_sizes(max: usize) -> Vec<usize> {
    let mut v: Vec<usize> = std::iter::successors(Some(1usize), |n| Some(n * 2))
        .take_while(|&n| n <= max)
        .collect();
    if v.last() != Some(&max) {
        v.push(max);
    }
    v
}

pub fn run(a: VerticalArgs) -> Result<()> {
    let fallback = ScenarioName::SimpleGet;
    let dir = a.sweep.out_dir("vertical")?;
    let sizes = match (&a.sizes, a.urls_per_size.len()) {
        (Some(s), _) => parse_list(s)?,
        (None, 0) => default_sizes(cpu_count()),
        (None, n) => default_sizes(1 << (n - 1)).into_iter().take(n).collect(),
    };
    if !a.urls_per_size.is_empty() && a.urls_per_size.len() != sizes.len() {
        return Err(Error::Arg(format!(
            "{} URLs for {} sizes: give one URL per size",
            a.urls_per_size.len(),
            sizes.len()
        )));
    }
    let mut points = Vec::new();
    for (i, &size) in sizes.iter().enumerate() {
        let label = format!("{size}-cores");
        let mut load = a.sweep.load.clone();
        let report = if let Some(url) = a.urls_per_size.get(i) {
            a.sweep
                .run_point(fallback, &Url::parse(url)?, &label, &load)?
        } else {
            let bin = process::server_bin(a.server.server_bin.as_deref())?;
            let n = cpu_count();
            // Leave loadgen the cores the server does not get, when any are left.
            let pin = !a.server.no_pin && process::on_path("taskset").is_some();
            if !pin && !a.server.no_pin {
                eprintln!("  taskset not found: server and loadgen share all cores");
            }
            let split = (pin && size < n).then(|| n - size);
            let server_cpus = split.map(|free| cpu_list(free..n));
            if let Some(free) = split {
                load.threads = Some(load.threads.unwrap_or(free));
            }
            let data = dir.join(format!("server-{size}"));
            // Remember the unpinned mask before the first pin.
            pin_self(None);
            let (proc, base) = process::start_server(
                &bin,
                size,
                &a.server.server_args,
                &data,
                server_cpus.as_deref(),
                &a.server.ready_path,
            )?;
            pin_self(split.map(|free| 0..free));
            let res = a.sweep.run_point(fallback, &base, &label, &load);
            pin_self(None);
            drop(proc);
            res?
        };
        points.push(SizePoint {
            label,
            size,
            report,
        });
    }
    let result = SizeSweep {
        sweep: "vertical".into(),
        scenario: a.sweep.label(fallback),
        unit: "cores".into(),
        points,
    };
    finish_size_sweep(&a.sweep, &dir, &result)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        assert_eq!(super::default_sizes(2), vec![1, 2]);
        assert_eq!(super::default_sizes(6), vec![1, 2, 4, 6]);
    }
}
