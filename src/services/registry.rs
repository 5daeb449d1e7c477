//! Each core's live services, built on first use from the snapshot's definitions (connectors
//! come from [`AnyDb`]). A definition that changes in a new snapshot gets
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

use super::any_db::AnyDb;
use super::db::error::DbApiError;
use super::db::service::{DbService, SchemaVersion};
use super::db::{self, DbCall};
use crate::config::services::ServiceConfig;
use crate::http::Response;

/// A service as published to every core: its definition and what cores share about it.
#[derive(Debug)]
pub struct ServiceDef {
    pub name: String,
    pub config: ServiceConfig,
    pub schema_version: Arc<SchemaVersion>,
    /// The row id of a service stored through the system API; `None` for configured ones.
    pub stored_id: Option<i64>,
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

    /// The columns of `table`, from this core's schema cache.
    pub async fn columns(&self, table: &str) -> Result<Vec<String>, DbApiError> {
        let schema = match self {
            AnyService::Sqlite(s) => s.table(table).await?,
            AnyService::Postgres(s) => s.table(table).await?,
            AnyService::Mysql(s) => s.table(table).await?,
        };
        Ok(schema.columns.iter().map(|c| c.name.clone()).collect())
    }

    /// The service's table names, from this core's schema cache.
    pub async fn table_names(&self) -> Result<Rc<Vec<String>>, DbApiError> {
        match self {
            AnyService::Sqlite(s) => s.table_names(false).await,
            AnyService::Postgres(s) => s.table_names(false).await,
            AnyService::Mysql(s) => s.table_names(false).await,
        }
    }

    /// The system API's engine: the generic table engine over the system database, with
    /// password hashes hidden and DreamFactory's relation names.
    pub fn system(db: AnyDb) -> AnyService {
        const HIDDEN: &[&str] = &["password_hash"];
        const PREFIX: &str = "percore_";
        // DreamFactory's system resources page at 1000 records, as its own limit does.
        let make = |name: &str| (name.to_string(), 1000, false, Arc::default());
        let (name, max, upsert, version) = make("system");
        match db {
            AnyDb::Sqlite(db) => AnyService::Sqlite(
                DbService::new(name, db, max, upsert, version).for_system(HIDDEN, PREFIX),
            ),
            AnyDb::Postgres(db) => AnyService::Postgres(
                DbService::new(name, db, max, upsert, version).for_system(HIDDEN, PREFIX),
            ),
            AnyDb::Mysql(db) => AnyService::Mysql(
                DbService::new(name, db, max, upsert, version).for_system(HIDDEN, PREFIX),
            ),
        }
    }

    fn build(def: &ServiceDef, data_dir: &Path) -> Result<AnyService, DbError> {
        let c = &def.config.config;
        let (name, version) = (def.name.clone(), Arc::clone(&def.schema_version));
        Ok(match AnyDb::open(def.config.kind, c, data_dir)? {
            AnyDb::Sqlite(db) => AnyService::Sqlite(DbService::new(
                name,
                db,
                c.max_records,
                c.allow_upsert,
                version,
            )),
            AnyDb::Postgres(db) => AnyService::Postgres(DbService::new(
                name,
                db,
                c.max_records,
                c.allow_upsert,
                version,
            )),
            AnyDb::Mysql(db) => AnyService::Mysql(DbService::new(
                name,
                db,
                c.max_records,
                c.allow_upsert,
                version,
            )),
        })
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
