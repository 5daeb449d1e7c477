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
    /// Bumped on every publish, so a reader can tell two snapshots apart cheaply.
    pub generation: u64,
}

/// The process-wide cell holding the current snapshot.
#[derive(Debug)]
pub struct SnapshotCell(Arc<ArcSwap<Snapshot>>);

impl SnapshotCell {
    pub fn new(config: Arc<Config>, services: BTreeMap<String, Arc<ServiceDef>>) -> Self {
        // `Config::validate` compiled these entries already; no CORS at all is the safe fallback.
        let cors = Arc::new(crate::api::cors::CorsPolicy::new(&config.cors).unwrap_or_default());
        SnapshotCell(Arc::new(ArcSwap::from_pointee(Snapshot {
            config,
            services: Arc::new(services),
            cors,
            generation: 0,
        })))
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
        let cell = SnapshotCell::new(Arc::new(Config::default()), BTreeMap::new());
        let mut reader = cell.reader();
        assert_eq!(reader.load().generation, 0);
        cell.publish(|cur| Snapshot {
            config: Arc::clone(&cur.config),
            services: Arc::clone(&cur.services),
            cors: Arc::clone(&cur.cors),
            generation: 0,
        });
        assert_eq!(reader.load().generation, 1);
    }
}
