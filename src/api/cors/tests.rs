use super::*;
use crate::http::parse::{parse_head, Head};

fn entries(toml_text: &str) -> Vec<CorsEntry> {
    #[derive(Deserialize)]
    struct File {
        cors: Vec<CorsEntry>,
    }
    toml::from_str::<File>(toml_text).unwrap().cors
}

fn policy(toml_text: &str) -> CorsPolicy {
    CorsPolicy::new(&entries(toml_text)).unwrap()
}

/// Runs `f` on a request parsed from `method path` plus header lines.
fn with_req<R>(line: &str, headers: &[&str], f: impl FnOnce(&Request) -> R) -> R {
    let mut raw = format!("{line} HTTP/1.1\r\n");
    headers
        .iter()
        .for_each(|h| raw.push_str(&format!("{h}\r\n")));
    raw.push_str("\r\n");
    let mut head = Head::default();
    assert!(parse_head(raw.as_bytes(), 64, &mut head).unwrap());
    f(&Request::new(
        &head,
        raw.as_bytes(),
        &[],
        ([127, 0, 0, 1], 1).into(),
    ))
}

fn header<'a>(resp: &'a Response, name: &str) -> Option<&'a str> {
    let mut found = resp
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name));
    let value = found.next().map(|(_, v)| v.as_ref());
    assert!(found.next().is_none(), "{name} sent twice");
    value
}

const APP: &str = "Origin: https://app.example.com";

fn preflight(p: &CorsPolicy, path: &str, method: &str, extra: &[&str]) -> Option<Response> {
    let acrm = format!("Access-Control-Request-Method: {method}");
    let mut headers = vec![APP, acrm.as_str()];
    headers.extend_from_slice(extra);
    with_req(&format!("OPTIONS {path}"), &headers, |r| {
        p.preflight(r, r.path())
    })
}

/// The `Access-Control-Allow-Origin` a GET of `path` from `origin` gets.
fn allowed(p: &CorsPolicy, path: &str, origin: &str) -> Option<String> {
    let origin = format!("Origin: {origin}");
    with_req(&format!("GET {path}"), &[&origin], |r| {
        let resp = p.decorate(r, r.path(), Response::empty(200));
        header(&resp, "access-control-allow-origin").map(str::to_string)
    })
}

#[test]
fn paths_match_exactly_or_by_trailing_wildcard() {
    let p = policy(
        "[[cors]]\npath = '/api/v2/db/_table/contact'\norigin = 'https://a.io'\n\
         [[cors]]\npath = 'api/v2/files/*'\norigin = 'https://b.io'\n\
         [[cors]]\npath = '*'\norigin = 'https://c.io'\n",
    );
    let ok = |path, origin| allowed(&p, path, origin).is_some();
    assert!(ok("/api/v2/db/_table/contact?limit=1", "https://a.io"));
    assert!(!ok("/api/v2/db/_table/contacts", "https://a.io"));
    assert!(ok("/api/v2/files/x/y.txt", "https://b.io"));
    assert!(ok("/api/v2/files/", "https://b.io"));
    assert!(
        !ok("/api/v2/files", "https://b.io"),
        "DreamFactory's `*` needs the `/`"
    );
    assert!(ok("/anything/at/all", "https://c.io"));
    assert!(!ok("/api/v2/db/_table/contact", "https://evil.io"));
    assert_eq!(
        allowed(&p, "/x", "HTTPS://C.IO").as_deref(),
        Some("HTTPS://C.IO")
    );
}

#[test]
fn method_masks_from_numbers_names_and_strings() {
    let mask = |v: &str| entries(&format!("[[cors]]\npath='*'\norigin='*'\nmethod={v}"))[0].method;
    assert_eq!(mask("3"), MethodMask(3));
    assert_eq!(mask("['get', 'POST']"), MethodMask(3));
    assert_eq!(mask("'GET, PATCH, HEAD'"), MethodMask(1 | 8 | 64));
    assert_eq!(mask("'*'"), MethodMask::ALL);
    assert_eq!(
        entries("[[cors]]\npath='*'\norigin='*'")[0].method,
        MethodMask::ALL
    );
    assert!(toml::from_str::<toml::Value>("m = ['FETCH']")
        .unwrap()
        .get("m")
        .cloned()
        .unwrap()
        .try_into::<MethodMask>()
        .is_err());
    for bad in ["0", "128"] {
        let err = CorsPolicy::new(&entries(&format!(
            "[[cors]]\npath='*'\norigin='*'\nmethod={bad}"
        )))
        .unwrap_err();
        assert!(err.contains("entry 1") && err.contains("mask"), "{err}");
    }

    let p = policy("[[cors]]\npath='*'\norigin='*'\nmethod=['GET','DELETE']\nmax_age=60");
    let yes = preflight(&p, "/api/v2/db", "DELETE", &[]).unwrap();
    assert_eq!(yes.status, 204);
    assert_eq!(
        header(&yes, "access-control-allow-methods"),
        Some("GET, DELETE")
    );
    assert_eq!(header(&yes, "access-control-max-age"), Some("60"));
    let no = preflight(&p, "/api/v2/db", "PUT", &[]).unwrap();
    assert_eq!(no.status, 403);
    assert!(no.headers.is_empty(), "a refusal carries no CORS headers");
    // A POST from that origin is not decorated either: the mask is part of the match.
    with_req("POST /x", &[APP], |r| {
        assert!(p
            .decorate(r, r.path(), Response::empty(200))
            .headers
            .is_empty())
    });
}

#[test]
fn requested_headers_are_echoed_only_when_allowed() {
    let p = policy("[[cors]]\npath='*'\norigin='*'\nheader='Content-Type, X-DreamFactory-API-Key'");
    let asked = "Access-Control-Request-Headers: content-type,x-dreamfactory-api-key";
    let ok = preflight(&p, "/api/v2", "POST", &[asked]).unwrap();
    assert_eq!(
        header(&ok, "access-control-allow-headers"),
        Some("content-type, x-dreamfactory-api-key")
    );
    assert!(header(&ok, "vary").unwrap().starts_with("Origin"));
    let bad = preflight(
        &p,
        "/api/v2",
        "POST",
        &["Access-Control-Request-Headers: x-evil"],
    );
    assert_eq!(bad.unwrap().status, 403);

    let any = policy("[[cors]]\npath='*'\norigin='*'");
    let ok = preflight(
        &any,
        "/",
        "GET",
        &["Access-Control-Request-Headers: x-evil"],
    )
    .unwrap();
    assert_eq!(header(&ok, "access-control-allow-headers"), Some("x-evil"));
}

#[test]
fn credentials_never_answer_with_a_star() {
    let open = policy("[[cors]]\npath='*'\norigin='*'");
    assert_eq!(
        allowed(&open, "/x", "https://app.example.com").as_deref(),
        Some("*")
    );
    let creds = policy("[[cors]]\npath='*'\norigin='*'\nsupports_credentials=true");
    let resp = preflight(&creds, "/x", "GET", &[]).unwrap();
    assert_eq!(
        header(&resp, "access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(
        header(&resp, "access-control-allow-credentials"),
        Some("true")
    );
    let resp = preflight(&open, "/x", "GET", &[]).unwrap();
    assert_eq!(header(&resp, "access-control-allow-credentials"), None);
}

#[test]
fn disabled_entries_are_skipped_but_still_checked_and_first_match_wins() {
    let p = policy(
        "[[cors]]\npath='*'\norigin='https://app.example.com'\nexposed_header='X-One'\nenabled=false\n\
         [[cors]]\npath='api/*'\norigin='https://app.example.com'\nexposed_header='X-Two, X-Three'\n\
         [[cors]]\npath='*'\norigin='*'\nexposed_header='X-Four'\n",
    );
    with_req("GET /api/v2", &[APP], |r| {
        let resp = p.decorate(r, r.path(), Response::empty(200));
        assert_eq!(
            header(&resp, "access-control-expose-headers"),
            Some("X-Two, X-Three")
        );
        assert_eq!(header(&resp, "vary"), Some("Origin"));
    });
    let bad = entries("[[cors]]\npath='a*b'\norigin='*'\nenabled=false");
    assert!(CorsPolicy::new(&bad).unwrap_err().contains("path"));
    assert!(policy("[[cors]]\npath='*'\norigin='*'\nenabled=false").is_empty());
}

#[test]
fn no_origin_or_no_preflight_means_no_cors() {
    let p = policy("[[cors]]\npath='*'\norigin='*'");
    with_req("GET /x", &[], |r| {
        assert!(p
            .decorate(r, r.path(), Response::empty(200))
            .headers
            .is_empty())
    });
    // OPTIONS without Access-Control-Request-Method is an ordinary OPTIONS request.
    with_req("OPTIONS /x", &[APP], |r| {
        assert!(p.preflight(r, r.path()).is_none())
    });
    with_req(
        "GET /x",
        &[APP, "Access-Control-Request-Method: GET"],
        |r| assert!(p.preflight(r, r.path()).is_none()),
    );
}

#[test]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error.
fn config_file_and_environment_carry_entries_and_errors_name_the_key() {
    use crate::config::Config;
    let no_flags = std::collections::BTreeMap::<String, String>::new;
    figment::Jail::expect_with(|jail| {
        jail.create_file(
            "p.toml",
            "[[cors]]\npath = '*'\norigin = 'https://app.example.com'\nmethod = ['GET','POST']\n",
        )?;
        let path = jail.directory().join("p.toml");
        let c = Config::load(Some(&path), no_flags()).unwrap();
        assert_eq!((c.cors.len(), c.cors[0].method), (1, MethodMask(3)));
        assert!(Config::load(None, no_flags()).unwrap().cors.is_empty());

        for bad in [
            "method = ['FETCH']",
            "method = 0",
            "path = 'a*b'",
            "orign = '*'",
        ] {
            let path = if bad.starts_with("path") {
                ""
            } else {
                "path='*'"
            };
            jail.create_file(
                "bad.toml",
                &format!("[[cors]]\norigin='*'\n{path}\n{bad}\n"),
            )?;
            let err = Config::load(Some(&jail.directory().join("bad.toml")), no_flags());
            let err = err.unwrap_err().to_string();
            assert!(err.contains("cors"), "{bad}: {err}");
        }

        jail.set_env("PERCORE_CORS", r#"[{path="api/*", origin="*", method=1}]"#);
        let c = Config::load(None, no_flags()).unwrap();
        assert_eq!(
            (c.cors[0].path.as_str(), c.cors[0].method),
            ("api/*", MethodMask(1))
        );
        Ok(())
    });
}

#[test]
fn bad_origins_and_paths_are_refused() {
    for (path, origin) in [
        ("*", "https://app.example.com/"),
        ("*", "app.example.com"),
        ("*", " , "),
        ("", "*"),
        ("api/*/db", "*"),
    ] {
        let e = entries(&format!("[[cors]]\npath='{path}'\norigin='{origin}'"));
        assert!(CorsPolicy::new(&e).is_err(), "{path} {origin}");
    }
}
