//! The database API, the same cases against every connector: SQLite (embedded), PostgreSQL and
//! MariaDB/MySQL at their local default addresses (`PERCORE_TEST_PG_URL`,
//! `PERCORE_TEST_MYSQL_URL`). A network database that is unreachable is skipped with a visible
//! notice, unless `PERCORE_REQUIRE_DBS=1` (as in CI), which makes it a failure.

mod common;

use common::db::{backends, call, create_contacts, names, ok, unique};
use common::Client;
use serde_json::json;

#[test]
fn crud_roundtrip_on_every_connector() {
    for b in backends() {
        let (svc, t) = (b.service, unique("crud"));
        let mut c = b.server.admin();
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
        let mut c = b.server.admin();
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
        let mut c = b.server.admin();
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
        let mut c = b.server.admin();
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
