//! What each system resource is, and how a write's records are prepared for the table engine:
//! the fields the server sets (dates, `is_sys_admin`, API keys), the ones taken out to write
//! separately (passwords, nested records), and the checks that must refuse a row before it is
//! stored (filters that do not compile, CORS entries that do not parse).

use bytes::Bytes;
use serde_json::{Map, Value as Json};

use super::super::Query;
use crate::api::cors::{CorsEntry, CorsPolicy, MethodMask};
use crate::envelope::ApiError;
use crate::http::Method;
use crate::runtime::Worker;
use crate::services::db::write::Records;
use crate::system::rows::{unix_now, Row};
use crate::system::state::access_row;
use percore_connector::Value;

pub struct Resource {
    pub name: &'static str,
    pub table: &'static str,
    /// A filter every call on the resource is confined to.
    pub scope: Option<&'static str>,
    /// Records of other tables that may be written nested in this one's:
    /// `(relation name, table, the child's key to the parent)`.
    pub children: &'static [(&'static str, &'static str, &'static str)],
    /// `(created, last modified)` date columns the server fills in.
    pub dates: (Option<&'static str>, Option<&'static str>),
}

const DATES: (Option<&str>, Option<&str>) = (Some("created_date"), Some("last_modified_date"));
const USER_CHILDREN: &[(&str, &str, &str)] = &[(
    "user_to_app_to_role_by_user_id",
    "percore_user_to_app_to_role",
    "user_id",
)];

pub const ALL: &[Resource] = &[
    Resource {
        name: "admin",
        table: "percore_user",
        scope: Some("is_sys_admin = true"),
        children: USER_CHILDREN,
        dates: (Some("created_date"), None),
    },
    Resource {
        name: "user",
        table: "percore_user",
        scope: Some("is_sys_admin = false"),
        children: USER_CHILDREN,
        dates: (Some("created_date"), None),
    },
    Resource {
        name: "role",
        table: "percore_role",
        scope: None,
        children: &[(
            "role_service_access_by_role_id",
            "percore_role_service_access",
            "role_id",
        )],
        dates: DATES,
    },
    Resource {
        name: "role_service_access",
        table: "percore_role_service_access",
        scope: None,
        children: &[],
        dates: DATES,
    },
    Resource {
        name: "app",
        table: "percore_app",
        scope: None,
        children: &[],
        dates: DATES,
    },
    Resource {
        name: "user_to_app_to_role",
        table: "percore_user_to_app_to_role",
        scope: None,
        children: &[],
        dates: (None, None),
    },
    Resource {
        name: "cors",
        table: "percore_cors_config",
        scope: None,
        children: &[],
        dates: DATES,
    },
    Resource {
        name: "lookup",
        table: "percore_lookup",
        scope: None,
        children: &[],
        dates: DATES,
    },
    Resource {
        name: "event_script",
        table: "percore_event_script",
        scope: None,
        children: &[],
        dates: DATES,
    },
];

impl Resource {
    pub fn named(name: &str) -> Option<&'static Resource> {
        ALL.iter().find(|r| r.name == name)
    }

    fn is_users(&self) -> bool {
        self.table == "percore_user"
    }
}

/// Nested records of one parent: `(parent's record index, table, key to the parent, records)`.
pub type Nested = (usize, &'static str, &'static str, Vec<Map<String, Json>>);

/// A write's records as the table engine gets them, and what is written after them.
pub struct Prepared {
    pub body: Bytes,
    /// The records as sent to the engine, in order (for keys: `email`, `id`).
    pub items: Vec<Map<String, Json>>,
    /// Passwords by record index, to hash and store once the record exists.
    pub passwords: Vec<(usize, String)>,
    pub children: Vec<Nested>,
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(msg.into())
}

pub async fn prepare(
    w: &Worker,
    res: &'static Resource,
    method: Method,
    query: &Query<'_>,
    parsed: Records,
) -> Result<Prepared, ApiError> {
    let columns = w
        .system_api
        .columns(res.table)
        .await
        .map_err(|e| e.to_api())?;
    let now = Json::from(unix_now());
    let regenerate = query
        .get("regenerate")
        .is_some_and(|v| v != "false" && v != "0");
    let scoped = query.get_any(&["ids", "filter"]).is_some()
        || parsed
            .top
            .as_ref()
            .is_some_and(|t| t.contains_key("ids") || t.contains_key("filter"));
    if regenerate && scoped && res.name == "app" {
        // One record applied to many rows would give them all the same new key.
        return Err(bad(
            "regenerate=true renews one app's key at a time: name it in the path, or send records with their ids.",
        ));
    }
    let mut out = Prepared {
        body: Bytes::new(),
        items: Vec::with_capacity(parsed.items.len()),
        passwords: Vec::new(),
        children: Vec::new(),
    };
    for (i, mut record) in parsed.items.into_iter().enumerate() {
        for (relation, table, key) in res.children {
            match record.remove(*relation) {
                Some(Json::Array(list)) => {
                    let list = list
                        .into_iter()
                        .map(|v| match v {
                            Json::Object(m) => Ok(m),
                            _ => Err(bad(format!("'{relation}' must be a list of records."))),
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    out.children.push((i, table, key, list));
                }
                Some(_) => return Err(bad(format!("'{relation}' must be a list of records."))),
                None => {}
            }
        }
        if res.is_users() {
            // `percore_user.role_id` predates the role table's foreign keys (SQLite cannot add
            // one to an existing table), so the reference is checked here, as the database
            // checks it for apps and role access.
            if let Some(role) = record.get("role_id").and_then(Json::as_i64) {
                if w.snapshot().authz.access.role(role).is_none() {
                    return Err(bad(format!("Role {role} does not exist.")));
                }
            }
            for k in ["password", "new_password"] {
                match record.remove(k) {
                    Some(Json::String(p)) => {
                        if p.chars().count() < 8 {
                            return Err(bad("A password must have at least 8 characters."));
                        }
                        out.passwords.push((i, p));
                    }
                    Some(Json::Null) | None => {}
                    Some(_) => return Err(bad("A password is a string.")),
                }
            }
            record.insert("is_sys_admin".into(), Json::Bool(res.name == "admin"));
            if method == Method::Post
                && !record
                    .get("email")
                    .and_then(Json::as_str)
                    .is_some_and(|e| e.contains('@'))
            {
                return Err(bad("A user needs an email address."));
            }
        }
        match res.name {
            "app" => {
                record.remove("api_key");
                if method == Method::Post || regenerate {
                    record.insert("api_key".into(), crate::auth::api_key::generate().into());
                }
            }
            "role_service_access" | "role" => {}
            "cors" => {
                normalize_method(&mut record)?;
                check_cors(&record)?
            }
            "event_script" => {
                if let Some(c) = record.get_mut("config") {
                    if !c.is_string() && !c.is_null() {
                        *c = Json::String(c.to_string());
                    }
                }
            }
            _ => {}
        }
        if res.table == "percore_role_service_access" {
            access_fields(w, &mut record)?;
        }
        if method == Method::Post {
            record.remove("id");
            if let Some(c) = res.dates.0 {
                record.insert(c.into(), now.clone());
            }
        }
        if let Some(c) = res.dates.1 {
            record.insert(c.into(), now.clone());
        }
        // DreamFactory ignores fields a resource does not have (clients send back what they
        // read, relations included); the engine would refuse them.
        record.retain(|k, _| columns.iter().any(|c| c == k));
        out.items.push(record);
    }
    for (_, table, _, list) in &mut out.children {
        if *table == "percore_role_service_access" {
            for child in list.iter_mut() {
                access_fields(w, child)?;
            }
        }
    }
    let top = parsed.top.map(|mut t| {
        t.retain(|k, _| matches!(k.as_str(), "ids" | "filter" | "params"));
        t
    });
    out.body = super::body_of(out.items.clone(), top);
    Ok(out)
}

/// A `role_service_access` record: `filters` stored as JSON text, a service by name accepted
/// (`service`) beside DreamFactory's `service_id`, and the row compiled once to refuse a bad
/// filter or component now rather than at the next reload.
pub fn access_fields(w: &Worker, record: &mut Map<String, Json>) -> Result<(), ApiError> {
    if let Some(Json::String(name)) = record.remove("service") {
        let snapshot = w.snapshot();
        let id = crate::api::system_service::service_id(w, &name)
            .or_else(|| {
                snapshot
                    .services
                    .contains_key(&name)
                    .then(|| crate::system::services::configured_id(&name))
            })
            .ok_or_else(|| bad(format!("Service '{name}' not found.")))?;
        record.insert("service_id".into(), id.into());
    }
    if let Some(f) = record.get_mut("filters") {
        if !f.is_string() && !f.is_null() {
            *f = Json::String(f.to_string());
        }
    }
    // The check: the same reading and compile the snapshot's load runs, on this row alone
    // (as role 1, on a stand-in service when it names one).
    let mut row = Row::from_json(record);
    row.set("role_id", Value::Int(1));
    let service = row.int("service_id").map(|_| "s".to_string());
    let access = access_row(&row, service).map_err(|e| bad(format!("Invalid {e}.")))?;
    let role = crate::auth::access::Role {
        id: 1,
        name: String::new(),
        is_active: true,
    };
    crate::auth::access::AccessSnapshot::compile(vec![role], vec![access], Vec::new())
        .map(|_| ())
        .map_err(|e| bad(format!("Invalid role service access: {e}.")))
}

/// The `method` column holds DreamFactory's verb mask; a list of verbs (`["GET","POST"]`) or a
/// verb name is stored as that mask, or it would be stored as text and read back as no mask
/// at all (every method).
fn normalize_method(record: &mut Map<String, Json>) -> Result<(), ApiError> {
    if let Some(m) = record.get_mut("method").filter(|m| !m.is_null()) {
        let mask: MethodMask = serde_json::from_value(m.clone())
            .map_err(|e| bad(format!("Invalid CORS entry: method: {e}.")))?;
        *m = Json::from(mask.0);
    }
    Ok(())
}

fn check_cors(record: &Map<String, Json>) -> Result<(), ApiError> {
    let mut entry = record.clone();
    for k in ["id", "created_date", "last_modified_date"] {
        entry.remove(k);
    }
    if entry.get("method").is_some_and(Json::is_null) {
        entry.remove("method");
    }
    if !entry.contains_key("path") || !entry.contains_key("origin") {
        // A partial update: the engine checks the rest against the stored row's columns.
        return Ok(());
    }
    let e: CorsEntry = serde_json::from_value(Json::Object(entry))
        .map_err(|e| bad(format!("Invalid CORS entry: {e}.")))?;
    CorsPolicy::new(&[e]).map_err(|e| bad(format!("Invalid CORS entry: {e}.")))?;
    Ok(())
}

/// After users are deleted: their sessions end at once, here and on other instances.
pub async fn revoke_deleted(w: &Worker, written: Option<&Json>) -> Result<(), ApiError> {
    let ids: Vec<i64> = match written {
        Some(Json::Object(m)) if m.contains_key("resource") => m["resource"]
            .as_array()
            .map(|a| a.iter().filter_map(|r| r.get("id")?.as_i64()).collect())
            .unwrap_or_default(),
        Some(Json::Object(m)) => m.get("id").and_then(Json::as_i64).into_iter().collect(),
        _ => Vec::new(),
    };
    let now = unix_now();
    let until = now + w.snapshot().config.auth.refresh_ttl.as_secs() as i64;
    for id in ids {
        // Every token issued up to now: ids are not reused, so none can be issued later.
        let key = crate::api::session::user_cutoff(id, now as u64 + 1);
        w.shared.revoked.insert(&key);
        crate::system::revocations::revoke(&w.system, &key, until)
            .await
            .map_err(|e| crate::services::db::error::db_error(&e))?;
    }
    Ok(())
}
