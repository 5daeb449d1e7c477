//! Streaming: rows arrive as produced, in bounded memory; dropping the stream mid-way is safe.

use futures_util::StreamExt;
use percore_connector::{Database, ErrorKind, Value};

use crate::support::{config, database, db, run};

#[test]
fn streams_200k_rows_without_collecting() {
    run(async {
        let Some(db) = db().await else { return };
        let stream = db
            .query_stream(
                "SELECT g, md5(g::text) FROM generate_series(1, $1::int) AS g".into(),
                vec![Value::Int(200_000)],
            )
            .await
            .unwrap();
        assert_eq!(&stream.columns[..], ["g".to_string(), "md5".to_string()]);
        let mut rows = stream.rows;
        let (mut count, mut last) = (0i64, 0i64);
        while let Some(row) = rows.next().await {
            let row = row.unwrap();
            let Value::Int(g) = row[0] else {
                panic!("{row:?}")
            };
            assert_eq!(g, last + 1, "rows arrive in order");
            last = g;
            count += 1;
        }
        assert_eq!((count, last), (200_000, 200_000));
    });
}

#[test]
fn dropping_a_stream_midway_frees_its_connection() {
    run(async {
        let mut cfg = config();
        cfg.pool_size = 1;
        let Some(db) = database(cfg).await else {
            return;
        };
        for _ in 0..3 {
            let stream = db
                .query_stream(
                    "SELECT g FROM generate_series(1, 10000000) AS g".into(),
                    vec![],
                )
                .await
                .unwrap();
            let mut rows = stream.rows;
            for expected in 1..=10 {
                assert_eq!(
                    rows.next().await.unwrap().unwrap(),
                    vec![Value::Int(expected)]
                );
            }
            drop(rows);
            // With one exclusive lease per core, the next stream can only start if the first
            // gave its lease back; the server-side query is cancelled, not run to the end.
        }
        let rows = db.query("SELECT 1", &[]).await.unwrap();
        assert_eq!(rows.rows[0][0], Value::Int(1));
    });
}

#[test]
fn errors_after_rows_arrive_in_the_stream() {
    run(async {
        let Some(db) = db().await else { return };
        let stream = db
            .query_stream(
                "SELECT 10 / (3 - g) FROM generate_series(1, 5) AS g".into(),
                vec![],
            )
            .await
            .unwrap();
        let items: Vec<_> = stream.rows.collect().await;
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!(items[0].as_ref().unwrap()[0], Value::Int(5));
        assert_eq!(items[2].as_ref().unwrap_err().kind, ErrorKind::InvalidInput);
        // Errors before the first row (here: a missing table) come from query_stream itself.
        let err = db
            .query_stream("SELECT * FROM no_such_table_xyz".into(), vec![])
            .await
            .err()
            .unwrap();
        assert_eq!(err.kind, ErrorKind::NotFound);
    });
}

#[test]
fn a_slow_reader_holds_the_server_back() {
    run(async {
        let mut cfg = config();
        cfg.application_name = format!("percore-bp-{}", std::process::id());
        let app = cfg.application_name.clone();
        let Some(db) = database(cfg).await else {
            return;
        };
        let Some(observer) = crate::support::db().await else {
            return;
        };
        // ~100 MB of rows: far more than socket buffers and our channel hold together.
        let stream = db
            .query_stream(
                "SELECT g, repeat('x', 100) FROM generate_series(1, 1000000) AS g".into(),
                vec![],
            )
            .await
            .unwrap();
        let mut rows = stream.rows;
        assert!(rows.next().await.unwrap().is_ok());
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        // Had the producer buffered everything, the server would be done (idle) by now.
        let state = observer
            .query(
                "SELECT state FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'SELECT g,%'",
                &[Value::Text(app)],
            )
            .await
            .unwrap();
        assert_eq!(state.rows, vec![vec![Value::Text("active".into())]]);
        let mut count = 1;
        while let Some(row) = rows.next().await {
            row.unwrap();
            count += 1;
        }
        assert_eq!(count, 1_000_000);
    });
}
