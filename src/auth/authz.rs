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
    /// The highest user id when this was loaded. Users who registered since are not in
    /// `user_roles` yet (registration does not reload everything, which would cost a scan of
    /// all users per sign-up); for them the role their token was issued with stands.
    pub users_through: i64,
}

impl Authz {
    /// The role for a call by `user` (if any) through `app` (if any), in DreamFactory's order:
    /// the user's role for this app, the user's own role, then the app's default role.
    /// `user` is the user's id and the role their token carries.
    pub fn role_for(
        &self,
        user: Option<(i64, Option<i64>)>,
        app: Option<(i64, Option<i64>)>,
    ) -> Option<i64> {
        if let (Some((u, _)), Some((app_id, _))) = (user, app) {
            if let Some(r) = self.user_app_roles.get(&(u, app_id)) {
                return Some(*r);
            }
        }
        user.and_then(|(u, token_role)| match self.user_roles.get(&u) {
            Some(r) => Some(*r),
            None if u > self.users_through => token_role,
            None => None,
        })
        .or_else(|| app.and_then(|(_, role)| role))
    }
}

// Shared by every core through the snapshot.
const _: () = {
    const fn shared_across_cores<T: Send + Sync>() {}
    shared_across_cores::<Authz>();
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_come_from_the_user_app_pair_then_the_user_then_the_app() {
        let mut authz = Authz {
            users_through: 100,
            ..Authz::default()
        };
        authz.user_roles.insert(7, 2);
        authz.user_app_roles.insert((7, 1), 3);
        // Through app 1 with its default role 1: the pair's role wins.
        assert_eq!(authz.role_for(Some((7, None)), Some((1, Some(1)))), Some(3));
        // Through another app: the user's own role, whatever the token says (an admin may
        // have changed it since).
        assert_eq!(
            authz.role_for(Some((7, Some(5))), Some((9, Some(1)))),
            Some(2)
        );
        // A user without a role of their own, through an app: the app's default; a stale
        // token role does not count.
        assert_eq!(
            authz.role_for(Some((8, Some(5))), Some((9, Some(1)))),
            Some(1)
        );
        // The key alone: the app's default; neither: none.
        assert_eq!(authz.role_for(None, Some((9, Some(4)))), Some(4));
        assert_eq!(authz.role_for(Some((8, None)), None), None);
        assert_eq!(authz.role_for(None, Some((9, None))), None);
        // A user registered since the load: the token's role.
        assert_eq!(authz.role_for(Some((101, Some(6))), None), Some(6));
    }
}
