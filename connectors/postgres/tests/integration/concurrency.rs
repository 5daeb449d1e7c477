//! Many concurrent queries on one core's pool, pipelined over `pool_size` connections.

use futures_util::future::join_all;
use percore_connector::{Database, Value};

use crate::support::{config, database, run};

#[test]
fn fifty_concurrent_queries_share_four_connections() {
    run(async {
        let mut cfg = config();
        cfg.pool_size = 4;
        cfg.application_name = format!("percore-conc-{}", std::process::id());
        let app = cfg.application_name.clone();
        let Some(db) = database(cfg).await else {
            return;
        };
        let queries = (0..50).map(|i| {
            let db = db.clone();
            async move {
                let rows = db
                    .query(
                        "SELECT $1::int8 * 2, pg_sleep(0.05)::text",
                        &[Value::Int(i)],
                    )
                    .await
                    .unwrap();
                assert_eq!(rows.rows[0][0], Value::Int(i * 2));
            }
        });
        join_all(queries).await;
        let rows = db
            .query(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                &[Value::Text(app)],
            )
            .await
            .unwrap();
        let Value::Int(connections) = rows.rows[0][0] else {
            panic!()
        };
        assert!((1..=4).contains(&connections), "{connections} connections");
    });
}
