//! Where compiled rows go: a component's place in the precedence order, and builders that
//! gather the rows meeting at one place and turn them into the read-only index.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::Arc;

use super::filter;
use super::index::{Exact, Grant, RoleRules, ServiceRules, Wild, VERBS};
use super::FilterOp;
use crate::services::db::filter::Expr;

/// Where a component sits in the precedence order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Place {
    Root,
    /// Lower-cased component, and whether it covers the paths below it.
    Exact(String, bool),
    /// Lower-cased prefix, the component without its `*`.
    Wild(String),
    Any,
}

pub(super) fn place(component: &str) -> Result<Place, &'static str> {
    // Resources are matched without their leading slash, so components are too.
    let c = component.trim().trim_start_matches('/');
    if c.is_empty() {
        return Ok(Place::Root);
    }
    if c == "*" {
        return Ok(Place::Any);
    }
    let c = c.to_ascii_lowercase();
    if let Some(prefix) = c.strip_suffix('*') {
        if prefix.contains('*') {
            return Err("has a '*' other than at its end");
        }
        return Ok(Place::Wild(prefix.to_string()));
    }
    if c.contains('*') {
        return Err("has a '*' other than at its end");
    }
    Ok(match c.strip_suffix('/') {
        Some(pinned) => Place::Exact(pinned.trim_end_matches('/').to_string(), false),
        None => Place::Exact(c, true),
    })
}

/// Rows gathered at one place: verbs, and per verb either "every record" (`open`) or the
/// filters of the rows allowing it, ORed when built.
#[derive(Debug, Clone, Default)]
pub(super) struct GrantBuilder {
    verbs: u8,
    open: u8,
    filters: [Vec<Arc<Expr>>; VERBS],
}

impl GrantBuilder {
    pub(super) fn add(&mut self, verbs: u8, filter: Option<&Arc<Expr>>) {
        self.verbs |= verbs;
        match filter {
            None => self.open |= verbs,
            Some(f) => {
                for (i, filters) in self.filters.iter_mut().enumerate() {
                    if verbs & (1 << i) != 0 {
                        filters.push(Arc::clone(f));
                    }
                }
            }
        }
    }

    fn absorb(&mut self, other: &GrantBuilder) {
        self.verbs |= other.verbs;
        self.open |= other.open;
        for (mine, theirs) in self.filters.iter_mut().zip(&other.filters) {
            mine.extend(theirs.iter().cloned());
        }
    }

    fn build(self) -> Grant {
        let mut grant = Grant {
            verbs: self.verbs,
            ..Grant::default()
        };
        for (i, filters) in self.filters.into_iter().enumerate() {
            if self.open & (1 << i) == 0 {
                grant.filters[i] = any_of(filters);
            }
        }
        grant
    }
}

/// The OR of `filters` as a balanced tree (shallow however many rows meet), sharing the single
/// filter of the usual one-row case.
fn any_of(mut filters: Vec<Arc<Expr>>) -> Option<Arc<Expr>> {
    fn tree(filters: &[Arc<Expr>]) -> Expr {
        match filters {
            [one] => Expr::clone(one),
            _ => {
                let (left, right) = filters.split_at(filters.len() / 2);
                filter::join(FilterOp::Or, tree(left), tree(right))
            }
        }
    }
    match filters.len() {
        0 => None,
        1 => filters.pop(),
        _ => Some(Arc::new(tree(&filters))),
    }
}

#[derive(Debug, Default)]
pub(super) struct RulesBuilder {
    services: HashMap<String, ServiceBuilder>,
    all_any: Option<GrantBuilder>,
    all_root: Option<GrantBuilder>,
}

#[derive(Debug, Default)]
struct ServiceBuilder {
    root: Option<GrantBuilder>,
    exact: HashMap<(String, bool), GrantBuilder>,
    wild: HashMap<String, GrantBuilder>,
    any: Option<GrantBuilder>,
}

impl RulesBuilder {
    /// The builder for `place` of `service` (`None`: all services, `Root` or `Any` only).
    pub(super) fn slot(&mut self, service: Option<&str>, place: &Place) -> &mut GrantBuilder {
        let Some(service) = service else {
            let slot = match place {
                Place::Root => &mut self.all_root,
                _ => &mut self.all_any,
            };
            return slot.get_or_insert_with(GrantBuilder::default);
        };
        let svc = self
            .services
            .entry(service.to_ascii_lowercase())
            .or_default();
        match place {
            Place::Root => svc.root.get_or_insert_with(GrantBuilder::default),
            Place::Any => svc.any.get_or_insert_with(GrantBuilder::default),
            Place::Exact(c, covers) => svc.exact.entry((c.clone(), *covers)).or_default(),
            Place::Wild(prefix) => svc.wild.entry(prefix.clone()).or_default(),
        }
    }

    pub(super) fn build(self) -> RoleRules {
        // At a root DreamFactory counts all-services `''` and `*` rows as one level.
        let all_root = match (self.all_root, &self.all_any) {
            (Some(mut root), Some(any)) => {
                root.absorb(any);
                Some(root)
            }
            (root, any) => root.or_else(|| any.clone()),
        };
        RoleRules {
            services: self
                .services
                .into_iter()
                .map(|(name, svc)| (name.into_boxed_str(), svc.build()))
                .collect(),
            all_any: self.all_any.map(GrantBuilder::build),
            all_root: all_root.map(GrantBuilder::build),
        }
    }
}

impl ServiceBuilder {
    fn build(self) -> ServiceRules {
        let mut exact: Vec<Exact> = self
            .exact
            .iter()
            .map(|((component, covers), grant)| {
                let mut grant = grant.clone();
                // `_table/contact/` and `_table/contact` both match `_table/contact` itself,
                // at the same level; the pinned entry is found first, so it carries both.
                if !covers {
                    if let Some(covering) = self.exact.get(&(component.clone(), true)) {
                        grant.absorb(covering);
                    }
                }
                Exact {
                    component: component.as_str().into(),
                    covers_children: *covers,
                    grant: grant.build(),
                }
            })
            .collect();
        exact.sort_by_key(|e| (Reverse(e.component.len()), e.covers_children));
        let mut wild: Vec<Wild> = self
            .wild
            .into_iter()
            .map(|(prefix, grant)| Wild {
                prefix: prefix.into_boxed_str(),
                grant: grant.build(),
            })
            .collect();
        wild.sort_by_key(|w| Reverse(w.prefix.len()));
        ServiceRules {
            root: self.root.map(GrantBuilder::build),
            exact,
            wild,
            any: self.any.map(GrantBuilder::build),
        }
    }
}
