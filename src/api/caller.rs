//! The authorization stage: who is calling (a session, an app's API key, or both), which role
//! that gives them, and whether the role may make this call. Runs on every API call without
//! touching the system database: tokens are verified with the key set, apps and roles come from
//! the snapshot every core holds.

use std::borrow::Cow;

use percore_connector::Value;

use super::Query;
use crate::auth::access::{Decision, Requestor};
use crate::auth::authz::Authz;
use crate::auth::jwt::Claims;
use crate::envelope::ApiError;
use crate::http::{Method, Request, Response};
use crate::runtime::Worker;
use crate::services::db::filter::Expr;

/// The caller of one API call, borrowed from its request.
pub struct Caller<'r> {
    /// The session's verified claims, when a token came with the call.
    pub claims: Option<Claims>,
    pub token: Option<Cow<'r, str>>,
    /// The app whose API key came with the call: its id and default role.
    pub app: Option<(i64, Option<i64>)>,
    pub api_key: Option<Cow<'r, str>>,
    /// API for clients; SCRIPT for calls an event script makes through `platform.api`.
    pub requestor: Requestor,
}

/// DreamFactory's credentials in a JSON body: `{"session_token":..,"api_key":..}`.
#[derive(serde::Deserialize, Default)]
struct BodyCredentials<'a> {
    #[serde(borrow, default)]
    session_token: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    api_key: Option<Cow<'a, str>>,
}

fn body_credentials(body: &[u8]) -> BodyCredentials<'_> {
    let mentions = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    if body.is_empty() || !(mentions(b"\"api_key\"") || mentions(b"\"session_token\"")) {
        return BodyCredentials::default();
    }
    serde_json::from_slice(body).unwrap_or_default()
}

impl<'r> Caller<'r> {
    /// The credentials of `req`, checked: a bad or expired token is 401, a revoked one 403, an
    /// API key that names no active app 401. Neither is not an error here (see [`authorize`]).
    pub fn resolve(
        w: &Worker,
        req: &'r Request<'_>,
        query: &'r Query<'_>,
    ) -> Result<Self, Response> {
        let mut token = super::session::token(req, query).map(Cow::Borrowed);
        let mut api_key = req
            .header_str("x-dreamfactory-api-key")
            .or_else(|| query.get("api_key"))
            .map(Cow::Borrowed);
        // Only when nothing came in the head: a large body is not scanned on every call.
        if token.is_none() && api_key.is_none() {
            let from_body = body_credentials(req.body());
            token = token.or(from_body.session_token);
            api_key = api_key.or(from_body.api_key);
        }
        let claims = match &token {
            Some(t) => Some(super::session::claims(w, t)?),
            None => None,
        };
        let app = match &api_key {
            Some(key) => match w.snapshot().authz.access.app_by_key(key) {
                Some(app) => Some((app.id, app.role_id)),
                None => return Err(Response::error(&ApiError::new(401, "Invalid API key."))),
            },
            None => None,
        };
        Ok(Caller {
            claims,
            token,
            app,
            api_key,
            requestor: Requestor::Api,
        })
    }

    pub fn is_sys_admin(&self) -> bool {
        self.claims.as_ref().is_some_and(|c| c.is_sys_admin)
    }

    pub fn role_id(&self, authz: &Authz) -> Option<i64> {
        authz.role_for(
            self.claims.as_ref().map(|c| (c.user_id, c.role_id)),
            self.app,
        )
    }

    /// `{user.id}`, `{user.email}`, `{role.name}`, `{session.token}`, `{app.api_key}` and the
    /// system lookups, for filters. Numeric lookups bind as numbers, so they compare with
    /// integer columns on every database.
    pub fn lookup(&self, authz: &Authz, name: &str) -> Option<Value> {
        let claims = self.claims.as_ref();
        Some(match name {
            "user.id" => Value::Int(claims?.user_id),
            "user.email" => Value::Text(claims?.email.clone()),
            "role.name" => {
                let role = self.role_id(authz)?;
                Value::Text(authz.access.role(role)?.name.clone())
            }
            "role.id" => Value::Int(self.role_id(authz)?),
            "session.token" | "session_token" => Value::Text(self.token.as_deref()?.to_string()),
            "app.api_key" | "api_key" => Value::Text(self.api_key.as_deref()?.to_string()),
            "app.id" => Value::Int(self.app?.0),
            other => {
                let v = authz.lookups.get(other)?;
                match v.parse::<i64>() {
                    Ok(i) => Value::Int(i),
                    Err(_) => Value::Text(v.clone()),
                }
            }
        })
    }
}

/// Whether `caller` may call `method` on `resource` of `service`; the role's server-side
/// filter, when it has one, comes back to be ANDed onto the call. DreamFactory's statuses: no
/// credentials 400, no role 403, not permitted 403; system admins pass.
pub fn authorize<'a>(
    caller: &Caller<'_>,
    authz: &'a Authz,
    service: &str,
    resource: &str,
    method: Method,
) -> Result<Option<&'a Expr>, ApiError> {
    if caller.is_sys_admin() {
        return Ok(None);
    }
    if caller.claims.is_none() && caller.app.is_none() {
        return Err(ApiError::new(
            400,
            "No session token or API key was given with the request.",
        ));
    }
    let Some(role) = caller.role_id(authz) else {
        return Err(ApiError::new(
            403,
            "Access Forbidden: no role is assigned to this user or app.",
        ));
    };
    match authz
        .access
        .check(role, service, resource, method, caller.requestor)
    {
        Decision::Allow { filter } => Ok(filter),
        Decision::Deny(reason) => {
            tracing::debug!(role, service, resource, %reason, "access denied");
            Err(ApiError::new(
                403,
                format!(
                    "Access Forbidden: {method} on '{service}/{}' is not permitted for this role.",
                    crate::services::db::params::truncate(resource)
                ),
            ))
        }
    }
}
