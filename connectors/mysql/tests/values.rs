//! Values, parameters, introspection and error classification against a real MySQL/MariaDB.

#[path = "support/harness.rs"]
mod harness;

use futures_util::StreamExt;
use harness::{run, table};
use percore_connector::{ColumnType, Database, ErrorKind, Value};
use serde_json::json;

#[test]
fn every_type_round_trips() {
    run(
        "every_type_round_trips",
        |_| {},
        |db| async move {
            let t = table("types");
            db.execute_batch(&format!(
            "DROP TABLE IF EXISTS {t}; CREATE TABLE {t} (
                id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, i INT, bi BIGINT, b TINYINT(1), f FLOAT,
                d DOUBLE, dec_ DECIMAL(10,2), s VARCHAR(255), tx TEXT, bin BLOB, dt DATE, tm TIME,
                dtt DATETIME, ts TIMESTAMP NULL, dt6 DATETIME(6), j JSON, u BIGINT UNSIGNED, bit1 BIT(1))"
        ))
        .await
        .unwrap();
            let insert = format!(
            "INSERT INTO {t} (i, bi, b, f, d, dec_, s, tx, bin, dt, tm, dtt, ts, dt6, j, u, bit1)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
            let params = vec![
                Value::Int(-42),
                Value::Int(9_007_199_254_740_993),
                Value::Bool(true),
                Value::Float(1.5),
                Value::Int(3), // a JSON integer for a DOUBLE column
                Value::Text("12.34".into()),
                Value::Text("héllo".into()),
                Value::Text("long text".into()),
                Value::Bytes(vec![0, 159, 146, 150, 255]),
                Value::Text("2024-01-02".into()),
                Value::Text("10:11:12".into()),
                Value::Text("2024-01-02 03:04:05".into()),
                Value::Text("2024-06-30 23:59:59".into()),
                Value::Text("2024-01-02 03:04:05.5".into()),
                Value::Json(json!({"a": [1, 2, {"b": null}], "c": "d"})),
                Value::Text("18446744073709551615".into()),
                Value::Bool(true),
            ];
            let done = db.execute(&insert, &params).await.unwrap();
            assert_eq!(done.affected, 1);
            let id = done.last_insert_id.expect("auto-increment id");
            let nulls = vec![Value::Null; 17];
            let null_id = db
                .execute(&insert, &nulls)
                .await
                .unwrap()
                .last_insert_id
                .unwrap();
            assert_eq!(null_id, id + 1);

            let rows = db
                .query(
                    &format!("SELECT * FROM {t} WHERE id = ?"),
                    &[Value::Int(id)],
                )
                .await
                .unwrap();
            assert_eq!(&rows.columns[..3], ["id", "i", "bi"]);
            let row = &rows.rows[0];
            assert_eq!(row[0], Value::Int(id));
            assert_eq!(row[1], Value::Int(-42));
            assert_eq!(row[2], Value::Int(9_007_199_254_740_993));
            assert_eq!(row[3], Value::Bool(true));
            assert_eq!(row[4], Value::Float(1.5));
            assert_eq!(row[5], Value::Float(3.0));
            assert_eq!(row[6], Value::Text("12.34".into()));
            assert_eq!(row[7], Value::Text("héllo".into()));
            assert_eq!(row[8], Value::Text("long text".into()));
            assert_eq!(row[9], Value::Bytes(vec![0, 159, 146, 150, 255]));
            assert_eq!(row[10], Value::Text("2024-01-02".into()));
            assert_eq!(row[11], Value::Text("10:11:12".into()));
            assert_eq!(row[12], Value::Text("2024-01-02 03:04:05".into()));
            assert_eq!(row[13], Value::Text("2024-06-30 23:59:59".into()));
            assert_eq!(row[14], Value::Text("2024-01-02 03:04:05.5".into()));
            // MySQL sends JSON as its own type; MariaDB's JSON is LONGTEXT on the wire.
            let expected = json!({"a": [1, 2, {"b": null}], "c": "d"});
            match &row[15] {
                Value::Json(j) => assert_eq!(j, &expected),
                Value::Text(s) => assert_eq!(
                    serde_json::from_str::<serde_json::Value>(s).unwrap(),
                    expected
                ),
                other => panic!("json came back as {other:?}"),
            }
            assert_eq!(row[16], Value::Text("18446744073709551615".into()));
            assert_eq!(row[17], Value::Bool(true));

            let rows = db
                .query(
                    &format!("SELECT * FROM {t} WHERE id = ?"),
                    &[Value::Int(null_id)],
                )
                .await
                .unwrap();
            assert!(
                rows.rows[0][1..].iter().all(Value::is_null),
                "{:?}",
                rows.rows[0]
            );

            // The same values through the text protocol (a batch has no parameters).
            let text = db
                .query(
                    &format!("SELECT i, b, dtt, dt6 FROM {t} WHERE id = {id}"),
                    &[],
                )
                .await
                .unwrap();
            assert_eq!(text.rows[0][0], Value::Int(-42));

            db.execute_batch(&format!("DROP TABLE {t}")).await.unwrap();
        },
    );
}

#[test]
fn bad_values_are_invalid_input() {
    run(
        "bad_values_are_invalid_input",
        |_| {},
        |db| async move {
            let t = table("bad");
            db.execute_batch(&format!(
            "DROP TABLE IF EXISTS {t}; CREATE TABLE {t} (i INT, d DATETIME, v VARCHAR(3), n DECIMAL(5,2))"
        ))
        .await
        .unwrap();
            let insert = format!("INSERT INTO {t} (i, d, v, n) VALUES (?, ?, ?, ?)");
            // Numeric text is converted, as a JSON string for a number column would be.
            db.execute(
                &insert,
                &[
                    Value::Text("7".into()),
                    Value::Null,
                    Value::Null,
                    Value::Text("1.5".into()),
                ],
            )
            .await
            .unwrap();
            for params in [
                [
                    Value::Text("abc".into()),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ],
                [
                    Value::Null,
                    Value::Text("not a date".into()),
                    Value::Null,
                    Value::Null,
                ],
                [
                    Value::Null,
                    Value::Null,
                    Value::Text("too long".into()),
                    Value::Null,
                ],
                [Value::Null, Value::Null, Value::Null, Value::Int(1_000_000)],
                [
                    Value::Float(f64::NAN),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ],
            ] {
                let err = db.execute(&insert, &params).await.unwrap_err();
                assert_eq!(err.kind, ErrorKind::InvalidInput, "{params:?}: {err}");
            }
            db.execute_batch(&format!("DROP TABLE {t}")).await.unwrap();
        },
    );
}

#[test]
fn parameters_are_stored_verbatim() {
    run(
        "parameters_are_stored_verbatim",
        |_| {},
        |db| async move {
            let t = table("inject");
            db.execute_batch(&format!(
            "DROP TABLE IF EXISTS {t}; CREATE TABLE {t} (id INT AUTO_INCREMENT PRIMARY KEY, s TEXT) CHARSET utf8mb4"
        ))
        .await
        .unwrap();
            let nasty = [
                "O'Brien",
                "\"double\" `back` \\ slash",
                "'; DROP TABLE {t}; --",
                "1' OR '1'='1",
                "semi;colon;\n newline \0 nul",
                "ünïcødé 漢字 🦀",
                "?",
            ];
            for s in nasty {
                db.execute(
                    &format!("INSERT INTO {t} (s) VALUES (?)"),
                    &[Value::Text(s.replace("{t}", &t))],
                )
                .await
                .unwrap();
            }
            let rows = db
                .query(&format!("SELECT s FROM {t} ORDER BY id"), &[])
                .await
                .unwrap();
            let stored: Vec<Value> = rows.rows.into_iter().map(|mut r| r.remove(0)).collect();
            let expected: Vec<Value> = nasty
                .iter()
                .map(|s| Value::Text(s.replace("{t}", &t)))
                .collect();
            assert_eq!(stored, expected);
            // A parameter is a value, never SQL: the classic payload matches nothing.
            let hit = db
                .query(
                    &format!("SELECT COUNT(*) FROM {t} WHERE s = ?"),
                    &[Value::Text("x' OR '1'='1".into())],
                )
                .await
                .unwrap();
            assert_eq!(hit.rows[0][0], Value::Int(0));
            db.execute_batch(&format!("DROP TABLE {t}")).await.unwrap();
        },
    );
}

#[test]
fn describes_keys_and_relations() {
    run(
        "describes_keys_and_relations",
        |_| {},
        |db| async move {
            let (parent, child, view) = (table("parent"), table("child"), table("view"));
            db.execute_batch(&format!(
            "DROP VIEW IF EXISTS {view}; DROP TABLE IF EXISTS {child}; DROP TABLE IF EXISTS {parent};
             CREATE TABLE {parent} (a INT NOT NULL, b VARCHAR(10) NOT NULL, amount DECIMAL(12,3) DEFAULT 0,
                 flag TINYINT(1) NOT NULL DEFAULT 1, code CHAR(4) UNIQUE, doc JSON, PRIMARY KEY (b, a));
             CREATE TABLE {child} (id BIGINT AUTO_INCREMENT PRIMARY KEY, pa INT, pb VARCHAR(10),
                 created DATETIME NOT NULL, FOREIGN KEY (pb, pa) REFERENCES {parent} (b, a));
             CREATE VIEW {view} AS SELECT id FROM {child}"
        ))
        .await
        .unwrap();
            let tables = db.tables().await.unwrap();
            for name in [&parent, &child, &view] {
                assert!(tables.contains(name), "{name} missing from {tables:?}");
            }
            assert!(tables.windows(2).all(|w| w[0] <= w[1]), "tables are sorted");

            let p = db.describe(&parent).await.unwrap().expect("parent exists");
            assert_eq!(p.primary_key, ["b", "a"]);
            let names: Vec<&str> = p.columns.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(names, ["a", "b", "amount", "flag", "code", "doc"]);
            let amount = p.column("amount").unwrap();
            assert_eq!(
                (amount.ty, amount.precision, amount.scale),
                (ColumnType::Decimal, Some(12), Some(3))
            );
            assert!(amount.allow_null);
            assert_eq!(
                amount.default.as_deref().map(|d| d.trim_matches('\'')),
                Some("0.000")
            );
            let b = p.column("b").unwrap();
            assert_eq!(
                (b.ty, b.length, b.allow_null, b.is_primary_key),
                (ColumnType::String, Some(10), false, true)
            );
            assert_eq!(p.column("flag").unwrap().ty, ColumnType::Boolean);
            assert!(p.column("code").unwrap().is_unique);
            assert_eq!(p.column("doc").unwrap().ty, ColumnType::Json);
            // Once described, JSON comes back as JSON on MariaDB too (LONGTEXT on the wire).
            db.execute(
                &format!("INSERT INTO {parent} (a, b, doc) VALUES (?, ?, ?)"),
                &[
                    Value::Int(5),
                    Value::Text("j".into()),
                    Value::Json(json!({"k": [1, true]})),
                ],
            )
            .await
            .unwrap();
            let doc = db
                .query(&format!("SELECT doc FROM {parent} WHERE a = 5"), &[])
                .await
                .unwrap();
            assert_eq!(doc.rows[0][0], Value::Json(json!({"k": [1, true]})));
            let mut stream = db
                .query_stream(format!("SELECT doc FROM {parent} WHERE a = 5"), Vec::new())
                .await
                .unwrap();
            let streamed = stream.rows.next().await.unwrap().unwrap();
            assert_eq!(streamed[0], Value::Json(json!({"k": [1, true]})));
            drop(stream);

            let c = db.describe(&child).await.unwrap().expect("child exists");
            let id = c.column("id").unwrap();
            assert_eq!(
                (id.ty, id.auto_increment, id.is_primary_key),
                (ColumnType::Id, true, true)
            );
            assert_eq!(c.column("created").unwrap().ty, ColumnType::DateTime);
            let fks: Vec<(&str, &str, &str)> = c
                .foreign_keys
                .iter()
                .map(|f| {
                    (
                        f.column.as_str(),
                        f.ref_table.as_str(),
                        f.ref_column.as_str(),
                    )
                })
                .collect();
            assert_eq!(
                fks,
                [("pb", parent.as_str(), "b"), ("pa", parent.as_str(), "a")]
            );

            assert!(db.describe(&view).await.unwrap().is_some());
            assert!(
                db.describe(&parent.to_uppercase()).await.unwrap().is_none(),
                "lookup is exact"
            );
            assert!(db
                .describe("no_such_table_anywhere")
                .await
                .unwrap()
                .is_none());

            // Constraint violations, and a missing table.
            let insert = format!("INSERT INTO {parent} (a, b) VALUES (?, ?)");
            db.execute(&insert, &[Value::Int(1), Value::Text("x".into())])
                .await
                .unwrap();
            let dup = db
                .execute(&insert, &[Value::Int(1), Value::Text("x".into())])
                .await
                .unwrap_err();
            assert_eq!(dup.kind, ErrorKind::Constraint, "{dup}");
            assert!(dup.message.contains("Duplicate"), "{}", dup.message);
            let null = db
                .execute(&insert, &[Value::Null, Value::Text("y".into())])
                .await
                .unwrap_err();
            assert_eq!(null.kind, ErrorKind::Constraint, "{null}");
            let orphan = db
                .execute(
                    &format!("INSERT INTO {child} (pa, pb, created) VALUES (?, ?, ?)"),
                    &[
                        Value::Int(9),
                        Value::Text("nope".into()),
                        Value::Text("2024-01-01 00:00:00".into()),
                    ],
                )
                .await
                .unwrap_err();
            assert_eq!(orphan.kind, ErrorKind::Constraint, "{orphan}");
            let missing = db
                .query("SELECT * FROM no_such_table_anywhere", &[])
                .await
                .unwrap_err();
            assert_eq!(missing.kind, ErrorKind::NotFound, "{missing}");
            let column = db
                .query(&format!("SELECT nope FROM {parent}"), &[])
                .await
                .unwrap_err();
            assert_eq!(column.kind, ErrorKind::NotFound, "{column}");
            let syntax = db.query("SELEKT 1", &[]).await.unwrap_err();
            assert_eq!(syntax.kind, ErrorKind::Internal);
            assert!(!syntax.message.contains("SELEKT"));

            db.execute_batch(&format!(
                "DROP VIEW {view}; DROP TABLE {child}; DROP TABLE {parent}"
            ))
            .await
            .unwrap();
        },
    );
}

#[test]
fn procedures_and_functions_are_callable() {
    run(
        "procedures_and_functions_are_callable",
        |_| {},
        |db| async move {
            let (proc_, func) = (table("proc"), table("func"));
            db.execute_batch(&format!(
                "DROP PROCEDURE IF EXISTS {proc_}; DROP FUNCTION IF EXISTS {func};
             CREATE PROCEDURE {proc_}(IN n INT) SELECT n * 2 AS doubled, 'x' AS tag;
             CREATE FUNCTION {func}(a INT, b INT) RETURNS INT DETERMINISTIC RETURN a + b"
            ))
            .await
            .unwrap();
            // The first result set is the answer; the status result that follows is read and
            // dropped, leaving the connection clean for the next call.
            for n in [3, 4] {
                let rows = db
                    .query(&format!("CALL {proc_}(?)"), &[Value::Int(n)])
                    .await
                    .unwrap();
                assert_eq!(&rows.columns[..], ["doubled", "tag"]);
                assert_eq!(
                    rows.rows,
                    vec![vec![Value::Int(n * 2), Value::Text("x".into())]]
                );
            }
            let rows = db
                .query(
                    &format!("SELECT {func}(?, ?) AS s"),
                    &[Value::Int(2), Value::Int(5)],
                )
                .await
                .unwrap();
            assert_eq!(rows.rows[0][0], Value::Int(7));
            db.execute_batch(&format!("DROP PROCEDURE {proc_}; DROP FUNCTION {func}"))
                .await
                .unwrap();
        },
    );
}
