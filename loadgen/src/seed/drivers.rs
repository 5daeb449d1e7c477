//! Synchronous database drivers behind [`SqlSink`], each behind its cargo
//! feature (all on by default).

use super::sql::{Dialect, SqlSink};
use crate::error::{Error, Result};

/// Opens `url` (`postgres://`, `mysql://` or `sqlite://path`).
pub fn open(url: &str) -> Result<(Box<dyn SqlSink>, Dialect)> {
    let scheme = url.split("://").next().unwrap_or("");
    match scheme {
        "postgres" | "postgresql" => postgres_sink(url),
        "mysql" | "mariadb" => mysql_sink(url),
        "sqlite" => sqlite_sink(url),
        _ => Err(Error::Arg(format!(
            "{url}: expected postgres://, mysql:// or sqlite://"
        ))),
    }
}

#[cfg(any(feature = "pg", feature = "mysql", feature = "sqlite"))]
fn db(e: impl std::fmt::Display) -> Error {
    Error::Db(e.to_string())
}

#[cfg(feature = "pg")]
fn postgres_sink(url: &str) -> Result<(Box<dyn SqlSink>, Dialect)> {
    struct Pg(postgres::Client);
    impl SqlSink for Pg {
        fn exec(&mut self, sql: &str) -> Result<(), String> {
            self.0.batch_execute(sql).map_err(|e| e.to_string())
        }
        fn count(&mut self, table: &str) -> Option<u64> {
            let row = self
                .0
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .ok()?;
            Some(row.get::<_, i64>(0) as u64)
        }
    }
    let client = postgres::Client::connect(url, postgres::NoTls).map_err(db)?;
    Ok((Box::new(Pg(client)), Dialect::Postgres))
}

#[cfg(not(feature = "pg"))]
fn postgres_sink(_: &str) -> Result<(Box<dyn SqlSink>, Dialect)> {
    Err(Error::Arg("built without the `pg` feature".into()))
}

#[cfg(feature = "mysql")]
fn mysql_sink(url: &str) -> Result<(Box<dyn SqlSink>, Dialect)> {
    use mysql::prelude::Queryable;
    struct My(mysql::Conn);
    impl SqlSink for My {
        fn exec(&mut self, sql: &str) -> Result<(), String> {
            self.0.query_drop(sql).map_err(|e| e.to_string())
        }
        fn count(&mut self, table: &str) -> Option<u64> {
            self.0
                .query_first::<u64, _>(format!("SELECT count(*) FROM {table}"))
                .ok()?
        }
    }
    let url = url.replacen("mariadb://", "mysql://", 1);
    let opts = mysql::Opts::from_url(&url).map_err(db)?;
    let conn = mysql::Conn::new(opts).map_err(db)?;
    Ok((Box::new(My(conn)), Dialect::Mysql))
}

#[cfg(not(feature = "mysql"))]
fn mysql_sink(_: &str) -> Result<(Box<dyn SqlSink>, Dialect)> {
    Err(Error::Arg("built without the `mysql` feature".into()))
}

#[cfg(feature = "sqlite")]
fn sqlite_sink(url: &str) -> Result<(Box<dyn SqlSink>, Dialect)> {
    struct Lite(rusqlite::Connection);
    impl SqlSink for Lite {
        fn exec(&mut self, sql: &str) -> Result<(), String> {
            self.0.execute_batch(sql).map_err(|e| e.to_string())
        }
        fn count(&mut self, table: &str) -> Option<u64> {
            self.0
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
                    r.get::<_, i64>(0)
                })
                .ok()
                .map(|n| n as u64)
        }
    }
    let path = url.trim_start_matches("sqlite://");
    let conn = rusqlite::Connection::open(path).map_err(db)?;
    Ok((Box::new(Lite(conn)), Dialect::Sqlite))
}

#[cfg(not(feature = "sqlite"))]
fn sqlite_sink(_: &str) -> Result<(Box<dyn SqlSink>, Dialect)> {
    Err(Error::Arg("built without the `sqlite` feature".into()))
}
