//! The authorization stage against a real server: which credentials give which role (API key,
//! session, both, per-app user roles), the statuses of missing and bad credentials, and the
//! session's user being deleted or deactivated; with SQLite and PostgreSQL as the system DB.

mod common;

use std::time::Duration;

use common::db::{call, ok};
use common::sys::{app, contacts, login, req, role, user, Creds};
use common::Server;
use percore::auth::jwt::{Claims, KeySet};
use percore::auth::keys::SigningKey;
use serde_json::json;

const SECRET: &str = "an-authorization-test-secret-0123456789abcdef";
const PASSWORD: &str = "user password 1";

fn with_each_system_db(prefix: &str, f: impl Fn(&Server)) {
    common::sys::with_each_system_db(prefix, &[("PERCORE_AUTH__JWT_SECRET", SECRET)], f);
}

/// A token signed with the server's secret, with `edit` applied to its claims.
fn forge(edit: impl FnOnce(&mut Claims)) -> String {
    let keys = KeySet::new(SigningKey::hs256(SECRET.as_bytes()).unwrap());
    let day = Duration::from_secs(86400);
    let mut claims = Claims::new(1, "x@y.z", false, None, day, day);
    edit(&mut claims);
    keys.sign(&claims)
}

fn credentials(server: &Server) {
    let mut admin = server.admin();
    contacts(&mut admin, "contact");
    // reader: GET on every table; writer: everything on the service; narrow: GET on contact.
    let reader = role(
        &mut admin,
        "reader",
        json!([{"service": "db", "component": "_table/*", "verb_mask": 1}]),
    );
    let writer = role(
        &mut admin,
        "writer",
        json!([{"service": "db", "component": "*", "verb_mask": 31}]),
    );
    let narrow = role(
        &mut admin,
        "narrow",
        json!([{"service": "db", "component": "_table/contact", "verb_mask": 1}]),
    );
    let (web, web_key) = app(&mut admin, "web", Some(reader));
    let (_, plain_key) = app(&mut admin, "plain", Some(reader));
    let (_, roleless_key) = app(&mut admin, "roleless", None);
    let uid = user(&mut admin, "u@example.com", PASSWORD, Some(writer));
    let token = login(server, "u@example.com", PASSWORD);
    let mut c = server.connect();
    let new_row = || Some(json!({"resource": [{"name": "n", "owner_id": 9, "age": 1}]}));

    // An API key alone: the app's role (GET yes, POST no).
    let key = Creds::key(&web_key);
    assert_eq!(
        req(&mut c, &key, "GET", "db/_table/contact", None).status,
        200
    );
    req(&mut c, &key, "POST", "db/_table/contact", new_row()).assert_error(403);
    // The key as a parameter and in the body too.
    let r = req(
        &mut c,
        &Creds::default(),
        "GET",
        &format!("db/_table/contact?api_key={web_key}"),
        None,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // An app without a role may do nothing.
    req(
        &mut c,
        &Creds::key(&roleless_key),
        "GET",
        "db/_table/contact",
        None,
    )
    .assert_error(403);

    // A session alone: the user's role.
    let session = Creds::token(&token);
    let r = req(&mut c, &session, "POST", "db/_table/contact", new_row());
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    // Both, without a per-app role: the user's role still.
    let r = req(
        &mut c,
        &Creds::both(&token, &plain_key),
        "POST",
        "db/_table/contact",
        new_row(),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));

    // Both, with a per-app role for this user and app (written nested in the user): it wins.
    ok(call(
        &mut admin,
        "PATCH",
        &format!("system/user/{uid}"),
        Some(json!({"user_to_app_to_role_by_user_id": [{"app_id": web, "role_id": narrow}]})),
    ));
    let both = Creds::both(&token, &web_key);
    assert_eq!(
        req(&mut c, &both, "GET", "db/_table/contact", None).status,
        200
    );
    req(&mut c, &both, "POST", "db/_table/contact", new_row()).assert_error(403);
    // Not through the other app, and not without a key.
    let r = req(
        &mut c,
        &Creds::both(&token, &plain_key),
        "POST",
        "db/_table/contact",
        new_row(),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let r = req(&mut c, &session, "POST", "db/_table/contact", new_row());
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));

    // Missing and bad credentials.
    req(&mut c, &Creds::default(), "GET", "db/_table/contact", None).assert_error(400);
    req(
        &mut c,
        &Creds::key("not-a-key"),
        "GET",
        "db/_table/contact",
        None,
    )
    .assert_error(401);
    // A bad key is refused even beside a good session.
    req(
        &mut c,
        &Creds::both(&token, "not-a-key"),
        "GET",
        "db/_table/contact",
        None,
    )
    .assert_error(401);
    let mut tampered = token.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let expired = forge(|c| {
        c.user_id = uid;
        c.sub = uid.to_string();
        c.iat -= 7200;
        c.exp = c.iat + 60;
    });
    let other_issuer = forge(|c| c.iss = "someone-else".into());
    for bad in ["garbage", "a.b.c", &tampered, &expired, &other_issuer] {
        req(&mut c, &Creds::token(bad), "GET", "db/_table/contact", None).assert_error(401);
        // Even with a valid API key beside it.
        req(
            &mut c,
            &Creds::both(bad, &web_key),
            "GET",
            "db/_table/contact",
            None,
        )
        .assert_error(401);
    }

    // System admins bypass roles.
    let admin_creds = Creds::token(&server.admin_token());
    assert_eq!(
        req(&mut c, &admin_creds, "GET", "db/_table/contact", None).status,
        200
    );
    assert_eq!(
        req(&mut c, &admin_creds, "GET", "db/_schema", None).status,
        200
    );

    // Revoked: after logout, 403.
    let short = login(server, "u@example.com", PASSWORD);
    assert_eq!(
        req(
            &mut c,
            &Creds::token(&short),
            "GET",
            "db/_table/contact",
            None
        )
        .status,
        200
    );
    assert_eq!(
        req(
            &mut c,
            &Creds::token(&short),
            "DELETE",
            "user/session",
            None
        )
        .status,
        200
    );
    req(
        &mut c,
        &Creds::token(&short),
        "GET",
        "db/_table/contact",
        None,
    )
    .assert_error(403);
}

fn user_changes(server: &Server) {
    let mut admin = server.admin();
    contacts(&mut admin, "contact");
    let writer = role(
        &mut admin,
        "writer",
        json!([{"service": "db", "component": "*", "verb_mask": 31}]),
    );
    let (_, key) = app(&mut admin, "web", Some(writer));
    let mut c = server.connect();

    // Deactivated: the token stops working at once, with or without a key; back when reactivated.
    let uid = user(&mut admin, "d@example.com", PASSWORD, Some(writer));
    let token = login(server, "d@example.com", PASSWORD);
    let session = Creds::token(&token);
    assert_eq!(
        req(&mut c, &session, "GET", "db/_table/contact", None).status,
        200
    );
    ok(call(
        &mut admin,
        "PATCH",
        &format!("system/user/{uid}"),
        Some(json!({"is_active": false})),
    ));
    req(&mut c, &session, "GET", "db/_table/contact", None).assert_error(401);
    req(
        &mut c,
        &Creds::both(&token, &key),
        "GET",
        "db/_table/contact",
        None,
    )
    .assert_error(401);
    let r = req(
        &mut c,
        &Creds::default(),
        "POST",
        "user/session",
        Some(json!({"email": "d@example.com", "password": PASSWORD})),
    );
    r.assert_error(401);
    ok(call(
        &mut admin,
        "PATCH",
        &format!("system/user/{uid}"),
        Some(json!({"is_active": true})),
    ));
    assert_eq!(
        req(&mut c, &session, "GET", "db/_table/contact", None).status,
        200
    );

    // Deleted: the token is refused, even beside a valid API key.
    ok(call(
        &mut admin,
        "DELETE",
        &format!("system/user/{uid}"),
        None,
    ));
    for creds in [session.clone(), Creds::both(&token, &key)] {
        let r = req(&mut c, &creds, "GET", "db/_table/contact", None);
        assert!(
            matches!(r.status, 401 | 403),
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        r.assert_error(r.status);
    }

    // A role made inactive grants nothing.
    let uid = user(&mut admin, "e@example.com", PASSWORD, Some(writer));
    let token = login(server, "e@example.com", PASSWORD);
    assert!(uid > 0);
    ok(call(
        &mut admin,
        "PATCH",
        &format!("system/role/{writer}"),
        Some(json!({"is_active": false})),
    ));
    req(
        &mut c,
        &Creds::token(&token),
        "GET",
        "db/_table/contact",
        None,
    )
    .assert_error(403);
    req(&mut c, &Creds::key(&key), "GET", "db/_table/contact", None).assert_error(403);
    ok(call(
        &mut admin,
        "PATCH",
        &format!("system/role/{writer}"),
        Some(json!({"is_active": true})),
    ));
    assert_eq!(
        req(&mut c, &Creds::key(&key), "GET", "db/_table/contact", None).status,
        200
    );

    // An app made inactive: its key is invalid.
    let apps = ok(call(
        &mut admin,
        "GET",
        "system/app?filter=name%3D'web'",
        None,
    ));
    let app_id = apps["resource"][0]["id"].as_i64().unwrap();
    ok(call(
        &mut admin,
        "PATCH",
        &format!("system/app/{app_id}"),
        Some(json!({"is_active": false})),
    ));
    req(&mut c, &Creds::key(&key), "GET", "db/_table/contact", None).assert_error(401);
    // A user's role deleted: the user has no role left.
    let uid = user(&mut admin, "f@example.com", PASSWORD, Some(writer));
    let token = login(server, "f@example.com", PASSWORD);
    assert!(uid > 0);
    ok(call(
        &mut admin,
        "DELETE",
        &format!("system/role/{writer}"),
        None,
    ));
    req(
        &mut c,
        &Creds::token(&token),
        "GET",
        "db/_table/contact",
        None,
    )
    .assert_error(403);
}

#[test]
fn credentials_give_the_right_role() {
    with_each_system_db("percore_authz_creds", credentials);
}

#[test]
fn user_and_role_changes_apply_to_live_tokens() {
    with_each_system_db("percore_authz_users", user_changes);
}
