//! `platform.store`: a key/value store scripts share.
//!
//! Scope: one store per server process, shared by every core (DreamFactory's store is its cache,
//! shared by all of its workers, and a script that counts or remembers something expects to see
//! the same value on the next request whichever core serves it). It is the one shared thing a
//! script can touch, and only through an explicit `store.get/set/delete` call, never on the
//! request path itself; a short mutex section per call. Values are kept as JSON text, in memory
//! only: a restart empties the store, and instances do not share one.
//!
//! Bounded: at most [`Store::MAX_ENTRIES`] keys and [`Store::MAX_BYTES`] of keys and values,
//! so a script cannot grow the process without limit through it.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

#[derive(Debug, Default)]
pub struct Store {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    values: HashMap<String, String>,
    bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "platform.store is full ({} keys or {} bytes at most)",
    Store::MAX_ENTRIES,
    Store::MAX_BYTES
)]
pub struct StoreFull;

impl Store {
    pub const MAX_ENTRIES: usize = 100_000;
    pub const MAX_BYTES: usize = 64 << 20;

    /// The process's store.
    pub fn instance() -> &'static Store {
        static STORE: OnceLock<Store> = OnceLock::new();
        STORE.get_or_init(Store::default)
    }

    pub fn get(&self, key: &str) -> Option<String> {
        self.lock().values.get(key).cloned()
    }

    pub fn set(&self, key: &str, json: String) -> Result<(), StoreFull> {
        let mut inner = self.lock();
        let old = inner.values.get(key).map_or(0, |v| key.len() + v.len());
        let bytes = inner.bytes - old + key.len() + json.len();
        if bytes > Self::MAX_BYTES || (old == 0 && inner.values.len() >= Self::MAX_ENTRIES) {
            return Err(StoreFull);
        }
        inner.bytes = bytes;
        inner.values.insert(key.to_owned(), json);
        Ok(())
    }

    pub fn delete(&self, key: &str) -> bool {
        let mut inner = self.lock();
        match inner.values.remove(key) {
            Some(v) => {
                inner.bytes -= key.len() + v.len();
                true
            }
            None => false,
        }
    }

    /// A poisoned lock only means a panic elsewhere while holding it; the map is still whole.
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_delete_and_accounting() {
        let store = Store::default();
        store.set("a", "1".into()).unwrap();
        store.set("a", "22".into()).unwrap();
        assert_eq!(store.get("a").as_deref(), Some("22"));
        assert_eq!(store.lock().bytes, 3);
        assert!(store.delete("a"));
        assert_eq!(store.lock().bytes, 0);
        assert!(store.get("a").is_none());
    }
}
