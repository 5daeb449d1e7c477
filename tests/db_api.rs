//! The database API, the same cases against every connector: SQLite (embedded), PostgreSQL and
//! MariaDB/MySQL at their local default addresses (`PERCORE_TEST_PG_URL`,
//! `PERCORE_TEST_MYSQL_URL`). A network database that is unreachable is skipped with a visible
//! notice, unless `PERCORE_REQUIRE_DBS=1` (as in CI), which makes it a failure.

mod common;

use std::net::TcpStream;
use std::time::Duration;

use common::{Client, Response, Server};
use serde_json::{json, Value};

struct Backend {
    service: &'static str,
    server: Server,
}

fn pg_url() -> String {
    std::env::var("PERCORE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn mysql_url() -> String {
    std::env::var("PERCORE_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

fn reachable(url: &str) -> bool {
    let host_port = url
        .split('@')
        .next_back()
        .unwrap_or("")
        .split('/')
        .next()
        .unwrap_or("");
    let ok = host_port
        .parse()
        .ok()
        .and_then(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok())
        .is_some();
    if !ok {
        assert!(
            std::env::var("PERCORE_REQUIRE_DBS").as_deref() != Ok("1"),
            "{url} is unreachable and PERCORE_REQUIRE_DBS=1"
        );
        eprintln!("SKIPPED: {url} unreachable");
    }
    ok
}

/// One server per backend, each with the service under test declared in its config file.
fn backends() -> Vec<Backend> {
    let mut out = Vec::new();
    let file = |name: &str, body: &str| {
        let path =
            std::env::temp_dir().join(format!("percore-test-{}-{name}.toml", std::process::id()));
        std::fs::write(&path, body).unwrap();
        path
    };
    out.push(Backend {
        service: "db",
        server: Server::start(&[]),
    });
    for (service, kind, url) in [("pg", "pgsql", pg_url()), ("my", "mysql", mysql_url())] {
        if !reachable(&url) {
            continue;
        }
        let path = file(service, &format!("[services.{service}]\ntype = \"{kind}\"\n[services.{service}.config]\nurl = \"{url}\"\nmax_records = 5000\n"));
        let server = Server::start(&[("PERCORE_CONFIG", path.to_str().unwrap())]);
        out.push(Backend { service, server });
    }
    out
}

/// A table name unique to this test run, so parallel tests and reruns never collide.
fn unique(name: &str) -> String {
    format!("t{}_{name}", std::process::id())
}

fn call(c: &mut Client, method: &str, path: &str, body: Option<Value>) -> Response {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let raw = format!("{method} /api/v2/{path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    c.roundtrip(raw.as_bytes())
}

fn ok(r: Response) -> Value {
    assert!(
        r.status < 300,
        "status {}: {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
    r.json()
}

fn create_contacts(c: &mut Client, svc: &str, table: &str) {
    let _ = call(c, "DELETE", &format!("{svc}/_schema/{table}"), None);
    ok(call(
        c,
        "POST",
        &format!("{svc}/_schema"),
        Some(json!({"resource": [{"name": table, "field": [
            {"name": "id", "type": "id"},
            {"name": "first_name", "type": "string", "length": 50},
            {"name": "last_name", "type": "string", "length": 50},
            {"name": "email", "type": "string", "length": 100, "is_unique": true},
            {"name": "age", "type": "integer"},
            {"name": "score", "type": "double"},
            {"name": "active", "type": "boolean", "default": true},
            {"name": "created_at", "type": "timestamp"}
        ]}]})),
    ));
    let people = json!({"resource": [
        {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@x.io", "age": 36, "score": 9.5, "created_at": "2024-01-02 03:04:05"},
        {"first_name": "Alan", "last_name": "Turing", "email": "alan@x.io", "age": 41, "score": 8.25},
        {"first_name": "Grace", "last_name": "Hopper", "email": "grace@x.io", "age": 85, "score": null},
        {"first_name": "O'Brien", "last_name": "50%_off", "email": "ob@x.io", "age": 20, "score": 1.0}
    ]});
    let created = ok(call(
        c,
        "POST",
        &format!("{svc}/_table/{table}"),
        Some(people),
    ));
    assert_eq!(
        created["resource"].as_array().unwrap().len(),
        4,
        "{created}"
    );
}

fn names(v: &Value) -> Vec<String> {
    v["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["first_name"].as_str().unwrap_or("?").to_string())
        .collect()
}

#[test]
fn crud_roundtrip_on_every_connector() {
    for b in backends() {
        let (svc, t) = (b.service, unique("crud"));
        let mut c = b.server.connect();
        create_contacts(&mut c, svc, &t);
        let base = format!("{svc}/_table/{t}");

        let all = ok(call(
            &mut c,
            "GET",
            &format!("{base}?order=age%20desc&include_count=true&limit=2&offset=1"),
            None,
        ));
        assert_eq!(names(&all), ["Alan", "Ada"], "{svc}");
        assert_eq!(all["meta"]["count"], 4, "{svc}");
        let plain = ok(call(&mut c, "GET", &base, None));
        assert!(plain.get("meta").is_none(), "{svc}: no implicit COUNT");
        assert_eq!(
            ok(call(
                &mut c,
                "GET",
                &format!("{base}?count_only=true&filter=age%3E30"),
                None
            )),
            json!(3)
        );

        let one = ok(call(
            &mut c,
            "GET",
            &format!("{base}/1?fields=first_name,age,active"),
            None,
        ));
        assert_eq!(
            one,
            json!({"first_name": "Ada", "age": 36, "active": true}),
            "{svc}"
        );
        call(&mut c, "GET", &format!("{base}/999"), None).assert_error(404);

        let patched = ok(call(
            &mut c,
            "PATCH",
            &format!("{base}/2?fields=age"),
            Some(json!({"age": 42})),
        ));
        assert_eq!(patched, json!({"age": 42}), "{svc}");
        let put = ok(call(
            &mut c,
            "PUT",
            &base,
            Some(json!({"resource": [{"id": 3, "score": 7.5}]})),
        ));
        assert_eq!(put["resource"][0]["id"], 3, "{svc}");
        let by_ids = ok(call(
            &mut c,
            "PATCH",
            &format!("{base}?ids=1,2"),
            Some(json!({"score": 5.0})),
        ));
        assert_eq!(by_ids["resource"].as_array().unwrap().len(), 2, "{svc}");
        let scored = ok(call(
            &mut c,
            "GET",
            &format!("{base}?filter=score%3D5&fields=id&order=id"),
            None,
        ));
        assert_eq!(scored["resource"], json!([{"id": 1}, {"id": 2}]), "{svc}");

        call(&mut c, "DELETE", &base, None).assert_error(400);
        let gone = ok(call(
            &mut c,
            "DELETE",
            &format!("{base}?filter=age%3C30"),
            None,
        ));
        assert_eq!(gone["resource"], json!([{"id": 4}]), "{svc}");
        ok(call(&mut c, "DELETE", &format!("{base}/3"), None));
        call(&mut c, "DELETE", &format!("{base}/3"), None).assert_error(404);
        ok(call(&mut c, "DELETE", &format!("{base}?force=true"), None));
        assert_eq!(
            ok(call(
                &mut c,
                "GET",
                &format!("{base}?count_only=true"),
                None
            )),
            json!(0)
        );
        ok(call(&mut c, "DELETE", &format!("{svc}/_schema/{t}"), None));
    }
}

#[test]
fn filter_grammar_on_every_connector() {
    for b in backends() {
        let (svc, t) = (b.service, unique("filter"));
        let mut c = b.server.connect();
        create_contacts(&mut c, svc, &t);
        let cases: [(&str, &[&str]); 14] = [
            ("age >= 40", &["Alan", "Grace"]),
            ("(age GT 30) AND (age LT 50)", &["Ada", "Alan"]),
            ("first_name IN ('Ada','Grace')", &["Ada", "Grace"]),
            ("first_name NOT IN ('Ada','Grace')", &["Alan", "O'Brien"]),
            ("last_name LIKE 'T%'", &["Alan"]),
            ("first_name STARTS WITH 'a'", &["Ada", "Alan"]),
            ("last_name ENDS WITH '_off'", &["O'Brien"]),
            ("last_name CONTAINS '%'", &["O'Brien"]),
            ("score IS NULL", &["Grace"]),
            ("score IS NOT NULL AND NOT (age > 30)", &["O'Brien"]),
            ("age = 20 OR age = 85", &["Grace", "O'Brien"]),
            ("age > 40 XOR score > 5", &["Ada"]),
            ("age > 30 NOR score > 5", &["O'Brien"]),
            ("first_name = 'O''Brien'", &["O'Brien"]),
        ];
        for (filter, expected) in cases {
            let q: String = form_urlencoded::byte_serialize(filter.as_bytes()).collect();
            let r = ok(call(
                &mut c,
                "GET",
                &format!("{svc}/_table/{t}?order=first_name&filter={q}"),
                None,
            ));
            assert_eq!(names(&r), expected, "{svc}: {filter}");
        }
        let params: String = form_urlencoded::byte_serialize(br#"{":min":40}"#).collect();
        let r = ok(call(
            &mut c,
            "GET",
            &format!(
                "{svc}/_table/{t}?order=age&filter=age%3E%3A{}&params={params}",
                "min"
            ),
            None,
        ));
        assert_eq!(names(&r), ["Alan", "Grace"], "{svc}: params");
        ok(call(&mut c, "DELETE", &format!("{svc}/_schema/{t}"), None));
    }
}

#[test]
fn batch_policies_on_every_connector() {
    for b in backends() {
        let (svc, t) = (b.service, unique("batch"));
        let mut c = b.server.connect();
        create_contacts(&mut c, svc, &t);
        let base = format!("{svc}/_table/{t}");
        let batch = |n: u32| {
            json!({"resource": [
                {"first_name": format!("A{n}"), "email": format!("a{n}@y.io")},
                {"first_name": "dup", "email": "ada@x.io"},
                {"first_name": format!("C{n}"), "email": format!("c{n}@y.io")}
            ]})
        };
        let count = |c: &mut Client| ok(call(c, "GET", &format!("{base}?count_only=true"), None));

        // Default: stop at the first failure, earlier records kept.
        let r = call(&mut c, "POST", &base, Some(batch(1)));
        assert_eq!(r.status, 400, "{svc}");
        let e = r.json();
        assert_eq!(e["error"]["code"], 1000, "{svc}: {e}");
        assert_eq!(e["error"]["context"]["error"], json!([1]), "{svc}");
        assert!(
            e["error"]["context"]["resource"][0]["id"].is_number(),
            "{svc}: {e}"
        );
        assert_eq!(count(&mut c), json!(5), "{svc}");

        let r = call(
            &mut c,
            "POST",
            &format!("{base}?continue=true"),
            Some(batch(2)),
        );
        assert_eq!(r.json()["error"]["context"]["error"], json!([1]), "{svc}");
        assert_eq!(count(&mut c), json!(7), "{svc}");

        let r = call(
            &mut c,
            "POST",
            &format!("{base}?rollback=true"),
            Some(batch(3)),
        );
        assert_eq!(r.json()["error"]["code"], 1000, "{svc}");
        assert_eq!(count(&mut c), json!(7), "{svc}: rollback kept nothing");

        call(
            &mut c,
            "POST",
            &format!("{base}?rollback=true&continue=true"),
            Some(batch(4)),
        )
        .assert_error(400);
        // One record failing is that record's error, not a batch error.
        call(
            &mut c,
            "POST",
            &base,
            Some(json!({"resource": [{"email": "ada@x.io"}]})),
        )
        .assert_error(400);
        ok(call(&mut c, "DELETE", &format!("{svc}/_schema/{t}"), None));
    }
}

#[test]
fn injection_attempts_are_refused_and_change_nothing() {
    for b in backends() {
        let (svc, t) = (b.service, unique("inject"));
        let mut c = b.server.connect();
        create_contacts(&mut c, svc, &t);
        let base = format!("{svc}/_table/{t}");
        let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let attempts = [
            format!("{base}?filter={}", enc("age = 1; DROP TABLE x")),
            format!("{base}?filter={}", enc("age = 1 -- comment")),
            format!("{base}?filter={}", enc("age = 1 /* c */")),
            format!("{base}?filter={}", enc("1 = 1")),
            format!("{base}?filter={}", enc("age = 1 OR 'a' = 'a'")),
            format!("{base}?filter={}", enc("agе = 1")), // Cyrillic 'е'
            format!("{base}?filter={}", enc("(SELECT 1) = 1")),
            format!("{base}?order={}", enc("age; DELETE FROM x")),
            format!("{base}?order={}", enc("(CASE WHEN 1=1 THEN age END)")),
            format!("{base}?fields={}", enc("id, (SELECT password FROM users)")),
            format!("{base}?fields={}", enc("id\" FROM x --")),
            format!("{base}?ids={}", enc("1 OR 1=1")),
            format!("{base}?ids=1&id_field={}", enc("id = id OR 1")),
            format!("{base}?related={}", enc("x; DROP")),
            format!("{base}/{}", enc("1 OR 1=1")),
            format!(
                "{svc}/_table/{}",
                enc(&format!("{t}\"; DROP TABLE {t}; --"))
            ),
        ];
        for path in &attempts {
            let r = call(&mut c, "GET", path, None);
            assert!(
                matches!(r.status, 400 | 404),
                "{svc}: {path} -> {}",
                r.status
            );
            let v = r.json();
            assert!(v["error"]["message"].is_string(), "{v}");
            let msg = v["error"]["message"].as_str().unwrap().to_lowercase();
            assert!(
                !msg.contains("syntax") && !msg.contains("sqlstate") && !msg.contains("from \""),
                "{svc}: leaked SQL detail: {msg}"
            );
        }
        // Values are bound, so SQL in a value is only data.
        let evil = "x'); DROP TABLE t; --";
        let r = ok(call(
            &mut c,
            "POST",
            &base,
            Some(json!({"resource": [{"first_name": evil, "email": "e@x.io"}]})),
        ));
        let id = r["resource"][0]["id"].clone();
        let back = ok(call(&mut c, "GET", &format!("{base}/{id}"), None));
        assert_eq!(back["first_name"], evil, "{svc}");
        let q = enc(&format!("first_name = '{}'", evil.replace('\'', "''")));
        assert_eq!(
            names(&ok(call(
                &mut c,
                "GET",
                &format!("{base}?filter={q}"),
                None
            ))),
            [evil],
            "{svc}"
        );
        assert_eq!(
            ok(call(
                &mut c,
                "GET",
                &format!("{base}?count_only=true"),
                None
            )),
            json!(5),
            "{svc}: table intact"
        );
        ok(call(&mut c, "DELETE", &format!("{svc}/_schema/{t}"), None));
    }
}

#[test]
fn large_results_stream_chunked_and_aggregates_group() {
    for b in backends() {
        let (svc, t) = (b.service, unique("stream"));
        let mut c = b.server.connect();
        create_contacts(&mut c, svc, &t);
        let base = format!("{svc}/_table/{t}");
        let rows: Vec<Value> = (0..1500)
            .map(|i| json!({"first_name": format!("n{i}"), "last_name": "x".repeat(45), "email": format!("s{i}@z.io"), "age": i % 50}))
            .collect();
        ok(call(
            &mut c,
            "POST",
            &format!("{base}?rollback=true"),
            Some(json!({"resource": rows})),
        ));
        let r = call(&mut c, "GET", &format!("{base}?limit=1600"), None);
        let limit_capped = if svc == "db" { 1000 } else { 1504 };
        assert_eq!(r.status, 200, "{svc}");
        assert_eq!(
            r.header("transfer-encoding"),
            Some("chunked"),
            "{svc}: large results stream"
        );
        assert_eq!(
            r.json()["resource"].as_array().unwrap().len(),
            limit_capped,
            "{svc}: limit capped by max_records"
        );

        let g = ok(call(
            &mut c,
            "GET",
            &format!(
                "{base}?fields=age,COUNT(*)%20AS%20n&group=age&having=n%20%3E%3D%2030&order=age"
            ),
            None,
        ));
        let groups = g["resource"].as_array().unwrap();
        assert_eq!(groups.len(), 50, "{svc}: {g}");
        assert_eq!(groups[0]["age"], 0, "{svc}");
        assert_eq!(
            groups[0]["n"]
                .as_i64()
                .or_else(|| groups[0]["n"].as_str().and_then(|s| s.parse().ok())),
            Some(30),
            "{svc}: {g}"
        );
        ok(call(&mut c, "DELETE", &format!("{svc}/_schema/{t}"), None));
    }
}

#[test]
fn schema_describe_alter_and_drop() {
    for b in backends() {
        let (svc, t) = (b.service, unique("schema"));
        let mut c = b.server.connect();
        create_contacts(&mut c, svc, &t);
        let d = ok(call(&mut c, "GET", &format!("{svc}/_schema/{t}"), None));
        assert_eq!(d["primary_key"], json!(["id"]), "{svc}");
        let id = &d["field"][0];
        assert_eq!(
            (id["type"].as_str(), id["auto_increment"].as_bool()),
            (Some("id"), Some(true)),
            "{svc}: {id}"
        );
        let listed = ok(call(&mut c, "GET", &format!("{svc}/_table"), None));
        assert!(
            listed["resource"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["name"] == t.as_str()),
            "{svc}"
        );

        ok(call(
            &mut c,
            "PATCH",
            &format!("{svc}/_schema/{t}"),
            Some(json!({"field": [{"name": "nickname", "type": "string", "length": 20}]})),
        ));
        ok(call(
            &mut c,
            "PATCH",
            &format!("{svc}/_table/{t}/1"),
            Some(json!({"nickname": "Countess"})),
        ));
        let f = ok(call(
            &mut c,
            "GET",
            &format!("{svc}/_schema/{t}/_field/nickname"),
            None,
        ));
        assert_eq!(f["type"], "string", "{svc}");
        ok(call(
            &mut c,
            "DELETE",
            &format!("{svc}/_schema/{t}/_field/nickname"),
            None,
        ));
        call(
            &mut c,
            "GET",
            &format!("{svc}/_table/{t}?fields=nickname"),
            None,
        )
        .assert_error(400);

        call(&mut c, "POST", &format!("{svc}/_schema"), Some(json!({"resource": [{"name": "bad\"name", "field": [{"name": "id", "type": "id"}]}]}))).assert_error(400);
        call(&mut c, "POST", &format!("{svc}/_schema"), Some(json!({"resource": [{"name": "ok_name", "field": [{"name": "x", "type": "string", "default": "a\\'); DROP"}]}]}))).assert_error(400);
        ok(call(&mut c, "DELETE", &format!("{svc}/_schema/{t}"), None));
        call(&mut c, "GET", &format!("{svc}/_table/{t}"), None).assert_error(404);
    }
}

#[test]
fn related_records_by_foreign_keys() {
    for b in backends() {
        let svc = b.service;
        let (cust, ord, tag, jt) = (
            unique("cust"),
            unique("ord"),
            unique("tag"),
            unique("ordtag"),
        );
        let mut c = b.server.connect();
        for t in [&jt, &ord, &tag, &cust] {
            let _ = call(&mut c, "DELETE", &format!("{svc}/_schema/{t}"), None);
        }
        let id = json!({"name": "id", "type": "id"});
        ok(call(
            &mut c,
            "POST",
            &format!("{svc}/_schema"),
            Some(json!({"resource": [
                {"name": cust, "field": [id, {"name": "name", "type": "string"}]},
                {"name": tag, "field": [id, {"name": "label", "type": "string"}]},
                {"name": ord, "field": [id, {"name": "total", "type": "integer"},
                    {"name": "customer_id", "type": "integer", "ref_table": cust, "ref_field": "id"}]},
                {"name": jt, "field": [id,
                    {"name": "order_id", "type": "integer", "ref_table": ord, "ref_field": "id"},
                    {"name": "tag_id", "type": "integer", "ref_table": tag, "ref_field": "id"}]}
            ]})),
        ));
        ok(call(
            &mut c,
            "POST",
            &format!("{svc}/_table/{cust}"),
            Some(json!([{"name": "Ann"}, {"name": "Ben"}])),
        ));
        ok(call(
            &mut c,
            "POST",
            &format!("{svc}/_table/{tag}"),
            Some(json!([{"label": "red"}, {"label": "big"}])),
        ));
        ok(call(
            &mut c,
            "POST",
            &format!("{svc}/_table/{ord}"),
            Some(json!([
                {"total": 10, "customer_id": 1}, {"total": 20, "customer_id": 1}, {"total": 30, "customer_id": 2}
            ])),
        ));
        ok(call(
            &mut c,
            "POST",
            &format!("{svc}/_table/{jt}"),
            Some(json!([
                {"order_id": 1, "tag_id": 1}, {"order_id": 1, "tag_id": 2}, {"order_id": 3, "tag_id": 2}
            ])),
        ));

        let belongs = format!("{cust}_by_customer_id");
        let r = ok(call(
            &mut c,
            "GET",
            &format!("{svc}/_table/{ord}?related={belongs}&order=id"),
            None,
        ));
        let owners: Vec<&str> = r["resource"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o[&belongs]["name"].as_str().unwrap())
            .collect();
        assert_eq!(owners, ["Ann", "Ann", "Ben"], "{svc}: {r}");

        let many = format!("{ord}_by_customer_id");
        let r = ok(call(
            &mut c,
            "GET",
            &format!("{svc}/_table/{cust}/1?related={many}"),
            None,
        ));
        assert_eq!(r[&many].as_array().unwrap().len(), 2, "{svc}: {r}");

        let m2m = format!("{tag}_by_{jt}");
        let r = ok(call(
            &mut c,
            "GET",
            &format!("{svc}/_table/{ord}?related={m2m}&order=id&fields=id,total"),
            None,
        ));
        let tags: Vec<usize> = r["resource"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o[&m2m].as_array().unwrap().len())
            .collect();
        assert_eq!(tags, [2, 0, 1], "{svc}: {r}");

        let d = ok(call(&mut c, "GET", &format!("{svc}/_schema/{ord}"), None));
        let kinds: Vec<&str> = d["related"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["type"].as_str().unwrap())
            .collect();
        assert!(
            kinds.contains(&"belongs_to")
                && kinds.contains(&"has_many")
                && kinds.contains(&"many_many"),
            "{svc}: {kinds:?}"
        );
        call(
            &mut c,
            "GET",
            &format!("{svc}/_table/{ord}?related=nope"),
            None,
        )
        .assert_error(400);
        for t in [&jt, &ord, &tag, &cust] {
            ok(call(&mut c, "DELETE", &format!("{svc}/_schema/{t}"), None));
        }
    }
}

fn run_sql(service: &str, sql: &str) {
    let status = match service {
        "pg" => std::process::Command::new("psql")
            .args([pg_url().as_str(), "-q", "-c", sql])
            .status(),
        _ => std::process::Command::new("mariadb")
            .args(["-h", "127.0.0.1", "-u", "root", "test", "-e", sql])
            .status(),
    };
    assert!(status.is_ok_and(|s| s.success()), "{sql}");
}

#[test]
fn stored_procedures_and_functions() {
    for b in backends() {
        let svc = b.service;
        let mut c = b.server.connect();
        let (f, p) = (unique("add"), unique("twice"));
        match svc {
            "db" => {
                call(&mut c, "GET", &format!("db/_func/{f}?a=1"), None).assert_error(400);
                continue;
            }
            "pg" => {
                run_sql(svc, &format!("CREATE OR REPLACE FUNCTION {f}(a int, b int) RETURNS int LANGUAGE sql AS 'SELECT a + b'"));
                run_sql(svc, &format!("CREATE OR REPLACE PROCEDURE {p}(INOUT x int) LANGUAGE plpgsql AS $$ BEGIN x := x * 2; END $$"));
            }
            _ => {
                run_sql(svc, &format!("DROP FUNCTION IF EXISTS {f}; CREATE FUNCTION {f}(a INT, b INT) RETURNS INT DETERMINISTIC RETURN a + b"));
                run_sql(svc, &format!("DROP PROCEDURE IF EXISTS {p}; CREATE PROCEDURE {p}(IN x INT) SELECT x * 2 AS x"));
            }
        }
        let r = ok(call(
            &mut c,
            "GET",
            &format!("{svc}/_func/{f}?a=2&b=3"),
            None,
        ));
        assert_eq!(r["resource"][0][&f], 5, "{svc}: {r}");
        let r = ok(call(
            &mut c,
            "POST",
            &format!("{svc}/_proc/{p}"),
            Some(json!({"params": [{"name": "x", "value": 21}]})),
        ));
        assert_eq!(r["resource"][0]["x"], 42, "{svc}: {r}");
        call(&mut c, "GET", &format!("{svc}/_func/{f};drop"), None).assert_error(400);
        call(&mut c, "GET", &format!("{svc}/_func/no_such_fn_{f}"), None).assert_error(404);
        run_sql(svc, &format!("DROP FUNCTION {f}; DROP PROCEDURE {p}"));
    }
}
