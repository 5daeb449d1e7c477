//! Changes through the system API reaching calls already under way: a role changed while a
//! client keeps its connection open, a second instance sharing the system database, and CORS
//! entries stored through `/api/v2/system/cors` answering preflights.

mod common;

use std::time::Duration;

use common::db::{call, ok, PgSchema};
use common::sys::{app, contacts, eventually, login, req, role, set_access, user, Creds};
use common::{Response, Server};
use serde_json::json;

const SECRET: &str = "a-shared-propagation-secret-0123456789abcdef";
/// Publishing is synchronous on the instance that took the change; this bounds a broken one.
const LOCAL: Duration = Duration::from_secs(5);
/// Other instances poll the change counter every 2 s.
const REMOTE: Duration = Duration::from_secs(15);

fn get_only() -> serde_json::Value {
    json!([{"service": "db", "component": "*", "verb_mask": 1}])
}

fn post_only() -> serde_json::Value {
    json!([{"service": "db", "component": "*", "verb_mask": 2}])
}

#[test]
fn a_role_change_reaches_an_open_connection() {
    let server = Server::start_with(&[], &["--cores", "2"]);
    let mut admin = server.admin();
    contacts(&mut admin, "contact");
    let r = role(&mut admin, "live", get_only());
    let (_, key) = app(&mut admin, "live", Some(r));
    user(&mut admin, "live@x.io", "live password", Some(r));
    let token = login(&server, "live@x.io", "live password");

    for creds in [Creds::key(&key), Creds::token(&token)] {
        // One connection, kept alive throughout.
        let mut c = server.connect();
        assert_eq!(
            req(&mut c, &creds, "GET", "db/_table/contact", None).status,
            200
        );
        // The admin changes the role on another connection (maybe another core).
        set_access(&mut server.admin(), r, post_only());
        eventually(LOCAL, "GET denied on the open connection", || {
            req(&mut c, &creds, "GET", "db/_table/contact", None).status == 403
        });
        set_access(&mut server.admin(), r, get_only());
        eventually(LOCAL, "GET allowed again on the open connection", || {
            req(&mut c, &creds, "GET", "db/_table/contact", None).status == 200
        });
    }

    // The user's own role changed to one without access, on the same open connection.
    let mut c = server.connect();
    let session = Creds::token(&token);
    assert_eq!(
        req(&mut c, &session, "GET", "db/_table/contact", None).status,
        200
    );
    let none = role(&mut admin, "none", json!([]));
    let uid = ok(call(
        &mut admin,
        "GET",
        "system/user?filter=email%3D'live@x.io'",
        None,
    ))["resource"][0]["id"]
        .as_i64()
        .unwrap();
    ok(call(
        &mut admin,
        "PATCH",
        &format!("system/user/{uid}"),
        Some(json!({"role_id": none})),
    ));
    eventually(LOCAL, "the user's new role applies", || {
        req(&mut c, &session, "GET", "db/_table/contact", None).status == 403
    });
}

#[test]
fn a_second_instance_enforces_changes_made_on_the_first() {
    let url = common::db::pg_url();
    if !common::db::reachable(&url) {
        return;
    }
    let schema = PgSchema::new("percore_authz_multi");
    let system_db = schema.url();
    let env = [
        ("PERCORE_SYSTEM_DB", system_db.as_str()),
        ("PERCORE_AUTH__JWT_SECRET", SECRET),
    ];
    let a = Server::start_with(&env, &["--cores", "2"]);
    let b = Server::start_with(&env, &["--cores", "1"]);
    let mut admin = a.admin();
    // Each instance has its own data directory, so its own `db`: a table on each.
    contacts(&mut admin, "contact");
    contacts(&mut b.admin(), "contact");

    let r = role(&mut admin, "remote", get_only());
    let (app_id, key) = app(&mut admin, "remote", Some(r));
    user(&mut admin, "remote@x.io", "remote password", Some(r));
    let mut cb = b.connect();
    let on_b = |cb: &mut common::Client, creds: &Creds| {
        req(cb, creds, "GET", "db/_table/contact", None).status
    };
    eventually(REMOTE, "an app created on A works on B", || {
        on_b(&mut cb, &Creds::key(&key)) == 200
    });
    // A session from A works on B, with the role A gave it.
    let token = login(&a, "remote@x.io", "remote password");
    eventually(REMOTE, "a user created on A works on B", || {
        on_b(&mut cb, &Creds::token(&token)) == 200
    });

    // Access taken away on A: refused on B, on the same open connection.
    set_access(&mut admin, r, post_only());
    eventually(REMOTE, "a role change on A denies on B", || {
        on_b(&mut cb, &Creds::key(&key)) == 403 && on_b(&mut cb, &Creds::token(&token)) == 403
    });
    set_access(&mut admin, r, get_only());
    eventually(REMOTE, "and allows again", || {
        on_b(&mut cb, &Creds::key(&key)) == 200
    });

    // A regenerated key, and a deleted app.
    ok(call(
        &mut admin,
        "PATCH",
        &format!("system/app/{app_id}?regenerate=true"),
        Some(json!({})),
    ));
    let new_key = ok(call(
        &mut admin,
        "GET",
        &format!("system/app/{app_id}"),
        None,
    ))["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    eventually(REMOTE, "the old key dies on B", || {
        on_b(&mut cb, &Creds::key(&key)) == 401 && on_b(&mut cb, &Creds::key(&new_key)) == 200
    });
    ok(call(
        &mut admin,
        "DELETE",
        &format!("system/app/{app_id}"),
        None,
    ));
    eventually(REMOTE, "a deleted app's key dies on B", || {
        on_b(&mut cb, &Creds::key(&new_key)) == 401
    });
    // A user deactivated on A is refused on B.
    let uid = ok(call(
        &mut admin,
        "GET",
        "system/user?filter=email%3D'remote@x.io'",
        None,
    ))["resource"][0]["id"]
        .as_i64()
        .unwrap();
    ok(call(
        &mut admin,
        "PATCH",
        &format!("system/user/{uid}"),
        Some(json!({"is_active": false})),
    ));
    eventually(REMOTE, "a deactivated user is refused on B", || {
        on_b(&mut cb, &Creds::token(&token)) == 401
    });
    // A user deleted on A: their session is refused on B.
    let gone = user(&mut admin, "gone@x.io", "gone password", Some(r));
    let gone_token = login(&a, "gone@x.io", "gone password");
    set_access(&mut admin, r, get_only());
    eventually(REMOTE, "the doomed user works on B", || {
        on_b(&mut cb, &Creds::token(&gone_token)) == 200
    });
    ok(call(
        &mut admin,
        "DELETE",
        &format!("system/user/{gone}"),
        None,
    ));
    eventually(REMOTE, "a deleted user is refused on B", || {
        matches!(on_b(&mut cb, &Creds::token(&gone_token)), 401 | 403)
    });
    // A CORS entry stored on A answers preflights on B.
    ok(call(
        &mut admin,
        "POST",
        "system/cors",
        Some(json!({"resource": [
        {"path": "api/v2/*", "origin": "https://b.example", "method": 1}]})),
    ));
    eventually(REMOTE, "a CORS entry from A on B", || {
        preflight(&b, "/api/v2/db", "https://b.example", "GET")
            .header("access-control-allow-origin")
            == Some("https://b.example")
    });
    drop((a, b, schema));
}

fn preflight(server: &Server, path: &str, origin: &str, method: &str) -> Response {
    let raw = format!(
        "OPTIONS {path} HTTP/1.1\r\nHost: t\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: {method}\r\n\r\n"
    );
    server.connect().roundtrip(raw.as_bytes())
}

fn cors_headers(r: &Response) -> Vec<String> {
    r.headers
        .iter()
        .filter(|(n, _)| n.to_ascii_lowercase().starts_with("access-control-"))
        .map(|(n, v)| format!("{n}: {v}"))
        .collect()
}

#[test]
fn cors_entries_from_the_system_api_answer_preflights() {
    let server = Server::start_with(&[], &["--cores", "2"]);
    let mut admin = server.admin();
    let path = "/api/v2/db/_table/contact";
    let good = "https://good.example";
    assert!(cors_headers(&preflight(&server, path, good, "POST")).is_empty());
    ok(call(
        &mut admin,
        "POST",
        "system/cors",
        Some(json!({"resource": [
            // Disabled: never applies.
            {"path": "api/v2/*", "origin": "*", "method": 127, "max_age": 11, "enabled": false},
            {"path": "api/v2/db/*", "origin": good, "header": "*", "method": 3, "max_age": 77,
             "supports_credentials": true, "exposed_header": "X-Total-Count"},
            // Also matches; the first match wins.
            {"path": "api/v2/db/*", "origin": "*", "method": 127, "max_age": 88}
        ]})),
    ));
    // Every core has it at once.
    for _ in 0..4 {
        let r = preflight(&server, path, good, "POST");
        assert!(r.status < 300, "{r:?}");
        assert_eq!(r.header("access-control-allow-origin"), Some(good));
        assert_eq!(r.header("access-control-allow-methods"), Some("GET, POST"));
        assert_eq!(r.header("access-control-max-age"), Some("77"));
        assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    }
    // Another origin, or a method outside the first entry: the second entry.
    let r = preflight(&server, path, "https://else.example", "DELETE");
    assert_eq!(
        r.header("access-control-max-age"),
        Some("88"),
        "{:?}",
        cors_headers(&r)
    );
    // A mask given as a list of verbs is stored as the mask, and holds.
    let listed = ok(call(
        &mut admin,
        "POST",
        "system/cors",
        Some(json!({"resource": [
        {"path": "api/v2/listed/*", "origin": good, "method": ["GET", "POST"]}]})),
    ));
    let listed = listed["resource"][0]["id"].as_i64().unwrap();
    assert_eq!(
        ok(call(
            &mut admin,
            "GET",
            &format!("system/cors/{listed}"),
            None
        ))["method"],
        3
    );
    let r = preflight(&server, "/api/v2/listed/x", good, "DELETE");
    assert!(cors_headers(&r).is_empty(), "{:?}", cors_headers(&r));
    let r = preflight(&server, "/api/v2/listed/x", good, "POST");
    assert_eq!(r.header("access-control-allow-methods"), Some("GET, POST"));
    call(
        &mut admin,
        "POST",
        "system/cors",
        Some(json!({"resource": [
        {"path": "x", "origin": good, "method": ["FETCH"]}]})),
    )
    .assert_error(400);
    // A path no entry matches: no CORS headers at all.
    let r = preflight(&server, "/api/v2/system/role", good, "GET");
    assert!(cors_headers(&r).is_empty(), "{:?}", cors_headers(&r));
    // Normal responses from a matching path are decorated.
    let mut c = server.connect();
    let raw = format!("GET {path} HTTP/1.1\r\nHost: t\r\nOrigin: {good}\r\n\r\n");
    let r = c.roundtrip(raw.as_bytes());
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some(good),
        "{:?}",
        r.headers
    );
    // Deleted: gone at once.
    let all = ok(call(&mut admin, "GET", "system/cors", None));
    let ids: Vec<String> = all["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].to_string())
        .collect();
    ok(call(
        &mut admin,
        "DELETE",
        &format!("system/cors?ids={}", ids.join(",")),
        None,
    ));
    for _ in 0..4 {
        assert!(cors_headers(&preflight(&server, path, good, "POST")).is_empty());
    }
}
