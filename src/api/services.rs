//! The `/api/v2/{service}` namespace: the services published in the snapshot, dispatched to
//! this core's instance of each.

use percore_connector::Value;
use serde_json::json;

use super::Query;
use crate::envelope::ApiError;
use crate::http::{Method, Request, Response};
use crate::runtime::Worker;
use crate::services::db::DbCall;

/// `GET /api/v2`: DreamFactory's `{"services":[...]}` listing.
pub fn list(worker: &Worker) -> Response {
    let snapshot = worker.snapshot();
    let services: Vec<_> = snapshot
        .services
        .values()
        .filter(|d| d.config.is_active)
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
    let snapshot = worker.snapshot();
    let Some(def) = snapshot
        .services
        .get(name.as_ref())
        .filter(|d| d.config.is_active)
    else {
        return Response::error(&ApiError::not_found(format!("Service '{name}' not found.")));
    };
    let svc = match worker.services.instance(def, &snapshot.config.data_dir) {
        Ok(s) => s,
        Err(e) => return Response::error(&crate::services::db::error::db_error(&e)),
    };
    let resource = percent_decode(resource);
    // A session token, when given, must be valid; it feeds the `{user.*}` lookups.
    let session = match super::session::token(req, query) {
        None => None,
        Some(token) => match super::session::claims(worker, token) {
            Ok(claims) => Some((claims, token)),
            Err(response) => return response,
        },
    };
    let api_key = req
        .header_str("x-dreamfactory-api-key")
        .or_else(|| query.get("api_key"));
    let lookups = |name: &str| -> Option<Value> {
        let (claims, token) = session.as_ref()?;
        match name {
            "user.id" => Some(Value::Int(claims.user_id)),
            "user.email" => Some(Value::Text(claims.email.clone())),
            "session.token" | "session_token" => Some(Value::Text(token.to_string())),
            "app.api_key" => api_key.map(|k| Value::Text(k.to_string())),
            _ => None,
        }
    };
    let call = DbCall {
        method,
        resource: &resource,
        query,
        body: req.body(),
        lookups: &lookups,
        role_filter: None,
    };
    svc.handle(&call).await
}

/// Path segments are percent-decoded (`+` stays a plus: only query strings use it for space).
/// Borrowed when there is nothing to decode, which is almost always.
fn percent_decode(s: &str) -> std::borrow::Cow<'_, str> {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy()
}
