//! The `/api/v2/{service}` namespace: the services published in the snapshot, dispatched to
//! this core's instance of each.

use serde_json::json;

use super::caller::{authorize, Caller};
use super::Query;
use std::sync::Arc;

use crate::config::services::ServiceType;
use crate::envelope::ApiError;
use crate::http::{Method, Request, Response};
use crate::runtime::Worker;
use crate::services::db::filter::Expr;
use crate::services::db::DbCall;
use crate::services::ServiceDef;

/// `GET /api/v2`: DreamFactory's `{"services":[...]}` listing, of the services the caller's
/// role has rules for (all of them for system admins).
pub fn list(worker: &Worker, req: &Request<'_>, query: &Query<'_>) -> Response {
    let caller = match Caller::resolve(worker, req, query) {
        Ok(c) => c,
        Err(response) => return response,
    };
    let snapshot = worker.snapshot();
    let role = if caller.is_sys_admin() {
        None
    } else if caller.claims.is_none() && caller.app.is_none() {
        return Response::error(&ApiError::new(
            400,
            "No session token or API key was given with the request.",
        ));
    } else {
        match caller.role_id(&snapshot.authz) {
            Some(role) => Some(role),
            None => return Response::json_value(200, &json!({ "services": [] })),
        }
    };
    let services: Vec<_> = snapshot
        .services
        .values()
        .filter(|d| d.config.is_active)
        .filter(|d| role.is_none_or(|r| snapshot.authz.access.sees(r, &d.name, caller.requestor)))
        .map(|d| {
            json!({
                "name": d.name,
                "label": d.config.label.clone().unwrap_or_else(|| d.name.clone()),
                "description": d.config.description,
                "type": d.config.kind,
            })
        })
        .collect();
    Response::json_value(200, &json!({ "services": services }))
}

pub async fn call(
    worker: &Worker,
    req: &Request<'_>,
    method: Method,
    query: &Query<'_>,
    service: &str,
    resource: &str,
) -> Response {
    let name = percent_decode(service);
    match (name.as_ref(), resource.trim_end_matches('/')) {
        ("system", "admin/session") => {
            return super::session::handle(worker, req, method, query, true).await
        }
        ("user", "session") => {
            return super::session::handle(worker, req, method, query, false).await
        }
        ("user", "register") => return super::user::register(worker, req, method, query).await,
        ("user", "profile") => {
            return super::user::profile(worker, req, method, query, false).await
        }
        ("user", "password") => {
            return super::user::password(worker, req, method, query, false).await
        }
        ("system", "admin/profile") => {
            return super::user::profile(worker, req, method, query, true).await
        }
        ("system", "admin/password") => {
            return super::user::password(worker, req, method, query, true).await
        }
        ("system", "service") => {
            return super::system_service::handle(worker, req, method, query, None).await
        }
        ("system", r) if r.starts_with("service/") => {
            let id = percent_decode(&r["service/".len()..]).into_owned();
            return super::system_service::handle(worker, req, method, query, Some(&id)).await;
        }
        ("system", r) => {
            let path = percent_decode(r).into_owned();
            return super::system::handle(worker, req, method, query, &path).await;
        }
        _ => {}
    }
    let caller = match Caller::resolve(worker, req, query) {
        Ok(c) => c,
        Err(response) => return response,
    };
    let resource = percent_decode(resource);
    let call = ServiceCall {
        method,
        service: &name,
        resource: resource.trim_matches('/'),
        query,
        body: req.body(),
        caller: &caller,
        request: Some(req),
        depth: 0,
    };
    dispatch(worker, &call).await
}

/// One call on a service: from a client, or from an event script through `platform.api`.
pub struct ServiceCall<'a> {
    pub method: Method,
    /// The service's name, decoded.
    pub service: &'a str,
    /// The path after the service name, decoded, without slashes at either end.
    pub resource: &'a str,
    pub query: &'a Query<'a>,
    pub body: &'a [u8],
    pub caller: &'a Caller<'a>,
    /// The client's request (headers and URI for scripts); `None` for `platform.api` calls.
    pub request: Option<&'a Request<'a>>,
    /// How many `platform.api` calls deep this call is: 0 for a client's.
    pub depth: u8,
}

/// The pipeline after the caller is known: authorize -> (pre_process script) -> the service's
/// handler -> (post_process script). A `javascript` service's script is its handler.
pub async fn dispatch(worker: &Worker, call: &ServiceCall<'_>) -> Response {
    let snapshot = worker.snapshot();
    // Authorization comes first, so a caller learns nothing about services it may not use.
    let role_filter = match authorize(
        call.caller,
        &snapshot.authz,
        call.service,
        call.resource,
        call.method,
    ) {
        Ok(filter) => filter,
        Err(e) => return Response::error(&e),
    };
    let Some(def) = snapshot
        .services
        .get(call.service)
        .filter(|d| d.config.is_active)
    else {
        return Response::error(&ApiError::not_found(format!(
            "Service '{}' not found.",
            crate::services::db::params::truncate(call.service)
        )));
    };
    if def.config.kind == ServiceType::Javascript {
        return super::scripted::service(worker, call, def).await;
    }
    if snapshot.scripts.for_service(call.service) {
        return super::scripted::around(worker, call, role_filter, def).await;
    }
    handle(worker, call, def, role_filter).await
}

/// The service's own handler.
pub async fn handle(
    worker: &Worker,
    call: &ServiceCall<'_>,
    def: &Arc<ServiceDef>,
    role_filter: Option<&Expr>,
) -> Response {
    let snapshot = worker.snapshot();
    let svc = match worker.services.instance(def, &snapshot.config.data_dir) {
        Ok(s) => s,
        Err(e) => return Response::error(&crate::services::db::error::db_error(&e)),
    };
    let lookups = |name: &str| call.caller.lookup(&snapshot.authz, name);
    let db_call = DbCall {
        method: call.method,
        resource: call.resource,
        query: call.query,
        body: call.body,
        lookups: &lookups,
        role_filter,
    };
    svc.handle(&db_call).await
}

/// Path segments are percent-decoded (`+` stays a plus: only query strings use it for space).
/// Borrowed when there is nothing to decode, which is almost always.
fn percent_decode(s: &str) -> std::borrow::Cow<'_, str> {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy()
}
