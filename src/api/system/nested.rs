//! What a system write does after the table engine has written the parent records: store the
//! hashed passwords, and the nested records DreamFactory clients send inside their parents
//! (`role_service_access_by_role_id` in a role, `user_to_app_to_role_by_user_id` in a user).
//!
//! Nested records follow DreamFactory's rules: one with an `id` is updated, or deleted when its
//! key to the parent is set to null; one without is created under the parent.

use bytes::Bytes;
use percore_connector::Value;
use serde_json::{Map, Value as Json};

use super::resources::{Prepared, Resource};
use crate::envelope::ApiError;
use crate::http::Method;
use crate::runtime::Worker;
use crate::services::db::DbCall;
use crate::system::rows::quoted;

pub async fn after_write(
    w: &Worker,
    res: &Resource,
    p: &Prepared,
    path_id: &str,
    written: Option<&Json>,
) -> Result<(), ApiError> {
    for (i, password) in &p.passwords {
        let hash = w
            .shared
            .passwords
            .hash_async(password.clone())
            .await
            .map_err(|e| ApiError::new(500, e.to_string()))?;
        let target = parent_key(p, *i, path_id, written);
        set_password(w, res, target, hash).await?;
    }
    for (i, table, key, children) in &p.children {
        let Some(parent) = parent_id(p, *i, path_id, written) else {
            return Err(ApiError::bad_request(
                "Nested records need their parent's id.",
            ));
        };
        for child in children {
            write_child(w, table, key, parent, child.clone()).await?;
        }
    }
    Ok(())
}

/// Which user a password is for: the path's id, the record's id, the engine's answer, or the
/// record's email (unique), in that order.
enum UserKey {
    Id(i64),
    Email(String),
}

fn parent_key(p: &Prepared, i: usize, path_id: &str, written: Option<&Json>) -> UserKey {
    match parent_id(p, i, path_id, written) {
        Some(id) => UserKey::Id(id),
        None => UserKey::Email(
            p.items
                .get(i)
                .and_then(|r| r.get("email"))
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string(),
        ),
    }
}

fn parent_id(p: &Prepared, i: usize, path_id: &str, written: Option<&Json>) -> Option<i64> {
    if let Ok(id) = path_id.parse() {
        return Some(id);
    }
    if let Some(id) = p
        .items
        .get(i)
        .and_then(|r| r.get("id"))
        .and_then(Json::as_i64)
    {
        return Some(id);
    }
    let written = written?;
    let one = match written.get("resource") {
        Some(list) => list.get(i)?,
        None => written,
    };
    one.get("id").and_then(Json::as_i64)
}

async fn set_password(
    w: &Worker,
    res: &Resource,
    target: UserKey,
    hash: String,
) -> Result<(), ApiError> {
    let db = &w.system;
    let d = db.dialect();
    let (col, value) = match target {
        UserKey::Id(id) => ("id", Value::Int(id)),
        UserKey::Email(e) => ("email", Value::Text(e)),
    };
    let mut sql = format!(
        "UPDATE {} SET {} = ",
        quoted(db, "percore_user"),
        quoted(db, "password_hash")
    );
    d.placeholder(&mut sql, 1);
    sql.push_str(&format!(" WHERE {} = ", quoted(db, col)));
    d.placeholder(&mut sql, 2);
    sql.push_str(&format!(" AND {} = ", quoted(db, "is_sys_admin")));
    d.placeholder(&mut sql, 3);
    db.execute(
        &sql,
        &[Value::Text(hash), value, Value::Bool(res.name == "admin")],
    )
    .await
    .map_err(|e| crate::services::db::error::db_error(&e))?;
    Ok(())
}

async fn write_child(
    w: &Worker,
    table: &str,
    key: &str,
    parent: i64,
    mut child: Map<String, Json>,
) -> Result<(), ApiError> {
    let id = child.get("id").and_then(Json::as_i64);
    let detach = child.get(key).is_some_and(Json::is_null);
    let (method, resource) = match id {
        Some(id) if detach => (Method::Delete, format!("_table/{table}/{id}")),
        Some(id) => (Method::Patch, format!("_table/{table}/{id}")),
        None => (Method::Post, format!("_table/{table}")),
    };
    child.remove("id");
    child.insert(key.into(), parent.into());
    let now = Json::from(crate::system::rows::unix_now());
    if method == Method::Post {
        child.insert("created_date".into(), now.clone());
    }
    child.insert("last_modified_date".into(), now);
    if let Ok(columns) = w.system_api.columns(table).await {
        child.retain(|k, _| columns.iter().any(|c| c == k));
    }
    let body = Bytes::from(serde_json::to_vec(&Json::Object(child)).unwrap_or_default());
    let query = super::super::Query::default();
    let no_lookups = |_: &str| None;
    // A child of another parent is not this one's to change.
    let scope = crate::services::db::filter::parse(&format!("{key} = {parent}"))
        .map_err(|e| ApiError::new(500, e.to_string()))?;
    let call = DbCall {
        method,
        resource: &resource,
        query: &query,
        body: if method == Method::Delete { &[] } else { &body },
        lookups: &no_lookups,
        role_filter: (method != Method::Post).then_some(&scope),
    };
    let r = w.system_api.handle(&call).await;
    if r.status >= 300 {
        let message = match &r.body {
            crate::http::response::Body::Full(b) => serde_json::from_slice::<Json>(b)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(String::from)),
            _ => None,
        };
        return Err(ApiError::new(
            r.status,
            format!(
                "A nested {}: {}",
                table.trim_start_matches("percore_"),
                message.unwrap_or_else(|| "could not be written.".into())
            ),
        ));
    }
    Ok(())
}
