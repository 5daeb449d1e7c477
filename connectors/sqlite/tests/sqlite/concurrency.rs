use std::cell::Cell;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use percore_connector::{Database, Session, Value};

use crate::support::{fresh, run, scalar};

/// 50 queries at once on one core's pool of 2 read connections, and 50 writes on its writer.
#[test]
fn fifty_concurrent_queries_on_one_core() {
    let t = fresh();
    run(async {
        t.db.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v INT)")
            .await
            .unwrap();
        let values: Vec<[Value; 1]> = (0..50).map(|i| [Value::Int(i)]).collect();
        let writes = values
            .iter()
            .map(|v| t.db.execute("INSERT INTO t (v) VALUES (?1)", v));
        for done in join_all(writes).await {
            assert_eq!(done.unwrap().affected, 1);
        }
        let sql = "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 2000) \
                   SELECT ?1 + (SELECT count(*) FROM s) + (SELECT count(*) FROM t)";
        let params: Vec<[Value; 1]> = (0..50).map(|i| [Value::Int(i)]).collect();
        let reads = params.iter().map(|p| t.db.query(sql, p));
        for (i, rows) in join_all(reads).await.into_iter().enumerate() {
            assert_eq!(rows.unwrap().rows[0][0], Value::Int(i as i64 + 2050));
        }
    });
}

/// While a session holds a write transaction and runs a statement for a long time, reads on
/// the same core complete promptly on the read connections and the async thread never stalls.
#[test]
fn a_slow_write_does_not_stall_reads() {
    let t = fresh();
    run(async {
        t.db.execute_batch(
            "CREATE TABLE big (n INT); CREATE TABLE small (v INT); INSERT INTO small VALUES (1), (2), (3);",
        )
        .await
        .unwrap();
        let mut s = t.db.session().await.unwrap();
        s.begin().await.unwrap();
        s.execute("INSERT INTO small VALUES (4)", &[])
            .await
            .unwrap();

        let writing = Cell::new(true);
        let slow_write = async {
            let started = Instant::now();
            let sql = "INSERT INTO big SELECT x FROM (WITH RECURSIVE s(x) AS \
                       (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 3000000) SELECT x FROM s)";
            let done = s.execute(sql, &[]).await.unwrap();
            writing.set(false);
            (started.elapsed(), done.affected)
        };
        let reads = async {
            let (mut count, mut slowest) = (0u32, Duration::ZERO);
            while writing.get() {
                let started = Instant::now();
                // Sees the committed state only: the session's row is not visible.
                assert_eq!(
                    scalar(&t.db, "SELECT count(*) FROM small", &[]).await,
                    Value::Int(3)
                );
                slowest = slowest.max(started.elapsed());
                count += 1;
            }
            (count, slowest)
        };
        let ticks = async {
            // A 5 ms timer on the async thread: a blocked thread would show as a long gap.
            let (mut last, mut worst) = (Instant::now(), Duration::ZERO);
            while writing.get() {
                tokio::time::sleep(Duration::from_millis(5)).await;
                worst = worst.max(last.elapsed());
                last = Instant::now();
            }
            worst
        };
        let ((write_took, inserted), (reads_done, slowest_read), worst_gap) =
            futures_util::future::join3(slow_write, reads, ticks).await;
        eprintln!("write {write_took:?}; {reads_done} reads, slowest {slowest_read:?}; worst timer gap {worst_gap:?}");
        assert_eq!(inserted, 3_000_000);
        assert!(
            write_took > Duration::from_millis(300),
            "the write must be slow for this test to mean anything: {write_took:?}"
        );
        assert!(
            reads_done >= 10,
            "only {reads_done} reads in {write_took:?}"
        );
        // Relative bounds, so a loaded machine does not fail the test: a read waiting for the
        // write, or a blocked async thread, would take about as long as the write itself.
        assert!(
            slowest_read < write_took / 4,
            "slowest read {slowest_read:?}"
        );
        assert!(
            worst_gap < write_took / 4,
            "async thread stalled for {worst_gap:?}"
        );

        s.commit().await.unwrap();
        assert_eq!(
            scalar(&t.db, "SELECT count(*) FROM small", &[]).await,
            Value::Int(4)
        );
    });
}

/// Two cores (two threads, each with its own runtime and `SqliteDatabase`) writing at once:
/// SQLite's busy handler makes each writer wait for the other instead of failing.
#[test]
fn writers_on_two_cores_take_turns() {
    let t = fresh();
    run(async {
        t.db.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, core INT, n INT)")
            .await
            .unwrap();
    });
    let cores: Vec<_> = (0..2)
        .map(|core| {
            let config = t.config.clone();
            std::thread::spawn(move || {
                let db = percore_sqlite::SqliteDatabase::new(config);
                run(async {
                    let values: Vec<[Value; 2]> = (0..100)
                        .map(|n| [Value::Int(core), Value::Int(n)])
                        .collect();
                    let writes = values
                        .iter()
                        .map(|v| db.execute("INSERT INTO t (core, n) VALUES (?1, ?2)", v));
                    join_all(writes)
                        .await
                        .into_iter()
                        .collect::<Result<Vec<_>, _>>()
                })
            })
        })
        .collect();
    for core in cores {
        assert_eq!(core.join().unwrap().unwrap().len(), 100);
    }
    run(async {
        assert_eq!(
            scalar(&t.db, "SELECT count(*) FROM t", &[]).await,
            Value::Int(200)
        );
    });
}
