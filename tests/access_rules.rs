//! Role rules enforced on real calls: verb masks, component patterns and their precedence,
//! requestor masks, server-side filters with `{user.id}` and system lookups (ANDed on reads,
//! updates and deletes, checked on creates), and `GET /api/v2` listing what a role sees; with
//! SQLite and PostgreSQL as the system DB.

mod common;

use common::db::{call, ok};
use common::sys::{app, contacts, login, names, req, role, user, Creds};
use common::Server;
use serde_json::{json, Value};

const PASSWORD: &str = "user password 1";

fn with_each_system_db(prefix: &str, f: impl Fn(&Server)) {
    common::sys::with_each_system_db(prefix, &[], f);
}

/// An API key whose app has a role with these access rows.
fn key_for(admin: &mut common::Client, name: &str, access: Value) -> Creds {
    let r = role(admin, name, access);
    Creds::key(&app(admin, name, Some(r)).1)
}

fn status(server: &Server, creds: &Creds, method: &str, path: &str) -> u16 {
    let body = matches!(method, "POST" | "PATCH" | "PUT")
        .then(|| json!({"resource": [{"name": "z", "owner_id": 0, "age": 0}]}));
    let r = req(&mut server.connect(), creds, method, path, body);
    if r.status >= 300 {
        r.assert_error(r.status);
    }
    r.status
}

fn patterns(server: &Server) {
    let mut admin = server.admin();
    contacts(&mut admin, "contact");
    contacts(&mut admin, "other");
    let s = |creds: &Creds, m: &str, p: &str| status(server, creds, m, p);

    // Verb mask: GET allowed, POST not.
    let get_only = key_for(
        &mut admin,
        "get_only",
        json!([{"service": "db", "component": "*", "verb_mask": 1}]),
    );
    assert_eq!(s(&get_only, "GET", "db/_table/contact"), 200);
    assert_eq!(s(&get_only, "POST", "db/_table/contact"), 403);
    assert_eq!(s(&get_only, "DELETE", "db/_table/contact/1"), 403);

    // `_table/*`: every table, not the schema.
    let tables = key_for(
        &mut admin,
        "tables",
        json!([{"service": "db", "component": "_table/*", "verb_mask": 3}]),
    );
    assert_eq!(s(&tables, "GET", "db/_table/contact"), 200);
    assert_eq!(s(&tables, "GET", "db/_table/other/1"), 200);
    assert_eq!(s(&tables, "POST", "db/_table/other"), 201);
    assert_eq!(s(&tables, "GET", "db/_schema"), 403);
    assert_eq!(s(&tables, "GET", "db"), 403);

    // `_table/contact`: that table and below it only.
    let one = key_for(
        &mut admin,
        "one",
        json!([{"service": "db", "component": "_table/contact", "verb_mask": 1}]),
    );
    assert_eq!(s(&one, "GET", "db/_table/contact"), 200);
    assert_eq!(s(&one, "GET", "db/_table/contact/2"), 200);
    assert_eq!(s(&one, "GET", "db/_table/other"), 403);
    assert_eq!(s(&one, "GET", "db/_table/contactx"), 403);
    assert_eq!(s(&one, "GET", "db/_schema/contact"), 403);

    // `''`: the service root only.
    let root = key_for(
        &mut admin,
        "root",
        json!([{"service": "db", "component": "", "verb_mask": 1}]),
    );
    assert_eq!(s(&root, "GET", "db"), 200);
    assert_eq!(s(&root, "GET", "db/_table/contact"), 403);

    // The most specific rule decides: exact beats the wildcard, even to refuse a verb.
    let mixed = key_for(
        &mut admin,
        "mixed",
        json!([
            {"service": "db", "component": "_table/*", "verb_mask": 3},
            {"service": "db", "component": "_table/contact", "verb_mask": 1}
        ]),
    );
    assert_eq!(s(&mixed, "POST", "db/_table/other"), 201);
    assert_eq!(s(&mixed, "POST", "db/_table/contact"), 403);
    assert_eq!(s(&mixed, "GET", "db/_table/contact"), 200);

    // Requestor masks: a SCRIPT-only rule is not there for API calls; API-only is.
    let script_only = key_for(
        &mut admin,
        "script_only",
        json!([{"service": "db", "component": "*", "verb_mask": 31, "requestor_mask": 2}]),
    );
    assert_eq!(s(&script_only, "GET", "db/_table/contact"), 403);
    let api_only = key_for(
        &mut admin,
        "api_only",
        json!([{"service": "db", "component": "*", "verb_mask": 1, "requestor_mask": 1}]),
    );
    assert_eq!(s(&api_only, "GET", "db/_table/contact"), 200);
    // A rule for every service (no service).
    let all = key_for(
        &mut admin,
        "all",
        json!([{"service_id": null, "component": "*", "verb_mask": 1}]),
    );
    assert_eq!(s(&all, "GET", "db/_table/contact"), 200);
    assert_eq!(s(&all, "POST", "db/_table/contact"), 403);

    // GET /api/v2 lists what the role sees.
    let listed = |creds: &Creds| -> Vec<String> {
        let v = ok(req(&mut server.connect(), creds, "GET", "", None));
        let mut out: Vec<String> = v["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect();
        out.sort();
        out
    };
    assert_eq!(listed(&tables), ["db"]);
    assert!(listed(&script_only).is_empty());
    let nothing = key_for(&mut admin, "nothing", json!([]));
    assert!(listed(&nothing).is_empty());
    assert_eq!(s(&nothing, "GET", "db/_table/contact"), 403);
    assert!(listed(&Creds::token(&server.admin_token())).contains(&"db".to_string()));
    req(&mut server.connect(), &Creds::default(), "GET", "", None).assert_error(400);
}

fn filters(server: &Server) {
    let mut admin = server.admin();
    contacts(&mut admin, "contact");
    // The owner filter: rows of the caller only, for every verb.
    let owner = role(
        &mut admin,
        "owner",
        json!([{"service": "db", "component": "_table/contact", "verb_mask": 31,
            "filters": [{"name": "owner_id", "operator": "=", "value": "{user.id}"}],
            "filter_op": "AND"}]),
    );
    let uid = user(&mut admin, "o@example.com", PASSWORD, Some(owner));
    ok(call(
        &mut admin,
        "POST",
        "db/_table/contact",
        Some(
            json!({"resource": [{"name": "mine1", "owner_id": uid, "age": 1},
            {"name": "mine2", "owner_id": uid, "age": 2}]}),
        ),
    ));
    let all =
        |admin: &mut common::Client| names(&ok(call(admin, "GET", "db/_table/contact", None)));
    let before = all(&mut admin);
    let me = Creds::token(&login(server, "o@example.com", PASSWORD));
    let mut c = server.connect();

    // Reads: only mine, also with a client filter ANDed on.
    assert_eq!(
        names(&ok(req(&mut c, &me, "GET", "db/_table/contact", None))),
        ["mine1", "mine2"]
    );
    let r = ok(req(
        &mut c,
        &me,
        "GET",
        "db/_table/contact?filter=age%3E1%20or%20owner_id%3D102",
        None,
    ));
    assert_eq!(names(&r), ["mine2"]);
    // Someone else's row by id: not found, as if it did not exist.
    req(&mut c, &me, "GET", "db/_table/contact/2", None).assert_error(404);
    // Updates and deletes of every row touch mine only.
    ok(req(
        &mut c,
        &me,
        "PATCH",
        "db/_table/contact?filter=age%3E0",
        Some(json!({"age": 99})),
    ));
    let ages = ok(call(
        &mut admin,
        "GET",
        "db/_table/contact?filter=age%3D99",
        None,
    ));
    assert_eq!(names(&ages), ["mine1", "mine2"]);
    let r = req(&mut c, &me, "DELETE", "db/_table/contact/2", None);
    assert!(r.status == 404, "{}", String::from_utf8_lossy(&r.body));
    let r = req(
        &mut c,
        &me,
        "PATCH",
        "db/_table/contact/3",
        Some(json!({"owner_id": uid})),
    );
    assert!(r.status == 404, "{}", String::from_utf8_lossy(&r.body));
    // Creates must satisfy the filter: someone else's row is refused, nothing written.
    let theirs = json!({"resource": [{"name": "forged", "owner_id": uid + 100, "age": 5}]});
    req(&mut c, &me, "POST", "db/_table/contact", Some(theirs)).assert_error(403);
    // A batch with one bad record, rolled back: nothing of it stays.
    let mixed = json!({"resource": [{"name": "ok3", "owner_id": uid, "age": 5},
        {"name": "forged2", "owner_id": 1, "age": 5}]});
    let r = req(
        &mut c,
        &me,
        "POST",
        "db/_table/contact?rollback=true",
        Some(mixed),
    );
    assert!(r.status >= 400, "{}", String::from_utf8_lossy(&r.body));
    assert!(String::from_utf8_lossy(&r.body).contains("server-side filter"));
    // An update may not move my row out of my reach.
    let r = req(
        &mut c,
        &me,
        "PATCH",
        "db/_table/contact?filter=name%3D'mine1'",
        Some(json!({"owner_id": 1})),
    );
    r.assert_error(403);
    // PUT replaces my row: not with someone else's owner.
    let mine1 = ok(call(
        &mut admin,
        "GET",
        "db/_table/contact?filter=name%3D'mine1'",
        None,
    ))["resource"][0]["id"]
        .as_i64()
        .unwrap();
    let put = json!({"name": "mine1", "owner_id": 1, "age": 99});
    req(
        &mut c,
        &me,
        "PUT",
        &format!("db/_table/contact/{mine1}"),
        Some(put),
    )
    .assert_error(403);
    // Deleting someone else's rows by ids deletes nothing.
    // (ids= is a scope here, as for an admin naming ids that do not exist: what matched.)
    let r = req(&mut c, &me, "DELETE", "db/_table/contact?ids=1,2", None);
    if r.status == 200 {
        assert_eq!(r.json(), json!({"resource": []}));
    } else {
        r.assert_error(r.status);
    }
    let r = req(
        &mut c,
        &me,
        "DELETE",
        "db/_table/contact?filter=owner_id%3D102",
        None,
    );
    assert!(
        r.status < 300 || r.status == 404,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let after = all(&mut admin);
    assert_eq!(before, after);
    let r = req(
        &mut c,
        &me,
        "POST",
        "db/_table/contact",
        Some(json!({"resource": [{"name": "mine3", "owner_id": uid, "age": 5}]})),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    ok(req(
        &mut c,
        &me,
        "DELETE",
        "db/_table/contact?filter=name%3D'mine3'",
        None,
    ));
    assert_eq!(all(&mut admin), before);

    // A system lookup in a filter, for an API key without a session.
    ok(call(
        &mut admin,
        "POST",
        "system/lookup",
        Some(json!({"resource": [{"name": "min_age", "value": "35", "private": true}]})),
    ));
    let grown = role(
        &mut admin,
        "grown",
        json!([{"service": "db", "component": "_table/*", "verb_mask": 1,
            "filters": [{"name": "age", "operator": ">=", "value": "{min_age}"},
                        {"name": "age", "operator": "<", "value": 98}],
            "filter_op": "AND"}]),
    );
    let key = Creds::key(&app(&mut admin, "grown", Some(grown)).1);
    assert_eq!(
        names(&ok(req(&mut c, &key, "GET", "db/_table/contact", None))),
        ["a3", "b2"]
    );
    // The lookup changed: the filter follows at once.
    let l = ok(call(
        &mut admin,
        "GET",
        "system/lookup?filter=name%3D'min_age'",
        None,
    ));
    let lid = l["resource"][0]["id"].as_i64().unwrap();
    ok(call(
        &mut admin,
        "PATCH",
        &format!("system/lookup/{lid}"),
        Some(json!({"value": "45"})),
    ));
    assert_eq!(
        names(&ok(req(&mut c, &key, "GET", "db/_table/contact", None))),
        ["b2"]
    );
    // {user.id} without a session matches nothing rather than everything.
    let owner_key = Creds::key(&app(&mut admin, "owner_app", Some(owner)).1);
    let r = req(&mut c, &owner_key, "GET", "db/_table/contact", None);
    if r.status == 200 {
        assert!(names(&r.json()).is_empty(), "{}", r.json());
    } else {
        r.assert_error(r.status);
    }
}

#[test]
fn verb_masks_components_requestors_and_listing() {
    with_each_system_db("percore_rules_patterns", patterns);
}

#[test]
fn server_side_filters_confine_every_verb() {
    with_each_system_db("percore_rules_filters", filters);
}
