//! Sessions: commit, rollback, and rollback when dropped inside a transaction.

use percore_connector::{Database, Session, Value};

use crate::support::{config, database, run, table};

#[test]
fn commit_rollback_and_drop() {
    run(async {
        let mut cfg = config();
        // One exclusive connection, so the session after the drop gets the very same one.
        cfg.pool_size = 1;
        let Some(db) = database(cfg).await else {
            return;
        };
        let t = table("tx");
        db.execute_batch(&format!(
            "DROP TABLE IF EXISTS {t}; CREATE TABLE {t} (v int)"
        ))
        .await
        .unwrap();
        let insert = format!("INSERT INTO {t} (v) VALUES ($1)");
        let count = format!("SELECT count(*) FROM {t} WHERE v = $1");

        let mut s = db.session().await.unwrap();
        s.begin().await.unwrap();
        s.execute(&insert, &[Value::Int(1)]).await.unwrap();
        // Visible inside, not outside, before commit.
        assert_eq!(
            s.query(&count, &[Value::Int(1)]).await.unwrap().rows[0][0],
            Value::Int(1)
        );
        assert_eq!(
            db.query(&count, &[Value::Int(1)]).await.unwrap().rows[0][0],
            Value::Int(0)
        );
        s.commit().await.unwrap();
        assert_eq!(
            db.query(&count, &[Value::Int(1)]).await.unwrap().rows[0][0],
            Value::Int(1)
        );

        s.begin().await.unwrap();
        s.execute(&insert, &[Value::Int(2)]).await.unwrap();
        s.rollback().await.unwrap();
        assert_eq!(
            db.query(&count, &[Value::Int(2)]).await.unwrap().rows[0][0],
            Value::Int(0)
        );

        s.begin().await.unwrap();
        s.execute(&insert, &[Value::Int(3)]).await.unwrap();
        drop(s);
        assert_eq!(
            db.query(&count, &[Value::Int(3)]).await.unwrap().rows[0][0],
            Value::Int(0)
        );

        // The reused connection is outside any transaction: the dropped one had written, so it
        // had a transaction id, and a fresh statement has none.
        let mut s = db.session().await.unwrap();
        let rows = s
            .query("SELECT pg_current_xact_id_if_assigned() IS NULL", &[])
            .await
            .unwrap();
        assert_eq!(rows.rows[0][0], Value::Bool(true));
        s.execute(&insert, &[Value::Int(4)]).await.unwrap();
        drop(s);
        assert_eq!(
            db.query(&count, &[Value::Int(4)]).await.unwrap().rows[0][0],
            Value::Int(1)
        );

        db.execute_batch(&format!("DROP TABLE {t}")).await.unwrap();
    });
}

#[test]
fn a_failed_statement_aborts_only_its_transaction() {
    run(async {
        let mut cfg = config();
        cfg.pool_size = 1;
        let Some(db) = database(cfg).await else {
            return;
        };
        let t = table("txfail");
        db.execute_batch(&format!(
            "DROP TABLE IF EXISTS {t}; CREATE TABLE {t} (v int PRIMARY KEY)"
        ))
        .await
        .unwrap();
        let insert = format!("INSERT INTO {t} (v) VALUES ($1)");
        let mut s = db.session().await.unwrap();
        s.begin().await.unwrap();
        s.execute(&insert, &[Value::Int(1)]).await.unwrap();
        assert!(s.execute(&insert, &[Value::Int(1)]).await.is_err());
        // The transaction is aborted; COMMIT turns into a rollback.
        assert!(s.execute(&insert, &[Value::Int(2)]).await.is_err());
        let _ = s.commit().await;
        let rows = s
            .query(&format!("SELECT count(*) FROM {t}"), &[])
            .await
            .unwrap();
        assert_eq!(rows.rows[0][0], Value::Int(0));
        drop(s);
        db.execute_batch(&format!("DROP TABLE {t}")).await.unwrap();
    });
}
