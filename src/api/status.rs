//! Operational endpoints: `/status` (JSON, no auth) and `/metrics` (Prometheus text).

use serde::Serialize;

use crate::http::Response;
use crate::runtime::Worker;

#[derive(Serialize)]
struct Status<'a> {
    version: &'static str,
    uptime_seconds: f64,
    cores: usize,
    cpus: &'a [usize],
    connections_per_core: Vec<u64>,
}

pub fn status(worker: &Worker) -> Response {
    let shared = &worker.shared;
    Response::json_value(
        200,
        &Status {
            version: env!("CARGO_PKG_VERSION"),
            uptime_seconds: shared.started.elapsed().as_secs_f64(),
            cores: shared.stats.len(),
            cpus: &shared.cpus,
            connections_per_core: shared.stats.iter().map(|s| s.open_connections()).collect(),
        },
    )
}

pub fn metrics(worker: &Worker) -> Response {
    let shared = &worker.shared;
    let body = crate::metrics::render(&shared.stats, shared.started.elapsed().as_secs_f64());
    Response::new(
        200,
        Some("text/plain; version=0.0.4; charset=utf-8"),
        crate::http::Body::Full(body.into()),
    )
}
