//! Role-based access in DreamFactory's model: `role_service_access` rows compiled into an
//! immutable [`AccessSnapshot`] that every core reads without locks, and the per-request
//! [`AccessSnapshot::check`] against it.
//!
//! The check runs on every request, so everything that can be decided ahead of time is decided
//! in [`AccessSnapshot::compile`]: rows are grouped per role, per requestor kind and per
//! service (a hash lookup at request time), components are parsed into their precedence level,
//! rows at the same place are merged, and server-side filters become a filter [`Expr`] once,
//! shared by every request they apply to. What is left per request is one or two hash lookups
//! and a scan of the few components configured for the service.
//!
//! DreamFactory's precedence, most specific first (the first level with a rule decides, even
//! when that rule allows nothing, so an empty verb mask is an explicit deny):
//!
//! 1. an exact component for the service: `_table/contact` covers `_table/contact` and the
//!    paths below it (`_table/contact/5`); a trailing slash (`_table/`, DreamFactory's entry
//!    for the table list) pins it to that path alone; `''` is the service root only;
//! 2. a wildcard component for the service (`_table/*`), the longest prefix winning;
//! 3. the service's `*`;
//! 4. rules for all services (`service: None`), `*` or, for the root, `''`.
//!
//! Components and service names compare ASCII case-insensitively, as DreamFactory's
//! `strcasecmp` does. Rows that do not include the request's requestor kind (API or SCRIPT) are
//! not there for it, so a less specific row may apply instead, again as in DreamFactory. Rows
//! that meet at the same place are merged: their verbs add up and, per verb, their filters are
//! ORed (each row admits its own records), a row without filters admitting all of them.
//!
//! System admins bypass this check; that, and resolving lookups such as `{user.id}` in the
//! returned filter, is the caller's part.

mod builder;
mod compile;
mod filter;
mod index;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use serde::{Deserialize, Deserializer};

use super::api_key;
use crate::http::method::Method;
use crate::services::db::filter::Expr;

pub use compile::CompileError;
pub use filter::BadFilter;

/// DreamFactory's verb-mask bits (the same bits as [`Method::bit`]).
pub mod verb {
    pub const GET: u8 = 1;
    pub const POST: u8 = 2;
    pub const PUT: u8 = 4;
    pub const PATCH: u8 = 8;
    pub const DELETE: u8 = 16;
    pub const OPTIONS: u8 = 32;
    pub const HEAD: u8 = 64;
    pub const ALL: u8 = 127;
}

/// DreamFactory's requestor-mask bits.
pub mod requestor {
    pub const API: u8 = 1;
    pub const SCRIPT: u8 = 2;
}

/// A row of the `role` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Role {
    pub id: i64,
    pub name: String,
    #[serde(default = "yes")]
    pub is_active: bool,
}

/// A row of `role_service_access`, with the service named rather than numbered.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RoleServiceAccess {
    pub role_id: i64,
    /// `None` (DreamFactory's NULL `service_id`) means every service.
    #[serde(default)]
    pub service: Option<String>,
    /// `''`, `*`, `_table/*`, `_table/contact`, ...
    #[serde(default, deserialize_with = "null_as_default")]
    pub component: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub verb_mask: u8,
    /// DreamFactory's column default is API only.
    #[serde(default = "api_only", deserialize_with = "null_as_api")]
    pub requestor_mask: u8,
    #[serde(default, deserialize_with = "null_as_default")]
    pub filters: Vec<ServerFilter>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub filter_op: FilterOp,
}

/// One server-side filter condition, as DreamFactory stores it: `name operator value`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ServerFilter {
    /// The field (column) the condition is on.
    pub name: String,
    /// `=`, `!=`, `>`, `>=`, `<`, `<=`, `IN`, `NOT IN`, `LIKE`, `CONTAINS`, `STARTS WITH`,
    /// `ENDS WITH`, `IS NULL`, `IS NOT NULL` (any case).
    pub operator: String,
    /// A literal or a lookup (`{user.id}`); DreamFactory stores it as text, but clients of the
    /// system API send numbers and booleans too.
    #[serde(default, deserialize_with = "scalar_as_string")]
    pub value: String,
}

/// How a row's filters combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum FilterOp {
    #[default]
    #[serde(rename = "AND", alias = "and", alias = "And")]
    And,
    #[serde(rename = "OR", alias = "or", alias = "Or")]
    Or,
}

/// A row of the `app` table: an API key and the role for calls made with it alone.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct App {
    pub id: i64,
    pub name: String,
    pub api_key: String,
    #[serde(default)]
    pub role_id: Option<i64>,
    #[serde(default = "yes")]
    pub is_active: bool,
}

/// Who makes the call: a client over the API, or an event script through `platform.api`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requestor {
    Api,
    Script,
}

impl Requestor {
    pub const ALL: [Requestor; 2] = [Requestor::Api, Requestor::Script];

    pub fn bit(self) -> u8 {
        match self {
            Requestor::Api => requestor::API,
            Requestor::Script => requestor::SCRIPT,
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn other(self) -> Requestor {
        match self {
            Requestor::Api => Requestor::Script,
            Requestor::Script => Requestor::Api,
        }
    }
}

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision<'a> {
    /// Allowed; `filter`, when present, is ANDed onto every query and checked on writes, after
    /// its lookups are resolved for the caller.
    Allow {
        filter: Option<&'a Expr>,
    },
    Deny(DenyReason),
}

impl Decision<'_> {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }
}

/// Why a request was refused. All are DreamFactory's 403; the detail is for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DenyReason {
    #[error("no such role")]
    UnknownRole,
    #[error("the role is inactive")]
    InactiveRole,
    #[error("the role has no access to this service or resource")]
    NoAccess,
    #[error("the role has access to this resource, but not with this verb")]
    Verb,
    #[error("the role has access to this resource, but not for this requestor")]
    Requestor,
}

/// Roles, their compiled access rules and apps: built once per change of the system database,
/// then shared read-only by every core.
#[derive(Debug)]
pub struct AccessSnapshot {
    roles: HashMap<i64, RoleAccess>,
    /// By [`api_key::fingerprint`]: a client cannot steer those bytes, so the map's probe
    /// sequence says nothing about the keys it holds. Active apps only.
    apps: HashMap<[u8; 32], App>,
}

#[derive(Debug)]
struct RoleAccess {
    role: Role,
    /// One index per requestor kind, by [`Requestor::index`].
    rules: [index::RoleRules; 2],
}

impl AccessSnapshot {
    /// Whether `role_id` may call `verb` on `resource` (the path after the service name,
    /// slashes at either end ignored) of `service`.
    pub fn check(
        &self,
        role_id: i64,
        service: &str,
        resource: &str,
        verb: Method,
        requestor: Requestor,
    ) -> Decision<'_> {
        let Some(role) = self.roles.get(&role_id) else {
            return Decision::Deny(DenyReason::UnknownRole);
        };
        if !role.role.is_active {
            return Decision::Deny(DenyReason::InactiveRole);
        }
        let resource = resource.trim_matches('/');
        match role.rules[requestor.index()].find(service, resource) {
            Some(grant) => grant.decide(verb),
            // Only on the way to a 403: worth a second lookup to say why.
            None if role.rules[requestor.other().index()]
                .find(service, resource)
                .is_some() =>
            {
                Decision::Deny(DenyReason::Requestor)
            }
            None => Decision::Deny(DenyReason::NoAccess),
        }
    }

    /// Whether `role_id` has any rule on `service` (or on all services) for `requestor`: what
    /// `GET /api/v2` lists for it.
    pub fn sees(&self, role_id: i64, service: &str, requestor: Requestor) -> bool {
        let Some(role) = self.roles.get(&role_id).filter(|r| r.role.is_active) else {
            return false;
        };
        let rules = &role.rules[requestor.index()];
        rules
            .services
            .contains_key(service.to_ascii_lowercase().as_str())
            || rules.all_any.is_some()
            || rules.all_root.is_some()
    }

    /// The active app whose API key is `key`.
    pub fn app_by_key(&self, key: &str) -> Option<&App> {
        let app = self.apps.get(&api_key::fingerprint(key))?;
        // A fingerprint match is a key match barring a SHA-256 collision; the constant-time
        // comparison makes that so rather than nearly so, at no cost in what it reveals.
        api_key::matches(key, &app.api_key).then_some(app)
    }

    /// The role with this id, active or not (for `{role.name}` and the session response).
    pub fn role(&self, role_id: i64) -> Option<&Role> {
        self.roles.get(&role_id).map(|r| &r.role)
    }
}

// Every core reads one snapshot at the same time; this stops a field from quietly making
// that impossible.
const _: () = {
    const fn shared_across_cores<T: Send + Sync>() {}
    shared_across_cores::<AccessSnapshot>();
};

fn yes() -> bool {
    true
}

fn api_only() -> u8 {
    requestor::API
}

/// DreamFactory's JSON has `null` where a column is unset; that means the default here.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

fn null_as_api<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    Option::<u8>::deserialize(d).map(|m| m.unwrap_or(requestor::API))
}

fn scalar_as_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    use serde::de::Error;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Null => Ok(String::new()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Bool(b) => Ok(b.to_string()),
        _ => Err(D::Error::custom(
            "a filter value is a string, a number, a boolean or null",
        )),
    }
}

impl Default for AccessSnapshot {
    /// No roles and no apps: every non-admin call is refused.
    fn default() -> Self {
        AccessSnapshot {
            roles: HashMap::new(),
            apps: HashMap::new(),
        }
    }
}
