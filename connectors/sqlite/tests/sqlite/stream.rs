use std::time::Duration;

use futures_util::StreamExt;
use percore_connector::{Database, Value};

use crate::support::{fresh, fresh_with, run, scalar};

const ROWS: i64 = 200_000;

/// 200,000 rows generated inside SQLite, consumed one by one without being collected.
#[test]
fn streams_a_large_result() {
    let t = fresh();
    run(async {
        let sql = "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < ?1) \
                   SELECT x, 'row ' || x AS label FROM s";
        let mut stream =
            t.db.query_stream(sql.into(), vec![Value::Int(ROWS)])
                .await
                .unwrap();
        assert_eq!(&*stream.columns, ["x".to_owned(), "label".to_owned()]);
        let (mut count, mut sum) = (0i64, 0i64);
        while let Some(row) = stream.rows.next().await {
            let row = row.unwrap();
            let Value::Int(x) = row[0] else {
                panic!("{row:?}")
            };
            count += 1;
            sum += x;
            if x == ROWS {
                assert_eq!(row[1], Value::Text(format!("row {ROWS}")));
            }
        }
        assert_eq!(count, ROWS);
        assert_eq!(sum, ROWS * (ROWS + 1) / 2);
    });
}

/// A stream dropped half-way gives its connection back: with one read connection, the next
/// query would otherwise wait for ever.
#[test]
fn dropping_a_stream_returns_its_connection() {
    let t = fresh_with(|c| {
        c.read_connections = 1;
        c.statement_timeout = Duration::from_secs(5);
    });
    run(async {
        for _ in 0..3 {
            let sql =
                "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s) SELECT x FROM s";
            let mut stream = t.db.query_stream(sql.into(), vec![]).await.unwrap();
            for _ in 0..1000 {
                stream.rows.next().await.unwrap().unwrap();
            }
            drop(stream);
            let started = std::time::Instant::now();
            assert_eq!(scalar(&t.db, "SELECT 7", &[]).await, Value::Int(7));
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{:?}",
                started.elapsed()
            );
        }
    });
}

/// A statement that writes, sent as a stream, is run on the writer.
#[test]
fn streamed_writes_go_to_the_writer() {
    let t = fresh();
    run(async {
        t.db.execute_batch("CREATE TABLE n (id INTEGER PRIMARY KEY, v)")
            .await
            .unwrap();
        let mut stream =
            t.db.query_stream(
                "INSERT INTO n (v) VALUES (?1), (?2) RETURNING id".into(),
                vec![Value::Int(1), Value::Int(2)],
            )
            .await
            .unwrap();
        let mut ids = Vec::new();
        while let Some(row) = stream.rows.next().await {
            ids.push(row.unwrap()[0].clone());
        }
        assert_eq!(ids, [Value::Int(1), Value::Int(2)]);
        let rows =
            t.db.query("INSERT INTO n (v) VALUES (3) RETURNING id", &[])
                .await
                .unwrap();
        assert_eq!(rows.rows, vec![vec![Value::Int(3)]]);
    });
}

/// The statement timeout measures time inside SQLite, not a slow consumer's pace.
#[test]
fn a_slow_consumer_is_not_a_timeout() {
    let t = fresh_with(|c| c.statement_timeout = Duration::from_millis(150));
    run(async {
        let sql = "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 3000) SELECT x FROM s";
        let mut stream = t.db.query_stream(sql.into(), vec![]).await.unwrap();
        let started = std::time::Instant::now();
        let mut count = 0;
        while let Some(row) = stream.rows.next().await {
            row.unwrap();
            count += 1;
            if count % 256 == 0 {
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
        }
        assert_eq!(count, 3000);
        assert!(started.elapsed() > Duration::from_millis(300));
    });
}
