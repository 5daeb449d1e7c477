//! What the system API must never do: serve anyone but system admins, show a password hash
//! (in any field list, filter, order or relation), show a private lookup's value, or let SQL
//! metacharacters in names and filters become SQL; with SQLite and PostgreSQL.

mod common;

use common::db::{call, ok};
use common::sys::{app, login, req, role, user, Creds};
use common::Server;
use serde_json::{json, Value};

fn with_each_system_db(prefix: &str, f: impl Fn(&Server)) {
    common::sys::with_each_system_db(prefix, &[], f);
}

const RESOURCES: &[&str] = &[
    "",
    "admin",
    "user",
    "role",
    "role_service_access",
    "app",
    "user_to_app_to_role",
    "cors",
    "lookup",
    "event_script",
    "environment",
    "event",
    "service",
    "role/1",
    "user/1",
];

fn admins_only(server: &Server) {
    let mut a = server.admin();
    // A user whose role may do everything everywhere, and an app with that role.
    let all = role(
        &mut a,
        "everything",
        json!([{"service_id": null, "component": "*", "verb_mask": 127, "requestor_mask": 3}]),
    );
    user(&mut a, "plain@x.io", "plain password", Some(all));
    let token = login(server, "plain@x.io", "plain password");
    let (_, key) = app(&mut a, "everything", Some(all));
    let mut c = server.connect();
    let before = ok(call(&mut a, "GET", "system/role", None));
    for resource in RESOURCES {
        let path = format!("system/{resource}");
        for method in ["GET", "POST", "PATCH", "DELETE"] {
            let body = (method != "GET").then(|| json!({"resource": [{"name": "x"}]}));
            let r = req(&mut c, &Creds::default(), method, &path, body.clone());
            r.assert_error(401);
            let r = req(&mut c, &Creds::key(&key), method, &path, body.clone());
            r.assert_error(401);
            let r = req(&mut c, &Creds::token(&token), method, &path, body.clone());
            r.assert_error(403);
            let r = req(&mut c, &Creds::both(&token, &key), method, &path, body);
            r.assert_error(403);
        }
    }
    assert_eq!(ok(call(&mut a, "GET", "system/role", None)), before);
}

fn no_text_has(v: &str, needles: &[&str]) {
    for n in needles {
        assert!(!v.contains(n), "{n} in {v}");
    }
}

fn hidden_secrets(server: &Server) {
    let mut a = server.admin();
    let r = role(&mut a, "pw", json!([]));
    let (app_id, _) = app(&mut a, "pw", Some(r));
    let uid = user(&mut a, "hash@x.io", "hashed password", Some(r));
    ok(call(
        &mut a,
        "POST",
        "system/user_to_app_to_role",
        Some(json!({"resource": [{"user_id": uid, "app_id": app_id, "role_id": r}]})),
    ));
    let secret = ["password_hash", "$argon2"];
    for path in [
        "system/user".to_string(),
        "system/user?fields=*".into(),
        format!("system/user/{uid}?fields=*"),
        "system/admin?fields=*".into(),
        "system/user?fields=id,password_hash".into(),
        format!("system/role/{r}?related=*"),
        format!("system/app/{app_id}?related=*"),
        "system/user_to_app_to_role?related=*".into(),
        "system/role?related=user_by_user_to_app_to_role".into(),
    ] {
        let got = call(&mut a, "GET", &path, None);
        if path.ends_with("id,password_hash") {
            // Asked for by name: refused as a field that does not exist.
            got.assert_error(400);
        } else {
            assert_eq!(
                got.status,
                200,
                "{path}: {}",
                String::from_utf8_lossy(&got.body)
            );
        }
        no_text_has(&String::from_utf8_lossy(&got.body), &["$argon2"]);
        if got.status == 200 {
            no_text_has(&String::from_utf8_lossy(&got.body), &secret);
        }
    }
    // Filters and orders on it are refused, not answered (an oracle on the hash otherwise).
    for path in [
        "system/user?filter=password_hash%20like%20'%24argon2%25'",
        "system/user?filter=password_hash%20is%20not%20null",
        "system/admin?order=password_hash",
    ] {
        let r = call(&mut a, "GET", path, None);
        assert!(
            r.status == 400,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    // It cannot be written either: the password still works afterwards.
    let _ = call(
        &mut a,
        "PATCH",
        &format!("system/user/{uid}"),
        Some(json!({"password_hash": "x"})),
    );
    login(server, "hash@x.io", "hashed password");
    // A password set through the API is stored hashed and logs in.
    ok(call(
        &mut a,
        "PATCH",
        &format!("system/user/{uid}"),
        Some(json!({"password": "another password"})),
    ));
    login(server, "hash@x.io", "another password");
    let short = call(
        &mut a,
        "PATCH",
        &format!("system/user/{uid}"),
        Some(json!({"password": "short"})),
    );
    short.assert_error(400);

    // Private lookups: stored, used, never shown.
    ok(call(
        &mut a,
        "POST",
        "system/lookup",
        Some(json!({"resource": [
        {"name": "hidden", "value": "s3cret-value", "private": true},
        {"name": "shown", "value": "public-value", "private": false}]})),
    ));
    for path in [
        "system/lookup",
        "system/lookup?fields=*",
        "system/lookup?fields=value&filter=name%3D'hidden'",
        "system/lookup?fields=name,value",
        "system/lookup?select=value",
        "system/lookup?fields=id,%20value",
    ] {
        let got = call(&mut a, "GET", path, None);
        no_text_has(&String::from_utf8_lossy(&got.body), &["s3cret-value"]);
    }
    let listed = ok(call(
        &mut a,
        "GET",
        "system/lookup?filter=name%3D'shown'",
        None,
    ));
    assert_eq!(listed["resource"][0]["value"], "public-value");
    let hidden = ok(call(
        &mut a,
        "GET",
        "system/lookup?filter=name%3D'hidden'",
        None,
    ));
    assert_eq!(hidden["resource"][0]["value"], "********");
    // A write answers with the record's id, not its value.
    let id = hidden["resource"][0]["id"].as_i64().unwrap();
    for fields in ["*", "value", "id,value"] {
        let path = format!("system/lookup/{id}?fields={fields}");
        let w = ok(call(
            &mut a,
            "PATCH",
            &path,
            Some(json!({"description": "d"})),
        ));
        no_text_has(&w.to_string(), &["s3cret-value"]);
    }
    // Asked for without the flag, the value comes masked and the flag stays out.
    let v = ok(call(
        &mut a,
        "GET",
        &format!("system/lookup/{id}?fields=value"),
        None,
    ));
    assert_eq!(v, json!({"value": "********"}));
    let v = ok(call(
        &mut a,
        "GET",
        "system/lookup?fields=value&filter=name%3D'shown'",
        None,
    ));
    assert_eq!(v["resource"][0], json!({"value": "public-value"}));
}

fn metacharacters(server: &Server) {
    let mut a = server.admin();
    let nasty = [
        "r'; DROP TABLE percore_role; --",
        "r\"; DELETE FROM percore_user; --",
        "r' OR '1'='1",
        "r\\'; --",
        "r%_*",
    ];
    for name in nasty {
        let made = ok(call(
            &mut a,
            "POST",
            "system/role",
            Some(json!({"resource": [{"name": name, "description": name}]})),
        ));
        let id = made["resource"][0]["id"].as_i64().unwrap();
        let got = ok(call(&mut a, "GET", &format!("system/role/{id}"), None));
        assert_eq!(
            (got["name"].as_str(), got["description"].as_str()),
            (Some(name), Some(name))
        );
        // Found by an exact filter with the quote doubled (and a backslash escaped), and only it.
        let quoted = name.replace('\\', "\\\\").replace('\'', "''");
        let filter = format!("name = '{quoted}'");
        let q = percent(&filter);
        let found = ok(call(
            &mut a,
            "GET",
            &format!("system/role?filter={q}"),
            None,
        ));
        assert_eq!(
            found["resource"].as_array().unwrap().len(),
            1,
            "{name}: {found}"
        );
    }
    // The same in lookups and apps, and as a user's name.
    for name in nasty {
        ok(call(
            &mut a,
            "POST",
            "system/lookup",
            Some(json!({"resource": [{"name": name, "value": name}]})),
        ));
        ok(call(
            &mut a,
            "POST",
            "system/app",
            Some(json!({"resource": [{"name": name, "description": name}]})),
        ));
    }
    let all = ok(call(&mut a, "GET", "system/lookup", None));
    assert_eq!(all["resource"].as_array().unwrap().len(), nasty.len());
    // Filters that try to break out are refused or match nothing; never everything.
    for filter in [
        "name = 'x' OR 1=1",
        "name = 'x'; DROP TABLE percore_role",
        "name = 'x' --",
        "1=1",
        "name = (SELECT password_hash FROM percore_user)",
        "name) OR (1=1",
    ] {
        let r = call(
            &mut a,
            "GET",
            &format!("system/role?filter={}", percent(filter)),
            None,
        );
        if r.status == 200 {
            let n = r.json()["resource"].as_array().unwrap().len();
            assert_eq!(n, 0, "{filter}: {}", r.json());
        } else {
            r.assert_error(400);
        }
    }
    for bad in [
        "fields=name%3Bdrop",
        "order=name%3B%20drop%20table%20x",
        "order=(select%201)",
        "fields=*%2Cpassword_hash",
    ] {
        let r = call(&mut a, "GET", &format!("system/role?{bad}"), None);
        if r.status != 200 {
            r.assert_error(400);
        }
    }
    // Everything is still there.
    let roles: Vec<Value> = ok(call(&mut a, "GET", "system/role", None))["resource"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(roles.len(), nasty.len());
    assert_eq!(
        ok(call(&mut a, "GET", "system/admin", None))["resource"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    login(server, &server.admin_email, common::ADMIN_PASSWORD);
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn only_system_admins_reach_the_system_api() {
    with_each_system_db("percore_safety_admins", admins_only);
}

#[test]
fn password_hashes_and_private_lookups_stay_hidden() {
    with_each_system_db("percore_safety_hidden", hidden_secrets);
}

#[test]
fn sql_metacharacters_are_data() {
    with_each_system_db("percore_safety_sql", metacharacters);
}
