//! `/api/v2/system/{resource}`: percore's own state, for system admins, in DreamFactory's shape.
//!
//! The table resources (admin, user, role, app, cors, lookup, event_script) are served by the
//! same table engine as database services, over the system database: `{"resource":[...]}`,
//! `ids`, `filter`, `fields`, `limit`/`offset`/`order`, `related`, batches and their policies
//! all behave exactly as on `_table`. What is particular to a resource is small and lives in
//! [`resources`]: which table, the scope a resource is confined to (admins and users share a
//! table), and the fields written for the caller (password hashes, API keys, dates).
//!
//! The stages of a call: admin check -> records prepared ([`resources::prepare`]) -> the table
//! engine -> after a write, passwords and nested records ([`nested`]) -> republish the
//! snapshot on every core and bump the change counter for other instances.

mod environment;
mod nested;
mod resources;

use bytes::Bytes;
use serde_json::{json, Map, Value as Json};

use super::Query;
use crate::envelope::ApiError;
use crate::http::response::Body;
use crate::http::{Method, Request, Response};
use crate::runtime::Worker;
use crate::services::db::filter::{self, Expr};
use crate::services::db::write::parse_records;
use crate::services::db::DbCall;
use resources::Resource;

pub async fn handle(
    w: &Worker,
    req: &Request<'_>,
    method: Method,
    query: &Query<'_>,
    path: &str,
) -> Response {
    if let Err(r) = super::session::require_admin(w, req, query) {
        return r;
    }
    let path = path.trim_matches('/');
    let (name, rest) = path.split_once('/').unwrap_or((path, ""));
    let result = match (name, method) {
        ("", Method::Get | Method::Head) => Ok(index()),
        ("environment", Method::Get | Method::Head) => Ok(environment::get(w)),
        ("event", Method::Get | Method::Head) => environment::events(w).await,
        ("environment" | "event" | "", _) => Err(ApiError::new(
            405,
            format!("{method} is not supported on 'system/{name}'."),
        )),
        _ => match Resource::named(name) {
            Some(res) => table(w, req, method, query, res, rest).await,
            None => Err(ApiError::not_found(format!(
                "Resource 'system/{}' not found.",
                crate::services::db::params::truncate(name)
            ))),
        },
    };
    result.unwrap_or_else(|e| Response::error(&e))
}

/// `GET /api/v2/system`: the resources, as DreamFactory lists them.
fn index() -> Response {
    let mut names: Vec<&str> = resources::ALL.iter().map(|r| r.name).collect();
    names.extend(["service", "environment", "event"]);
    names.sort_unstable();
    let resource: Vec<Json> = names.iter().map(|n| json!({ "name": n })).collect();
    Response::json_value(200, &json!({ "resource": resource }))
}

async fn table(
    w: &Worker,
    req: &Request<'_>,
    method: Method,
    query: &Query<'_>,
    res: &'static Resource,
    rest: &str,
) -> Result<Response, ApiError> {
    let scope: Option<Expr> = match res.scope {
        Some(f) => Some(filter::parse(f).map_err(|e| ApiError::new(500, e.to_string()))?),
        None => None,
    };
    // DreamFactory addresses an event script by its name (the event): GET, PUT, PATCH and
    // DELETE `system/event_script/{name}` act on that row; POST to a name creates the script
    // with that name, or updates it when it exists.
    let named = res.name == "event_script" && !rest.is_empty() && rest.parse::<i64>().is_err();
    let by_name;
    let mut post_name = None;
    let (query, method, rest) = if named {
        by_name = query.with("id_field", "name".into());
        let exists = w.snapshot().scripts.by_name.contains_key(rest);
        match method {
            Method::Post if !exists => {
                post_name = Some(rest);
                (query, method, "")
            }
            Method::Post => (&by_name, Method::Patch, rest),
            m => (&by_name, m, rest),
        }
    } else {
        (query, method, rest)
    };
    let writes = matches!(
        method,
        Method::Post | Method::Put | Method::Patch | Method::Delete
    );
    // Writes are rewritten: fields the caller may not set are set for them, and nested
    // records and passwords are taken out to be written after the parent.
    let mut prepared = None;
    let body: Bytes = if matches!(method, Method::Post | Method::Put | Method::Patch) {
        let mut parsed = parse_records(req.body()).map_err(|e| e.to_api())?;
        if let Some(name) = post_name {
            for item in &mut parsed.items {
                item.insert("name".into(), Json::String(name.to_owned()));
            }
        }
        let p = resources::prepare(w, res, method, query, parsed).await?;
        let body = p.body.clone();
        prepared = Some(p);
        body
    } else {
        Bytes::copy_from_slice(req.body())
    };
    let resource = if rest.is_empty() {
        format!("_table/{}", res.table)
    } else {
        format!("_table/{}/{}", res.table, rest)
    };
    // A private lookup is masked by its `private` flag, so a field list without it must still
    // read it (and drop it again after masking).
    let fields = query.get_any(&["fields", "select"]);
    let add_private = res.name == "lookup"
        && fields.is_some_and(|f| {
            !f.trim().is_empty()
                && f.split(',')
                    .map(str::trim)
                    .all(|c| c != "*" && c != "private")
        });
    let widened;
    let query = if add_private {
        widened = query.with("fields", format!("{},private", fields.unwrap_or_default()));
        &widened
    } else {
        query
    };
    let no_lookups = |_: &str| None;
    let call = DbCall {
        method,
        resource: &resource,
        query,
        body: &body,
        lookups: &no_lookups,
        role_filter: scope.as_ref(),
    };
    let response = w.system_api.handle(&call).await;
    if !writes || response.status >= 300 {
        return Ok(present(res, response, add_private));
    }
    let written = json_of(&response);
    if let Some(p) = prepared {
        nested::after_write(w, res, &p, rest, written.as_ref()).await?;
    }
    if (res.name == "user" || res.name == "admin") && method == Method::Delete {
        resources::revoke_deleted(w, written.as_ref()).await?;
    }
    crate::system::state::changed(&w.system, &w.shared)
        .await
        .map_err(|e| ApiError::new(500, format!("The change was stored but not applied: {e}")))?;
    Ok(present(res, response, add_private))
}

/// A complete JSON response's value (system responses are small and never streamed).
fn json_of(r: &Response) -> Option<Json> {
    match &r.body {
        Body::Full(b) => serde_json::from_slice(b).ok(),
        _ => None,
    }
}

/// Reads show stored JSON text (`filters`, `config`) as JSON, and hide private lookups
/// (`drop_private`: the flag was read only for that, and is not shown).
fn present(res: &Resource, mut r: Response, drop_private: bool) -> Response {
    if r.status >= 300 {
        return r;
    }
    let Some(mut value) = json_of(&r) else {
        return r;
    };
    fix_json_text(&mut value, res, drop_private);
    if let Ok(bytes) = serde_json::to_vec(&value) {
        r.body = Body::Full(Bytes::from(bytes));
    }
    r
}

fn fix_json_text(v: &mut Json, res: &Resource, drop_private: bool) {
    match v {
        Json::Array(items) => items
            .iter_mut()
            .for_each(|i| fix_json_text(i, res, drop_private)),
        Json::Object(m) => {
            for key in ["filters", "config"] {
                if let Some(Json::String(text)) = m.get(key) {
                    if let Ok(parsed) = serde_json::from_str::<Json>(text) {
                        m.insert(key.to_string(), parsed);
                    }
                }
            }
            if res.name == "lookup"
                && m.get("private").is_some_and(truthy)
                && m.contains_key("value")
            {
                m.insert("value".into(), Json::String("********".into()));
            }
            if drop_private {
                m.remove("private");
            }
            m.values_mut()
                .for_each(|i| fix_json_text(i, res, drop_private));
        }
        _ => {}
    }
}

fn truthy(v: &Json) -> bool {
    matches!(v, Json::Bool(true)) || v.as_i64() == Some(1)
}

/// `{"resource":[...]}` with the top-level fields (`ids`, `filter`, ...) kept.
fn body_of(items: Vec<Map<String, Json>>, top: Option<Map<String, Json>>) -> Bytes {
    let mut m = top.unwrap_or_default();
    m.insert(
        "resource".into(),
        Json::Array(items.into_iter().map(Json::Object).collect()),
    );
    Bytes::from(serde_json::to_vec(&Json::Object(m)).unwrap_or_default())
}
