//! A connector chosen at run time: the one place a service type and its configuration become a
//! connector. Database services and the system database both open theirs here.

use std::path::Path;
use std::time::Duration;

use percore_connector::{Database, DbError, Dialect, Executed, Rows, Value};
use percore_mysql::MysqlDatabase;
use percore_postgres::PostgresDatabase;
use percore_sqlite::SqliteDatabase;

use crate::config::services::{DbConfig, ServiceType};

pub enum AnyDb {
    Sqlite(SqliteDatabase),
    Postgres(PostgresDatabase),
    Mysql(MysqlDatabase),
}

/// Runs the same expression on whichever connector `self` holds.
macro_rules! each {
    ($self:expr, $db:ident => $body:expr) => {
        match $self {
            AnyDb::Sqlite($db) => $body,
            AnyDb::Postgres($db) => $body,
            AnyDb::Mysql($db) => $body,
        }
    };
}

impl AnyDb {
    /// Builds the connector (no I/O: connections open on first use). A SQLite path without a
    /// URL is relative to the data directory.
    pub fn open(kind: ServiceType, c: &DbConfig, data_dir: &Path) -> Result<AnyDb, DbError> {
        Ok(match kind {
            ServiceType::Sqlite => {
                let mut cfg = match &c.url {
                    Some(url) => percore_sqlite::Config::from_url(url)?,
                    None => percore_sqlite::Config {
                        path: data_dir.join(c.database.as_deref().unwrap_or("db.sqlite")),
                        ..percore_sqlite::Config::default()
                    },
                };
                apply_common(c, &mut cfg.read_connections, &mut cfg.statement_timeout);
                AnyDb::Sqlite(SqliteDatabase::new(cfg))
            }
            ServiceType::Pgsql => {
                let mut cfg = match &c.url {
                    Some(url) => percore_postgres::Config::from_url(url)?,
                    None => {
                        let d = percore_postgres::Config::default();
                        percore_postgres::Config {
                            host: c.host.clone().unwrap_or(d.host.clone()),
                            port: c.port.unwrap_or(d.port),
                            user: c.username.clone().unwrap_or(d.user.clone()),
                            password: c.password.clone(),
                            dbname: c.database.clone().unwrap_or(d.dbname.clone()),
                            ..d
                        }
                    }
                };
                apply_common(c, &mut cfg.pool_size, &mut cfg.statement_timeout);
                AnyDb::Postgres(PostgresDatabase::new(cfg))
            }
            ServiceType::Mysql => {
                let mut cfg = match &c.url {
                    Some(url) => percore_mysql::Config::from_url(url)?,
                    None => {
                        let d = percore_mysql::Config::default();
                        percore_mysql::Config {
                            host: c.host.clone().unwrap_or(d.host.clone()),
                            port: c.port.unwrap_or(d.port),
                            user: c.username.clone().unwrap_or(d.user.clone()),
                            password: c.password.clone(),
                            database: c.database.clone().or(d.database.clone()),
                            ..d
                        }
                    }
                };
                apply_common(c, &mut cfg.pool_size, &mut cfg.statement_timeout);
                AnyDb::Mysql(MysqlDatabase::new(cfg))
            }
            // Scripted services are dispatched before any database is built for them.
            ServiceType::Javascript => {
                return Err(DbError::new(
                    percore_connector::ErrorKind::InvalidInput,
                    "A javascript service has no database.",
                ))
            }
        })
    }

    /// A connector for a bare URL: `sqlite:`, `postgres://` or `mysql://`/`mariadb://`.
    pub fn open_url(url: &str, data_dir: &Path) -> Result<AnyDb, DbError> {
        let kind = if url.starts_with("sqlite:") {
            ServiceType::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            ServiceType::Pgsql
        } else if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            ServiceType::Mysql
        } else {
            return Err(DbError::new(
                percore_connector::ErrorKind::InvalidInput,
                "A database URL starts with sqlite:, postgres:// or mysql://.",
            ));
        };
        let cfg = DbConfig {
            url: Some(url.to_string()),
            ..DbConfig::default()
        };
        Self::open(kind, &cfg, data_dir)
    }

    pub fn dialect(&self) -> &'static dyn Dialect {
        each!(self, db => db.dialect())
    }

    pub async fn query(&self, sql: &str, params: &[Value]) -> Result<Rows, DbError> {
        each!(self, db => db.query(sql, params).await)
    }

    pub async fn execute(&self, sql: &str, params: &[Value]) -> Result<Executed, DbError> {
        each!(self, db => db.execute(sql, params).await)
    }

    pub async fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        each!(self, db => db.execute_batch(sql).await)
    }
}

fn apply_common(c: &DbConfig, pool_size: &mut usize, timeout: &mut Duration) {
    if let Some(n) = c.pool_size {
        *pool_size = n.max(1);
    }
    if let Some(t) = c.statement_timeout {
        *timeout = t;
    }
}
