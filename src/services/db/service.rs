//! One database service as one core sees it: the connector's handle and a schema cache.
//!
//! The cache is per core, so lookups take no lock. DDL through the API on any core bumps the
//! service's shared schema generation; every core compares it (one relaxed atomic load) before
//! trusting its cache, so all cores see the new schema on their next request.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use percore_connector::{Database, TableSchema};

use super::error::DbApiError;
use super::params::valid_name;

/// Shared by every core for one service: the schema generation, bumped after DDL.
#[derive(Debug, Default)]
pub struct SchemaVersion(AtomicU64);

impl SchemaVersion {
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::Release);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

#[derive(Default)]
struct Cache {
    generation: u64,
    tables: HashMap<String, Rc<TableSchema>>,
    names: Option<Rc<Vec<String>>>,
}

pub struct DbService<D: Database> {
    pub name: String,
    pub db: D,
    pub max_records: u64,
    pub allow_upsert: bool,
    /// Columns no call can read, filter, order or write (the system API's `password_hash`):
    /// removed from the cached schema, so nothing downstream ever sees them.
    hidden_columns: &'static [&'static str],
    /// Left out of relation names (the system tables' `percore_`), so relations read as
    /// DreamFactory's: `role_service_access_by_role_id`.
    table_prefix: &'static str,
    version: Arc<SchemaVersion>,
    cache: RefCell<Cache>,
}

impl<D: Database> DbService<D> {
    pub fn new(
        name: String,
        db: D,
        max_records: u64,
        allow_upsert: bool,
        version: Arc<SchemaVersion>,
    ) -> Self {
        DbService {
            name,
            db,
            max_records,
            allow_upsert,
            hidden_columns: &[],
            table_prefix: "",
            version,
            cache: RefCell::default(),
        }
    }

    /// This service as the system API's engine over the system database.
    pub fn for_system(mut self, hidden: &'static [&'static str], prefix: &'static str) -> Self {
        self.hidden_columns = hidden;
        self.table_prefix = prefix;
        self
    }

    /// A table's name as relation names show it.
    pub fn public_name<'t>(&self, table: &'t str) -> &'t str {
        table.strip_prefix(self.table_prefix).unwrap_or(table)
    }

    fn fresh_cache(&self) {
        let generation = self.version.get();
        let mut cache = self.cache.borrow_mut();
        if cache.generation != generation {
            *cache = Cache {
                generation,
                ..Cache::default()
            };
        }
    }

    /// Forgets this core's cached schema and tells the other cores to do the same.
    pub fn schema_changed(&self) {
        self.version.bump();
        self.fresh_cache();
    }

    pub async fn table_names(&self, refresh: bool) -> Result<Rc<Vec<String>>, DbApiError> {
        if refresh {
            self.schema_changed();
        }
        self.fresh_cache();
        if let Some(names) = self.cache.borrow().names.clone() {
            return Ok(names);
        }
        let names = Rc::new(self.db.tables().await?);
        self.cache.borrow_mut().names = Some(Rc::clone(&names));
        Ok(names)
    }

    /// The schema of `table`, from the cache or the database; 404 for a table that does not
    /// exist. The name must match exactly; nothing else reaches SQL.
    pub async fn table(&self, table: &str) -> Result<Rc<TableSchema>, DbApiError> {
        let missing = || {
            DbApiError::NotFound(format!(
                "Table '{}' does not exist in the database.",
                super::params::truncate(table)
            ))
        };
        if !valid_name(table) {
            return Err(missing());
        }
        self.fresh_cache();
        if let Some(t) = self.cache.borrow().tables.get(table) {
            return Ok(Rc::clone(t));
        }
        let mut schema = self.db.describe(table).await?.ok_or_else(missing)?;
        if !self.hidden_columns.is_empty() {
            schema
                .columns
                .retain(|c| !self.hidden_columns.contains(&c.name.as_str()));
        }
        let schema = Rc::new(schema);
        self.cache
            .borrow_mut()
            .tables
            .insert(table.to_string(), Rc::clone(&schema));
        Ok(schema)
    }
}
