//! Each core's live services, built on first use from the snapshot's definitions: the place
//! where a service type becomes a connector. A definition that changes in a new snapshot gets
//! a new instance (and new connections) on that core.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

use percore_connector::DbError;
use percore_mysql::MysqlDatabase;
use percore_postgres::PostgresDatabase;
use percore_sqlite::SqliteDatabase;

use super::db::service::{DbService, SchemaVersion};
use super::db::{self, DbCall};
use crate::config::services::{DbConfig, ServiceConfig, ServiceType};
use crate::http::Response;

/// A service as published to every core: its definition and what cores share about it.
#[derive(Debug)]
pub struct ServiceDef {
    pub name: String,
    pub config: ServiceConfig,
    pub schema_version: Arc<SchemaVersion>,
}

/// Statically dispatched: every handler is compiled once per connector.
pub enum AnyService {
    Sqlite(DbService<SqliteDatabase>),
    Postgres(DbService<PostgresDatabase>),
    Mysql(DbService<MysqlDatabase>),
}

impl AnyService {
    pub async fn handle(&self, call: &DbCall<'_>) -> Response {
        match self {
            AnyService::Sqlite(s) => db::handle(s, call).await,
            AnyService::Postgres(s) => db::handle(s, call).await,
            AnyService::Mysql(s) => db::handle(s, call).await,
        }
    }

    fn build(def: &ServiceDef, data_dir: &Path) -> Result<AnyService, DbError> {
        let c = &def.config.config;
        let name = def.name.clone();
        let version = Arc::clone(&def.schema_version);
        Ok(match def.config.kind {
            ServiceType::Sqlite => {
                let mut cfg = match &c.url {
                    Some(url) => percore_sqlite::Config::from_url(url)?,
                    None => percore_sqlite::Config {
                        path: data_dir.join(c.database.as_deref().unwrap_or("db.sqlite")),
                        ..percore_sqlite::Config::default()
                    },
                };
                if let Some(n) = c.pool_size {
                    cfg.read_connections = n.max(1);
                }
                if let Some(t) = c.statement_timeout {
                    cfg.statement_timeout = t;
                }
                AnyService::Sqlite(DbService::new(
                    name,
                    SqliteDatabase::new(cfg),
                    c.max_records,
                    c.allow_upsert,
                    version,
                ))
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
                AnyService::Postgres(DbService::new(
                    name,
                    PostgresDatabase::new(cfg),
                    c.max_records,
                    c.allow_upsert,
                    version,
                ))
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
                AnyService::Mysql(DbService::new(
                    name,
                    MysqlDatabase::new(cfg),
                    c.max_records,
                    c.allow_upsert,
                    version,
                ))
            }
        })
    }
}

fn apply_common(c: &DbConfig, pool_size: &mut usize, timeout: &mut std::time::Duration) {
    if let Some(n) = c.pool_size {
        *pool_size = n.max(1);
    }
    if let Some(t) = c.statement_timeout {
        *timeout = t;
    }
}

/// A live instance and the definition it was built from.
type Live = (Arc<ServiceDef>, Rc<AnyService>);

/// One core's instances, keyed by name.
#[derive(Default)]
pub struct Registry {
    live: RefCell<HashMap<String, Live>>,
}

impl Registry {
    /// The instance for `def`, building it (without I/O: connections open lazily) when this core
    /// has none yet or its definition changed.
    pub fn instance(
        &self,
        def: &Arc<ServiceDef>,
        data_dir: &Path,
    ) -> Result<Rc<AnyService>, DbError> {
        if let Some((built_from, svc)) = self.live.borrow().get(&def.name) {
            if Arc::ptr_eq(built_from, def) {
                return Ok(Rc::clone(svc));
            }
        }
        let svc = Rc::new(AnyService::build(def, data_dir)?);
        self.live
            .borrow_mut()
            .insert(def.name.clone(), (Arc::clone(def), Rc::clone(&svc)));
        Ok(svc)
    }
}
