//! `/api/v2/user/password` and `/api/v2/system/admin/password`: a logged-in user changes their
//! password with `{"old_password","new_password"}`. As in DreamFactory, each endpoint serves
//! only its own kind of account (admins use the admin one), a wrong old password is a 400, and
//! `?login=true` answers with a new session.
//!
//! A change revokes every session of the user, the one used for the change included: whoever
//! held a stolen token loses it. Wrong old passwords count against the same per-account and
//! per-address budget as failed logins, so this is no side door for guessing.
//!
//! Resetting a forgotten password (`?reset=true`, then `code` or `security_answer`) needs an
//! email service and security questions, which percore does not have: those answer 501.

use super::{
    bad_request, body_object, check_new_password, db_error, flag, hash_password, is_write,
    method_not_allowed, success, success_with_session, text_field,
};
use crate::api::session::{new_session, revoke, revoke_user_sessions, throttled, verified};
use crate::api::Query;
use crate::auth::throttle::ThrottleKey;
use crate::envelope::ApiError;
use crate::http::{Method, Request, Response};
use crate::runtime::Worker;
use crate::system::users;

pub async fn handle(
    w: &Worker,
    req: &Request<'_>,
    method: Method,
    query: &Query<'_>,
    admin_only: bool,
) -> Response {
    if !is_write(method) {
        return method_not_allowed(method, "POST");
    }
    match change(w, req, query, admin_only).await {
        Ok(r) | Err(r) => r,
    }
}

async fn change(
    w: &Worker,
    req: &Request<'_>,
    query: &Query<'_>,
    admin_only: bool,
) -> Result<Response, Response> {
    let body = body_object(req)?;
    let given = |name: &str| -> Result<Option<String>, Response> {
        Ok(text_field(&body, name)?
            .filter(|v| !v.is_empty())
            .map(str::to_string))
    };
    let Some(old) = given("old_password")? else {
        let resetting = flag(query, &body, "reset")
            || given("code")?.is_some()
            || given("security_answer")?.is_some();
        if resetting {
            return Err(Response::error(&ApiError::new(
                501,
                "Password reset is not available: it needs an email service, which this \
                 server does not have. Log in and change the password with old_password and \
                 new_password, or ask a system admin to set it.",
            )));
        }
        return Err(bad_request(
            "Not enough information provided to change password.",
        ));
    };
    let (claims, user) = verified(w, req, query, false).await?;
    if user.is_sys_admin != admin_only {
        return Err(Response::error(&ApiError::new(
            401,
            format!(
                "You are not authorized to reset/change password for the account {}",
                user.email
            ),
        )));
    }
    let Some(new) = given("new_password")? else {
        return Err(bad_request(
            "Both old and new password are required to change the password.",
        ));
    };
    check_new_password("new_password", &new)?;

    let account = ThrottleKey::account(&user.email);
    let client = ThrottleKey::client(req.peer().ip());
    if let Some(refused) = throttled(&w.throttle, &[&account, &client]) {
        return Err(refused);
    }
    let matches = w
        .shared
        .passwords
        .verify_async(old, user.password_hash.clone())
        .await;
    if !matches {
        w.throttle.failure(account);
        w.throttle.failure(client);
        return Err(bad_request("The password supplied does not match."));
    }
    w.throttle.success(&account);

    let hash = hash_password(w, &new).await?;
    users::set_password_hash(&w.system, user.id, &hash)
        .await
        .map_err(|e| db_error(&e))?;
    // The token used here is revoked by its id as well: the user-wide cutoff has one-second
    // resolution and this token may have been issued in the same second.
    revoke(w, &claims).await?;
    revoke_user_sessions(w, user.id).await?;
    if flag(query, &body, "login") {
        return Ok(success_with_session(new_session(w, user).await));
    }
    Ok(success())
}
