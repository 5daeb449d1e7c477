//! Self-service user endpoints against a real server: open registration, profile, password
//! change (and the admin twins), with the embedded SQLite system database and PostgreSQL.

mod common;

use std::time::Duration;

use common::{Client, Response, Server};
use serde_json::{json, Value};

const ADMIN: &str = "root@example.com";
const ADMIN_PASSWORD: &str = "correct horse battery";
const ROLE_ID: &str = "7";

fn send(c: &mut Client, method: &str, path: &str, headers: &str, body: Option<Value>) -> Response {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    c.roundtrip(raw.as_bytes())
}

fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}\r\n")
}

fn login(c: &mut Client, email: &str, password: &str) -> Response {
    let body = json!({"email": email, "password": password});
    send(c, "POST", "/api/v2/user/session", "", Some(body))
}

fn token_of(r: &Response) -> String {
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()["session_token"]
        .as_str()
        .expect("session_token")
        .to_string()
}

fn register(c: &mut Client, query: &str, body: Value) -> Response {
    send(
        c,
        "POST",
        &format!("/api/v2/user/register{query}"),
        "",
        Some(body),
    )
}

fn start(extra: &[(&str, &str)]) -> Server {
    let mut env = vec![
        ("PERCORE_ADMIN_EMAIL", ADMIN),
        ("PERCORE_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("PERCORE_AUTH__OPEN_REGISTRATION", "true"),
        ("PERCORE_AUTH__REGISTRATION_ROLE_ID", ROLE_ID),
    ];
    env.extend_from_slice(extra);
    Server::start(&env)
}

#[test]
fn registration_is_off_unless_configured() {
    let server = Server::start(&[]);
    let mut c = server.connect();
    let body = json!({"email": "ada@example.com", "new_password": "long enough pw"});
    register(&mut c, "", body).assert_error(403);
    login(&mut c, "ada@example.com", "long enough pw").assert_error(401);
}

fn registration(server: &Server) {
    let mut c = server.connect();
    let ada = json!({"email": "Ada.Lovelace@example.com", "new_password": "analytical engine"});
    let r = register(&mut c, "", ada.clone());
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json(), json!({"success": true}));
    // DreamFactory's name defaults: first and last from a dotted local part.
    let s = login(&mut c, "ada.lovelace@example.com", "analytical engine").json();
    assert_eq!(
        (&s["first_name"], &s["last_name"], &s["name"]),
        (&json!("Ada"), &json!("Lovelace"), &json!("Ada Lovelace"))
    );
    assert_eq!(s["is_sys_admin"], false);
    assert_eq!(s["role_id"], ROLE_ID.parse::<i64>().unwrap());
    // A registered user is not an admin.
    let admin_login = json!({"email": "ada.lovelace@example.com", "password": "analytical engine"});
    send(
        &mut c,
        "POST",
        "/api/v2/system/admin/session",
        "",
        Some(admin_login),
    )
    .assert_error(401);

    // The same address again (in another case) is refused the way DreamFactory refuses it.
    let r = register(&mut c, "", ada);
    r.assert_error(400);
    assert_eq!(
        r.json()["error"]["context"]["email"][0],
        "The email has already been taken."
    );
    for bad in [
        json!({"email": "not-an-email", "new_password": "long enough pw"}),
        json!({"new_password": "long enough pw"}),
        json!({"email": "short@example.com", "new_password": "short"}),
        json!({"email": "nopw@example.com"}),
        json!({"email": "conf@example.com", "password": "long enough pw", "password_confirmation": "other one"}),
        json!({"email": 5, "password": "long enough pw"}),
    ] {
        register(&mut c, "", bad).assert_error(400);
    }
    let r = send(&mut c, "POST", "/api/v2/user/register", "", None);
    r.assert_error(400);
    let raw = b"POST /api/v2/user/register HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n{nope";
    c.roundtrip(raw).assert_error(400);

    // login=true answers with a session, which works at once.
    let grace = json!({"email": "grace@example.com", "password": "cobol compiler", "first_name": "Grace", "last_name": "Hopper"});
    let r = register(&mut c, "?login=true", grace);
    assert_eq!(r.json()["success"], true);
    let token = token_of(&r);
    let me = send(&mut c, "GET", "/api/v2/user/session", &bearer(&token), None);
    assert_eq!(me.json()["email"], "grace@example.com");
    assert_eq!(me.json()["name"], "Grace Hopper");
}

fn sql_is_only_data(server: &Server) {
    let mut c = server.connect();
    let email = "o'brien+x@example.com";
    let first = "Robert'); DROP TABLE percore_user; --";
    let last = "\" OR 1=1 --";
    let body = json!({"email": email, "password": "' OR '1'='1' --", "first_name": first, "last_name": last, "name": "%_\\"});
    let token = token_of(&register(&mut c, "?login=true", body));
    let p = send(&mut c, "GET", "/api/v2/user/profile", &bearer(&token), None).json();
    assert_eq!(
        (&p["email"], &p["first_name"], &p["last_name"], &p["name"]),
        (&json!(email), &json!(first), &json!(last), &json!("%_\\"))
    );
    let change =
        json!({"first_name": "x' WHERE 1=1; --", "last_name": "'; DELETE FROM percore_user; --"});
    let r = send(
        &mut c,
        "POST",
        "/api/v2/user/profile",
        &bearer(&token),
        Some(change),
    );
    assert_eq!(r.json(), json!({"success": true}));
    // Every other account is intact.
    token_of(&login(&mut c, ADMIN, ADMIN_PASSWORD));
    let p = send(&mut c, "GET", "/api/v2/user/profile", &bearer(&token), None).json();
    assert_eq!(p["first_name"], "x' WHERE 1=1; --");
    token_of(&login(&mut c, email, "' OR '1'='1' --"));
}

fn profile(server: &Server) {
    let mut c = server.connect();
    let body =
        json!({"email": "linus@example.com", "password": "penguins rule", "first_name": "Linus"});
    let token = token_of(&register(&mut c, "?login=true", body));
    let auth = bearer(&token);

    send(&mut c, "GET", "/api/v2/user/profile", "", None).assert_error(401);
    send(
        &mut c,
        "GET",
        "/api/v2/user/profile",
        &bearer("not.a.token"),
        None,
    )
    .assert_error(401);
    let p = send(&mut c, "GET", "/api/v2/user/profile", &auth, None).json();
    assert_eq!(p["email"], "linus@example.com");
    assert_eq!(p["first_name"], "Linus");
    assert!(p.get("phone").is_some(), "{p}");

    let change = json!({"first_name": "Linus B.", "last_name": "Torvalds", "name": "LBT"});
    let r = send(&mut c, "PUT", "/api/v2/user/profile", &auth, Some(change));
    assert_eq!(r.json(), json!({"success": true}));
    let p = send(&mut c, "GET", "/api/v2/user/profile", &auth, None).json();
    assert_eq!(
        (&p["first_name"], &p["last_name"], &p["name"]),
        (&json!("Linus B."), &json!("Torvalds"), &json!("LBT"))
    );
    // A round trip of what GET returned is accepted; a value for a field without a column is not.
    let same = send(&mut c, "POST", "/api/v2/user/profile", &auth, Some(p));
    assert_eq!(same.status, 200, "{}", String::from_utf8_lossy(&same.body));
    for bad in [
        json!({}),
        json!({"phone": "555"}),
        json!({"email": "bad address"}),
        json!({"email": ADMIN}),
        json!({"first_name": "x".repeat(256)}),
    ] {
        send(&mut c, "POST", "/api/v2/user/profile", &auth, Some(bad)).assert_error(400);
    }
    send(&mut c, "DELETE", "/api/v2/user/profile", &auth, None).assert_error(405);

    // Changing the email signs a new token and retires the old ones.
    let r = send(
        &mut c,
        "POST",
        "/api/v2/user/profile",
        &auth,
        Some(json!({"email": "Linus@Kernel.org"})),
    );
    let fresh = token_of(&r);
    send(&mut c, "GET", "/api/v2/user/profile", &auth, None).assert_error(403);
    let p = send(&mut c, "GET", "/api/v2/user/profile", &bearer(&fresh), None).json();
    assert_eq!(p["email"], "linus@kernel.org");
    token_of(&login(&mut c, "linus@kernel.org", "penguins rule"));
    login(&mut c, "linus@example.com", "penguins rule").assert_error(401);

    // A logged-out token is refused with DreamFactory's 403.
    send(
        &mut c,
        "DELETE",
        "/api/v2/user/session",
        &bearer(&fresh),
        None,
    );
    send(&mut c, "GET", "/api/v2/user/profile", &bearer(&fresh), None).assert_error(403);
}

fn change_password(c: &mut Client, token: &str, query: &str, old: &str, new: &str) -> Response {
    let body = json!({"old_password": old, "new_password": new});
    let path = format!("/api/v2/user/password{query}");
    send(c, "POST", &path, &bearer(token), Some(body))
}

fn password(server: &Server) {
    let mut c = server.connect();
    let (email, old, new) = ("ken@example.com", "unix is simple", "plan nine rocks");
    let other_device = token_of(&register(
        &mut c,
        "?login=true",
        json!({"email": email, "password": old}),
    ));
    // The user-wide revocation has one-second resolution: the other device's token must be
    // from an earlier second than the change for the test to say something.
    std::thread::sleep(Duration::from_millis(1100));
    let token = token_of(&login(&mut c, email, old));

    change_password(&mut c, &token, "", "wrong guess!", new).assert_error(400);
    change_password(&mut c, &token, "", old, "short").assert_error(400);
    let only_old = json!({"old_password": old});
    send(
        &mut c,
        "POST",
        "/api/v2/user/password",
        &bearer(&token),
        Some(only_old),
    )
    .assert_error(400);
    send(&mut c, "POST", "/api/v2/user/password", "", Some(json!({}))).assert_error(400);
    change_password(&mut c, "bad.token.x", "", old, new).assert_error(401);
    // Reset by email needs an email service percore does not have.
    let reset = json!({"email": email});
    send(
        &mut c,
        "POST",
        "/api/v2/user/password?reset=true",
        "",
        Some(reset),
    )
    .assert_error(501);
    let by_code = json!({"email": email, "code": "abc", "new_password": new});
    send(&mut c, "POST", "/api/v2/user/password", "", Some(by_code)).assert_error(501);

    let r = change_password(&mut c, &token, "?login=true", old, new);
    assert_eq!(r.json()["success"], true);
    let fresh = token_of(&r);
    // Every earlier session of the user is revoked, on every core.
    for stale in [&token, &other_device] {
        let mut other = server.connect();
        send(
            &mut other,
            "GET",
            "/api/v2/user/profile",
            &bearer(stale),
            None,
        )
        .assert_error(403);
        send(
            &mut other,
            "PUT",
            "/api/v2/user/session",
            &bearer(stale),
            None,
        )
        .assert_error(403);
    }
    let p = send(&mut c, "GET", "/api/v2/user/profile", &bearer(&fresh), None);
    assert_eq!(p.json()["email"], email);
    login(&mut c, email, old).assert_error(401);
    let latest = token_of(&login(&mut c, email, new));

    // Without login=true the answer is DreamFactory's bare success, and the session is retired.
    let r = change_password(&mut c, &latest, "", new, "third password");
    assert_eq!(r.json(), json!({"success": true}));
    send(
        &mut c,
        "GET",
        "/api/v2/user/profile",
        &bearer(&latest),
        None,
    )
    .assert_error(403);
    token_of(&login(&mut c, email, "third password"));
}

fn admin_twins(server: &Server) {
    let mut c = server.connect();
    let admin_login = json!({"email": ADMIN, "password": ADMIN_PASSWORD});
    let admin = token_of(&send(
        &mut c,
        "POST",
        "/api/v2/system/admin/session",
        "",
        Some(admin_login),
    ));
    let user = token_of(&register(
        &mut c,
        "?login=true",
        json!({"email": "dennis@example.com", "password": "c programming"}),
    ));
    let p = send(
        &mut c,
        "GET",
        "/api/v2/system/admin/profile",
        &bearer(&admin),
        None,
    );
    assert_eq!(p.json()["email"], ADMIN);
    send(
        &mut c,
        "GET",
        "/api/v2/system/admin/profile",
        &bearer(&user),
        None,
    )
    .assert_error(403);
    // As in DreamFactory, each password endpoint serves its own kind of account.
    change_password(&mut c, &admin, "", ADMIN_PASSWORD, "new admin secret").assert_error(401);
    let body = json!({"old_password": "c programming", "new_password": "go programming"});
    send(
        &mut c,
        "POST",
        "/api/v2/system/admin/password",
        &bearer(&user),
        Some(body),
    )
    .assert_error(401);
    let body = json!({"old_password": ADMIN_PASSWORD, "new_password": "new admin secret"});
    let r = send(
        &mut c,
        "POST",
        "/api/v2/system/admin/password?login=true",
        &bearer(&admin),
        Some(body),
    );
    assert_eq!(r.json()["is_sys_admin"], true);
    token_of(&r);
    token_of(&login(&mut c, ADMIN, "new admin secret"));
}

#[test]
fn user_endpoints_with_the_embedded_system_database() {
    let server = Server::start_with(
        &[
            ("PERCORE_ADMIN_EMAIL", ADMIN),
            ("PERCORE_ADMIN_PASSWORD", ADMIN_PASSWORD),
            ("PERCORE_AUTH__OPEN_REGISTRATION", "true"),
            ("PERCORE_AUTH__REGISTRATION_ROLE_ID", ROLE_ID),
        ],
        &["--cores", "2"],
    );
    registration(&server);
    sql_is_only_data(&server);
    profile(&server);
}

#[test]
fn password_changes_with_the_embedded_system_database() {
    let server = start(&[]);
    password(&server);
    admin_twins(&server);
}

#[test]
fn user_endpoints_with_postgresql_as_the_system_database() {
    let url = common::db::pg_url();
    if !common::db::reachable(&url) {
        return;
    }
    let schema = common::db::PgSchema::new("percore_userapi");
    let system_db = schema.url();
    let server = start(&[("PERCORE_SYSTEM_DB", &system_db)]);
    registration(&server);
    sql_is_only_data(&server);
    profile(&server);
    // Password tests on a fresh server: each server's per-core registration budget is ten.
    let second = start(&[("PERCORE_SYSTEM_DB", &system_db)]);
    password(&second);
    admin_twins(&second);
    drop((server, second, schema));
}

#[test]
fn registrations_are_throttled_per_client_address() {
    let server = start(&[]);
    let mut c = server.connect();
    let body = json!({"email": "dup@example.com", "password": "long enough pw"});
    assert_eq!(register(&mut c, "", body.clone()).status, 200);
    // Attempts on a taken address still count: they cost a lookup and tell what exists. Ten
    // are free; after that each one waits longer (1 s, 2 s, 4 s, ...), so a few quick retries
    // meet a 429 however slow this machine is.
    for _ in 0..9 {
        register(&mut c, "", body.clone()).assert_error(400);
    }
    let refused = (0..5)
        .map(|_| register(&mut c, "", body.clone()))
        .find(|r| r.status == 429)
        .expect("a 429 after ten attempts");
    refused.assert_error(429);
    assert!(refused.header("retry-after").is_some());
}
