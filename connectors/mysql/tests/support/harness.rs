//! Shared by the integration tests: a core-like runtime (current-thread tokio + `LocalSet`)
//! and a database from `PERCORE_TEST_MYSQL_URL`, skipped visibly when unreachable.

#![allow(dead_code)]

use std::future::Future;
use std::io::Write;
use std::time::Duration;

use percore_connector::{Database, ErrorKind};
use percore_mysql::{Config, MysqlDatabase};

pub const DEFAULT_URL: &str = "mysql://root@127.0.0.1:3306/test";

pub fn url() -> String {
    std::env::var("PERCORE_TEST_MYSQL_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

pub fn config() -> Config {
    let mut config = Config::from_url(&url()).expect("PERCORE_TEST_MYSQL_URL is a valid URL");
    config.connect_timeout = Duration::from_secs(2);
    config
}

/// Runs `test` on a fresh runtime, or prints `SKIPPED` and returns when the database is
/// unreachable (a failure instead when `PERCORE_REQUIRE_DBS=1`).
pub fn run<F, Fut>(name: &str, tweak: impl FnOnce(&mut Config), test: F)
where
    F: FnOnce(MysqlDatabase) -> Fut,
    Fut: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let mut config = config();
        tweak(&mut config);
        let db = MysqlDatabase::new(config);
        if let Err(err) = db.query("SELECT 1", &[]).await {
            assert_eq!(
                err.kind,
                ErrorKind::Unavailable,
                "unexpected error probing MySQL: {err}"
            );
            if std::env::var("PERCORE_REQUIRE_DBS").as_deref() == Ok("1") {
                panic!("{name}: MySQL unreachable and PERCORE_REQUIRE_DBS=1: {err}");
            }
            // Straight to stderr, past the test harness's capture, so the skip shows in CI logs.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: {name}: MySQL at PERCORE_TEST_MYSQL_URL unreachable ({err})"
            );
            return;
        }
        test(db).await;
    });
}

/// A table name unique to this process and test.
pub fn table(name: &str) -> String {
    format!("pc_{}_{name}", std::process::id())
}

/// `n` rows 0..n generated server-side from digit tables (works on MySQL, whose recursive
/// CTEs stop at 1,000 levels by default, and on MariaDB).
pub fn series_sql(n: u32) -> String {
    let digits = "(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 \
                  UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)";
    format!(
        "SELECT n, CONCAT('row-', n) AS label FROM (SELECT a.d + 10*b.d + 100*c.d + 1000*e.d + 10000*f.d + 100000*g.d AS n \
         FROM {digits} a, {digits} b, {digits} c, {digits} e, {digits} f, {digits} g) s WHERE n < {n}"
    )
}
