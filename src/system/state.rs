//! Everything the system database holds that requests read, loaded in one pass and published to
//! every core as one snapshot: stored services, roles and their access rules, apps, users'
//! roles, CORS entries, lookups and event scripts.
//!
//! A change through the system API reloads it all ([`changed`]): the tables are small, a reload
//! is rare, and one path means a change can never reach one compiled form and miss another. The
//! change counter row tells other instances sharing the database to do the same
//! ([`crate::system::watch`]).

use std::collections::HashMap;
use std::sync::Arc;

use percore_connector::{DbError, Value};

use super::rows::{self, quoted, Row};
use super::services::{self, Stored};
use crate::api::cors::{CorsEntry, CorsPolicy, MethodMask};
use crate::auth::access::{AccessSnapshot, App, FilterOp, Role, RoleServiceAccess, ServerFilter};
use crate::auth::authz::Authz;
use crate::config::{Config, Snapshot};
use crate::services::AnyDb;

pub use crate::scripts::events::{EventScript, EventScripts};

/// The system database's contents, as loaded.
pub struct Loaded {
    pub services: Vec<Stored>,
    pub authz: Authz,
    pub cors: Vec<CorsEntry>,
    pub scripts: EventScripts,
}

fn err(e: DbError) -> String {
    e.to_string()
}

/// Reads everything; a row that does not compile refuses the whole load (the snapshot in force
/// stays), naming the row.
pub async fn load(db: &AnyDb, config: &Config) -> Result<Loaded, String> {
    let services = services::load(db).await.map_err(err)?;
    let mut service_names: HashMap<i64, String> =
        services.iter().map(|s| (s.id, s.name.clone())).collect();
    for name in config.services.keys().chain(["db".to_string()].iter()) {
        service_names.insert(services::configured_id(name), name.clone());
    }
    let roles: Vec<Role> = rows::all(db, "percore_role")
        .await
        .map_err(err)?
        .iter()
        .map(|r| Role {
            id: r.int("id").unwrap_or_default(),
            name: r.text("name").unwrap_or_default(),
            is_active: r.flag("is_active"),
        })
        .collect();
    let mut accesses = Vec::new();
    for r in rows::all(db, "percore_role_service_access")
        .await
        .map_err(err)?
    {
        let service = match r.int("service_id") {
            None => None,
            // A row whose service was deleted grants nothing.
            Some(id) => match service_names.get(&id) {
                Some(name) => Some(name.clone()),
                None => continue,
            },
        };
        accesses.push(access_row(&r, service)?);
    }
    let apps: Vec<App> = rows::all(db, "percore_app")
        .await
        .map_err(err)?
        .iter()
        .map(|r| App {
            id: r.int("id").unwrap_or_default(),
            name: r.text("name").unwrap_or_default(),
            api_key: r.text("api_key").unwrap_or_default(),
            role_id: r.int("role_id"),
            is_active: r.flag("is_active"),
        })
        .collect();
    let access = AccessSnapshot::compile(roles, accesses, apps).map_err(|e| e.to_string())?;
    let mut authz = Authz {
        access,
        ..Authz::default()
    };
    users(db, &mut authz).await.map_err(err)?;
    for r in rows::all(db, "percore_user_to_app_to_role")
        .await
        .map_err(err)?
    {
        if let (Some(u), Some(a), Some(role)) =
            (r.int("user_id"), r.int("app_id"), r.int("role_id"))
        {
            authz.user_app_roles.insert((u, a), role);
        }
    }
    for r in rows::all(db, "percore_lookup").await.map_err(err)? {
        authz.lookups.insert(
            r.text("name").unwrap_or_default(),
            r.text("value").unwrap_or_default(),
        );
    }
    let cors = rows::all(db, "percore_cors_config")
        .await
        .map_err(err)?
        .iter()
        .map(cors_row)
        .collect();
    let script_rows = rows::all(db, "percore_event_script").await.map_err(err)?;
    let scripts = script_rows.iter().map(|r| {
        let name = r.text("name").unwrap_or_default();
        let content: Arc<str> = r.text("content").unwrap_or_default().into();
        EventScript {
            id: r.int("id").unwrap_or_default(),
            script: crate::scripts::Script::new(name.as_str(), Arc::clone(&content)),
            name,
            kind: r.text("type").unwrap_or_else(|| "javascript".into()),
            content,
            config: r
                .text("config")
                .and_then(|c| serde_json::from_str(&c).ok())
                .unwrap_or(serde_json::Value::Null),
            is_active: r.flag("is_active"),
            allow_event_modification: r.flag("allow_event_modification"),
            last_modified_date: r.int("last_modified_date").unwrap_or_default(),
        }
    });
    let scripts = EventScripts::new(scripts);
    Ok(Loaded {
        services,
        authz,
        cors,
        scripts,
    })
}

/// One `role_service_access` row; `filters` is DreamFactory's array, stored as JSON text.
pub fn access_row(r: &Row, service: Option<String>) -> Result<RoleServiceAccess, String> {
    let filters: Vec<ServerFilter> = match r.text("filters") {
        None => Vec::new(),
        Some(t) if t.trim().is_empty() => Vec::new(),
        Some(t) => serde_json::from_str(&t).map_err(|e| {
            format!(
                "role_service_access {}: filters: {e}",
                r.int("id").unwrap_or_default()
            )
        })?,
    };
    Ok(RoleServiceAccess {
        role_id: r.int("role_id").unwrap_or_default(),
        service,
        component: r.text("component").unwrap_or_default(),
        verb_mask: r.int("verb_mask").unwrap_or_default().clamp(0, 127) as u8,
        requestor_mask: r.int("requestor_mask").unwrap_or(1).clamp(0, 3) as u8,
        filters,
        filter_op: match r.text("filter_op").as_deref() {
            Some(op) if op.eq_ignore_ascii_case("or") => FilterOp::Or,
            _ => FilterOp::And,
        },
    })
}

fn cors_row(r: &Row) -> CorsEntry {
    CorsEntry {
        path: r.text("path").unwrap_or_default(),
        description: r.text("description"),
        origin: r.text("origin").unwrap_or_else(|| "*".into()),
        header: r.text("header").unwrap_or_else(|| "*".into()),
        exposed_header: r.text("exposed_header"),
        // 0 (the column's default) is "not restricted", as an absent mask is in configuration.
        method: match r.int("method").unwrap_or_default() {
            m @ 1..=0xffff => MethodMask(m as u16),
            _ => MethodMask::default(),
        },
        max_age: r.int("max_age").unwrap_or(3600).clamp(0, u32::MAX as i64) as u32,
        supports_credentials: r.flag("supports_credentials"),
        enabled: r.flag("enabled"),
    }
}

/// Users with a default role, and deactivated users. Admins need neither: they bypass roles,
/// and a deactivated admin is refused at login and by the token check like anyone else.
async fn users(db: &AnyDb, authz: &mut Authz) -> Result<(), DbError> {
    let sql = format!(
        "SELECT {id}, {role}, {active} FROM {t} WHERE {role} IS NOT NULL OR {active} = FALSE",
        id = quoted(db, "id"),
        role = quoted(db, "role_id"),
        active = quoted(db, "is_active"),
        t = quoted(db, "percore_user"),
    );
    let int = |v: &Value| match v {
        Value::Int(i) => Some(*i),
        Value::Text(t) => t.parse().ok(),
        _ => None,
    };
    // Read first: a user registering between the two reads is then below the mark and found
    // by the next reload, or above it and served by their token's role.
    let max = format!(
        "SELECT MAX({}) FROM {}",
        quoted(db, "id"),
        quoted(db, "percore_user")
    );
    authz.users_through = db
        .query(&max, &[])
        .await?
        .rows
        .first()
        .and_then(|r| r.first())
        .and_then(int)
        .unwrap_or(0);
    let rows = db.query(&sql, &[]).await?;
    for r in rows.rows {
        let Some(id) = int(&r[0]) else { continue };
        if let Some(role) = int(&r[1]) {
            authz.user_roles.insert(id, role);
        }
        if matches!(r[2], Value::Bool(false) | Value::Int(0)) {
            authz.inactive_users.insert(id);
        }
    }
    Ok(())
}

/// The snapshot serving `loaded` under `config`; unchanged service definitions keep their
/// instances (and connection pools) on every core.
pub fn snapshot(
    config: Arc<Config>,
    loaded: Loaded,
    previous: Option<&Snapshot>,
) -> Result<Snapshot, String> {
    let services = services::merged(&config, &loaded.services, previous.map(|p| &*p.services))
        .map_err(|e| e.to_string())?;
    // Configured entries first: an operator's file wins over what the API stored.
    let entries: Vec<CorsEntry> = config.cors.iter().cloned().chain(loaded.cors).collect();
    let cors = CorsPolicy::new(&entries)?;
    Ok(Snapshot {
        config,
        services: Arc::new(services),
        cors: Arc::new(cors),
        authz: Arc::new(loaded.authz),
        scripts: Arc::new(loaded.scripts),
        generation: 0,
    })
}

/// Reloads everything and publishes it to every core on this instance.
pub async fn publish(db: &AnyDb, shared: &crate::runtime::Shared) -> Result<(), String> {
    let current = shared.snapshot.load();
    let loaded = load(db, &current.config).await?;
    let next = snapshot(Arc::clone(&current.config), loaded, Some(&current))?;
    shared.snapshot.publish(|_| Snapshot {
        config: Arc::clone(&next.config),
        services: Arc::clone(&next.services),
        cors: Arc::clone(&next.cors),
        authz: Arc::clone(&next.authz),
        scripts: Arc::clone(&next.scripts),
        generation: 0,
    });
    Ok(())
}

/// After a write through the system API: tells other instances (the change counter) and
/// publishes here at once.
pub async fn changed(db: &AnyDb, shared: &crate::runtime::Shared) -> Result<(), String> {
    let sql = format!(
        "UPDATE {t} SET {v} = {v} + 1 WHERE {id} = 1",
        t = quoted(db, "percore_change"),
        v = quoted(db, "version"),
        id = quoted(db, "id"),
    );
    db.execute(&sql, &[]).await.map_err(err)?;
    publish(db, shared).await
}

/// The change counter other instances poll.
pub async fn version(db: &AnyDb) -> Result<i64, DbError> {
    let sql = format!(
        "SELECT {} FROM {}",
        quoted(db, "version"),
        quoted(db, "percore_change")
    );
    let rows = db.query(&sql, &[]).await?;
    Ok(match rows.rows.first().and_then(|r| r.first()) {
        Some(Value::Int(v)) => *v,
        Some(Value::Text(t)) => t.parse().unwrap_or(0),
        _ => 0,
    })
}
