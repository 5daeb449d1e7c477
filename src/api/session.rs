//! Sessions: DreamFactory's `/api/v2/system/admin/session` (system admins) and
//! `/api/v2/user/session` (any active user). POST logs in, GET describes the session, PUT
//! refreshes it inside the refresh window, DELETE logs out. Tokens are stateless JWTs; logout
//! records the token's id as revoked, which every core checks without a lock.

use std::collections::{HashMap, HashSet};

use arc_swap::ArcSwap;
use serde_json::{json, Value as Json};

use super::Query;
use crate::auth::jwt::{Claims, TokenError};
use crate::auth::throttle::{CoreThrottle, ThrottleKey};
use crate::envelope::ApiError;
use crate::http::{Method, Request, Response};
use crate::runtime::Worker;
use crate::system::users::{self, User};

/// Token ids logged out, shared by all cores: read on every authenticated request (a pointer
/// load and a hash lookup or two), written only on logout, refresh and password change.
#[derive(Default)]
pub struct Revoked(ArcSwap<RevokedSet>);

/// Entries as stored (`jti`s, and [`user_cutoff`] keys), plus the cutoffs parsed out of them.
#[derive(Default, Clone)]
struct RevokedSet {
    entries: HashSet<String>,
    /// user id -> unix second: that user's tokens issued before it are revoked.
    cutoffs: HashMap<i64, u64>,
}

impl RevokedSet {
    fn add(&mut self, entry: String) {
        if let Some((user, at)) = parse_user_cutoff(&entry) {
            let cutoff = self.cutoffs.entry(user).or_default();
            *cutoff = (*cutoff).max(at);
        }
        self.entries.insert(entry);
    }
}

/// The revocation entry for "every token of `user_id` issued before `at`". It lives in the same
/// table as token ids (which are 32 hex digits, so the two cannot collide) and so reaches other
/// instances and survives restarts the same way, at no cost for a user who never had one.
pub fn user_cutoff(user_id: i64, at: u64) -> String {
    format!("user:{user_id}:{at}")
}

fn parse_user_cutoff(entry: &str) -> Option<(i64, u64)> {
    let (user, at) = entry.strip_prefix("user:")?.split_once(':')?;
    Some((user.parse().ok()?, at.parse().ok()?))
}

impl Revoked {
    pub fn contains(&self, jti: &str) -> bool {
        self.0.load().entries.contains(jti)
    }

    /// Whether a token with these claims was revoked, alone or with all of its user's tokens.
    pub fn rejects(&self, claims: &Claims) -> bool {
        let set = self.0.load();
        set.entries.contains(&claims.jti)
            || set
                .cutoffs
                .get(&claims.user_id)
                .is_some_and(|&cutoff| claims.iat < cutoff)
    }

    pub fn insert(&self, jti: &str) {
        self.0.rcu(|set| {
            let mut next = RevokedSet::clone(set);
            next.add(jti.to_string());
            next
        });
    }

    /// Adds what the system database lists (revocations made by other instances).
    pub fn merge(&self, from_db: HashSet<String>) {
        if from_db.iter().all(|j| self.contains(j)) {
            return;
        }
        self.0.rcu(|set| {
            let mut next = RevokedSet::clone(set);
            for entry in &from_db {
                next.add(entry.clone());
            }
            next
        });
    }

    pub fn new(initial: HashSet<String>) -> Self {
        let mut set = RevokedSet::default();
        for entry in initial {
            set.add(entry);
        }
        Revoked(ArcSwap::from_pointee(set))
    }
}

/// Revokes a session on this instance at once, and in the system database for the others.
pub(super) async fn revoke(w: &Worker, claims: &Claims) -> Result<(), Response> {
    w.shared.revoked.insert(&claims.jti);
    crate::system::revocations::revoke(&w.system, &claims.jti, claims.rfx as i64)
        .await
        .map_err(|e| Response::error(&crate::services::db::error::db_error(&e)))
}

/// Revokes every token of `user_id` issued before this second, here and for other instances.
/// The database row may be pruned once every such token is past its refresh window.
pub(super) async fn revoke_user_sessions(w: &Worker, user_id: i64) -> Result<(), Response> {
    let now = unix_now();
    let entry = user_cutoff(user_id, now);
    w.shared.revoked.insert(&entry);
    let refresh_ttl = w.snapshot().config.auth.refresh_ttl.as_secs();
    let until = now.saturating_add(refresh_ttl) as i64;
    crate::system::revocations::revoke(&w.system, &entry, until)
        .await
        .map_err(|e| Response::error(&crate::services::db::error::db_error(&e)))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The session token from `Authorization: Bearer`, `X-DreamFactory-Session-Token`, or the
/// `session_token` parameter, in DreamFactory's order.
pub fn token<'r>(req: &'r Request<'_>, query: &'r Query<'_>) -> Option<&'r str> {
    req.header_str("authorization")
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .or_else(|| req.header_str("x-dreamfactory-session-token"))
        .or_else(|| query.get("session_token"))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

fn invalid_credentials() -> Response {
    Response::error(&ApiError::new(401, "Invalid credentials supplied."))
}

pub(super) fn token_error(e: &TokenError) -> Response {
    let message = match e {
        TokenError::Expired => "Token has expired.",
        TokenError::Invalid(_) => "Invalid token.",
    };
    Response::error(&ApiError::new(401, message))
}

fn iso(unix: i64) -> String {
    httpdate::fmt_http_date(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix.max(0) as u64),
    )
}

pub(super) fn session_json(w: &Worker, token: Option<&str>, claims: &Claims, user: &User) -> Json {
    let snapshot = w.snapshot();
    // The role as it is now: an admin's change shows on the next session call.
    let role_id = snapshot
        .authz
        .user_roles
        .get(&user.id)
        .copied()
        .or(user.role_id);
    let role = role_id
        .and_then(|r| snapshot.authz.access.role(r))
        .map(|r| r.name.clone());
    json!({
        "session_token": token,
        "session_id": claims.jti,
        "id": user.id,
        "name": user.name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_sys_admin": user.is_sys_admin,
        "last_login_date": user.last_login_date.map(iso),
        "host": hostname(),
        "token_expiry_date": iso(claims.exp as i64),
        "role": role,
        "role_id": role_id,
    })
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// `/api/v2/system/admin/session` (`admin_only`) and `/api/v2/user/session`.
pub async fn handle(
    w: &Worker,
    req: &Request<'_>,
    method: Method,
    query: &Query<'_>,
    admin_only: bool,
) -> Response {
    match method {
        Method::Post => login(w, req, admin_only).await,
        Method::Get | Method::Head => current(w, req, query, admin_only).await,
        Method::Put | Method::Patch => refresh(w, req, query).await,
        Method::Delete => logout(w, req, query).await,
        m => Response::error(&ApiError::new(
            405,
            format!("{m} is not supported on sessions."),
        ))
        .header("Allow", "GET, POST, PUT, DELETE"),
    }
}

async fn login(w: &Worker, req: &Request<'_>, admin_only: bool) -> Response {
    let body: Json = match serde_json::from_slice(req.body()) {
        Ok(v) => v,
        Err(_) => {
            return Response::error(&ApiError::bad_request("Invalid JSON in the request body."))
        }
    };
    let login = body["email"]
        .as_str()
        .or_else(|| body["username"].as_str())
        .unwrap_or("")
        .trim();
    let Some(password) = body["password"].as_str().filter(|_| !login.is_empty()) else {
        return Response::error(&ApiError::bad_request(
            "Login requires 'email' (or 'username') and 'password'.",
        ));
    };
    let account = ThrottleKey::account(login);
    let client = ThrottleKey::client(req.peer().ip());
    if let Some(refused) = throttled(&w.throttle, &[&account, &client]) {
        return refused;
    }
    let user = match users::by_email(&w.system, login).await {
        Ok(u) => u,
        Err(e) => return Response::error(&crate::services::db::error::db_error(&e)),
    };
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    // The hash is checked (or a dummy one) whether or not the user exists, so the time taken
    // does not tell an unknown user from a wrong password.
    let ok = w
        .shared
        .passwords
        .verify_async(password.to_string(), stored)
        .await;
    let allowed = user.filter(|u| ok && u.is_active && (u.is_sys_admin || !admin_only));
    let Some(user) = allowed else {
        w.throttle.failure(account);
        w.throttle.failure(client);
        return invalid_credentials();
    };
    w.throttle.success(&account);
    Response::json_value(200, &new_session(w, user).await)
}

/// The 429 for a throttled key (the first of `keys` that must wait), with `Retry-After`.
pub(super) fn throttled(throttle: &CoreThrottle, keys: &[&ThrottleKey]) -> Option<Response> {
    let wait = keys.iter().find_map(|k| throttle.check(k))?;
    let secs = wait.as_secs().max(1).to_string();
    Some(
        Response::error(&ApiError::new(
            429,
            "Too many failed attempts; try again later.",
        ))
        .header("Retry-After", secs),
    )
}

/// Logs `user` in: a new token, `last_login_date` recorded, and DreamFactory's session JSON.
pub(super) async fn new_session(w: &Worker, mut user: User) -> Json {
    let auth = &w.snapshot().config.auth;
    let claims = Claims::new(
        user.id,
        &user.email,
        user.is_sys_admin,
        user.role_id,
        auth.session_ttl,
        auth.refresh_ttl,
    );
    let token = w.shared.keys.sign(&claims);
    if let Ok(now) = users::touch_login(&w.system, user.id).await {
        user.last_login_date = Some(now);
    }
    session_json(w, Some(&token), &claims, &user)
}

/// A token's verified, unrevoked claims, without touching the system database: what every
/// request that carries a token pays (a signature check and a hash lookup).
pub fn claims(w: &Worker, token: &str) -> Result<Claims, Response> {
    let claims = w.shared.keys.verify(token).map_err(|e| token_error(&e))?;
    if w.shared.revoked.rejects(&claims) {
        return Err(Response::error(&ApiError::new(
            403,
            "Token has been revoked.",
        )));
    }
    if w.snapshot().authz.inactive_users.contains(&claims.user_id) {
        return Err(Response::error(&ApiError::new(
            401,
            "The session's user no longer exists or is inactive.",
        )));
    }
    Ok(claims)
}

/// A system admin's session, or the DreamFactory error: 401 without a (valid) token, 403 for
/// other users.
pub fn require_admin(w: &Worker, req: &Request<'_>, query: &Query<'_>) -> Result<Claims, Response> {
    let Some(token) = token(req, query) else {
        return Err(Response::error(&ApiError::new(
            401,
            "A system admin session is required.",
        )));
    };
    let claims = claims(w, token)?;
    if !claims.is_sys_admin {
        return Err(Response::error(&ApiError::new(
            403,
            "Only system admins may do this.",
        )));
    }
    Ok(claims)
}

/// Verifies the request's token (not revoked, user still active).
pub(super) async fn verified(
    w: &Worker,
    req: &Request<'_>,
    query: &Query<'_>,
    for_refresh: bool,
) -> Result<(Claims, User), Response> {
    let Some(token) = token(req, query) else {
        return Err(Response::error(&ApiError::new(
            401,
            "No session token given.",
        )));
    };
    let verify = if for_refresh {
        w.shared.keys.verify_for_refresh(token)
    } else {
        w.shared.keys.verify(token)
    };
    let claims = verify.map_err(|e| token_error(&e))?;
    if w.shared.revoked.rejects(&claims) {
        return Err(Response::error(&ApiError::new(
            403,
            "Token has been revoked.",
        )));
    }
    match users::by_id(&w.system, claims.user_id).await {
        Ok(Some(u)) if u.is_active => Ok((claims, u)),
        Ok(_) => Err(Response::error(&ApiError::new(
            401,
            "The session's user no longer exists or is inactive.",
        ))),
        Err(e) => Err(Response::error(&crate::services::db::error::db_error(&e))),
    }
}

async fn current(w: &Worker, req: &Request<'_>, query: &Query<'_>, admin_only: bool) -> Response {
    match verified(w, req, query, false).await {
        Ok((_, u)) if admin_only && !u.is_sys_admin => {
            Response::error(&ApiError::new(403, "Not a system admin."))
        }
        Ok((claims, user)) => Response::json_value(200, &session_json(w, None, &claims, &user)),
        Err(r) => r,
    }
}

async fn refresh(w: &Worker, req: &Request<'_>, query: &Query<'_>) -> Response {
    match verified(w, req, query, true).await {
        Ok((claims, user)) => {
            let next = claims.refreshed(w.snapshot().config.auth.session_ttl);
            let token = w.shared.keys.sign(&next);
            // The refreshed-from token stops working: one live token per login at a time.
            if let Err(r) = revoke(w, &claims).await {
                return r;
            }
            Response::json_value(200, &session_json(w, Some(&token), &next, &user))
        }
        Err(r) => r,
    }
}

async fn logout(w: &Worker, req: &Request<'_>, query: &Query<'_>) -> Response {
    let Some(token) = token(req, query) else {
        return Response::error(&ApiError::new(401, "No session token given."));
    };
    match w.shared.keys.verify_for_refresh(token) {
        Ok(claims) => match revoke(w, &claims).await {
            Ok(()) => Response::json_value(200, &json!({ "success": true })),
            Err(r) => r,
        },
        Err(e) => token_error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(user_id: i64, iat: u64) -> Claims {
        let ttl = std::time::Duration::from_secs(60);
        Claims {
            iat,
            ..Claims::new(user_id, "a@b.co", false, None, ttl, ttl)
        }
    }

    #[test]
    fn a_user_cutoff_revokes_only_that_users_older_tokens() {
        let revoked = Revoked::default();
        let (old, new, other) = (claims(7, 100), claims(7, 200), claims(8, 100));
        revoked.insert(&user_cutoff(7, 150));
        assert!(revoked.rejects(&old));
        assert!(!revoked.rejects(&new));
        assert!(!revoked.rejects(&other));
        // From the database (another instance), and a later cutoff wins over an earlier one.
        revoked.merge(HashSet::from([user_cutoff(7, 250), "x".repeat(32)]));
        assert!(revoked.rejects(&new));
        assert!(revoked.contains(&"x".repeat(32)));
        let restarted = Revoked::new(HashSet::from([user_cutoff(8, 101)]));
        assert!(restarted.rejects(&other));
        assert_eq!(parse_user_cutoff("user:x:1"), None);
        assert_eq!(parse_user_cutoff(&"a".repeat(32)), None);
    }
}
