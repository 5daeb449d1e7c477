//! Role filters checked on writes, through the whole `_table` handler, on SQLite always and on
//! PostgreSQL and MariaDB/MySQL when reachable (required with `PERCORE_REQUIRE_DBS=1`).

use std::future::Future;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use percore_connector::{Database, Value};
use serde_json::{json, Value as Json};

use crate::api::Query;
use crate::http::response::Body;
use crate::http::Method;
use crate::services::db::filter::{parse, Expr};
use crate::services::db::service::{DbService, SchemaVersion};
use crate::services::db::{handle, DbCall};

/// The way a core runs requests: one `current_thread` runtime and a LocalSet.
fn run<F: Future>(f: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tokio::task::LocalSet::new().block_on(&rt, f)
}

fn service<D: Database>(db: D) -> DbService<D> {
    DbService::new(
        "db".into(),
        db,
        1000,
        true,
        Arc::new(SchemaVersion::default()),
    )
}

/// Whether the server at `url` answers; a skip is printed, and refused when DBs are required.
fn reachable(url: &str) -> bool {
    let host_port = url.rsplit('@').next().and_then(|r| r.split('/').next());
    let ok = host_port
        .and_then(|hp| hp.parse().ok())
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok());
    if !ok {
        assert!(
            std::env::var("PERCORE_REQUIRE_DBS").as_deref() != Ok("1"),
            "{url} is unreachable and PERCORE_REQUIRE_DBS=1"
        );
        eprintln!("SKIPPED: {url} unreachable");
    }
    ok
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.into())
}

struct Api<'s, D: Database> {
    svc: &'s DbService<D>,
    table: String,
}

impl<D: Database> Api<'_, D> {
    /// One call on `_table/{table}[/{id}]` (or `rest` when it starts with `_`), as user 1.
    async fn call(
        &self,
        method: Method,
        rest: &str,
        query: &str,
        body: Json,
        role: Option<&Expr>,
    ) -> (u16, Json) {
        let resource = if rest.starts_with('_') {
            rest.to_string()
        } else if rest.is_empty() {
            format!("_table/{}", self.table)
        } else {
            format!("_table/{}/{rest}", self.table)
        };
        let query = Query::parse(query);
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let lookups = |name: &str| (name == "user.id").then_some(Value::Int(1));
        let call = DbCall {
            method,
            resource: &resource,
            query: &query,
            body: &body,
            lookups: &lookups,
            role_filter: role,
        };
        let response = handle(self.svc, &call).await;
        let json = match response.body {
            Body::Full(b) => serde_json::from_slice(&b).unwrap_or(Json::Null),
            _ => Json::Null,
        };
        (response.status, json)
    }

    /// Every row as `(owner_id, name)` in key order, read without a role filter. Ids of rows
    /// created after a refused insert are not compared: PostgreSQL and MySQL do not roll
    /// sequences back.
    async fn rows(&self) -> Vec<(i64, String)> {
        let (status, body) = self
            .call(Method::Get, "", "order=id", Json::Null, None)
            .await;
        assert_eq!(status, 200, "{body}");
        body["resource"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["owner_id"].as_i64().unwrap(),
                    r["name"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    async fn reset(&self, rows: Json) {
        let _ = self
            .call(
                Method::Delete,
                &format!("_schema/{}", self.table),
                "",
                Json::Null,
                None,
            )
            .await;
        let def = json!({"resource": [{"name": self.table, "field": [
            {"name": "id", "type": "id"},
            {"name": "owner_id", "type": "integer"},
            {"name": "name", "type": "string", "length": 50}
        ]}]});
        let (status, body) = self.call(Method::Post, "_schema", "", def, None).await;
        assert!(status < 300, "{status}: {body}");
        if !rows.as_array().unwrap().is_empty() {
            let (status, body) = self.call(Method::Post, "", "", rows, None).await;
            assert_eq!(status, 201, "{body}");
        }
    }
}

fn owned(owner: i64, name: &str) -> (i64, String) {
    (owner, name.to_string())
}

fn assert_refused(status: u16, body: &Json) {
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["status_code"], 403, "{body}");
    assert_eq!(
        body["error"]["message"], "The record does not satisfy the role's server-side filter.",
        "{body}"
    );
}

/// The whole behaviour on one backend.
async fn scenario<D: Database>(db: D, tag: &str) {
    let svc = service(db);
    let api = Api {
        svc: &svc,
        table: format!("rf{}_{tag}", std::process::id()),
    };
    let mine = parse("owner_id = {user.id}").unwrap();
    let role = Some(&mine);
    let seed = json!([{"owner_id": 1, "name": "a"}, {"owner_id": 2, "name": "b"}]);
    api.reset(seed.clone()).await;

    // Creates: allowed, refused (nothing written), refused by upsert onto another's row.
    let (status, body) = api
        .call(
            Method::Post,
            "",
            "",
            json!({"owner_id": 1, "name": "c"}),
            role,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["resource"][0]["id"], 3, "{body}");
    let (status, body) = api
        .call(
            Method::Post,
            "",
            "",
            json!({"owner_id": 2, "name": "x"}),
            role,
        )
        .await;
    assert_refused(status, &body);
    let (status, body) = api
        .call(
            Method::Put,
            "",
            "",
            json!([{"id": 2, "owner_id": 1, "name": "stolen"}]),
            role,
        )
        .await;
    assert_refused(status, &body);
    let (status, body) = api
        .call(
            Method::Put,
            "",
            "",
            json!([{"id": 9, "owner_id": 2, "name": "x"}]),
            role,
        )
        .await;
    assert_refused(status, &body);
    let (status, body) = api
        .call(
            Method::Put,
            "",
            "",
            json!([{"id": 1, "owner_id": 1, "name": "a2"}]),
            role,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let after_creates = vec![owned(1, "a2"), owned(2, "b"), owned(1, "c")];
    assert_eq!(api.rows().await, after_creates);

    // Updates by key, by path id and by ids that would move a row out of scope: refused, undone.
    let (status, body) = api
        .call(
            Method::Patch,
            "",
            "",
            json!([{"id": 1, "owner_id": 2}]),
            role,
        )
        .await;
    assert_refused(status, &body);
    let (status, body) = api
        .call(
            Method::Patch,
            "1",
            "",
            json!({"owner_id": 2, "name": "moved"}),
            role,
        )
        .await;
    assert_refused(status, &body);
    let (status, body) = api
        .call(Method::Put, "", "ids=1,3", json!({"owner_id": 2}), role)
        .await;
    assert_refused(status, &body);
    assert_eq!(api.rows().await, after_creates);
    // Out of scope to begin with: not found, as without the check.
    let (status, body) = api
        .call(
            Method::Patch,
            "",
            "",
            json!([{"id": 2, "owner_id": 1}]),
            role,
        )
        .await;
    assert_eq!(status, 404, "{body}");
    // Updates that keep the row in scope, touching the filter's column or not.
    let (status, body) = api
        .call(
            Method::Patch,
            "",
            "fields=name",
            json!([{"id": 1, "owner_id": 1, "name": "a3"}]),
            role,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["resource"][0]["name"], "a3", "{body}");
    let (status, body) = api
        .call(Method::Patch, "3", "", json!({"name": "c2"}), role)
        .await;
    assert_eq!(status, 200, "{body}");
    let base = vec![owned(1, "a3"), owned(2, "b"), owned(1, "c2")];
    assert_eq!(api.rows().await, base);

    // Batches: the refused record is reported like any failure, under each policy.
    let batch = json!([{"owner_id": 1, "name": "good"}, {"owner_id": 2, "name": "bad"}]);
    let (status, body) = api
        .call(Method::Post, "", "rollback=true", batch.clone(), role)
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!(1000)),
        "{body}"
    );
    assert_eq!(api.rows().await, base);
    let (status, body) = api
        .call(
            Method::Post,
            "",
            "",
            json!([{"owner_id": 2, "name": "bad"}, {"owner_id": 1, "name": "never"}]),
            role,
        )
        .await;
    assert_eq!(
        body["error"]["context"]["error"],
        json!([0]),
        "{status} {body}"
    );
    assert_eq!(api.rows().await, base);
    // Stop (the default): records before the refused one stay written, later ones are not tried.
    let (status, body) = api
        .call(
            Method::Post,
            "",
            "",
            json!([{"owner_id": 1, "name": "first"}, {"owner_id": 2, "name": "bad"}, {"owner_id": 1, "name": "never"}]),
            role,
        )
        .await;
    assert_eq!(
        body["error"]["context"]["error"],
        json!([1]),
        "{status} {body}"
    );
    assert_eq!(
        body["error"]["context"]["resource"][1]["error"]["status_code"], 403,
        "{body}"
    );
    let mut base = base;
    base.push(owned(1, "first"));
    assert_eq!(api.rows().await, base);
    let (status, body) = api
        .call(Method::Post, "", "continue=true", batch, role)
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!(1000)),
        "{body}"
    );
    let context = &body["error"]["context"];
    assert_eq!(context["error"], json!([1]), "{body}");
    assert!(context["resource"][0]["id"].is_i64(), "{body}");
    assert_eq!(
        context["resource"][1]["error"]["status_code"], 403,
        "{body}"
    );
    let mut expected = base.clone();
    expected.push(owned(1, "good"));
    assert_eq!(api.rows().await, expected);
    let (status, body) = api
        .call(
            Method::Patch,
            "",
            "continue=true",
            json!([{"id": 1, "owner_id": 2}, {"id": 3, "name": "c3"}]),
            role,
        )
        .await;
    assert_eq!(
        body["error"]["context"]["error"],
        json!([0]),
        "{status} {body}"
    );
    expected[2].1 = "c3".into();
    assert_eq!(api.rows().await, expected);

    // Update by filter where only some rows would leave the scope: refused as one unit.
    let shared = parse("owner_id = {user.id} OR name = 'public'").unwrap();
    api.reset(json!([{"owner_id": 1, "name": "public"}, {"owner_id": 1, "name": "x"}]))
        .await;
    let (status, body) = api
        .call(
            Method::Patch,
            "",
            "filter=owner_id%3D1",
            json!({"owner_id": 2}),
            Some(&shared),
        )
        .await;
    assert_refused(status, &body);
    assert_eq!(api.rows().await, vec![owned(1, "public"), owned(1, "x")]);
    let (status, body) = api
        .call(
            Method::Patch,
            "",
            "filter=name%3D'public'",
            json!({"owner_id": 2}),
            Some(&shared),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(api.rows().await, vec![owned(2, "public"), owned(1, "x")]);

    // Without a role filter nothing is checked.
    let (status, body) = api
        .call(
            Method::Post,
            "",
            "",
            json!({"owner_id": 7, "name": "free"}),
            None,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let _ = api
        .call(
            Method::Delete,
            &format!("_schema/{}", api.table),
            "",
            Json::Null,
            None,
        )
        .await;
}

#[test]
fn sqlite_checks_role_filters_on_writes() {
    let dir = tempfile::tempdir().unwrap();
    let config = percore_sqlite::Config {
        path: dir.path().join("t.sqlite"),
        ..percore_sqlite::Config::default()
    };
    run(scenario(
        percore_sqlite::SqliteDatabase::new(config),
        "lite",
    ));
}

#[test]
fn postgres_checks_role_filters_on_writes() {
    let url = env_or(
        "PERCORE_TEST_PG_URL",
        "postgres://postgres@127.0.0.1:5432/test",
    );
    if !reachable(&url) {
        return;
    }
    let config = percore_postgres::Config::from_url(&url).unwrap();
    run(scenario(
        percore_postgres::PostgresDatabase::new(config),
        "pg",
    ));
}

#[test]
fn mysql_checks_role_filters_on_writes() {
    let url = env_or("PERCORE_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test");
    if !reachable(&url) {
        return;
    }
    let config = percore_mysql::Config::from_url(&url).unwrap();
    run(scenario(percore_mysql::MysqlDatabase::new(config), "my"));
}
