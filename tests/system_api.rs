//! The system API's table conventions on role, app, user, admin, cors and lookup: batch
//! creates, `fields`/`filter`/`limit`/`offset`/`order`, by id and `ids`, PATCH/PUT/DELETE,
//! batch policies, nested `role_service_access_by_role_id`, and `app?regenerate=true`; with
//! SQLite and PostgreSQL as the system DB.

mod common;

use common::db::{call, ok};
use common::sys::{names, req, Creds};
use common::{Client, Server};
use serde_json::{json, Value};

fn with_each_system_db(prefix: &str, f: impl Fn(&Server)) {
    common::sys::with_each_system_db(prefix, &[], f);
}

fn ids(v: &Value) -> Vec<i64> {
    v["resource"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

fn list(admin: &mut Client, path: &str) -> Value {
    ok(call(admin, "GET", path, None))
}

fn table_conventions(server: &Server) {
    let mut a = server.admin();
    // A batch create answers with the new ids, in order.
    let made = ok(call(
        &mut a,
        "POST",
        "system/role",
        Some(json!({"resource": [
            {"name": "r_a", "description": "first"},
            {"name": "r_b", "description": "second"},
            {"name": "r_c", "description": "third"}
        ]})),
    ));
    let made = ids(&made);
    assert_eq!(made.len(), 3);

    // fields, filter, order, limit, offset.
    let page = list(
        &mut a,
        "system/role?fields=name&filter=name%20like%20'r_%25'&order=name%20desc&limit=2&offset=1",
    );
    assert_eq!(names(&page), ["r_a", "r_b"]);
    let first = &page["resource"][0];
    assert!(first.get("description").is_none(), "{page}");
    assert_eq!(page["resource"][0]["name"], "r_b");
    // By id, and ids=.
    let one = list(&mut a, &format!("system/role/{}", made[1]));
    assert_eq!(
        (one["name"].as_str(), one["description"].as_str()),
        (Some("r_b"), Some("second"))
    );
    assert!(
        one["created_date"].is_i64() || one["created_date"].is_string(),
        "{one}"
    );
    let two = list(&mut a, &format!("system/role?ids={},{}", made[0], made[2]));
    assert_eq!(names(&two), ["r_a", "r_c"]);
    let gone = call(&mut a, "GET", "system/role/999999", None);
    gone.assert_error(404);

    // PATCH changes the fields sent; PUT replaces the record.
    ok(call(
        &mut a,
        "PATCH",
        &format!("system/role/{}", made[0]),
        Some(json!({"description": "patched"})),
    ));
    assert_eq!(
        list(&mut a, &format!("system/role/{}", made[0]))["description"],
        "patched"
    );
    ok(call(
        &mut a,
        "PUT",
        &format!("system/role/{}", made[0]),
        Some(json!({"name": "r_a2", "description": "put"})),
    ));
    let put = list(&mut a, &format!("system/role/{}", made[0]));
    assert_eq!(
        (put["name"].as_str(), put["description"].as_str()),
        (Some("r_a2"), Some("put"))
    );
    // A batch PATCH by filter.
    ok(call(
        &mut a,
        "PATCH",
        "system/role?filter=name%20like%20'r_%25'",
        Some(json!({"is_active": false})),
    ));
    let inactive = list(&mut a, "system/role?filter=is_active%3Dfalse");
    assert_eq!(names(&inactive), ["r_a2", "r_b", "r_c"]);

    // Batch policies: a duplicate name, rolled back, leaves nothing; continue keeps the rest.
    let dup = json!({"resource": [{"name": "r_new"}, {"name": "r_b"}]});
    let r = call(
        &mut a,
        "POST",
        "system/role?rollback=true",
        Some(dup.clone()),
    );
    assert!(r.status >= 400, "{}", String::from_utf8_lossy(&r.body));
    assert!(names(&list(&mut a, "system/role?filter=name%3D'r_new'")).is_empty());
    let r = call(
        &mut a,
        "POST",
        "system/role?continue=true",
        Some(json!({"resource": [{"name": "r_b"}, {"name": "r_new"}]})),
    );
    assert!(r.status >= 400, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        names(&list(&mut a, "system/role?filter=name%3D'r_new'")),
        ["r_new"]
    );

    // DELETE by ids and by id.
    ok(call(
        &mut a,
        "DELETE",
        &format!("system/role?ids={},{}", made[1], made[2]),
        None,
    ));
    call(&mut a, "GET", &format!("system/role/{}", made[1]), None).assert_error(404);
    ok(call(
        &mut a,
        "DELETE",
        &format!("system/role/{}", made[0]),
        None,
    ));
    assert_eq!(
        names(&list(&mut a, "system/role?filter=name%20like%20'r_%25'")),
        ["r_new"]
    );

    // The other resources take the same conventions.
    for (resource, records, expect) in [
        (
            "app",
            json!([{"name": "app1"}, {"name": "app2", "description": "d"}]),
            ["app1", "app2"],
        ),
        (
            "lookup",
            json!([{"name": "lk1", "value": "v"}, {"name": "lk2", "value": "w"}]),
            ["lk1", "lk2"],
        ),
        (
            "user",
            json!([{"email": "u1@x.io", "name": "u1", "password": "password one"},
            {"email": "u2@x.io", "name": "u2"}]),
            ["u1", "u2"],
        ),
        (
            "admin",
            json!([{"email": "a1@x.io", "name": "a1", "password": "password one"},
            {"email": "a2@x.io", "name": "a2"}]),
            ["a1", "a2"],
        ),
    ] {
        let made = ids(&ok(call(
            &mut a,
            "POST",
            &format!("system/{resource}"),
            Some(json!({"resource": records})),
        )));
        let got = list(
            &mut a,
            &format!("system/{resource}?ids={},{}&order=name", made[0], made[1]),
        );
        assert_eq!(names(&got), expect, "{resource}");
        ok(call(
            &mut a,
            "PATCH",
            &format!("system/{resource}/{}", made[0]),
            Some(json!({"name": "renamed"})),
        ));
        assert_eq!(
            list(&mut a, &format!("system/{resource}/{}", made[0]))["name"],
            "renamed"
        );
        ok(call(
            &mut a,
            "DELETE",
            &format!("system/{resource}?ids={},{}", made[0], made[1]),
            None,
        ));
        assert!(names(&list(
            &mut a,
            &format!("system/{resource}?ids={},{}", made[0], made[1])
        ))
        .is_empty());
    }
    // Users and admins are separate resources over one table.
    let admins = list(&mut a, "system/admin");
    assert_eq!(admins["resource"].as_array().unwrap().len(), 1, "{admins}");
    let user = ids(&ok(call(
        &mut a,
        "POST",
        "system/user",
        Some(json!({"resource": [{"email": "only@x.io"}]})),
    )))[0];
    call(&mut a, "GET", &format!("system/admin/{user}"), None).assert_error(404);
    call(&mut a, "DELETE", &format!("system/admin/{user}"), None).assert_error(404);
    // A user cannot be made an admin through the user resource.
    ok(call(
        &mut a,
        "PATCH",
        &format!("system/user/{user}"),
        Some(json!({"is_sys_admin": true})),
    ));
    assert_eq!(
        list(&mut a, &format!("system/user/{user}"))["is_sys_admin"],
        false
    );
    // CORS entries.
    let cors = ids(&ok(call(
        &mut a,
        "POST",
        "system/cors",
        Some(json!({"resource": [
        {"path": "api/v2/x/*", "origin": "https://a.example", "method": 1, "max_age": 5}]})),
    )))[0];
    assert_eq!(
        list(&mut a, &format!("system/cors/{cors}"))["origin"],
        "https://a.example"
    );
    call(
        &mut a,
        "POST",
        "system/cors",
        Some(json!({"resource": [{"path": "x", "origin": "not an origin"}]})),
    )
    .assert_error(400);
    ok(call(&mut a, "DELETE", &format!("system/cors/{cors}"), None));
}

fn nested_access(server: &Server) {
    let mut a = server.admin();
    let made = ok(call(
        &mut a,
        "POST",
        "system/role",
        Some(
            json!({"resource": [{"name": "nested", "role_service_access_by_role_id": [
                {"service": "db", "component": "_table/*", "verb_mask": 1},
                {"service": "db", "component": "_table/contact", "verb_mask": 3,
                 "filters": [{"name": "age", "operator": ">", "value": 1}], "filter_op": "AND"}
            ]}]}),
        ),
    ));
    let role = ids(&made)[0];
    let path = format!("system/role/{role}?related=role_service_access_by_role_id");
    let got = list(&mut a, &path);
    let rows = got["role_service_access_by_role_id"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(rows.len(), 2, "{got}");
    let by_component = |rows: &[Value], c: &str| rows.iter().find(|r| r["component"] == c).cloned();
    let filtered = by_component(&rows, "_table/contact").unwrap();
    assert_eq!(filtered["filters"][0]["name"], "age", "{filtered}");
    assert!(filtered["service_id"].is_i64(), "{filtered}");
    // In a list too.
    let listed = list(
        &mut a,
        "system/role?filter=name%3D'nested'&related=role_service_access_by_role_id",
    );
    assert_eq!(
        listed["resource"][0]["role_service_access_by_role_id"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Update one, delete one (its key set to null), create one, in one role write.
    let wild = by_component(&rows, "_table/*").unwrap();
    ok(call(
        &mut a,
        "PATCH",
        &format!("system/role/{role}"),
        Some(json!({
        "description": "changed",
        "role_service_access_by_role_id": [
            {"id": wild["id"], "verb_mask": 3},
            {"id": filtered["id"], "role_id": null},
            {"service": "db", "component": "", "verb_mask": 1}
        ]})),
    ));
    let got = list(&mut a, &path);
    assert_eq!(got["description"], "changed");
    let rows = got["role_service_access_by_role_id"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(rows.len(), 2, "{got}");
    assert_eq!(by_component(&rows, "_table/*").unwrap()["verb_mask"], 3);
    assert!(by_component(&rows, "").is_some(), "{got}");
    assert!(by_component(&rows, "_table/contact").is_none(), "{got}");

    // Another role's rows are not this role's to change.
    let other = ids(&ok(call(
        &mut a,
        "POST",
        "system/role",
        Some(json!({"resource": [{"name": "other",
        "role_service_access_by_role_id": [{"service": "db", "component": "*", "verb_mask": 1}]}]})),
    )))[0];
    let other_row = list(
        &mut a,
        &format!("system/role/{other}?related=role_service_access_by_role_id"),
    )["role_service_access_by_role_id"][0]["id"]
        .clone();
    let r = call(
        &mut a,
        "PATCH",
        &format!("system/role/{role}"),
        Some(json!({
        "role_service_access_by_role_id": [{"id": other_row, "verb_mask": 31}]})),
    );
    assert!(r.status >= 400, "{}", String::from_utf8_lossy(&r.body));
    let still = list(
        &mut a,
        &format!("system/role/{other}?related=role_service_access_by_role_id"),
    );
    assert_eq!(still["role_service_access_by_role_id"][0]["verb_mask"], 1);
    // Bad rows are refused before anything is stored.
    for bad in [
        json!({"service": "nope", "component": "*", "verb_mask": 1}),
        json!({"service": "db", "component": "*", "verb_mask": 1, "filters": [{"name": "a b", "operator": "=", "value": 1}]}),
        json!({"service": "db", "component": "*", "verb_mask": 1, "filters": [{"name": "a", "operator": "zz", "value": 1}]}),
    ] {
        let r = call(
            &mut a,
            "POST",
            "system/role",
            Some(json!({"resource": [{"name": "bad",
            "role_service_access_by_role_id": [bad]}]})),
        );
        r.assert_error(400);
        assert!(names(&list(&mut a, "system/role?filter=name%3D'bad'")).is_empty());
    }
    // Deleting the role deletes its rows.
    ok(call(&mut a, "DELETE", &format!("system/role/{role}"), None));
    let left = list(
        &mut a,
        &format!("system/role_service_access?filter=role_id%3D{role}"),
    );
    assert!(left["resource"].as_array().unwrap().is_empty(), "{left}");
}

fn regenerate(server: &Server) {
    let mut a = server.admin();
    let role = ids(&ok(call(
        &mut a,
        "POST",
        "system/role",
        Some(json!({"resource": [{"name": "k",
        "role_service_access_by_role_id": [{"service": "db", "component": "*", "verb_mask": 1}]}]})),
    )))[0];
    let app = ids(&ok(call(
        &mut a,
        "POST",
        "system/app",
        Some(json!({"resource": [{"name": "kapp", "role_id": role,
        "api_key": "chosen-by-client"}]})),
    )))[0];
    let old = list(&mut a, &format!("system/app/{app}"))["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(old, "chosen-by-client");
    let mut c = server.connect();
    assert_eq!(
        req(&mut c, &Creds::key(&old), "GET", "db/_table", None).status,
        200
    );
    // A plain PATCH keeps the key, even one that sends a key.
    ok(call(
        &mut a,
        "PATCH",
        &format!("system/app/{app}"),
        Some(json!({"description": "x", "api_key": "mine"})),
    ));
    assert_eq!(
        list(&mut a, &format!("system/app/{app}"))["api_key"],
        old.as_str()
    );
    let r = ok(call(
        &mut a,
        "PATCH",
        &format!("system/app/{app}?regenerate=true"),
        Some(json!({})),
    ));
    assert!(r.is_object(), "{r}");
    let new = list(&mut a, &format!("system/app/{app}"))["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new, old);
    // The old key stops working at once, on the same connection as before.
    req(&mut c, &Creds::key(&old), "GET", "db/_table", None).assert_error(401);
    assert_eq!(
        req(&mut c, &Creds::key(&new), "GET", "db/_table", None).status,
        200
    );
    // A deleted app's key is invalid.
    ok(call(&mut a, "DELETE", &format!("system/app/{app}"), None));
    req(&mut c, &Creds::key(&new), "GET", "db/_table", None).assert_error(401);
}

#[test]
fn system_tables_follow_the_table_conventions() {
    with_each_system_db("percore_sysapi_conv", table_conventions);
}

#[test]
fn role_access_is_written_nested_in_roles() {
    with_each_system_db("percore_sysapi_nested", nested_access);
}

#[test]
fn regenerating_an_app_key_ends_the_old_one() {
    with_each_system_db("percore_sysapi_regen", regenerate);
}
