use std::time::{Duration, Instant};

use percore_connector::{Database, ErrorKind, Session, Value};
use percore_sqlite::{Config, SqliteDatabase};

use crate::support::{fresh, fresh_with, run, scalar, ENDLESS};

#[test]
fn constraint_violations_are_classified() {
    let t = fresh();
    run(async {
        t.db.execute_batch(
            "CREATE TABLE p (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, n INT CHECK (n > 0));
             CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER NOT NULL REFERENCES p (id));",
        )
        .await
        .unwrap();
        t.db.execute("INSERT INTO p (email, n) VALUES ('a@x', 1)", &[])
            .await
            .unwrap();
        for (sql, what) in [
            ("INSERT INTO p (email, n) VALUES ('a@x', 1)", "UNIQUE"),
            ("INSERT INTO p (email, n) VALUES (NULL, 1)", "NOT NULL"),
            ("INSERT INTO p (email, n) VALUES ('b@x', 0)", "CHECK"),
            ("INSERT INTO c (p_id) VALUES (99)", "FOREIGN KEY"),
        ] {
            let e = t.db.execute(sql, &[]).await.unwrap_err();
            assert_eq!(e.kind, ErrorKind::Constraint, "{sql}: {}", e.message);
            assert!(e.message.contains(what), "{}", e.message);
        }
    });
}

#[test]
fn missing_objects_and_bad_sql_are_classified_without_echoing_sql() {
    let t = fresh();
    run(async {
        let e = t.db.query("SELECT * FROM nowhere", &[]).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound, "{}", e.message);
        t.db.execute_batch("CREATE TABLE t (a)").await.unwrap();
        let e = t.db.query("SELECT missing FROM t", &[]).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound);
        let e =
            t.db.query("SELEKT secret_token FROM t", &[])
                .await
                .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Internal);
        assert!(
            !e.message.contains("secret_token") && !e.message.contains("SELEKT"),
            "{}",
            e.message
        );
        let e =
            t.db.query("SELECT ?1, ?2", &[Value::Int(1)])
                .await
                .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Internal);
    });
}

/// An endless statement stops at the statement timeout, on a read connection, the writer and a
/// session alike, and the connection is fine afterwards.
#[test]
fn statement_timeout_interrupts() {
    let t = fresh_with(|c| c.statement_timeout = Duration::from_millis(200));
    run(async {
        let started = Instant::now();
        let e = t.db.query(ENDLESS, &[]).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(190) && took < Duration::from_secs(2),
            "{took:?}"
        );

        t.db.execute_batch("CREATE TABLE t (n)").await.unwrap();
        let write = format!("INSERT INTO t (n) {ENDLESS}");
        assert_eq!(
            t.db.execute(&write, &[]).await.unwrap_err().kind,
            ErrorKind::Timeout
        );
        let mut s = t.db.session().await.unwrap();
        assert_eq!(
            s.execute(&write, &[]).await.unwrap_err().kind,
            ErrorKind::Timeout
        );
        drop(s);

        assert_eq!(scalar(&t.db, "SELECT 1", &[]).await, Value::Int(1));
        assert_eq!(
            t.db.execute("INSERT INTO t (n) VALUES (1)", &[])
                .await
                .unwrap()
                .affected,
            1
        );
    });
}

/// A caller that stops waiting interrupts its statement instead of leaving the connection
/// busy: with one read connection, the next query gets it right away.
#[test]
fn a_cancelled_call_frees_its_connection() {
    let t = fresh_with(|c| c.read_connections = 1);
    run(async {
        let gave_up =
            tokio::time::timeout(Duration::from_millis(100), t.db.query(ENDLESS, &[])).await;
        assert!(gave_up.is_err());
        let started = Instant::now();
        assert_eq!(scalar(&t.db, "SELECT 2", &[]).await, Value::Int(2));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    });
}

/// A path that cannot be opened fails every call quickly with `Unavailable`; once it can be
/// opened, the same handle works without a restart.
#[test]
fn unusable_path_is_unavailable_then_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, b"a file where a directory should be").unwrap();
    let db = SqliteDatabase::new(Config {
        path: blocker.join("db.sqlite"),
        connect_timeout: Duration::from_secs(1),
        ..Config::default()
    });
    run(async {
        for _ in 0..2 {
            let started = Instant::now();
            let e = db.query("SELECT 1", &[]).await.unwrap_err();
            assert_eq!(e.kind, ErrorKind::Unavailable);
            assert!(
                !e.message.contains("blocker"),
                "no paths in messages: {}",
                e.message
            );
            assert_eq!(
                db.execute("CREATE TABLE t (a)", &[])
                    .await
                    .unwrap_err()
                    .kind,
                ErrorKind::Unavailable
            );
            assert_eq!(db.tables().await.unwrap_err().kind, ErrorKind::Unavailable);
            assert!(db.session().await.is_err());
            assert!(started.elapsed() < Duration::from_secs(1));
        }
        std::fs::remove_file(&blocker).unwrap();
        assert_eq!(scalar(&db, "SELECT 3", &[]).await, Value::Int(3));
        db.execute_batch("CREATE TABLE t (a)").await.unwrap();
        assert_eq!(db.tables().await.unwrap(), vec!["t"]);
    });
}

/// A file that is not a database reports `Unavailable` too.
#[test]
fn garbage_file_is_unavailable() {
    let t = fresh();
    std::fs::write(&t.config.path, vec![0x5a; 8192]).unwrap();
    run(async {
        let e = t.db.query("SELECT 1", &[]).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unavailable, "{}", e.message);
    });
}
