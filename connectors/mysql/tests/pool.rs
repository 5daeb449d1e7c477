//! Streaming, transactions, timeouts, outages and concurrency on one core's pool.

#[path = "support/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use harness::{run, series_sql, table};
use percore_connector::{Database, ErrorKind, Session, Value};
use percore_mysql::{Config, MysqlDatabase};

#[test]
fn streams_200k_rows_without_collecting() {
    run(
        "streams_200k_rows_without_collecting",
        |c| c.pool_size = 1,
        |db| async move {
            let mut stream = db
                .query_stream(series_sql(200_000), Vec::new())
                .await
                .unwrap();
            assert_eq!(&stream.columns[..], ["n", "label"]);
            let (mut count, mut sum) = (0u64, 0i64);
            while let Some(row) = stream.rows.next().await {
                let row = row.unwrap();
                let Value::Int(n) = row[0] else {
                    panic!("n is {:?}", row[0])
                };
                assert_eq!(row[1], Value::Text(format!("row-{n}")));
                count += 1;
                sum += n;
            }
            assert_eq!(count, 200_000);
            assert_eq!(sum, (0..200_000i64).sum::<i64>());
            drop(stream);

            // Dropped half-way: the statement is abandoned, and the single connection's place is
            // usable again at once (no draining of the remaining rows).
            let mut stream = db
                .query_stream(series_sql(1_000_000), Vec::new())
                .await
                .unwrap();
            for _ in 0..1_000 {
                stream.rows.next().await.unwrap().unwrap();
            }
            drop(stream);
            let started = Instant::now();
            let rows = db.query("SELECT ?", &[Value::Int(5)]).await.unwrap();
            assert_eq!(rows.rows[0][0], Value::Int(5));
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "took {:?}",
                started.elapsed()
            );
            // ...and the server is not left producing the rest for nobody.
            assert!(
                eventually_gone(&db, "row-").await,
                "abandoned stream still running"
            );

            // Errors before the first row come back from query_stream itself.
            let err = db
                .query_stream("SELECT * FROM no_such_table_anywhere".into(), Vec::new())
                .await
                .err()
                .unwrap();
            assert_eq!(err.kind, ErrorKind::NotFound);
            let rows = db
                .query_stream("SELECT ? AS x".into(), vec![Value::Text("p".into())])
                .await
                .unwrap();
            let all: Vec<_> = rows.rows.collect().await;
            assert_eq!(all.len(), 1);
            assert_eq!(all[0].as_ref().unwrap()[0], Value::Text("p".into()));
        },
    );
}

#[test]
fn transactions_commit_rollback_and_drop() {
    run(
        "transactions_commit_rollback_and_drop",
        |c| c.pool_size = 1,
        |db| async move {
            let t = table("tx");
            db.execute_batch(&format!(
                "DROP TABLE IF EXISTS {t}; CREATE TABLE {t} (id INT PRIMARY KEY) ENGINE=InnoDB"
            ))
            .await
            .unwrap();
            let insert = format!("INSERT INTO {t} (id) VALUES (?)");
            let count = || async {
                db.query(&format!("SELECT COUNT(*) FROM {t}"), &[])
                    .await
                    .unwrap()
                    .rows[0][0]
                    .clone()
            };

            let mut s = db.session().await.unwrap();
            s.begin().await.unwrap();
            s.execute(&insert, &[Value::Int(1)]).await.unwrap();
            let seen = s
                .query(&format!("SELECT COUNT(*) FROM {t}"), &[])
                .await
                .unwrap();
            assert_eq!(
                seen.rows[0][0],
                Value::Int(1),
                "the session sees its own write"
            );
            s.rollback().await.unwrap();
            drop(s);
            assert_eq!(count().await, Value::Int(0));

            let mut s = db.session().await.unwrap();
            s.begin().await.unwrap();
            s.execute(&insert, &[Value::Int(2)]).await.unwrap();
            s.commit().await.unwrap();
            drop(s);
            assert_eq!(count().await, Value::Int(1));

            // Dropped inside a transaction: rolled back, and the pool (one connection) still works.
            let mut s = db.session().await.unwrap();
            s.begin().await.unwrap();
            s.execute(&insert, &[Value::Int(3)]).await.unwrap();
            drop(s);
            assert_eq!(count().await, Value::Int(1));

            db.execute_batch(&format!("DROP TABLE {t}")).await.unwrap();
        },
    );
}

#[test]
fn statement_timeout_is_classified() {
    run(
        "statement_timeout_is_classified",
        |c| {
            c.statement_timeout = Duration::from_millis(800);
            c.pool_size = 1;
        },
        |db| async move {
            // The server-side timeout ends it; the connection stays usable.
            let started = Instant::now();
            let err = db.query("SELECT SLEEP(5)", &[]).await.unwrap_err();
            assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "took {:?}",
                started.elapsed()
            );
            assert_eq!(
                db.query("SELECT 1", &[]).await.unwrap().rows[0][0],
                Value::Int(1)
            );

            // With the server's limit lifted, the client-side timer ends it: the connection is
            // abandoned (and the statement killed) and a new one serves the next call.
            let mut s = db.session().await.unwrap();
            let lift = s.execute("SET SESSION max_statement_time = 0", &[]).await;
            if lift.is_err() {
                s.execute("SET SESSION max_execution_time = 0", &[])
                    .await
                    .unwrap();
            }
            let started = Instant::now();
            let err = s.query("SELECT SLEEP(5)", &[]).await.unwrap_err();
            assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "took {:?}",
                started.elapsed()
            );
            let after = s.query("SELECT 1", &[]).await.unwrap_err();
            assert_eq!(after.kind, ErrorKind::Unavailable);
            drop(s);
            assert!(
                eventually_gone(&db, "SLEEP(5)").await,
                "timed-out statement not killed"
            );
            assert_eq!(
                db.query("SELECT 2", &[]).await.unwrap().rows[0][0],
                Value::Int(2)
            );
        },
    );
}

#[test]
fn unreachable_database_is_unavailable_quickly() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        // A closed port (refused at once) and a non-routable address (no answer at all).
        for host in ["127.0.0.1", "10.255.255.1"] {
            let db = MysqlDatabase::new(Config {
                host: host.into(),
                port: 1,
                connect_timeout: Duration::from_millis(500),
                ..Config::default()
            });
            let started = Instant::now();
            let results =
                futures_util::future::join_all((0..8).map(|_| db.query("SELECT 1", &[]))).await;
            for result in results {
                assert_eq!(result.unwrap_err().kind, ErrorKind::Unavailable);
            }
            assert!(
                started.elapsed() < Duration::from_millis(1_500),
                "{host}: took {:?}",
                started.elapsed()
            );
            let err = db.execute("DELETE FROM t", &[]).await.unwrap_err();
            assert_eq!(err.kind, ErrorKind::Unavailable);
            assert!(!err.message.contains(host), "{}", err.message);
        }
    });
}

#[test]
fn fifty_concurrent_queries_share_the_pool() {
    run(
        "fifty_concurrent_queries_share_the_pool",
        |c| c.pool_size = 4,
        |db| async move {
            let queries = (0..50).map(|i| {
                let db = db.clone();
                async move {
                    db.query("SELECT ? + 0, SLEEP(0.05)", &[Value::Int(i)])
                        .await
                }
            });
            let started = Instant::now();
            let results = futures_util::future::join_all(queries).await;
            for (i, result) in results.into_iter().enumerate() {
                assert_eq!(result.unwrap().rows[0][0], Value::Int(i as i64));
            }
            // 50 sleeps of 50 ms over 4 connections: about 650 ms; one at a time would be 2.5 s.
            assert!(
                started.elapsed() < Duration::from_millis(1_800),
                "took {:?}",
                started.elapsed()
            );
            let ids = futures_util::future::join_all(
                (0..8).map(|_| db.query("SELECT CONNECTION_ID(), SLEEP(0.05)", &[])),
            )
            .await;
            let mut ids: Vec<_> = ids
                .into_iter()
                .map(|r| r.unwrap().rows[0][0].clone())
                .map(|v| format!("{v:?}"))
                .collect();
            ids.sort();
            ids.dedup();
            assert!(ids.len() <= 4, "at most pool_size connections: {ids:?}");
        },
    );
}

#[test]
fn cancelled_call_does_not_poison_the_pool() {
    run(
        "cancelled_call_does_not_poison_the_pool",
        |c| c.pool_size = 1,
        |db| async move {
            // The caller gives up mid-statement (e.g. the HTTP client went away).
            let slow = db.query("SELECT SLEEP(3)", &[]);
            assert!(tokio::time::timeout(Duration::from_millis(200), slow)
                .await
                .is_err());
            let started = Instant::now();
            assert_eq!(
                db.query("SELECT 3", &[]).await.unwrap().rows[0][0],
                Value::Int(3)
            );
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "took {:?}",
                started.elapsed()
            );
        },
    );
}

#[test]
fn reconnects_after_the_server_drops_connections() {
    run(
        "reconnects_after_the_server_drops_connections",
        |c| c.pool_size = 2,
        |db| async move {
            let killer = MysqlDatabase::new(harness::config());
            // Reads retry once on a fresh connection when a reused one turns out dead, so
            // none of these fail.
            for round in 0..3 {
                drop_all_connections(&db, &killer).await;
                match round {
                    0 => {
                        let rows = db.query("SELECT ?", &[Value::Int(7)]).await.unwrap();
                        assert_eq!(rows.rows[0][0], Value::Int(7));
                    }
                    1 => {
                        let stream = db
                            .query_stream("SELECT 8".into(), Vec::new())
                            .await
                            .unwrap();
                        let rows: Vec<_> = stream.rows.collect().await;
                        assert_eq!(rows[0].as_ref().unwrap()[0], Value::Int(8));
                    }
                    _ => assert!(db.tables().await.is_ok()),
                }
            }
            // A write is not retried (it may have been applied): it fails once, as
            // Unavailable, and the next one runs on a fresh connection.
            drop_all_connections(&db, &killer).await;
            let err = db.execute("DO 1", &[]).await.unwrap_err();
            assert_eq!(err.kind, ErrorKind::Unavailable);
            db.execute("DO 1", &[]).await.unwrap();
        },
    );
}

/// Opens both of the pool's connections, then has the server drop them while idle, as a
/// restart or `wait_timeout` would.
async fn drop_all_connections(db: &MysqlDatabase, killer: &MysqlDatabase) {
    let ids = futures_util::future::join_all(
        (0..2).map(|_| db.query("SELECT CONNECTION_ID(), SLEEP(0.05)", &[])),
    )
    .await;
    for id in ids {
        let Value::Int(id) = id.unwrap().rows[0][0] else {
            panic!("connection id")
        };
        killer
            .execute_batch(&format!("KILL CONNECTION {id}"))
            .await
            .unwrap();
    }
}

/// Polls the process list until no other statement contains `needle`.
async fn eventually_gone(db: &MysqlDatabase, needle: &str) -> bool {
    let sql = "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
               WHERE ID <> CONNECTION_ID() AND INFO LIKE CONCAT('%', ?, '%') AND INFO NOT LIKE '%PROCESSLIST%'";
    for _ in 0..40 {
        let rows = db.query(sql, &[Value::Text(needle.into())]).await.unwrap();
        if rows.rows[0][0] == Value::Int(0) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[test]
fn statements_are_prepared_once_per_connection() {
    run(
        "statements_are_prepared_once_per_connection",
        |_| {},
        |db| async move {
            let mut s = db.session().await.unwrap();
            let prepares = async |s: &mut percore_mysql::MysqlSession| {
                let rows = s
                    .query("SHOW SESSION STATUS LIKE 'Com_stmt_prepare'", &[])
                    .await
                    .unwrap();
                match &rows.rows[0][1] {
                    Value::Text(n) => n.parse::<i64>().unwrap(),
                    other => panic!("counter is {other:?}"),
                }
            };
            let before = prepares(&mut s).await;
            for i in 0..10 {
                let rows = s.query("SELECT ? * 2", &[Value::Int(i)]).await.unwrap();
                assert_eq!(rows.rows[0][0], Value::Int(i * 2));
            }
            // The SELECT once; the SHOW was prepared before `before` was read.
            assert_eq!(prepares(&mut s).await - before, 1);
        },
    );
}
