use std::future::Future;

use percore_connector::{Database, Value};
use percore_sqlite::{Config, SqliteDatabase};
use tempfile::TempDir;

/// Runs `f` the way a percore core runs requests: one `current_thread` runtime and a LocalSet.
pub fn run<F: Future>(f: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tokio::task::LocalSet::new().block_on(&rt, f)
}

/// A database in its own temporary directory (removed with it).
pub struct TestDb {
    pub db: SqliteDatabase,
    pub config: Config,
    _dir: TempDir,
}

pub fn fresh() -> TestDb {
    fresh_with(|_| {})
}

pub fn fresh_with(tune: impl FnOnce(&mut Config)) -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config {
        path: dir.path().join("test.sqlite"),
        ..Config::default()
    };
    tune(&mut config);
    TestDb {
        db: SqliteDatabase::new(config.clone()),
        config,
        _dir: dir,
    }
}

/// A table name unique to this process, as the tests would need on a shared database.
pub fn table(name: &str) -> String {
    format!("{name}_{}", std::process::id())
}

pub async fn scalar(db: &SqliteDatabase, sql: &str, params: &[Value]) -> Value {
    let rows = db.query(sql, params).await.expect("query");
    rows.rows[0][0].clone()
}

pub fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// A query that runs until interrupted.
pub const ENDLESS: &str = "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s) \
                           SELECT count(*) FROM s";
