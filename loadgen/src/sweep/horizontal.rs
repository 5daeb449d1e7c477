//! `loadgen sweep horizontal`: 1..N server instances behind a real load
//! balancer. The LB config is written from a template in `tuning/` with
//! `{{listen}}`, `{{servers}}` and `{{prefix}}` filled in.

use super::process::{self, free_port, Proc};
use super::{finish_size_sweep, parse_list, ServerOpts, SizePoint, SizeSweep, SweepOpts};
use crate::error::{read_file, write_file, Error, Result};
use crate::scenario::ScenarioName;
use crate::target::Url;
use clap::Args;
use std::path::{Path, PathBuf};

const NGINX_TEMPLATE: &str = include_str!("../../../tuning/nginx-lb.conf.tmpl");
const HAPROXY_TEMPLATE: &str = include_str!("../../../tuning/haproxy-lb.cfg.tmpl");

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Balancer {
    Nginx,
    Haproxy,
}

#[derive(Debug, Args)]
pub struct HorizontalArgs {
    /// Largest instance count; the sweep runs 1..=N.
    #[arg(long, default_value_t = 4)]
    pub instances: usize,
    /// Instance counts to run instead of 1..=N (e.g. 1,2,4).
    #[arg(long)]
    pub sizes: Option<String>,
    /// Cores given to each instance (`--cores`).
    #[arg(long, default_value_t = 1)]
    pub cores_per_instance: usize,
    #[arg(long, value_enum, default_value_t = Balancer::Nginx)]
    pub lb: Balancer,
    /// LB config template (default: the one from tuning/ built in).
    #[arg(long)]
    pub lb_template: Option<PathBuf>,
    /// LB executable (default: nginx or haproxy on PATH).
    #[arg(long)]
    pub lb_bin: Option<String>,
    /// Shared system database passed to every instance as `--system-db URL`.
    #[arg(long)]
    pub system_db: Option<String>,
    /// Existing load balancers instead: one URL per size, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub lb_url: Vec<String>,
    #[command(flatten)]
    pub server: ServerOpts,
    #[command(flatten)]
    pub sweep: SweepOpts,
}

/// Fills a template for `ports` behind `listen_port`.
pub fn render_template(
    template: &str,
    lb: Balancer,
    listen_port: u16,
    ports: &[u16],
    prefix: &Path,
) -> String {
    let servers: String = ports
        .iter()
        .enumerate()
        .map(|(i, p)| match lb {
            Balancer::Nginx => format!("        server 127.0.0.1:{p};\n"),
            Balancer::Haproxy => format!("    server s{i} 127.0.0.1:{p}\n"),
        })
        .collect();
    template
        .replace("{{listen}}", &format!("127.0.0.1:{listen_port}"))
        .replace("{{servers}}", servers.trim_end())
        .replace("{{prefix}}", &prefix.display().to_string())
}

/// Starts `count` instances and the balancer; returns them and the LB URL.
fn start_cluster(a: &HorizontalArgs, count: usize, dir: &Path) -> Result<(Vec<Proc>, Proc, Url)> {
    let bin = process::server_bin(a.server.server_bin.as_deref())?;
    let mut args = a.server.server_args.clone();
    if let Some(db) = &a.system_db {
        args.extend(["--system-db".to_string(), db.clone()]);
    }
    let mut procs = Vec::new();
    let mut ports = Vec::new();
    for i in 0..count {
        let data = dir.join(format!("instance-{i}"));
        let (p, base) = process::start_server(
            &bin,
            a.cores_per_instance,
            &args,
            &data,
            None,
            &a.server.ready_path,
        )?;
        procs.push(p);
        ports.push(base.port);
    }
    let prefix = dir.join("lb");
    std::fs::create_dir_all(prefix.join("logs")).map_err(Error::file(&prefix))?;
    let template = match &a.lb_template {
        Some(p) => String::from_utf8_lossy(&read_file(p)?).into_owned(),
        None => match a.lb {
            Balancer::Nginx => NGINX_TEMPLATE.to_string(),
            Balancer::Haproxy => HAPROXY_TEMPLATE.to_string(),
        },
    };
    let port = free_port()?;
    let conf = render_template(&template, a.lb, port, &ports, &prefix);
    let (conf_path, argv) = match a.lb {
        Balancer::Nginx => {
            let path = prefix.join("nginx.conf");
            let bin = a.lb_bin.clone().unwrap_or_else(|| "nginx".into());
            let argv = vec![
                bin,
                "-p".into(),
                prefix.display().to_string(),
                "-c".into(),
                path.display().to_string(),
            ];
            (path, argv)
        }
        Balancer::Haproxy => {
            let path = prefix.join("haproxy.cfg");
            let bin = a.lb_bin.clone().unwrap_or_else(|| "haproxy".into());
            (
                path.clone(),
                vec![bin, "-db".into(), "-f".into(), path.display().to_string()],
            )
        }
    };
    write_file(&conf_path, conf)?;
    let mut lb = Proc::spawn("load balancer", &argv, None, &prefix.join("lb.log"))?;
    let url = Url::parse(&format!("http://127.0.0.1:{port}"))?;
    lb.wait_ready(&Url::parse(&format!(
        "{}{}",
        url.base(),
        a.server.ready_path
    ))?)?;
    Ok((procs, lb, url))
}

pub fn run(a: HorizontalArgs) -> Result<()> {
    let fallback = ScenarioName::SimpleGet;
    let dir = a.sweep.out_dir("horizontal")?;
    let sizes = match (&a.sizes, a.lb_url.len()) {
        (Some(s), _) => parse_list(s)?,
        (None, 0) => (1..=a.instances.max(1)).collect(),
        (None, n) => (1..=n).collect(),
    };
    if !a.lb_url.is_empty() && a.lb_url.len() != sizes.len() {
        return Err(Error::Arg("give one --lb-url per size".into()));
    }
    let mut points = Vec::new();
    for (i, &size) in sizes.iter().enumerate() {
        let label = format!("{size}-instances");
        let report = match a.lb_url.get(i) {
            Some(url) => a
                .sweep
                .run_point(fallback, &Url::parse(url)?, &label, &a.sweep.load)?,
            None => {
                let cluster_dir = dir.join(format!("cluster-{size}"));
                let (instances, lb, url) = start_cluster(&a, size, &cluster_dir)?;
                let res = a.sweep.run_point(fallback, &url, &label, &a.sweep.load);
                drop(lb);
                drop(instances);
                res?
            }
        };
        points.push(SizePoint {
            label,
            size,
            report,
        });
    }
    let result = SizeSweep {
        sweep: "horizontal".into(),
        scenario: a.sweep.label(fallback),
        unit: "instances".into(),
        points,
    };
    finish_size_sweep(&a.sweep, &dir, &result)
}
