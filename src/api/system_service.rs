//! `/api/v2/system/service`: database services managed at run time, for system admins. Stored
//! in the system database and published to every core (and, through the watcher, to every
//! instance sharing it). Services declared in configuration are listed read-only.

use percore_connector::DbError;
use serde_json::{json, Map, Value as Json};

use super::Query;
use crate::config::services::ServiceConfig;
use crate::envelope::ApiError;
use crate::http::{Method, Request, Response};
use crate::runtime::Worker;
use crate::services::db::error::db_error;
use crate::system::services::{self as stored, Stored};

pub async fn handle(
    w: &Worker,
    req: &Request<'_>,
    method: Method,
    query: &Query<'_>,
    id: Option<&str>,
) -> Response {
    if let Err(r) = super::session::require_admin(w, req, query) {
        return r;
    }
    let result = match (method, id) {
        (Method::Get | Method::Head, None) => list(w).await,
        (Method::Get | Method::Head, Some(id)) => one(w, id).await,
        (Method::Post, None) => create(w, req.body()).await,
        (Method::Put | Method::Patch, Some(id)) => {
            change(w, id, req.body(), method == Method::Patch).await
        }
        (Method::Delete, Some(id)) => remove(w, id).await,
        _ => Err(ApiError::bad_request(format!(
            "{method} is not supported here."
        ))),
    };
    result.unwrap_or_else(|e| Response::error(&e))
}

fn db(e: DbError) -> ApiError {
    db_error(&e)
}

async fn all(w: &Worker) -> Result<Vec<(Stored, bool)>, ApiError> {
    let snapshot = w.snapshot();
    // Configured services (the embedded `db` included) are listed read-only, with id 0.
    let configured =
        crate::config::services::effective(&snapshot.config.services, &snapshot.config.data_dir)
            .map_err(|e| ApiError::new(500, e.to_string()))?;
    let mut out: Vec<(Stored, bool)> = configured
        .into_iter()
        .map(|(name, config)| {
            (
                Stored {
                    id: stored::configured_id(&name),
                    name,
                    config,
                },
                true,
            )
        })
        .collect();
    out.extend(
        stored::load(&w.system)
            .await
            .map_err(db)?
            .into_iter()
            .map(|s| (s, false)),
    );
    Ok(out)
}

/// The id of the stored or configured service `name`, as `role_service_access.service_id`
/// names it.
pub fn service_id(w: &Worker, name: &str) -> Option<i64> {
    let snapshot = w.snapshot();
    let def = snapshot.services.get(name)?;
    let configured = name == "db" || snapshot.config.services.contains_key(name);
    if configured {
        return Some(stored::configured_id(name));
    }
    def.stored_id
}

async fn list(w: &Worker) -> Result<Response, ApiError> {
    let resource: Vec<Json> = all(w)
        .await?
        .iter()
        .map(|(s, ro)| stored::to_json(s, *ro))
        .collect();
    Ok(Response::json_value(200, &json!({ "resource": resource })))
}

async fn find(w: &Worker, id: &str) -> Result<Stored, ApiError> {
    stored::load(&w.system)
        .await
        .map_err(db)?
        .into_iter()
        .find(|s| s.id.to_string() == id || s.name == id)
        .ok_or_else(|| ApiError::not_found(format!("Service '{id}' not found.")))
}

async fn one(w: &Worker, id: &str) -> Result<Response, ApiError> {
    Ok(Response::json_value(
        200,
        &stored::to_json(&find(w, id).await?, false),
    ))
}

/// Parses one definition in DreamFactory's shape: `{"name","label","description","type",
/// "is_active","config":{...}}`.
fn definition(record: &Map<String, Json>) -> Result<(String, ServiceConfig), ApiError> {
    let name = record
        .get("name")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    let mut doc = record.clone();
    doc.remove("name");
    doc.remove("id");
    let config: ServiceConfig = serde_json::from_value(Json::Object(doc))
        .map_err(|e| ApiError::bad_request(format!("Invalid service '{name}': {e}.")))?;
    Ok((name, config))
}

fn records(body: &[u8]) -> Result<Vec<Map<String, Json>>, ApiError> {
    let parsed = crate::services::db::write::parse_records(body).map_err(|e| e.to_api())?;
    if parsed.items.is_empty() {
        return Err(ApiError::bad_request(
            "No service definition in the request.",
        ));
    }
    Ok(parsed.items)
}

async fn publish(w: &Worker) -> Result<(), ApiError> {
    crate::system::state::changed(&w.system, &w.shared)
        .await
        .map_err(|e| ApiError::new(500, e))
}

async fn create(w: &Worker, body: &[u8]) -> Result<Response, ApiError> {
    let data_dir = w.snapshot().config.data_dir.clone();
    let mut created = Vec::new();
    for record in records(body)? {
        let (name, config) = definition(&record)?;
        stored::validate(&name, &config, &data_dir).map_err(db)?;
        if w.snapshot().config.services.contains_key(&name) || name == "db" {
            return Err(ApiError::bad_request(format!(
                "Service '{name}' is declared in the configuration."
            )));
        }
        let id = stored::insert(&w.system, &name, &config)
            .await
            .map_err(|e| match e.kind {
                percore_connector::ErrorKind::Constraint => {
                    ApiError::bad_request(format!("Service '{name}' exists already."))
                }
                _ => db(e),
            })?;
        created.push(json!({ "id": id, "name": name }));
    }
    publish(w).await?;
    Ok(Response::json_value(201, &json!({ "resource": created })))
}

async fn change(w: &Worker, id: &str, body: &[u8], merge: bool) -> Result<Response, ApiError> {
    let current = find(w, id).await?;
    let record = records(body)?.into_iter().next().unwrap_or_default();
    let mut doc = match serde_json::to_value(&current.config) {
        Ok(Json::Object(m)) if merge => m,
        _ => Map::new(),
    };
    for (k, v) in record {
        if k == "config" && merge {
            let base = doc.entry("config").or_insert_with(|| json!({}));
            if let (Some(base), Json::Object(patch)) = (base.as_object_mut(), v) {
                base.extend(patch);
            }
        } else {
            doc.insert(k, v);
        }
    }
    doc.insert("name".into(), Json::String(current.name.clone()));
    let (name, config) = definition(&doc)?;
    stored::validate(&name, &config, &w.snapshot().config.data_dir).map_err(db)?;
    stored::update(&w.system, current.id, &config)
        .await
        .map_err(db)?;
    publish(w).await?;
    Ok(Response::json_value(
        200,
        &json!({ "id": current.id, "name": name }),
    ))
}

async fn remove(w: &Worker, id: &str) -> Result<Response, ApiError> {
    let current = find(w, id).await?;
    stored::delete(&w.system, current.id).await.map_err(db)?;
    publish(w).await?;
    Ok(Response::json_value(
        200,
        &json!({ "id": current.id, "name": current.name }),
    ))
}
