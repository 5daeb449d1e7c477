//! `/api/v2/system/service`: services created, changed and deleted at run time by a system
//! admin, served at once on every core, seen by a second instance sharing the system database,
//! and never showing a password.

mod common;

use std::time::{Duration, Instant};

use common::{Client, Response, Server};
use serde_json::{json, Value};

const EMAIL: &str = "root@example.com";
const PASSWORD: &str = "correct horse battery";

fn send(
    c: &mut Client,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Response {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = token
        .map(|t| format!("X-DreamFactory-Session-Token: {t}\r\n"))
        .unwrap_or_default();
    let raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    c.roundtrip(raw.as_bytes())
}

fn admin_token(c: &mut Client) -> String {
    let r = send(
        c,
        "POST",
        "/api/v2/system/admin/session",
        None,
        Some(json!({"email": EMAIL, "password": PASSWORD})),
    );
    r.json()["session_token"].as_str().unwrap().to_string()
}

#[test]
fn services_are_managed_at_run_time_by_admins() {
    let url = common::db::pg_url();
    if !common::db::reachable(&url) {
        return;
    }
    let schema = common::db::PgSchema::new("percore_svc");
    let system_db = schema.url();
    let env = [
        ("PERCORE_ADMIN_EMAIL", EMAIL),
        ("PERCORE_ADMIN_PASSWORD", PASSWORD),
        ("PERCORE_SYSTEM_DB", system_db.as_str()),
        // Instances of one deployment share the signing secret, so a session works on both.
        (
            "PERCORE_AUTH__JWT_SECRET",
            "a-shared-test-secret-of-enough-length-0123456789",
        ),
    ];
    let a = Server::start_with(&env, &["--cores", "2"]);
    let b = Server::start_with(&env, &["--cores", "1"]);
    let mut c = a.connect();
    let token = admin_token(&mut c);

    // Only system admins.
    send(&mut c, "GET", "/api/v2/system/service", None, None).assert_error(401);

    let pg_with_password =
        url.replacen("postgres://postgres@", "postgres://postgres:not-shown@", 1);
    let def = json!({"resource": [{"name": "live", "label": "Live", "type": "pgsql",
        "config": {"url": pg_with_password, "password": "also-not-shown", "max_records": 50}}]});
    let r = send(
        &mut c,
        "POST",
        "/api/v2/system/service",
        Some(&token),
        Some(def),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let id = r.json()["resource"][0]["id"].as_i64().unwrap();

    // Served at once, on every core of this instance (new connections land anywhere).
    for _ in 0..4 {
        let mut other = a.connect();
        let list = send(&mut other, "GET", "/api/v2", Some(&token), None).json();
        assert!(
            list["services"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["name"] == "live"),
            "{list}"
        );
        assert_eq!(
            send(&mut other, "GET", "/api/v2/live/_table", Some(&token), None).status,
            200
        );
    }
    // Listed without secrets.
    let listed = send(&mut c, "GET", "/api/v2/system/service", Some(&token), None);
    let text = String::from_utf8_lossy(&listed.body).to_string();
    assert!(
        text.contains("\"live\"") && !text.contains("not-shown"),
        "{text}"
    );
    assert_eq!(
        listed.json()["resource"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["read_only"] == true)
            .count(),
        1,
        "db"
    );

    // The other instance picks it up from the system database.
    let mut cb = b.connect();
    let deadline = Instant::now() + Duration::from_secs(8);
    while send(&mut cb, "GET", "/api/v2/live/_table", Some(&token), None).status != 200 {
        assert!(
            Instant::now() < deadline,
            "the second instance never served the new service"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Changes apply, bad definitions are refused, deletion removes it everywhere.
    let r = send(
        &mut c,
        "PATCH",
        &format!("/api/v2/system/service/{id}"),
        Some(&token),
        Some(json!({"label": "Renamed"})),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    send(
        &mut c,
        "POST",
        "/api/v2/system/service",
        Some(&token),
        Some(json!({"name": "bad name!", "type": "pgsql"})),
    )
    .assert_error(400);
    send(
        &mut c,
        "POST",
        "/api/v2/system/service",
        Some(&token),
        Some(json!({"name": "x", "type": "oracle"})),
    )
    .assert_error(400);
    send(
        &mut c,
        "POST",
        "/api/v2/system/service",
        Some(&token),
        Some(json!({"name": "db", "type": "sqlite", "config": {"database": "x.sqlite"}})),
    )
    .assert_error(400);
    assert_eq!(
        send(
            &mut c,
            "DELETE",
            "/api/v2/system/service/live",
            Some(&token),
            None
        )
        .status,
        200
    );
    send(&mut c, "GET", "/api/v2/live/_table", Some(&token), None).assert_error(404);
    let deadline = Instant::now() + Duration::from_secs(8);
    while send(&mut cb, "GET", "/api/v2/live/_table", Some(&token), None).status != 404 {
        assert!(
            Instant::now() < deadline,
            "the second instance kept serving a deleted service"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    drop((a, b, schema));
}
