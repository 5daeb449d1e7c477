//! Turns command-line options into a [`LoadConfig`], runs it and writes the
//! report. Shared by `run`, `scenario` and the sweeps.

use crate::auth;
use crate::cli::{LoadOpts, RunArgs};
use crate::engine::{self, LoadConfig, Stop, Warmup};
use crate::error::{read_file, Error, Result};
use crate::report::{self, RunMeta, RunReport};
use crate::request::ids::IdSource;
use crate::request::{Paths, RequestPlan};
use crate::target::Url;
use std::io::IsTerminal;
use std::time::Duration;

/// Everything about the requests themselves.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    pub label: String,
    pub url: Url,
    pub method: String,
    pub paths: Paths,
    pub body: Option<Vec<u8>>,
    pub capture_ids: bool,
}

/// Defaults a command applies when `-n`/`-c` are not given.
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    pub requests: u64,
    pub users: usize,
}

pub const AB_DEFAULTS: Defaults = Defaults {
    requests: 1,
    users: 1,
};

/// A finished run: the report plus ids captured from bodies.
pub struct Finished {
    pub report: RunReport,
    pub ids: Vec<u64>,
}

pub fn parse_warmup(s: &str) -> Result<Warmup> {
    if let Ok(n) = s.parse::<u64>() {
        return Ok(Warmup::Count(n));
    }
    humantime::parse_duration(s)
        .map(Warmup::Duration)
        .map_err(|e| Error::Arg(format!("--warmup {s:?}: {e}")))
}

pub fn parse_header(h: &str) -> Result<(String, String)> {
    let (k, v) = h
        .split_once(':')
        .ok_or_else(|| Error::Arg(format!("header {h:?} is not `Name: value`")))?;
    Ok((k.trim().to_string(), v.trim().to_string()))
}

/// Headers from `-H` plus whatever authentication asks for.
pub fn headers(opts: &LoadOpts, url: &Url) -> Result<Vec<(String, String)>> {
    let mut out = opts
        .headers
        .iter()
        .map(|h| parse_header(h))
        .collect::<Result<Vec<_>>>()?;
    if let Some(key) = &opts.api_key {
        out.push(("X-DreamFactory-API-Key".into(), key.clone()));
    }
    let login = match (&opts.login, &opts.admin_login) {
        (Some(c), _) => Some((c, false)),
        (None, Some(c)) => Some((c, true)),
        _ => None,
    };
    if let Some((creds, admin)) = login {
        let token = auth::login(url, creds, admin, opts.api_key.as_deref())?;
        out.push(("X-DreamFactory-Session-Token".into(), token));
    }
    Ok(out)
}

/// Runs `spec` under `opts`; `headers` are already resolved (so a sweep
/// logs in once, not per point).
pub fn execute(
    spec: &RequestSpec,
    opts: &LoadOpts,
    defaults: Defaults,
    headers: &[(String, String)],
    expect: Option<&str>,
) -> Result<Finished> {
    let plan = RequestPlan::new(
        &spec.method,
        &spec.url,
        spec.paths.clone(),
        headers,
        spec.body.clone(),
    );
    let mut cfg = LoadConfig::new(spec.url.socket_addr()?, plan);
    cfg.users = opts.users.unwrap_or(defaults.users);
    if let Some(t) = opts.threads {
        cfg.threads = t.max(1);
    }
    cfg.threads = cfg.threads.min(cfg.users.max(1));
    cfg.stop = match (opts.duration, opts.requests) {
        (Some(d), _) => Stop::Duration(d.into()),
        (None, n) => Stop::Count(n.unwrap_or(defaults.requests)),
    };
    cfg.rate = opts.rate;
    cfg.warmup = opts
        .warmup
        .as_deref()
        .map(parse_warmup)
        .transpose()?
        .unwrap_or_default();
    cfg.pipeline = opts.pipeline.max(1);
    cfg.timeout = Duration::from(opts.timeout);
    cfg.co_correction = !opts.uncorrected;
    cfg.expect = opts
        .expect
        .as_deref()
        .or(expect)
        .map(|e| e.as_bytes().to_vec());
    cfg.capture_ids = spec.capture_ids;
    cfg.driver = opts.driver;
    cfg.progress = std::io::stderr().is_terminal();
    let (users, threads, rate) = (cfg.users, cfg.threads, cfg.rate);
    let mut outcome = engine::run(cfg)?;
    let report = RunReport::new(
        RunMeta {
            label: &spec.label,
            url: &format!("{}{}", spec.url.base(), display_path(&spec.paths)),
            method: &spec.method,
            users,
            threads,
            rate,
        },
        &outcome,
    );
    Ok(Finished {
        report,
        ids: std::mem::take(&mut outcome.stats.ids),
    })
}

fn display_path(paths: &Paths) -> String {
    match paths {
        Paths::Fixed(p) | Paths::Template { path: p, .. } => p.clone(),
        Paths::List(l) => format!("[{} paths]", l.len()),
    }
}

/// Writes `--json` / `--csv` when asked.
pub fn write_outputs(opts: &LoadOpts, report: &RunReport) -> Result<()> {
    if let Some(p) = &opts.json {
        report::write_json(p, report)?;
    }
    if let Some(p) = &opts.csv {
        report::write_csv(p, std::slice::from_ref(report))?;
    }
    Ok(())
}

/// Reads `-b`: literal text, or `@file`.
pub fn read_body(arg: &str) -> Result<Vec<u8>> {
    match arg.strip_prefix('@') {
        Some(path) => read_file(path),
        None => Ok(arg.as_bytes().to_vec()),
    }
}

fn read_url_list(path: &std::path::Path, base: &Url) -> Result<Vec<String>> {
    let text = String::from_utf8_lossy(&read_file(path)?).into_owned();
    let mut out = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        if line.starts_with('/') {
            out.push(line.to_string());
            continue;
        }
        let u = Url::parse(line)?;
        if (u.host.as_str(), u.port) != (base.host.as_str(), base.port) {
            return Err(Error::Arg(format!(
                "{line}: every URL must share the first URL's host and port"
            )));
        }
        out.push(u.path);
    }
    if out.is_empty() {
        return Err(Error::Arg(format!("{}: no URLs", path.display())));
    }
    Ok(out)
}

/// `loadgen run`.
pub fn run_command(args: RunArgs) -> Result<()> {
    let url = Url::parse(&args.url)?;
    let body = args.body.as_deref().map(read_body).transpose()?;
    let method = args
        .method
        .clone()
        .unwrap_or_else(|| if body.is_some() { "POST" } else { "GET" }.into());
    let paths = if let Some(file) = &args.urls {
        Paths::List(read_url_list(file, &url)?)
    } else if url.path.contains("{id}") {
        let ids = IdSource::parse_range(&args.ids, args.dist)
            .ok_or_else(|| Error::Arg(format!("--ids {:?}: expected LO..HI", args.ids)))?;
        Paths::Template {
            path: url.path.clone(),
            ids,
        }
    } else {
        Paths::Fixed(url.path.clone())
    };
    let spec = RequestSpec {
        label: args.url.clone(),
        url: url.clone(),
        method: method.to_ascii_uppercase(),
        paths,
        body,
        capture_ids: false,
    };
    let mut headers = headers(&args.load, &url)?;
    let has_type = headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    if spec.body.is_some() && !has_type {
        // DreamFactory APIs take JSON; -H overrides this.
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    let done = execute(&spec, &args.load, AB_DEFAULTS, &headers, None)?;
    print!("{}", done.report.summary());
    write_outputs(&args.load, &done.report)
}
