use percore_connector::{ColumnType, Database, Dialect, ErrorKind, Value};
use percore_sqlite::DIALECT;
use serde_json::json;

use crate::support::{fresh, run, scalar, table, text};

/// Every DreamFactory type, created through the dialect, written and read back.
#[test]
fn every_type_round_trips() {
    let t = fresh();
    run(async {
        let name = table("types");
        let types = [
            ("i", ColumnType::Integer),
            ("bi", ColumnType::BigInt),
            ("b", ColumnType::Boolean),
            ("f", ColumnType::Float),
            ("d", ColumnType::Double),
            ("dec", ColumnType::Decimal),
            ("s", ColumnType::String),
            ("tx", ColumnType::Text),
            ("bin", ColumnType::Binary),
            ("dt", ColumnType::Date),
            ("tm", ColumnType::Time),
            ("dtm", ColumnType::DateTime),
            ("ts", ColumnType::Timestamp),
            ("j", ColumnType::Json),
        ];
        let mut ddl = format!(
            "CREATE TABLE \"{name}\" (id {}",
            DIALECT.auto_increment_pk()
        );
        for (col, ty) in types {
            ddl.push_str(&format!(
                ", {col} {}",
                DIALECT.column_type_sql(ty, None, Some((10, 2)))
            ));
        }
        ddl.push(')');
        t.db.execute_batch(&ddl).await.unwrap();

        let cols: Vec<&str> = types.iter().map(|(c, _)| *c).collect();
        let mut insert = format!("INSERT INTO \"{name}\" ({}) VALUES (", cols.join(", "));
        for n in 1..=cols.len() {
            if n > 1 {
                insert.push_str(", ");
            }
            DIALECT.placeholder(&mut insert, n);
        }
        insert.push(')');
        let row = vec![
            Value::Int(-42),
            Value::Int(i64::MAX),
            Value::Bool(true),
            Value::Float(1.5),
            // A JSON number arriving as an integer for a double column.
            Value::Int(3),
            text("12.25"),
            text("hello"),
            text("long text"),
            Value::Bytes(vec![0, 159, 146, 150, 255]),
            text("2024-01-31"),
            text("10:11:12"),
            text("2024-01-31 10:11:12"),
            text("2024-01-31 10:11:12.5"),
            Value::Json(json!({"a": [1, "two", null], "b": {"c": true}})),
        ];
        let done = t.db.execute(&insert, &row).await.unwrap();
        assert_eq!(done.affected, 1);
        assert_eq!(done.last_insert_id, Some(1));
        let nulls = vec![Value::Null; cols.len()];
        let done = t.db.execute(&insert, &nulls).await.unwrap();
        assert_eq!(done.last_insert_id, Some(2));

        let rows =
            t.db.query(
                &format!("SELECT {} FROM \"{name}\" ORDER BY id", cols.join(", ")),
                &[],
            )
            .await
            .unwrap();
        assert_eq!(
            &*rows.columns,
            cols.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .as_slice()
        );
        let expected = vec![
            Value::Int(-42),
            Value::Int(i64::MAX),
            Value::Bool(true),
            Value::Float(1.5),
            // REAL affinity stores the integer as a float.
            Value::Float(3.0),
            // NUMERIC affinity stores well-formed numeric text as a number.
            Value::Float(12.25),
            text("hello"),
            text("long text"),
            Value::Bytes(vec![0, 159, 146, 150, 255]),
            text("2024-01-31"),
            text("10:11:12"),
            text("2024-01-31 10:11:12"),
            text("2024-01-31 10:11:12.5"),
            Value::Json(json!({"a": [1, "two", null], "b": {"c": true}})),
        ];
        assert_eq!(rows.rows[0], expected);
        assert_eq!(rows.rows[1], vec![Value::Null; cols.len()]);

        // Booleans read back as booleans whichever way they were written.
        t.db.execute(
            &format!("UPDATE \"{name}\" SET b = ?1 WHERE id = 2"),
            &[Value::Bool(false)],
        )
        .await
        .unwrap();
        assert_eq!(
            scalar(
                &t.db,
                &format!("SELECT b FROM \"{name}\" WHERE id = 2"),
                &[]
            )
            .await,
            Value::Bool(false)
        );
        // Expressions have no declared type: values by storage class.
        let rows =
            t.db.query("SELECT 1, 2.5, 'x', x'00ff', NULL", &[])
                .await
                .unwrap();
        assert_eq!(
            rows.rows[0],
            vec![
                Value::Int(1),
                Value::Float(2.5),
                text("x"),
                Value::Bytes(vec![0, 255]),
                Value::Null
            ]
        );
    });
}

/// Parameters are bound, never spliced: hostile text is stored and found verbatim.
#[test]
fn hostile_parameters_are_stored_verbatim() {
    let t = fresh();
    run(async {
        let name = table("people");
        t.db.execute_batch(&format!(
            "CREATE TABLE \"{name}\" (id INTEGER PRIMARY KEY, name TEXT)"
        ))
        .await
        .unwrap();
        let nasty = [
            "Robert'); DROP TABLE people; --",
            "\"; DELETE FROM sqlite_master; --",
            "?1 ?2 $1 :name @x",
            "line\nbreak\ttab \\ back",
            "ünïcødé ✓ 𝄞 💥 中文",
            "nul\0inside",
            "' OR '1'='1",
        ];
        for s in nasty {
            t.db.execute(
                &format!("INSERT INTO \"{name}\" (name) VALUES (?1)"),
                &[text(s)],
            )
            .await
            .unwrap();
        }
        let rows =
            t.db.query(&format!("SELECT name FROM \"{name}\" ORDER BY id"), &[])
                .await
                .unwrap();
        let back: Vec<Value> = rows.rows.into_iter().map(|mut r| r.remove(0)).collect();
        assert_eq!(back, nasty.iter().map(|s| text(s)).collect::<Vec<_>>());
        for s in nasty {
            let found = scalar(
                &t.db,
                &format!("SELECT count(*) FROM \"{name}\" WHERE name = ?1"),
                &[text(s)],
            )
            .await;
            assert_eq!(found, Value::Int(1), "{s:?}");
        }
        // `' OR '1'='1` matched exactly one row, not all of them.
        assert_eq!(
            scalar(&t.db, &format!("SELECT count(*) FROM \"{name}\""), &[]).await,
            Value::Int(7)
        );
        assert_eq!(t.db.tables().await.unwrap(), vec![name.clone()]);

        // A quoted identifier with quotes inside stays one identifier.
        let mut odd = String::new();
        DIALECT.quote_ident(&mut odd, "we\"ird; DROP TABLE x");
        t.db.execute_batch(&format!("CREATE TABLE {odd} (v)"))
            .await
            .unwrap();
        assert!(t
            .db
            .tables()
            .await
            .unwrap()
            .contains(&"we\"ird; DROP TABLE x".to_owned()));
    });
}

#[test]
fn bad_values_are_invalid_input() {
    let t = fresh();
    run(async {
        t.db.execute_batch("CREATE TABLE s (id INTEGER PRIMARY KEY, n INTEGER) STRICT")
            .await
            .unwrap();
        let strict =
            t.db.execute("INSERT INTO s (n) VALUES (?1)", &[text("not a number")])
                .await;
        assert_eq!(strict.unwrap_err().kind, ErrorKind::InvalidInput);
        let rowid =
            t.db.execute("INSERT INTO s (id) VALUES (?1)", &[text("abc")])
                .await;
        assert_eq!(rowid.unwrap_err().kind, ErrorKind::InvalidInput);
        let nan =
            t.db.execute("INSERT INTO s (n) VALUES (?1)", &[Value::Float(f64::NAN)])
                .await;
        let nan = nan.unwrap_err();
        assert_eq!(nan.kind, ErrorKind::InvalidInput);
        assert!(nan.message.contains("Parameter 1"), "{}", nan.message);
        let json =
            t.db.query("SELECT json_extract(?1, '$.a')", &[text("{not json")])
                .await;
        assert_eq!(json.unwrap_err().kind, ErrorKind::InvalidInput);
    });
}
