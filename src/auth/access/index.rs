//! The compiled rules of one role for one requestor kind, and the lookup the per-request check
//! does in them. Everything here is read-only after [`compile`](super::compile) built it.

use std::collections::HashMap;
use std::sync::Arc;

use super::{verb, Decision, DenyReason};
use crate::http::method::Method;
use crate::services::db::filter::Expr;

/// Verbs with a bit in DreamFactory's mask; `Method::Other` has none and is never allowed.
pub(super) const VERBS: usize = 7;

/// What one place in the precedence order allows: the verbs, and per verb (by bit position)
/// the server-side filter, `None` meaning every record.
#[derive(Debug, Clone, Default)]
pub(super) struct Grant {
    pub verbs: u8,
    pub filters: [Option<Arc<Expr>>; VERBS],
}

impl Grant {
    pub fn decide(&self, method: Method) -> Decision<'_> {
        let bit = method.bit();
        if bit & self.verbs & verb::ALL == 0 {
            return Decision::Deny(DenyReason::Verb);
        }
        let filter = self.filters[bit.trailing_zeros() as usize].as_deref();
        Decision::Allow { filter }
    }
}

/// One role's rules for one requestor kind.
#[derive(Debug, Default)]
pub(super) struct RoleRules {
    /// By lower-cased service name.
    pub services: HashMap<Box<str>, ServiceRules>,
    /// All-services rules for any resource (`*`).
    pub all_any: Option<Grant>,
    /// All-services rules for a service root: `''` and `*` merged, as DreamFactory treats both
    /// as one level there.
    pub all_root: Option<Grant>,
}

impl RoleRules {
    /// The grant that decides for `resource` (already trimmed of slashes) of `service`.
    pub fn find(&self, service: &str, resource: &str) -> Option<&Grant> {
        let rules = if service.bytes().any(|b| b.is_ascii_uppercase()) {
            self.services.get(service.to_ascii_lowercase().as_str())
        } else {
            self.services.get(service)
        };
        if let Some(grant) = rules.and_then(|r| r.find(resource)) {
            return Some(grant);
        }
        if resource.is_empty() {
            self.all_root.as_ref()
        } else {
            self.all_any.as_ref()
        }
    }
}

/// One service's rules, each level in precedence order.
#[derive(Debug, Default)]
pub(super) struct ServiceRules {
    /// Component `''`.
    pub root: Option<Grant>,
    /// Exact components, longest first; of two equal ones the pinned comes first (it has the
    /// covering one's rules merged in, see `compile`).
    pub exact: Vec<Exact>,
    /// Wildcard components by their prefix (`_table/` for `_table/*`), longest first.
    pub wild: Vec<Wild>,
    /// Component `*`.
    pub any: Option<Grant>,
}

#[derive(Debug)]
pub(super) struct Exact {
    pub component: Box<str>,
    /// `false` for a component written with a trailing slash: that path alone.
    pub covers_children: bool,
    pub grant: Grant,
}

#[derive(Debug)]
pub(super) struct Wild {
    pub prefix: Box<str>,
    pub grant: Grant,
}

impl ServiceRules {
    fn find(&self, resource: &str) -> Option<&Grant> {
        if resource.is_empty() {
            return self.root.as_ref().or(self.any.as_ref());
        }
        let exact = self.exact.iter().find(|e| {
            starts_with_ignore_case(resource, &e.component)
                && match resource.as_bytes().get(e.component.len()) {
                    None => true,
                    Some(&b) => e.covers_children && b == b'/',
                }
        });
        if let Some(e) = exact {
            return Some(&e.grant);
        }
        let wild = self
            .wild
            .iter()
            .find(|w| starts_with_ignore_case(resource, &w.prefix));
        wild.map(|w| &w.grant).or(self.any.as_ref())
    }
}

/// Byte-wise, so a prefix ending inside a multi-byte character cannot panic.
fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(verbs: u8) -> Grant {
        Grant {
            verbs,
            ..Grant::default()
        }
    }

    #[test]
    fn prefixes_compare_bytes_without_case() {
        assert!(starts_with_ignore_case("_TABLE/Contact", "_table/contact"));
        assert!(!starts_with_ignore_case("_tab", "_table"));
        assert!(!starts_with_ignore_case("é", "\u{e9}x"));
        assert!(!starts_with_ignore_case("éa", "e"));
    }

    #[test]
    fn other_methods_are_never_allowed() {
        let g = grant(verb::ALL);
        assert_eq!(g.decide(Method::Other), Decision::Deny(DenyReason::Verb));
        assert!(g.decide(Method::Options).is_allowed());
    }

    #[test]
    fn pinned_components_do_not_cover_children() {
        let rules = ServiceRules {
            exact: vec![Exact {
                component: "_table".into(),
                covers_children: false,
                grant: grant(verb::GET),
            }],
            ..ServiceRules::default()
        };
        assert!(rules.find("_table").is_some());
        assert!(rules.find("_table/contact").is_none());
        assert!(rules.find("_tables").is_none());
    }
}
