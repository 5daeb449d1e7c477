//! Edges of the authorization stage: credentials in the body and the query, verb tunnelling,
//! path tricks against component rules, `{user.email}` and `{role.name}` in filters, users
//! deleted by filter, admins deactivated, and users created with their per-app roles nested.

mod common;

use common::db::{call, ok};
use common::sys::{app, contacts, login, names, req, role, user, Creds};
use common::{Client, Server};
use serde_json::{json, Value};

const PASSWORD: &str = "edge password 1";

/// `request` is `METHOD /path`, `headers` each end with CRLF.
fn raw(c: &mut Client, request: &str, headers: &str, body: &Value) -> common::Response {
    let body = body.to_string();
    let raw = format!(
        "{request} HTTP/1.1\r\n{headers}Host: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    c.roundtrip(raw.as_bytes())
}

#[test]
fn credentials_in_body_and_query_tunnelling_and_paths() {
    let server = Server::start(&[]);
    let mut a = server.admin();
    contacts(&mut a, "contact");
    contacts(&mut a, "secret");
    let reader = role(
        &mut a,
        "reader",
        json!([{"service": "db", "component": "_table/contact", "verb_mask": 1}]),
    );
    let writer = role(
        &mut a,
        "writer",
        json!([{"service": "db", "component": "_table/contact", "verb_mask": 3}]),
    );
    let (_, key) = app(&mut a, "edge", Some(reader));
    user(&mut a, "w@x.io", PASSWORD, Some(writer));
    let token = login(&server, "w@x.io", PASSWORD);
    let mut c = server.connect();

    // The API key and the session token in the body, as DreamFactory reads them.
    let r = raw(
        &mut c,
        "POST /api/v2/db/_table/contact",
        "",
        &json!({"session_token": token, "resource": [{"name": "via body", "owner_id": 0, "age": 0}]}),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let r = raw(
        &mut c,
        "POST /api/v2/db/_table/contact",
        "",
        &json!({"api_key": key, "resource": [{"name": "x", "owner_id": 0, "age": 0}]}),
    );
    r.assert_error(403);
    let r = raw(
        &mut c,
        &format!("GET /api/v2/db/_table/contact?api_key={key}"),
        "",
        &json!({}),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = raw(
        &mut c,
        &format!("GET /api/v2/db/_table/contact?session_token={token}"),
        "",
        &json!({}),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = raw(
        &mut c,
        "GET /api/v2/db/_table/contact",
        &format!("Authorization: Bearer {token}\r\n"),
        &json!({}),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));

    // Tunnelling: the verb checked is the tunnelled one.
    let k = Creds::key(&key);
    for tunnel in ["?method=DELETE", ""] {
        let path = format!("POST /api/v2/db/_table/contact/1{tunnel}");
        let headers = format!("X-DreamFactory-API-Key: {key}\r\nX-HTTP-Method: DELETE\r\n");
        raw(&mut c, &path, &headers, &json!({})).assert_error(403);
    }
    assert_eq!(
        ok(call(&mut a, "GET", "db/_table/contact/1", None))["id"],
        1
    );

    // Paths that would reach another table through an allowed component.
    for path in [
        "db/_table/contact/../secret",
        "db/_table/contact/%2E%2E/secret",
        "db/_table/contact%2F..%2Fsecret",
        "db/_table/secret",
        "db/_table/SECRET",
        "db/_table//secret",
        "db/_table/secret%00contact",
        "db/_table/contact/..%2F..%2F_table%2Fsecret",
    ] {
        let r = req(&mut c, &k, "GET", path, None);
        let text = String::from_utf8_lossy(&r.body).to_string();
        assert!(r.status >= 400, "{path}: {text}");
        assert!(!text.contains("\"a1\""), "{path}: {text}");
    }
    // The listing says the same, and bad credentials there are refused too.
    let listed = ok(req(&mut c, &k, "GET", "", None));
    assert_eq!(listed["services"].as_array().unwrap().len(), 1, "{listed}");
    req(&mut c, &Creds::key("nope"), "GET", "", None).assert_error(401);
    req(&mut c, &Creds::token("nope"), "GET", "", None).assert_error(401);
}

#[test]
fn user_email_and_role_name_lookups_in_filters() {
    let server = Server::start(&[]);
    let mut a = server.admin();
    contacts(&mut a, "contact");
    let r = role(
        &mut a,
        "by_name",
        json!([{"service": "db", "component": "_table/*", "verb_mask": 1, "filter_op": "OR",
            "filters": [{"name": "name", "operator": "=", "value": "{user.email}"},
                        {"name": "name", "operator": "=", "value": "{role.name}"}]}]),
    );
    user(&mut a, "me@x.io", PASSWORD, Some(r));
    ok(call(
        &mut a,
        "POST",
        "db/_table/contact",
        Some(json!({"resource": [
        {"name": "me@x.io", "owner_id": 0, "age": 0},
        {"name": "by_name", "owner_id": 0, "age": 0},
        {"name": "other@x.io", "owner_id": 0, "age": 0}]})),
    ));
    let me = Creds::token(&login(&server, "me@x.io", PASSWORD));
    let got = ok(req(
        &mut server.connect(),
        &me,
        "GET",
        "db/_table/contact",
        None,
    ));
    assert_eq!(names(&got), ["by_name", "me@x.io"]);
}

#[test]
fn users_deleted_by_filter_and_admins_deactivated_are_refused() {
    common::sys::with_each_system_db("percore_edges_users", &[], deleted_and_deactivated);
}

fn deleted_and_deactivated(server: &Server) {
    let mut a = server.admin();
    contacts(&mut a, "contact");
    let r = role(
        &mut a,
        "all",
        json!([{"service": "db", "component": "*", "verb_mask": 31}]),
    );
    let (app_id, key) = app(&mut a, "all", Some(r));
    let none = role(&mut a, "none", json!([]));
    // A user created with their per-app role nested: none through this app.
    let made = ok(call(
        &mut a,
        "POST",
        "system/user",
        Some(json!({"resource": [
        {"email": "n1@x.io", "password": PASSWORD, "role_id": r,
         "user_to_app_to_role_by_user_id": [{"app_id": app_id, "role_id": none}]},
        {"email": "n2@x.io", "password": PASSWORD, "role_id": r}]})),
    ));
    let (u1, u2) = (
        made["resource"][0]["id"].as_i64().unwrap(),
        made["resource"][1]["id"].as_i64().unwrap(),
    );
    let related = ok(call(
        &mut a,
        "GET",
        &format!("system/user/{u1}?related=user_to_app_to_role_by_user_id"),
        None,
    ));
    assert_eq!(
        related["user_to_app_to_role_by_user_id"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "{related}"
    );
    let related = ok(call(
        &mut a,
        "GET",
        &format!("system/user/{u2}?related=user_to_app_to_role_by_user_id"),
        None,
    ));
    assert!(
        related["user_to_app_to_role_by_user_id"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{related}"
    );
    let t1 = login(server, "n1@x.io", PASSWORD);
    let t2 = login(server, "n2@x.io", PASSWORD);
    let mut c = server.connect();
    req(
        &mut c,
        &Creds::both(&t1, &key),
        "GET",
        "db/_table/contact",
        None,
    )
    .assert_error(403);
    assert_eq!(
        req(&mut c, &Creds::token(&t1), "GET", "db/_table/contact", None).status,
        200
    );
    assert_eq!(
        req(
            &mut c,
            &Creds::both(&t2, &key),
            "GET",
            "db/_table/contact",
            None
        )
        .status,
        200
    );

    // Deleted by a filter: both tokens end.
    ok(call(
        &mut a,
        "DELETE",
        "system/user?filter=email%20like%20'n%25@x.io'",
        None,
    ));
    for t in [&t1, &t2] {
        let r = req(&mut c, &Creds::token(t), "GET", "db/_table/contact", None);
        assert!(
            matches!(r.status, 401 | 403),
            "{}",
            String::from_utf8_lossy(&r.body)
        );
    }

    // A second admin, deactivated: refused by the system API and everywhere else.
    let admin2 = ok(call(
        &mut a,
        "POST",
        "system/admin",
        Some(json!({"resource": [
        {"email": "admin2@x.io", "password": PASSWORD}]})),
    ))["resource"][0]["id"]
        .as_i64()
        .unwrap();
    let t = login(server, "admin2@x.io", PASSWORD);
    assert_eq!(
        req(&mut c, &Creds::token(&t), "GET", "system/role", None).status,
        200
    );
    ok(call(
        &mut a,
        "PATCH",
        &format!("system/admin/{admin2}"),
        Some(json!({"is_active": false})),
    ));
    req(&mut c, &Creds::token(&t), "GET", "system/role", None).assert_error(401);
    req(&mut c, &Creds::token(&t), "GET", "db/_table/contact", None).assert_error(401);
    // It stays an admin whatever a write says, and deleted it is refused.
    ok(call(
        &mut a,
        "PATCH",
        &format!("system/admin/{admin2}"),
        Some(json!({"is_active": true, "is_sys_admin": false})),
    ));
    assert_eq!(
        req(&mut c, &Creds::token(&t), "GET", "system/role", None).status,
        200
    );
    ok(call(
        &mut a,
        "DELETE",
        &format!("system/admin/{admin2}"),
        None,
    ));
    let r = req(&mut c, &Creds::token(&t), "GET", "system/role", None);
    assert!(
        matches!(r.status, 401 | 403),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
}
