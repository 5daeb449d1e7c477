//! What the per-request authorization stage reads, compiled from the system database once per
//! change and published to every core in the snapshot: the role rules and apps
//! ([`AccessSnapshot`]), which role each user has (by default and per app), the users that may
//! not act, and the global lookups usable in filters.
//!
//! Users' roles live here rather than only in their tokens so that an admin's change takes
//! effect on the next request, on every core, without the user logging in again.

use std::collections::{HashMap, HashSet};

use super::access::AccessSnapshot;

#[derive(Debug, Default)]
pub struct Authz {
    pub access: AccessSnapshot,
    /// A user's default role (`user.role_id`), for users that have one.
    pub user_roles: HashMap<i64, i64>,
    /// DreamFactory's `user_to_app_to_role`: `(user_id, app_id)` to the role for calls through
    /// that app, which wins over the user's default role and the app's.
    pub user_app_roles: HashMap<(i64, i64), i64>,
    /// Users deactivated by an admin: their tokens stop working at once.
    pub inactive_users: HashSet<i64>,
    /// System lookups (`{name}` in filters), by name.
    pub lookups: HashMap<String, String>,
}

impl Authz {
    /// The role for a call by `user` (if any) through `app` (if any), in DreamFactory's order:
    /// the user's role for this app, the user's own role, then the app's default role.
    pub fn role_for(&self, user: Option<i64>, app: Option<(i64, Option<i64>)>) -> Option<i64> {
        if let (Some(u), Some((app_id, _))) = (user, app) {
            if let Some(r) = self.user_app_roles.get(&(u, app_id)) {
                return Some(*r);
            }
        }
        user.and_then(|u| self.user_roles.get(&u).copied())
            .or_else(|| app.and_then(|(_, role)| role))
    }
}

// Shared by every core through the snapshot.
const _: () = {
    const fn shared_across_cores<T: Send + Sync>() {}
    shared_across_cores::<Authz>();
};
