//! The database API's larger features against every connector: streaming and aggregates,
//! `_schema`, `related`, stored routines.

mod common;

use common::db::{backends, call, create_contacts, ok, run_sql, unique};
use serde_json::{json, Value};

#[test]
fn large_results_stream_chunked_and_aggregates_group() {
    for b in backends() {
        let (svc, t) = (b.service, unique("stream"));
        let mut c = b.server.admin();
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
        let mut c = b.server.admin();
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
        let plain = ok(call(
            &mut c,
            "GET",
            &format!("{svc}/_table?as_list=true"),
            None,
        ));
        assert!(
            plain["resource"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n == t.as_str()),
            "{svc}: {plain}"
        );
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
        let mut c = b.server.admin();
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
        // Per-relation options: the limit applies per parent, in one query.
        let r = ok(call(
            &mut c,
            "GET",
            &format!("{svc}/_table/{cust}?related={many}&{many}.fields=total&{many}.order=total%20desc&{many}.limit=1&order=id"),
            None,
        ));
        let firsts: Vec<&Value> = r["resource"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| &c[&many])
            .collect();
        assert_eq!(
            firsts,
            [&json!([{"total": 20}]), &json!([{"total": 30}])],
            "{svc}: {r}"
        );
        call(
            &mut c,
            "GET",
            &format!("{svc}/_table/{cust}?related={many}&{many}.fields=nope"),
            None,
        )
        .assert_error(400);

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

#[test]
fn stored_procedures_and_functions() {
    for b in backends() {
        let svc = b.service;
        let mut c = b.server.admin();
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
