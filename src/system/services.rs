//! Database services stored in the system database (`/api/v2/system/service`), beside the ones
//! declared in configuration. Every instance sharing the system database serves the same set:
//! a change republishes the snapshot here at once and elsewhere within the watcher's period.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use percore_connector::{DbError, ErrorKind, Value};
use serde_json::{json, Value as Json};

use super::rows::{quoted, unix_now};
use crate::config::services::{effective, ServiceConfig};
use crate::config::{Config, ConfigError};
use crate::services::{AnyDb, ServiceDef};

/// One stored service: its row id, name and definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub id: i64,
    pub name: String,
    pub config: ServiceConfig,
}

const COLUMNS: [&str; 6] = ["id", "name", "label", "description", "type", "config"];

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Text(s) => Some(s.clone()),
        _ => None,
    }
}

/// Every stored service, with `is_active` applied as DreamFactory does (inactive ones exist but
/// are not served).
pub async fn load(db: &AnyDb) -> Result<Vec<Stored>, DbError> {
    let cols: Vec<String> = COLUMNS
        .iter()
        .chain(["is_active"].iter())
        .map(|c| quoted(db, c))
        .collect();
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {}",
        cols.join(", "),
        quoted(db, "percore_service"),
        quoted(db, "id")
    );
    let rows = db.query(&sql, &[]).await?;
    let mut out = Vec::new();
    for r in rows.rows {
        let doc = json!({
            "type": text(&r[4]).unwrap_or_default(),
            "label": text(&r[2]),
            "description": text(&r[3]),
            "is_active": matches!(r[6], Value::Bool(true) | Value::Int(1)),
            "config": serde_json::from_str::<Json>(&text(&r[5]).unwrap_or_default()).unwrap_or(json!({})),
        });
        match (r[0].clone(), serde_json::from_value::<ServiceConfig>(doc)) {
            (Value::Int(id), Ok(config)) => out.push(Stored {
                id,
                name: text(&r[1]).unwrap_or_default(),
                config,
            }),
            (_, Err(e)) => {
                tracing::warn!(error = %e, "skipping a stored service that no longer parses")
            }
            _ => {}
        }
    }
    Ok(out)
}

fn config_json(c: &ServiceConfig) -> String {
    serde_json::to_value(&c.config)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| "{}".into())
}

fn kind(c: &ServiceConfig) -> String {
    serde_json::to_value(c.kind)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

pub async fn insert(db: &AnyDb, name: &str, c: &ServiceConfig) -> Result<i64, DbError> {
    let d = db.dialect();
    let cols = [
        "name",
        "label",
        "description",
        "type",
        "config",
        "is_active",
        "created_date",
        "last_modified_date",
    ];
    let mut sql = format!("INSERT INTO {} (", quoted(db, "percore_service"));
    sql.push_str(
        &cols
            .iter()
            .map(|c| quoted(db, c))
            .collect::<Vec<_>>()
            .join(", "),
    );
    sql.push_str(") VALUES (");
    for i in 1..=cols.len() {
        if i > 1 {
            sql.push_str(", ");
        }
        d.placeholder(&mut sql, i);
    }
    sql.push(')');
    let now = unix_now();
    let opt = |s: &Option<String>| s.clone().map_or(Value::Null, Value::Text);
    let values = [
        Value::Text(name.to_string()),
        opt(&c.label),
        opt(&c.description),
        Value::Text(kind(c)),
        Value::Text(config_json(c)),
        Value::Bool(c.is_active),
        Value::Int(now),
        Value::Int(now),
    ];
    let done = db.execute(&sql, &values).await?;
    match done.last_insert_id {
        Some(id) => Ok(id),
        None => Ok(load(db)
            .await?
            .into_iter()
            .find(|s| s.name == name)
            .map_or(0, |s| s.id)),
    }
}

pub async fn update(db: &AnyDb, id: i64, c: &ServiceConfig) -> Result<bool, DbError> {
    let d = db.dialect();
    let cols = [
        "label",
        "description",
        "type",
        "config",
        "is_active",
        "last_modified_date",
    ];
    let mut sql = format!("UPDATE {} SET ", quoted(db, "percore_service"));
    for (i, col) in cols.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&quoted(db, col));
        sql.push_str(" = ");
        d.placeholder(&mut sql, i + 1);
    }
    sql.push_str(&format!(" WHERE {} = ", quoted(db, "id")));
    d.placeholder(&mut sql, cols.len() + 1);
    let opt = |s: &Option<String>| s.clone().map_or(Value::Null, Value::Text);
    let values = [
        opt(&c.label),
        opt(&c.description),
        Value::Text(kind(c)),
        Value::Text(config_json(c)),
        Value::Bool(c.is_active),
        Value::Int(unix_now()),
        Value::Int(id),
    ];
    Ok(db.execute(&sql, &values).await?.affected > 0)
}

pub async fn delete(db: &AnyDb, id: i64) -> Result<bool, DbError> {
    let mut sql = format!(
        "DELETE FROM {} WHERE {} = ",
        quoted(db, "percore_service"),
        quoted(db, "id")
    );
    db.dialect().placeholder(&mut sql, 1);
    Ok(db.execute(&sql, &[Value::Int(id)]).await?.affected > 0)
}

/// The services every core serves: configuration's (which win on a name clash) and the stored
/// ones. Definitions that did not change keep their `Arc` (and so each core keeps its pools).
pub fn merged(
    config: &Config,
    stored: &[Stored],
    previous: Option<&BTreeMap<String, Arc<ServiceDef>>>,
) -> Result<BTreeMap<String, Arc<ServiceDef>>, ConfigError> {
    let mut all = config.services.clone();
    for s in stored {
        if !all.contains_key(&s.name) {
            all.insert(s.name.clone(), s.config.clone());
        }
    }
    let all = effective(&all, &config.data_dir)?;
    Ok(all
        .into_iter()
        .map(|(name, cfg)| {
            let stored_id = stored
                .iter()
                .find(|s| s.name == name && !config.services.contains_key(&name))
                .map(|s| s.id);
            let def = match previous.and_then(|p| p.get(&name)) {
                Some(old) if old.config == cfg && old.stored_id == stored_id => Arc::clone(old),
                _ => Arc::new(ServiceDef {
                    name: name.clone(),
                    config: cfg,
                    schema_version: Arc::default(),
                    stored_id,
                }),
            };
            (name, def)
        })
        .collect())
}

/// The id a service declared in configuration shows through the system API (and that
/// `role_service_access.service_id` names it by): derived from the name, so it is the same on
/// every instance and across restarts and reorderings of the file, and far above the ids the
/// database hands out to stored services.
pub fn configured_id(name: &str) -> i64 {
    // FNV-1a: stable across builds, unlike std's hasher.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    1_000_000_000 + (hash % 1_000_000_000) as i64
}

/// A stored service as the system API shows it: no password, URL passwords masked.
pub fn to_json(s: &Stored, from_config: bool) -> Json {
    let mut config = serde_json::to_value(&s.config.config).unwrap_or(json!({}));
    if let Some(obj) = config.as_object_mut() {
        obj.remove("password");
        if let Some(Json::String(url)) = obj.get("url") {
            let masked = crate::config::mask::mask_url_password(url);
            obj.insert("url".into(), Json::String(masked));
        }
    }
    json!({
        "id": s.id,
        "name": s.name,
        "label": s.config.label,
        "description": s.config.description,
        "type": s.config.kind,
        "is_active": s.config.is_active,
        "config": config,
        "read_only": from_config,
    })
}

/// Validates a new or changed definition the way a configured one is validated.
pub fn validate(name: &str, c: &ServiceConfig, data_dir: &Path) -> Result<(), DbError> {
    let one = BTreeMap::from([(name.to_string(), c.clone())]);
    effective(&one, data_dir)
        .map(|_| ())
        .map_err(|e| DbError::new(ErrorKind::InvalidInput, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::configured_id;

    #[test]
    fn configured_ids_are_stable_distinct_and_above_stored_ones() {
        // Fixed: a role's service_id must name the same service after an upgrade.
        assert_eq!(configured_id("db"), configured_id("db"));
        assert_ne!(configured_id("db"), configured_id("pg"));
        for name in ["db", "pg", "my", "a", ""] {
            assert!((1_000_000_000..2_000_000_000).contains(&configured_id(name)));
        }
    }
}
