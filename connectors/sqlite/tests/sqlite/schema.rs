use percore_connector::{ColumnType, Database, ForeignKey};

use crate::support::{fresh, run, table};

#[test]
fn describes_composite_keys_and_foreign_keys() {
    let t = fresh();
    run(async {
        let (parent, child, view) = (table("Parent"), table("child"), table("v"));
        t.db.execute_batch(&format!(
            r#"CREATE TABLE "{parent}" (
                   id INTEGER PRIMARY KEY AUTOINCREMENT,
                   email VARCHAR(120) NOT NULL UNIQUE,
                   price DECIMAL(10,2) DEFAULT 0,
                   active BOOLEAN NOT NULL DEFAULT 1,
                   created TIMESTAMP DEFAULT CURRENT_TIMESTAMP
               );
               CREATE TABLE "{child}" (
                   parent_id INTEGER NOT NULL REFERENCES "{parent}" (id),
                   line INT NOT NULL,
                   body TEXT,
                   owner INTEGER REFERENCES "{parent}",
                   PRIMARY KEY (line, parent_id)
               );
               CREATE VIEW "{view}" AS SELECT id, email FROM "{parent}";"#
        ))
        .await
        .unwrap();

        let mut expected_tables = vec![parent.clone(), child.clone(), view.clone()];
        expected_tables.sort();
        assert_eq!(t.db.tables().await.unwrap(), expected_tables);

        let p =
            t.db.describe(&parent)
                .await
                .unwrap()
                .expect("parent exists");
        assert_eq!(p.name, parent);
        assert_eq!(p.primary_key, vec!["id"]);
        let id = p.column("id").unwrap();
        assert_eq!(
            (id.ty, id.auto_increment, id.is_primary_key, id.allow_null),
            (ColumnType::Id, true, true, false)
        );
        let email = p.column("email").unwrap();
        assert_eq!(
            (email.ty, email.length, email.allow_null, email.is_unique),
            (ColumnType::String, Some(120), false, true)
        );
        assert_eq!(email.db_type, "VARCHAR(120)");
        let price = p.column("price").unwrap();
        assert_eq!(
            (price.ty, price.precision, price.scale),
            (ColumnType::Decimal, Some(10), Some(2))
        );
        assert_eq!(price.default.as_deref(), Some("0"));
        assert_eq!(p.column("active").unwrap().ty, ColumnType::Boolean);
        let created = p.column("created").unwrap();
        assert_eq!(created.ty, ColumnType::Timestamp);
        assert_eq!(created.default.as_deref(), Some("CURRENT_TIMESTAMP"));
        assert!(p.foreign_keys.is_empty());

        let c = t.db.describe(&child).await.unwrap().expect("child exists");
        let names: Vec<&str> = c.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["parent_id", "line", "body", "owner"]);
        // Key order, not column order.
        assert_eq!(c.primary_key, vec!["line", "parent_id"]);
        assert!(c.columns.iter().all(|c| !c.auto_increment));
        assert_eq!(c.column("line").unwrap().ty, ColumnType::Integer);
        assert_eq!(c.column("body").unwrap().ty, ColumnType::Text);
        let mut fks = c.foreign_keys.clone();
        fks.sort_by(|a, b| a.column.cmp(&b.column));
        let fk = |column: &str| ForeignKey {
            column: column.into(),
            ref_table: parent.clone(),
            ref_column: "id".into(),
        };
        // `owner REFERENCES parent` without a column names the parent's primary key.
        assert_eq!(fks, vec![fk("owner"), fk("parent_id")]);

        let v = t.db.describe(&view).await.unwrap().expect("view exists");
        assert_eq!(v.columns.len(), 2);
        assert!(v.primary_key.is_empty());

        // SQLite resolves names case-insensitively; the schema keeps the created spelling.
        let upper =
            t.db.describe(&parent.to_uppercase())
                .await
                .unwrap()
                .expect("found");
        assert_eq!(upper.name, parent);
        assert!(t.db.describe("no_such_table").await.unwrap().is_none());
        assert!(t.db.describe("sqlite_master").await.unwrap().is_none());
    });
}

#[test]
fn without_rowid_integer_key_is_not_auto_increment() {
    let t = fresh();
    run(async {
        t.db.execute_batch("CREATE TABLE w (k INTEGER PRIMARY KEY, v TEXT) WITHOUT ROWID; CREATE TABLE b (k BIGINT PRIMARY KEY)")
            .await
            .unwrap();
        let w = t.db.describe("w").await.unwrap().unwrap();
        assert!(!w.column("k").unwrap().auto_increment);
        assert_eq!(w.column("k").unwrap().ty, ColumnType::Integer);
        // Only exactly `INTEGER` aliases the rowid.
        let b = t.db.describe("b").await.unwrap().unwrap();
        assert_eq!(b.column("k").unwrap().ty, ColumnType::BigInt);
        assert!(!b.column("k").unwrap().auto_increment);
    });
}
