//! Error classification, timeouts, unreachable databases and recovery after a lost connection.

use std::time::{Duration, Instant};

use percore_connector::{Database, ErrorKind, Value};
use percore_postgres::{Config, PostgresDatabase};

use crate::support::{config, database, db, run, table};

#[test]
fn constraint_and_missing_objects() {
    run(async {
        let Some(db) = db().await else { return };
        let (p, c) = (table("errp"), table("errc"));
        db.execute_batch(&format!(
            "DROP TABLE IF EXISTS {c}; DROP TABLE IF EXISTS {p}; \
             CREATE TABLE {p} (id int PRIMARY KEY, n int NOT NULL CHECK (n > 0)); \
             CREATE TABLE {c} (pid int REFERENCES {p} (id))"
        ))
        .await
        .unwrap();
        let insert = format!("INSERT INTO {p} (id, n) VALUES ($1, $2)");
        db.execute(&insert, &[Value::Int(1), Value::Int(1)])
            .await
            .unwrap();
        for (params, what) in [
            (vec![Value::Int(1), Value::Int(1)], "duplicate key"),
            (vec![Value::Int(2), Value::Null], "not-null"),
            (vec![Value::Int(3), Value::Int(-1)], "check"),
        ] {
            let err = db.execute(&insert, &params).await.unwrap_err();
            assert_eq!(err.kind, ErrorKind::Constraint, "{what}: {}", err.message);
        }
        let err = db
            .execute(&format!("INSERT INTO {c} VALUES ($1)"), &[Value::Int(99)])
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Constraint, "{}", err.message);
        assert!(err.message.contains("foreign key"), "{}", err.message);

        let err = db
            .query("SELECT * FROM pct_missing_table_xyz", &[])
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound);
        let err = db
            .query(&format!("SELECT nope FROM {p}"), &[])
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound);
        // Broken SQL is our bug, not the client's: Internal, and its text stays in the log.
        let err = db.query("SELEC 1", &[]).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Internal);
        assert!(!err.message.contains("SELEC"), "{}", err.message);
        db.execute_batch(&format!("DROP TABLE {c}; DROP TABLE {p}"))
            .await
            .unwrap();
    });
}

#[test]
fn statement_timeout_is_classified_and_the_pool_survives() {
    run(async {
        let mut cfg = config();
        cfg.statement_timeout = Duration::from_millis(300);
        let Some(db) = database(cfg).await else {
            return;
        };
        let started = Instant::now();
        let err = db.query("SELECT pg_sleep(5)", &[]).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Timeout, "{}", err.message);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        // Same for a stream, whose first row never comes in time.
        let stream = db.query_stream("SELECT pg_sleep(5)".into(), vec![]).await;
        let err = match stream {
            Err(e) => e,
            Ok(s) => {
                use futures_util::StreamExt;
                let mut rows = s.rows;
                rows.next().await.unwrap().unwrap_err()
            }
        };
        assert_eq!(err.kind, ErrorKind::Timeout, "{}", err.message);
        for _ in 0..8 {
            assert_eq!(
                db.query("SELECT 1", &[]).await.unwrap().rows[0][0],
                Value::Int(1)
            );
        }
    });
}

#[test]
fn wrong_port_is_unavailable_quickly() {
    run(async {
        let db = PostgresDatabase::new(Config {
            port: 1,
            connect_timeout: Duration::from_secs(2),
            ..config()
        });
        for _ in 0..3 {
            let started = Instant::now();
            let err = db.query("SELECT 1", &[]).await.unwrap_err();
            assert_eq!(err.kind, ErrorKind::Unavailable);
            assert!(started.elapsed() < Duration::from_secs(2));
            assert!(
                !err.message.contains("127.0.0.1"),
                "no host names: {}",
                err.message
            );
        }
        assert_eq!(
            db.session().await.err().unwrap().kind,
            ErrorKind::Unavailable
        );
        assert_eq!(db.tables().await.unwrap_err().kind, ErrorKind::Unavailable);
    });
}

#[test]
fn a_server_that_never_answers_times_out_at_connect_timeout() {
    run(async {
        // Accepts TCP connections and then says nothing: the startup handshake hangs.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let db = PostgresDatabase::new(Config {
            host: "127.0.0.1".into(),
            port,
            connect_timeout: Duration::from_millis(500),
            ..Config::default()
        });
        let started = Instant::now();
        let err = db.query("SELECT 1", &[]).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unavailable);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(400) && took < Duration::from_secs(2),
            "{took:?}"
        );
        drop(listener);
    });
}

#[test]
fn a_killed_connection_is_replaced() {
    run(async {
        let mut cfg = config();
        cfg.pool_size = 1;
        let Some(db) = database(cfg).await else {
            return;
        };
        let Some(admin) = db_admin().await else {
            return;
        };
        let pid = db.query("SELECT pg_backend_pid()", &[]).await.unwrap().rows[0][0].clone();
        admin
            .query(
                "SELECT pg_terminate_backend($1)",
                std::slice::from_ref(&pid),
            )
            .await
            .unwrap();
        // The first call may still meet the dead connection; it must say Unavailable, and the
        // pool must reconnect on its own right after.
        let mut new_pid = None;
        for _ in 0..3 {
            match db.query("SELECT pg_backend_pid()", &[]).await {
                Ok(rows) => {
                    new_pid = Some(rows.rows[0][0].clone());
                    break;
                }
                Err(e) => assert_eq!(e.kind, ErrorKind::Unavailable, "{}", e.message),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let new_pid = new_pid.expect("reconnected");
        assert_ne!(new_pid, pid);
    });
}

async fn db_admin() -> Option<PostgresDatabase> {
    db().await
}
