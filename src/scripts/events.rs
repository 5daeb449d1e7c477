//! Event scripts as a snapshot holds them, and which one an API call meets.
//!
//! Event names are DreamFactory's: `{service}.{resource path, dotted}.{verb}.{phase}`, e.g.
//! `db._table.contact.get.pre_process`. For a call on `{svc}/_table/{t}[/{id}]` the script that
//! runs is the first active one of:
//!
//! 1. the call's own path: `db._table.contact.5.get.pre_process` for a record;
//! 2. its table: `db._table.contact.get.pre_process` (also for a record of it);
//! 3. any table: `db._table.{table_name}.get.pre_process`, DreamFactory's generic event.
//!
//! One script per call and phase, the most specific: a table's own script replaces the generic
//! one rather than running beside it. Other services use the dotted path only
//! (`math.sum.post.pre_process`, `db._schema.get.post_process`).
//!
//! Cost when no script concerns a call: [`EventScripts::for_service`] is an empty-set check (a
//! hash lookup once any script exists); names are formatted only for services with scripts.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use super::{Limits, Script};
use crate::http::Method;

/// An event script (`/api/v2/system/event_script`), named by its event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventScript {
    pub id: i64,
    /// The event, e.g. `db._table.contact.get.pre_process`.
    pub name: String,
    /// The engine: `javascript`.
    pub kind: String,
    pub content: Arc<str>,
    /// Engine settings, e.g. `{"timeout_ms": 100}`.
    pub config: serde_json::Value,
    pub is_active: bool,
    pub allow_event_modification: bool,
    pub last_modified_date: i64,
    /// The engine's view: the name and content shared, built once per snapshot.
    pub script: Script,
}

impl EventScript {
    /// The call's limits: the script's `config.timeout_ms` when set, else `default`.
    pub fn limits(&self, default: Duration) -> Limits {
        let time = self
            .config
            .get("timeout_ms")
            .and_then(serde_json::Value::as_u64)
            .filter(|ms| *ms > 0)
            .map_or(default, Duration::from_millis);
        Limits { time }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Pre,
    Post,
}

impl Phase {
    fn suffix(self) -> &'static str {
        match self {
            Phase::Pre => "pre_process",
            Phase::Post => "post_process",
        }
    }
}

/// Every stored script by name, and the index a call checks.
#[derive(Debug, Default)]
pub struct EventScripts {
    pub by_name: BTreeMap<String, Arc<EventScript>>,
    /// The active javascript scripts of each service that has any.
    active: HashMap<String, Vec<Arc<EventScript>>>,
}

impl EventScripts {
    pub fn new(scripts: impl IntoIterator<Item = EventScript>) -> Self {
        let mut out = EventScripts::default();
        for s in scripts {
            let s = Arc::new(s);
            if s.is_active && s.kind.eq_ignore_ascii_case("javascript") {
                let service = s.name.split('.').next().unwrap_or_default();
                out.active
                    .entry(service.to_owned())
                    .or_default()
                    .push(Arc::clone(&s));
            }
            out.by_name.insert(s.name.clone(), s);
        }
        out
    }

    /// Whether any active script hooks a call on `service`.
    pub fn for_service(&self, service: &str) -> bool {
        !self.active.is_empty() && self.active.contains_key(service)
    }

    /// The script a call meets in `phase` (see the module docs for the order). Compares the
    /// service's few scripts' names piece by piece rather than formatting candidate names:
    /// this runs twice on every call on a service with scripts.
    pub fn find(
        &self,
        service: &str,
        resource: &str,
        method: Method,
        phase: Phase,
    ) -> Option<&Arc<EventScript>> {
        let scripts = self.active.get(service)?;
        let verb = verb(method)?;
        let tail = |rest: &str| {
            rest.strip_prefix(verb)
                .and_then(|r| r.strip_prefix('.'))
                .is_some_and(|r| r == phase.suffix())
        };
        // The path part of a name (between `service.` and `.verb.phase`) for each level.
        let own = |name: &str| {
            let Some(rest) = name[service.len()..].strip_prefix('.') else {
                return false;
            };
            if resource.is_empty() {
                return tail(rest);
            }
            let dotted = resource.split('/');
            let mut rest = rest;
            for part in dotted {
                match rest.strip_prefix(part).and_then(|r| r.strip_prefix('.')) {
                    Some(r) => rest = r,
                    None => return false,
                }
            }
            tail(rest)
        };
        if let Some(s) = scripts.iter().find(|s| own(&s.name)) {
            return Some(s);
        }
        let mut parts = resource.split('/');
        if parts.next() != Some("_table") {
            return None;
        }
        let table = parts.next().filter(|t| !t.is_empty())?;
        let under = |name: &str, table: &str| {
            name[service.len()..]
                .strip_prefix("._table.")
                .and_then(|r| r.strip_prefix(table))
                .and_then(|r| r.strip_prefix('.'))
                .is_some_and(tail)
        };
        if parts.next().is_some() {
            if let Some(s) = scripts.iter().find(|s| under(&s.name, table)) {
                return Some(s);
            }
        }
        scripts.iter().find(|s| under(&s.name, "{table_name}"))
    }
}

/// DreamFactory's lower-case verb in event names; HEAD is a GET.
pub fn verb(method: Method) -> Option<&'static str> {
    Some(match method {
        Method::Get | Method::Head => "get",
        Method::Post => "post",
        Method::Put => "put",
        Method::Patch => "patch",
        Method::Delete => "delete",
        Method::Options | Method::Other => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(name: &str, active: bool) -> EventScript {
        EventScript {
            id: 1,
            name: name.into(),
            kind: "javascript".into(),
            content: "".into(),
            config: serde_json::json!({"timeout_ms": 250}),
            is_active: active,
            allow_event_modification: false,
            last_modified_date: 0,
            script: Script::new(name, ""),
        }
    }

    #[test]
    fn most_specific_active_script_wins() {
        let scripts = EventScripts::new([
            script("db._table.{table_name}.get.pre_process", true),
            script("db._table.contact.get.pre_process", true),
            script("db._table.contact.7.get.pre_process", false),
            script("math.add.post.post_process", true),
        ]);
        let name = |s: Option<&Arc<EventScript>>| s.map(|s| s.name.clone());
        let pre = Phase::Pre;
        assert_eq!(
            name(scripts.find("db", "_table/contact/7", Method::Get, pre)).as_deref(),
            Some("db._table.contact.get.pre_process")
        );
        assert_eq!(
            name(scripts.find("db", "_table/other", Method::Head, pre)).as_deref(),
            Some("db._table.{table_name}.get.pre_process")
        );
        assert_eq!(scripts.find("db", "_table/other", Method::Post, pre), None);
        assert_eq!(scripts.find("db", "_table", Method::Get, pre), None);
        assert_eq!(scripts.find("pg", "_table/contact", Method::Get, pre), None);
        assert!(scripts
            .find("math", "add", Method::Post, Phase::Post)
            .is_some());
        let limits = scripts.by_name["math.add.post.post_process"].limits(Duration::ZERO);
        assert_eq!(limits.time, Duration::from_millis(250));
    }
}
