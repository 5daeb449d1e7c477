//! The read-mostly state every core reads, published as an immutable snapshot.
//!
//! Writers build a new [`Snapshot`] and swap it in; readers on each core hold an
//! `arc_swap::Cache`, which costs one pointer comparison per request until something changes.
//! Later capabilities (roles, services, scripts) add their compiled forms here.

use std::collections::BTreeMap;
use std::sync::Arc;

use arc_swap::{ArcSwap, Cache};

use super::Config;
use crate::services::ServiceDef;

#[derive(Debug)]
pub struct Snapshot {
    pub config: Arc<Config>,
    /// Services by name, the embedded `db` included.
    pub services: Arc<BTreeMap<String, Arc<ServiceDef>>>,
    /// CORS entries compiled once per publish.
    pub cors: Arc<crate::api::cors::CorsPolicy>,
    /// Roles, apps, users' roles and lookups, compiled for the per-request check.
    pub authz: Arc<crate::auth::authz::Authz>,
    /// Event scripts by event name.
    pub scripts: Arc<crate::system::state::EventScripts>,
    /// Bumped on every publish, so a reader can tell two snapshots apart cheaply.
    pub generation: u64,
}

impl Snapshot {
    /// Configuration alone, with nothing from a system database (tests, tools).
    pub fn of_config(config: Arc<Config>) -> Snapshot {
        // `Config::validate` compiled these entries already; no CORS at all is the safe fallback.
        let cors = Arc::new(crate::api::cors::CorsPolicy::new(&config.cors).unwrap_or_default());
        Snapshot {
            config,
            services: Arc::new(BTreeMap::new()),
            cors,
            authz: Arc::default(),
            scripts: Arc::default(),
            generation: 0,
        }
    }
}

/// The process-wide cell holding the current snapshot.
#[derive(Debug)]
pub struct SnapshotCell(Arc<ArcSwap<Snapshot>>);

impl SnapshotCell {
    pub fn new(first: Snapshot) -> Self {
        SnapshotCell(Arc::new(ArcSwap::from_pointee(first)))
    }

    pub fn load(&self) -> Arc<Snapshot> {
        self.0.load_full()
    }

    /// Replaces the snapshot with `update(current)`, giving it the next generation.
    pub fn publish(&self, update: impl Fn(&Snapshot) -> Snapshot) {
        self.0.rcu(|cur| {
            let mut next = update(cur);
            next.generation = cur.generation + 1;
            next
        });
    }

    /// A per-core reader.
    pub fn reader(&self) -> Cache<Arc<ArcSwap<Snapshot>>, Arc<Snapshot>> {
        Cache::new(Arc::clone(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_see_published_snapshots() {
        let cell = SnapshotCell::new(Snapshot::of_config(Arc::new(Config::default())));
        let mut reader = cell.reader();
        assert_eq!(reader.load().generation, 0);
        cell.publish(|cur| Snapshot {
            config: Arc::clone(&cur.config),
            services: Arc::clone(&cur.services),
            cors: Arc::clone(&cur.cors),
            authz: Arc::clone(&cur.authz),
            scripts: Arc::clone(&cur.scripts),
            generation: 0,
        });
        assert_eq!(reader.load().generation, 1);
    }
}
