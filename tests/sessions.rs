//! Sessions against a real server: login, session info, refresh, logout, throttling, and the
//! attack cases (tampered and unsigned tokens, revoked tokens, SQL in login fields), with the
//! embedded SQLite system database and with PostgreSQL.

mod common;

use std::process::Command;
use std::time::Duration;

use base64::Engine;
use common::{Client, Response, Server};
use serde_json::{json, Value};

const EMAIL: &str = "root@example.com";
const PASSWORD: &str = "correct horse battery";

fn send(c: &mut Client, method: &str, path: &str, headers: &str, body: Option<Value>) -> Response {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    c.roundtrip(raw.as_bytes())
}

fn login(c: &mut Client, path: &str, email: &str, password: &str) -> Response {
    send(
        c,
        "POST",
        path,
        "",
        Some(json!({"email": email, "password": password})),
    )
}

fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}\r\n")
}

fn start(extra: &[(&str, &str)]) -> Server {
    let mut env = vec![
        ("PERCORE_ADMIN_EMAIL", EMAIL),
        ("PERCORE_ADMIN_PASSWORD", PASSWORD),
    ];
    env.extend_from_slice(extra);
    Server::start(&env)
}

fn session_lifecycle(server: &Server) {
    let mut c = server.connect();
    let r = login(&mut c, "/api/v2/system/admin/session", EMAIL, PASSWORD);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let s = r.json();
    for field in [
        "session_token",
        "session_id",
        "id",
        "name",
        "first_name",
        "last_name",
        "email",
        "is_sys_admin",
        "last_login_date",
        "host",
        "token_expiry_date",
        "role",
        "role_id",
    ] {
        assert!(s.get(field).is_some(), "missing {field}: {s}");
    }
    assert_eq!(s["is_sys_admin"], true);
    let token = s["session_token"].as_str().unwrap().to_string();

    // The token is accepted from each place DreamFactory reads it.
    for (headers, query) in [
        (bearer(&token), String::new()),
        (
            format!("X-DreamFactory-Session-Token: {token}\r\n"),
            String::new(),
        ),
        (String::new(), format!("?session_token={token}")),
    ] {
        let r = send(
            &mut c,
            "GET",
            &format!("/api/v2/system/admin/session{query}"),
            &headers,
            None,
        );
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.json()["email"], EMAIL);
    }
    assert_eq!(
        send(&mut c, "GET", "/api/v2/user/session", &bearer(&token), None).status,
        200
    );

    // Refresh: a new token; the old one is revoked at once.
    let r = send(&mut c, "PUT", "/api/v2/user/session", &bearer(&token), None);
    assert_eq!(r.status, 200);
    let fresh = r.json()["session_token"].as_str().unwrap().to_string();
    assert_ne!(fresh, token);
    send(&mut c, "GET", "/api/v2/user/session", &bearer(&token), None).assert_error(403);

    // Logout revokes on every core (a new connection may land on another one).
    let r = send(
        &mut c,
        "DELETE",
        "/api/v2/user/session",
        &bearer(&fresh),
        None,
    );
    assert_eq!(r.json()["success"], true);
    for _ in 0..4 {
        let mut other = server.connect();
        send(
            &mut other,
            "GET",
            "/api/v2/user/session",
            &bearer(&fresh),
            None,
        )
        .assert_error(403);
    }
}

#[test]
fn sessions_with_the_embedded_system_database() {
    let server = Server::start_with(
        &[
            ("PERCORE_ADMIN_EMAIL", EMAIL),
            ("PERCORE_ADMIN_PASSWORD", PASSWORD),
        ],
        &["--cores", "2"],
    );
    session_lifecycle(&server);
}

#[test]
fn sessions_with_postgresql_as_the_system_database() {
    let url = common::db::pg_url();
    if !common::db::reachable(&url) {
        return;
    }
    let schema = common::db::PgSchema::new("percore_sys");
    let system_db = schema.url();
    let server = start(&[("PERCORE_SYSTEM_DB", &system_db)]);
    session_lifecycle(&server);
    // A second instance on the same system database: no migration runs twice, the admin exists.
    let second = start(&[("PERCORE_SYSTEM_DB", &system_db)]);
    let mut c = second.connect();
    assert_eq!(
        login(&mut c, "/api/v2/user/session", EMAIL, PASSWORD).status,
        200
    );
    drop((server, second, schema));
}

#[test]
fn a_logout_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("PERCORE_ADMIN_EMAIL", EMAIL),
        ("PERCORE_ADMIN_PASSWORD", PASSWORD),
    ];
    let server = Server::start_in(dir.path(), &env, &["--cores", "1"]);
    let mut c = server.connect();
    let token = login(&mut c, "/api/v2/user/session", EMAIL, PASSWORD).json()["session_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        send(
            &mut c,
            "DELETE",
            "/api/v2/user/session",
            &bearer(&token),
            None
        )
        .status,
        200
    );
    drop((c, server));
    let again = Server::start_in(dir.path(), &env, &["--cores", "1"]);
    let mut c = again.connect();
    send(&mut c, "GET", "/api/v2/user/session", &bearer(&token), None).assert_error(403);
    // The signing key survived too: a new login works and its token verifies.
    let fresh = login(&mut c, "/api/v2/user/session", EMAIL, PASSWORD).json()["session_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        send(&mut c, "GET", "/api/v2/user/session", &bearer(&fresh), None).status,
        200
    );
}

#[test]
fn bad_logins_look_alike_and_are_throttled() {
    let server = start(&[]);
    let mut c = server.connect();
    let wrong = login(&mut c, "/api/v2/user/session", EMAIL, "wrong password");
    let unknown = login(
        &mut c,
        "/api/v2/user/session",
        "nobody@example.com",
        "wrong password",
    );
    wrong.assert_error(401);
    unknown.assert_error(401);
    assert_eq!(
        wrong.json()["error"]["message"],
        unknown.json()["error"]["message"]
    );
    send(
        &mut c,
        "POST",
        "/api/v2/user/session",
        "",
        Some(json!({"email": EMAIL})),
    )
    .assert_error(400);
    // After repeated failures the account (and this client) is refused for a while, even with
    // the right password.
    for _ in 0..4 {
        let _ = login(&mut c, "/api/v2/user/session", EMAIL, "nope nope nope");
    }
    let r = login(&mut c, "/api/v2/user/session", EMAIL, PASSWORD);
    r.assert_error(429);
    assert!(r.header("retry-after").is_some());
}

#[test]
fn sql_in_login_fields_is_only_data() {
    let server = start(&[]);
    let mut c = server.connect();
    for sql in [
        "' OR '1'='1",
        "root@example.com'; DROP TABLE percore_user; --",
        "\" OR 1=1 --",
    ] {
        let r = login(&mut c, "/api/v2/user/session", sql, sql);
        r.assert_error(401);
    }
    // The users table is intact: the real admin still logs in (three failures are free).
    assert_eq!(
        login(&mut c, "/api/v2/user/session", EMAIL, PASSWORD).status,
        200
    );
}

#[test]
fn forged_and_malformed_tokens_are_refused() {
    let server = start(&[]);
    let mut c = server.connect();
    let token = login(&mut c, "/api/v2/system/admin/session", EMAIL, PASSWORD).json()
        ["session_token"]
        .as_str()
        .unwrap()
        .to_string();
    let parts: Vec<&str> = token.split('.').collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    claims["user_id"] = json!(999);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(claims.to_string()),
        parts[2]
    );
    let unsigned = format!(
        "{}.{}.",
        b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    for bad in [tampered.as_str(), unsigned.as_str(), "not.a.token", "x"] {
        send(&mut c, "GET", "/api/v2/user/session", &bearer(bad), None).assert_error(401);
    }
    send(&mut c, "GET", "/api/v2/user/session", "", None).assert_error(401);
    // Only system admins may use the admin session endpoint.
    login(
        &mut c,
        "/api/v2/system/admin/session",
        "nobody@example.com",
        PASSWORD,
    )
    .assert_error(401);
}

/// `percore admin create` for `second@example.com` on `dir`.
fn admin_create(dir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_percore"))
        .args([
            "admin",
            "create",
            "--email",
            "second@example.com",
            "--data-dir",
        ])
        .arg(dir)
        .env("PERCORE_ADMIN_PASSWORD", "another secret")
        .output()
        .unwrap()
}

/// Runs `percore serve` on `dir` for a moment and returns what it wrote to stderr.
fn serve_briefly(dir: &std::path::Path) -> String {
    let child = Command::new(env!("CARGO_BIN_EXE_percore"))
        .args([
            "serve",
            "--cores",
            "1",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir)
        .env_remove("PERCORE_ADMIN_PASSWORD")
        .env_remove("PERCORE_ADMIN_EMAIL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn first_start_prints_a_generated_admin_password_and_admin_create_adds_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = admin_create(dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = admin_create(dir.path());
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));

    // An admin exists, so serve creates none and prints no password.
    assert!(!serve_briefly(dir.path()).contains("with password"));

    let fresh = tempfile::tempdir().unwrap();
    let err = serve_briefly(fresh.path());
    assert!(
        err.contains("created the system admin admin@localhost with password"),
        "{err}"
    );
    use std::os::unix::fs::PermissionsExt;
    let secret = fresh.path().join("jwt.secret");
    assert_eq!(
        std::fs::metadata(secret).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn filters_use_the_sessions_lookups() {
    let server = start(&[]);
    let mut c = server.connect();
    let s = login(&mut c, "/api/v2/user/session", EMAIL, PASSWORD).json();
    let (token, me) = (
        s["session_token"].as_str().unwrap().to_string(),
        s["id"].as_i64().unwrap(),
    );
    let schema = json!({"resource": [{"name": "notes", "field": [
        {"name": "id", "type": "id"}, {"name": "owner_id", "type": "integer"}, {"name": "owner_email", "type": "string"}
    ]}]});
    assert_eq!(
        send(
            &mut c,
            "POST",
            "/api/v2/db/_schema",
            &bearer(&token),
            Some(schema)
        )
        .status,
        201
    );
    let rows = json!([{"owner_id": me, "owner_email": EMAIL}, {"owner_id": me + 1, "owner_email": "x@y.z"}]);
    assert_eq!(
        send(
            &mut c,
            "POST",
            "/api/v2/db/_table/notes",
            &bearer(&token),
            Some(rows)
        )
        .status,
        201
    );

    let mine = "/api/v2/db/_table/notes?filter=(owner_id%3D%7Buser.id%7D)%20AND%20(owner_email%3D%7Buser.email%7D)";
    let r = send(&mut c, "GET", mine, &bearer(&token), None);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["resource"].as_array().unwrap().len(), 1);
    // No session and no API key: DreamFactory's 400.
    send(&mut c, "GET", mine, "", None).assert_error(400);
    send(&mut c, "GET", mine, &bearer("bad.token.here"), None).assert_error(401);
    assert_eq!(
        send(
            &mut c,
            "DELETE",
            "/api/v2/user/session",
            &bearer(&token),
            None
        )
        .status,
        200
    );
    send(&mut c, "GET", mine, &bearer(&token), None).assert_error(403);
}
