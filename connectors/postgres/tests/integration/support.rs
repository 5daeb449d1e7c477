//! Runtime and database set-up shared by the tests.

use std::future::Future;

use percore_connector::{Database, ErrorKind};
use percore_postgres::{Config, PostgresDatabase};

pub fn url() -> String {
    std::env::var("PERCORE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Runs a test the way percore runs a core: a current-thread runtime inside a `LocalSet`.
pub fn run<F: Future>(f: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&rt, f)
}

pub fn config() -> Config {
    Config::from_url(&url()).expect("PERCORE_TEST_PG_URL must be a valid URL")
}

/// The database, or `None` after printing why the test is skipped.
pub async fn database(config: Config) -> Option<PostgresDatabase> {
    let db = PostgresDatabase::new(config);
    match db.query("SELECT 1", &[]).await {
        Ok(_) => Some(db),
        Err(e) if e.kind == ErrorKind::Unavailable => {
            if std::env::var("PERCORE_REQUIRE_DBS").as_deref() == Ok("1") {
                panic!(
                    "PostgreSQL unreachable and PERCORE_REQUIRE_DBS=1: {}",
                    e.message
                );
            }
            // The URL may hold a password: name the variable, not its value.
            println!(
                "SKIPPED: PostgreSQL (PERCORE_TEST_PG_URL) unreachable: {}",
                e.message
            );
            None
        }
        Err(e) => panic!("PostgreSQL answered SELECT 1 with {e:?}"),
    }
}

pub async fn db() -> Option<PostgresDatabase> {
    database(config()).await
}

/// A table name unique to this process and test.
pub fn table(name: &str) -> String {
    format!("pct_{name}_{}", std::process::id())
}
