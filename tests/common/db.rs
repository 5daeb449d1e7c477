//! Shared by the database API suites: one server per backend (SQLite always; PostgreSQL and
//! MariaDB/MySQL when reachable, required when `PERCORE_REQUIRE_DBS=1`), and request helpers.

use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};

use super::{Client, Response, Server};

pub struct Backend {
    pub service: &'static str,
    pub server: Server,
}

pub fn pg_url() -> String {
    std::env::var("PERCORE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub fn mysql_url() -> String {
    std::env::var("PERCORE_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

pub fn reachable(url: &str) -> bool {
    let host_port = url
        .split('@')
        .next_back()
        .unwrap_or("")
        .split('/')
        .next()
        .unwrap_or("");
    let ok = host_port
        .parse()
        .ok()
        .and_then(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok())
        .is_some();
    if !ok {
        assert!(
            std::env::var("PERCORE_REQUIRE_DBS").as_deref() != Ok("1"),
            "{url} is unreachable and PERCORE_REQUIRE_DBS=1"
        );
        eprintln!("SKIPPED: {url} unreachable");
    }
    ok
}

/// One server per backend, each with the service under test declared in its config file.
pub fn backends() -> Vec<Backend> {
    let mut out = Vec::new();
    let file = |name: &str, body: &str| {
        let path =
            std::env::temp_dir().join(format!("percore-test-{}-{name}.toml", std::process::id()));
        std::fs::write(&path, body).unwrap();
        path
    };
    out.push(Backend {
        service: "db",
        server: Server::start(&[]),
    });
    for (service, kind, url) in [("pg", "pgsql", pg_url()), ("my", "mysql", mysql_url())] {
        if !reachable(&url) {
            continue;
        }
        let path = file(service, &format!("[services.{service}]\ntype = \"{kind}\"\n[services.{service}.config]\nurl = \"{url}\"\nmax_records = 5000\n"));
        let server = Server::start(&[("PERCORE_CONFIG", path.to_str().unwrap())]);
        out.push(Backend { service, server });
    }
    out
}

/// A table name unique to this test run, so parallel tests and reruns never collide.
pub fn unique(name: &str) -> String {
    format!("t{}_{name}", std::process::id())
}

pub fn call(c: &mut Client, method: &str, path: &str, body: Option<Value>) -> Response {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = c
        .token
        .as_ref()
        .map(|t| format!("X-DreamFactory-Session-Token: {t}\r\n"))
        .unwrap_or_default();
    let raw = format!("{method} /api/v2/{path} HTTP/1.1\r\nHost: t\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    c.roundtrip(raw.as_bytes())
}

pub fn ok(r: Response) -> Value {
    assert!(
        r.status < 300,
        "status {}: {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
    r.json()
}

pub fn create_contacts(c: &mut Client, svc: &str, table: &str) {
    let _ = call(c, "DELETE", &format!("{svc}/_schema/{table}"), None);
    ok(call(
        c,
        "POST",
        &format!("{svc}/_schema"),
        Some(json!({"resource": [{"name": table, "field": [
            {"name": "id", "type": "id"},
            {"name": "first_name", "type": "string", "length": 50},
            {"name": "last_name", "type": "string", "length": 50},
            {"name": "email", "type": "string", "length": 100, "is_unique": true},
            {"name": "age", "type": "integer"},
            {"name": "score", "type": "double"},
            {"name": "active", "type": "boolean", "default": true},
            {"name": "created_at", "type": "timestamp"}
        ]}]})),
    ));
    let people = json!({"resource": [
        {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@x.io", "age": 36, "score": 9.5, "created_at": "2024-01-02 03:04:05"},
        {"first_name": "Alan", "last_name": "Turing", "email": "alan@x.io", "age": 41, "score": 8.25},
        {"first_name": "Grace", "last_name": "Hopper", "email": "grace@x.io", "age": 85, "score": null},
        {"first_name": "O'Brien", "last_name": "50%_off", "email": "ob@x.io", "age": 20, "score": 1.0}
    ]});
    let created = ok(call(
        c,
        "POST",
        &format!("{svc}/_table/{table}"),
        Some(people),
    ));
    assert_eq!(
        created["resource"].as_array().unwrap().len(),
        4,
        "{created}"
    );
}

pub fn names(v: &Value) -> Vec<String> {
    v["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["first_name"].as_str().unwrap_or("?").to_string())
        .collect()
}

pub fn run_sql(service: &str, sql: &str) {
    let status = match service {
        "pg" => std::process::Command::new("psql")
            .args([pg_url().as_str(), "-q", "-c", sql])
            .status(),
        _ => std::process::Command::new("mariadb")
            .args(["-h", "127.0.0.1", "-u", "root", "test", "-e", sql])
            .status(),
    };
    assert!(status.is_ok_and(|s| s.success()), "{sql}");
}

/// Runs SQL on the test PostgreSQL with `psql`, quietly; panics when it fails.
pub fn psql(sql: &str) {
    let ok = std::process::Command::new("psql")
        .args([pg_url().as_str(), "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .env("PGOPTIONS", "--client-min-messages=warning")
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "{sql}");
}

/// A fresh PostgreSQL schema for one test's system database, dropped at the end.
pub struct PgSchema {
    pub name: String,
}

impl PgSchema {
    pub fn new(prefix: &str) -> PgSchema {
        let name = format!("{prefix}_{}", std::process::id());
        psql(&format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
        ));
        PgSchema { name }
    }

    /// The URL of a system database living in this schema.
    pub fn url(&self) -> String {
        format!("{}?schema={}", pg_url(), self.name)
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        psql(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
    }
}
