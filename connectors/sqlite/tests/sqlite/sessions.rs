use std::time::{Duration, Instant};

use percore_connector::{Database, ErrorKind, Session, Value};
use percore_sqlite::SqliteDatabase;

use crate::support::{fresh, fresh_with, run, scalar};

async fn count(db: &SqliteDatabase) -> Value {
    scalar(db, "SELECT count(*) FROM t", &[]).await
}

#[test]
fn commit_rollback_and_drop() {
    let t = fresh();
    run(async {
        t.db.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            .await
            .unwrap();

        let mut s = t.db.session().await.unwrap();
        s.begin().await.unwrap();
        let done = s
            .execute("INSERT INTO t (v) VALUES (?1)", &[Value::Text("a".into())])
            .await
            .unwrap();
        assert_eq!((done.affected, done.last_insert_id), (1, Some(1)));
        // The session sees its own write; the pool's readers do not, yet.
        assert_eq!(
            s.query("SELECT count(*) FROM t", &[]).await.unwrap().rows[0][0],
            Value::Int(1)
        );
        assert_eq!(count(&t.db).await, Value::Int(0));
        s.commit().await.unwrap();
        assert_eq!(count(&t.db).await, Value::Int(1));

        s.begin().await.unwrap();
        s.execute("INSERT INTO t (v) VALUES ('b')", &[])
            .await
            .unwrap();
        s.rollback().await.unwrap();
        assert_eq!(count(&t.db).await, Value::Int(1));

        // Dropped inside a transaction: rolled back, and the writer is usable again.
        s.begin().await.unwrap();
        s.execute("INSERT INTO t (v) VALUES ('c')", &[])
            .await
            .unwrap();
        drop(s);
        let done =
            t.db.execute("INSERT INTO t (v) VALUES ('d')", &[])
                .await
                .unwrap();
        assert_eq!(done.affected, 1);
        let rows =
            t.db.query("SELECT v FROM t ORDER BY id", &[])
                .await
                .unwrap();
        assert_eq!(
            rows.rows,
            vec![vec![Value::Text("a".into())], vec![Value::Text("d".into())]]
        );

        // A transaction opened by hand through `execute` does not stay open on the writer.
        t.db.execute("BEGIN", &[]).await.unwrap();
        t.db.execute("INSERT INTO t (v) VALUES ('e')", &[])
            .await
            .unwrap();
        assert_eq!(count(&t.db).await, Value::Int(3));
    });
}

#[test]
fn update_and_delete_report_affected_rows() {
    let t = fresh();
    run(async {
        t.db.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v INT); INSERT INTO t (v) VALUES (1), (2), (3);")
            .await
            .unwrap();
        let up =
            t.db.execute("UPDATE t SET v = v + 1 WHERE v >= ?1", &[Value::Int(2)])
                .await
                .unwrap();
        assert_eq!((up.affected, up.last_insert_id), (2, None));
        let ddl =
            t.db.execute("CREATE INDEX t_v ON t (v)", &[])
                .await
                .unwrap();
        assert_eq!(ddl.affected, 0);
        let del = t.db.execute("DELETE FROM t", &[]).await.unwrap();
        assert_eq!(del.affected, 3);
        let upsert =
            "INSERT INTO t (id, v) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET v = excluded.v";
        let first =
            t.db.execute(upsert, &[Value::Int(9), Value::Int(1)])
                .await
                .unwrap();
        assert_eq!(first.last_insert_id, Some(9));
        let again =
            t.db.execute(upsert, &[Value::Int(9), Value::Int(2)])
                .await
                .unwrap();
        // The UPDATE path inserted nothing, so no id is reported.
        assert_eq!((again.affected, again.last_insert_id), (1, None));
        // A plain insert re-using the previous key still reports it.
        t.db.execute("DELETE FROM t WHERE id = 9", &[])
            .await
            .unwrap();
        let reinsert =
            t.db.execute("INSERT INTO t (id, v) VALUES (9, 2)", &[])
                .await
                .unwrap();
        assert_eq!(reinsert.last_insert_id, Some(9));
        assert_eq!(
            scalar(&t.db, "SELECT v FROM t WHERE id = 9", &[]).await,
            Value::Int(2)
        );
    });
}

/// A session holds the core's writer: other writes wait up to the busy timeout, then fail
/// with `Timeout`; a second database handle (another core) waits on SQLite's lock the same way.
#[test]
fn writers_wait_for_the_busy_timeout() {
    let t = fresh_with(|c| c.busy_timeout = Duration::from_millis(300));
    let other_core = SqliteDatabase::new(t.config.clone());
    run(async {
        t.db.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            .await
            .unwrap();
        let mut s = t.db.session().await.unwrap();
        s.begin().await.unwrap();
        s.execute("INSERT INTO t (v) VALUES ('held')", &[])
            .await
            .unwrap();

        let started = Instant::now();
        let same_core =
            t.db.execute("INSERT INTO t (v) VALUES ('x')", &[])
                .await
                .unwrap_err();
        assert_eq!(same_core.kind, ErrorKind::Timeout);
        assert!(started.elapsed() < Duration::from_secs(2));

        let started = Instant::now();
        let other = other_core
            .execute("INSERT INTO t (v) VALUES ('y')", &[])
            .await
            .unwrap_err();
        assert_eq!(other.kind, ErrorKind::Timeout, "{}", other.message);
        assert!(
            started.elapsed() >= Duration::from_millis(250),
            "{:?}",
            started.elapsed()
        );
        assert!(started.elapsed() < Duration::from_secs(2));

        // Reads on both cores keep working meanwhile.
        assert_eq!(count(&t.db).await, Value::Int(0));
        assert_eq!(count(&other_core).await, Value::Int(0));

        // Once the lock is released, a waiting writer gets through.
        let waiting = other_core.execute("INSERT INTO t (v) VALUES ('z')", &[]);
        let commit = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            s.commit().await
        };
        let (waited, committed) = futures_util::future::join(waiting, commit).await;
        committed.unwrap();
        waited.unwrap();
        assert_eq!(count(&t.db).await, Value::Int(2));
    });
}
