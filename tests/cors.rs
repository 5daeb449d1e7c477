//! CORS against a real server configured from a TOML file, in raw bytes: preflights answered
//! before routing and auth, normal responses decorated, nothing at all when nothing matches.

mod common;

use common::{Response, Server};

const CONFIG: &str = r#"
[[cors]]
path = "/api/v2/*"
origin = "https://app.example.com, https://admin.example.com"
header = "Content-Type, X-DreamFactory-API-Key"
exposed_header = "X-Total-Count"
method = ["GET", "POST"]
max_age = 600
supports_credentials = true

[[cors]]
path = "healthz"
origin = "*"
method = 1
"#;

/// A server with [`CONFIG`]; the temporary directory holding the file lives as long as it.
fn server() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("percore.toml");
    std::fs::write(&path, CONFIG).unwrap();
    (
        Server::start(&[("PERCORE_CONFIG", path.to_str().unwrap())]),
        dir,
    )
}

fn cors_headers(r: &Response) -> Vec<&(String, String)> {
    r.headers
        .iter()
        .filter(|(n, _)| n.to_ascii_lowercase().starts_with("access-control-"))
        .collect()
}

#[test]
fn allowed_preflight_is_answered_without_auth() {
    let (server, _dir) = server();
    let r = server.connect().roundtrip(
        b"OPTIONS /api/v2/db/_table/contact HTTP/1.1\r\n\
          Origin: https://admin.example.com\r\n\
          Access-Control-Request-Method: POST\r\n\
          Access-Control-Request-Headers: content-type, x-dreamfactory-api-key\r\n\r\n",
    );
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    let h = |name| r.header(name);
    assert_eq!(
        h("access-control-allow-origin"),
        Some("https://admin.example.com")
    );
    assert_eq!(h("access-control-allow-methods"), Some("GET, POST"));
    assert_eq!(
        h("access-control-allow-headers"),
        Some("content-type, x-dreamfactory-api-key")
    );
    assert_eq!(h("access-control-max-age"), Some("600"));
    assert_eq!(h("access-control-allow-credentials"), Some("true"));
    assert!(h("vary").is_some_and(|v| v.starts_with("Origin")));
}

#[test]
fn refused_preflights_carry_no_cors_headers() {
    let (server, _dir) = server();
    let mut c = server.connect();
    for raw in [
        // A method outside the mask.
        &b"OPTIONS /api/v2/db HTTP/1.1\r\nOrigin: https://app.example.com\r\n\
           Access-Control-Request-Method: DELETE\r\n\r\n"[..],
        // An origin not listed.
        b"OPTIONS /api/v2/db HTTP/1.1\r\nOrigin: https://evil.example.com\r\n\
          Access-Control-Request-Method: GET\r\n\r\n",
        // A header not listed.
        b"OPTIONS /api/v2/db HTTP/1.1\r\nOrigin: https://app.example.com\r\n\
          Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: x-evil\r\n\r\n",
        // A path no entry covers (`/api/v2/*` needs something after the slash).
        b"OPTIONS /api/v2 HTTP/1.1\r\nOrigin: https://app.example.com\r\n\
          Access-Control-Request-Method: GET\r\n\r\n",
    ] {
        let r = c.roundtrip(raw);
        r.assert_error(403);
        assert!(cors_headers(&r).is_empty(), "{:?}", r.headers);
    }
    // Still a working keep-alive connection afterwards.
    assert_eq!(c.roundtrip(b"GET /healthz HTTP/1.1\r\n\r\n").status, 200);
}

#[test]
fn normal_responses_are_decorated_from_the_first_match() {
    let (server, _dir) = server();
    let mut c = server.connect();

    let r = c.roundtrip(b"GET /healthz HTTP/1.1\r\nOrigin: https://anyone.example\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(r.header("access-control-allow-credentials"), None);
    assert_eq!(r.header("vary"), Some("Origin"));

    // Errors are decorated too, so a browser script can read why it was refused.
    let r = c.roundtrip(b"GET /api/v2/nope HTTP/1.1\r\nOrigin: https://app.example.com\r\n\r\n");
    assert!(r.status >= 400, "{}", r.status);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(
        r.header("access-control-expose-headers"),
        Some("X-Total-Count")
    );
}

#[test]
fn no_origin_or_no_match_means_no_cors_headers() {
    let (server, _dir) = server();
    let mut c = server.connect();
    for raw in [
        &b"GET /healthz HTTP/1.1\r\n\r\n"[..],
        // `/status` is covered by no entry.
        b"GET /status HTTP/1.1\r\nOrigin: https://app.example.com\r\n\r\n",
        // `healthz` allows GET only.
        b"POST /healthz HTTP/1.1\r\nOrigin: https://app.example.com\r\nContent-Length: 0\r\n\r\n",
    ] {
        let r = c.roundtrip(raw);
        assert!(cors_headers(&r).is_empty(), "{:?}", r.headers);
        assert!(r.header("vary").is_none(), "{:?}", r.headers);
    }
    // An OPTIONS that is not a preflight (no Access-Control-Request-Method) is routed as usual.
    let r = c.roundtrip(b"OPTIONS /healthz HTTP/1.1\r\nOrigin: https://app.example.com\r\n\r\n");
    assert_eq!(r.status, 200);
    assert!(r.header("allow").is_some());
}

#[test]
fn without_entries_preflights_are_ordinary_options_requests() {
    let server = Server::start(&[]);
    let r = server.connect().roundtrip(
        b"OPTIONS /healthz HTTP/1.1\r\nOrigin: https://app.example.com\r\n\
          Access-Control-Request-Method: GET\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    assert!(cors_headers(&r).is_empty(), "{:?}", r.headers);
}
