//! Shared by the system API and authorization suites: requests with any credentials, and the
//! roles, apps and users they are about, created through `/api/v2/system`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::db::{call, ok};
use super::{Client, Response, Server};

/// Credentials a request carries.
#[derive(Default, Clone)]
pub struct Creds {
    pub token: Option<String>,
    pub api_key: Option<String>,
}

impl Creds {
    pub fn token(t: &str) -> Creds {
        Creds {
            token: Some(t.into()),
            api_key: None,
        }
    }

    pub fn key(k: &str) -> Creds {
        Creds {
            token: None,
            api_key: Some(k.into()),
        }
    }

    pub fn both(t: &str, k: &str) -> Creds {
        Creds {
            token: Some(t.into()),
            api_key: Some(k.into()),
        }
    }
}

/// `method /api/v2/{path}` with `creds` in DreamFactory's headers.
pub fn req(
    c: &mut Client,
    creds: &Creds,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Response {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut headers = String::new();
    if let Some(t) = &creds.token {
        headers.push_str(&format!("X-DreamFactory-Session-Token: {t}\r\n"));
    }
    if let Some(k) = &creds.api_key {
        headers.push_str(&format!("X-DreamFactory-API-Key: {k}\r\n"));
    }
    let raw = format!(
        "{method} /api/v2/{path} HTTP/1.1\r\nHost: t\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    c.roundtrip(raw.as_bytes())
}

/// A session token for `email`, through `/api/v2/user/session`.
pub fn login(server: &Server, email: &str, password: &str) -> String {
    let mut c = server.connect();
    let r = req(
        &mut c,
        &Creds::default(),
        "POST",
        "user/session",
        Some(json!({"email": email, "password": password})),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()["session_token"].as_str().unwrap().to_string()
}

/// A role with these `role_service_access` rows (each `{"service": "db", "component": ..,
/// "verb_mask": ..}`), written nested in the role; its id.
pub fn role(admin: &mut Client, name: &str, access: Value) -> i64 {
    let r = ok(call(
        admin,
        "POST",
        "system/role",
        Some(json!({"resource": [{"name": name, "is_active": true,
            "role_service_access_by_role_id": access}]})),
    ));
    r["resource"][0]["id"].as_i64().expect("role id")
}

/// Replaces a role's access rows with `access`.
pub fn set_access(admin: &mut Client, role: i64, access: Value) {
    let current = ok(call(
        admin,
        "GET",
        &format!("system/role/{role}?related=role_service_access_by_role_id"),
        None,
    ));
    let mut rows: Vec<Value> = current["role_service_access_by_role_id"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|r| json!({"id": r["id"], "role_id": null}))
        .collect();
    rows.extend(access.as_array().cloned().unwrap_or_default());
    ok(call(
        admin,
        "PATCH",
        &format!("system/role/{role}"),
        Some(json!({"role_service_access_by_role_id": rows})),
    ));
}

/// An app with `role` as its default role: `(id, api_key)`.
pub fn app(admin: &mut Client, name: &str, role: Option<i64>) -> (i64, String) {
    let r = ok(call(
        admin,
        "POST",
        "system/app",
        Some(json!({"resource": [{"name": name, "role_id": role, "is_active": true}]})),
    ));
    let id = r["resource"][0]["id"].as_i64().expect("app id");
    let got = ok(call(admin, "GET", &format!("system/app/{id}"), None));
    (id, got["api_key"].as_str().expect("api_key").to_string())
}

/// A non-admin user with `role` as their default role; its id.
pub fn user(admin: &mut Client, email: &str, password: &str, role: Option<i64>) -> i64 {
    let r = ok(call(
        admin,
        "POST",
        "system/user",
        Some(
            json!({"resource": [{"email": email, "name": email, "password": password,
            "role_id": role, "is_active": true}]}),
        ),
    ));
    r["resource"][0]["id"].as_i64().expect("user id")
}

/// Retries `f` until it returns true, panicking with `what` after `limit`.
pub fn eventually(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    loop {
        if f() {
            return;
        }
        assert!(Instant::now() < deadline, "not within {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `contact` table in the `db` service: `id`, `name`, `owner_id`, `age`, with rows for
/// owners 101..=103.
pub fn contacts(admin: &mut Client, table: &str) {
    let _ = call(admin, "DELETE", &format!("db/_schema/{table}"), None);
    ok(call(
        admin,
        "POST",
        "db/_schema",
        Some(json!({"resource": [{"name": table, "field": [
            {"name": "id", "type": "id"},
            {"name": "name", "type": "string", "length": 50},
            {"name": "owner_id", "type": "integer"},
            {"name": "age", "type": "integer"}
        ]}]})),
    ));
    ok(call(
        admin,
        "POST",
        &format!("db/_table/{table}"),
        Some(json!({"resource": [
            {"name": "a1", "owner_id": 101, "age": 20},
            {"name": "a2", "owner_id": 102, "age": 30},
            {"name": "a3", "owner_id": 103, "age": 40},
            {"name": "b2", "owner_id": 102, "age": 50}
        ]})),
    ));
}

/// The `name`s of a list response, sorted.
pub fn names(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v["resource"]
        .as_array()
        .unwrap_or_else(|| panic!("no resource: {v}"))
        .iter()
        .map(|r| r["name"].as_str().unwrap_or("?").to_string())
        .collect();
    out.sort();
    out
}

/// Runs `f` on a server with the embedded SQLite system database, then (when reachable) on
/// one whose system database is a fresh PostgreSQL schema; `env` is added to both.
pub fn with_each_system_db(prefix: &str, env: &[(&str, &str)], f: impl Fn(&Server)) {
    f(&Server::start(env));
    if super::db::reachable(&super::db::pg_url()) {
        let schema = super::db::PgSchema::new(prefix);
        let url = schema.url();
        let mut env = env.to_vec();
        env.push(("PERCORE_SYSTEM_DB", url.as_str()));
        let server = Server::start(&env);
        f(&server);
        drop((server, schema));
    }
}
