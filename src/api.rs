//! The API pipeline, in named stages: route -> (auth) -> parse -> plan -> execute -> respond.
//!
//! Today the stages that exist are routing (with DreamFactory's verb tunnelling), the
//! operational endpoints (`/healthz`, `/status`, `/metrics`) and the service namespace under
//! `/api/v2`; auth and the database services plug in as the next stages.

pub mod caller;
pub mod cors;
pub mod query;
pub mod router;
pub mod scripted;
pub mod services;
pub mod session;
mod status;
mod system;
mod system_service;
pub mod tunnel;
mod user;

use bytes::Bytes;

pub use query::Query;
pub use router::{Endpoint, RouteError, Router};

use crate::envelope::ApiError;
use crate::http::{Method, Request, Response};
use crate::runtime::Worker;

static HEALTHY: &[u8] = br#"{"status":"ok"}"#;

/// CORS around routing: preflights are answered before routing and auth, every other response
/// is decorated, by the configured entries and those stored through `system/cors` alike.
/// Without CORS entries (the common case) this costs the snapshot load (which
/// the handlers need anyway) and one `is_empty()` check.
pub async fn dispatch(worker: &Worker, req: &Request<'_>) -> Response {
    let snapshot = worker.snapshot();
    if snapshot.cors.is_empty() {
        drop(snapshot);
        return route(worker, req).await;
    }
    // Held across the handler (a per-core `Rc`, no shared counter touched); a streamed response
    // is encoded after this returns, so it never pins the snapshot.
    let policy = &snapshot.cors;
    if let Some(answer) = policy.preflight(req, req.path()) {
        return answer;
    }
    let resp = route(worker, req).await;
    policy.decorate(req, req.path(), resp)
}

async fn route(worker: &Worker, req: &Request<'_>) -> Response {
    let query = Query::parse(req.query());
    let method = tunnel::effective_method(req, &query);
    let matched = match worker.shared.router.route(req.path(), method) {
        Ok(m) => m,
        Err(RouteError::NotFound) => {
            return Response::error(&ApiError::not_found(format!(
                "Route '{}' not found.",
                req.path()
            )))
        }
        Err(RouteError::MethodNotAllowed { allow }) => {
            return Response::error(&ApiError::new(
                405,
                format!("Method {method} is not allowed on '{}'.", req.path()),
            ))
            .header("Allow", allow)
        }
    };
    if method == Method::Options {
        return Response::empty(200).header("Allow", matched.allow);
    }
    match matched.endpoint {
        Endpoint::Health => Response::json(200, Bytes::from_static(HEALTHY)),
        Endpoint::Status => status::status(worker),
        Endpoint::Metrics => status::metrics(worker),
        Endpoint::ServiceList => services::list(worker, req, &query),
        Endpoint::Service => {
            services::call(
                worker,
                req,
                method,
                &query,
                matched.service,
                matched.resource,
            )
            .await
        }
    }
}
