//! `/api/v2/user/profile` and `/api/v2/system/admin/profile`: GET the session user's profile,
//! POST (PUT, PATCH) to change their names or email. Changing the email signs a new token,
//! as DreamFactory does, and revokes the user's older ones: they carry the old address, which
//! `{user.email}` filters would otherwise still see.

use serde_json::{json, Map, Value as Json};

use super::{
    bad_request, body_object, db_error, email_field, is_write, method_not_allowed, name_field,
    success, success_with_session, validation_failed,
};
use crate::api::session::{new_session, revoke, revoke_user_sessions, verified};
use crate::api::Query;
use crate::envelope::ApiError;
use crate::http::{Method, Request, Response};
use crate::runtime::Worker;
use crate::system::users::{self, ProfileChange, User};

/// DreamFactory profile fields percore has no column for. Sent with a value they are refused
/// rather than silently dropped; `null` (what GET returns for them) is fine.
const UNSUPPORTED: [&str; 5] = [
    "username",
    "phone",
    "security_question",
    "security_answer",
    "default_app_id",
];

pub async fn handle(
    w: &Worker,
    req: &Request<'_>,
    method: Method,
    query: &Query<'_>,
    admin_only: bool,
) -> Response {
    let reading = matches!(method, Method::Get | Method::Head);
    if !reading && !is_write(method) {
        return method_not_allowed(method, "GET, POST");
    }
    let (claims, user) = match verified(w, req, query, false).await {
        Ok(session) => session,
        Err(r) => return r,
    };
    if admin_only && !user.is_sys_admin {
        return Response::error(&ApiError::new(403, "Only system admins may do this."));
    }
    if reading {
        return Response::json_value(200, &profile_json(&user));
    }
    match update(w, req, &user).await {
        Ok(None) => success(),
        Ok(Some(updated)) => {
            // The email changed: every older token names the old one.
            if let Err(r) = revoke(w, &claims).await {
                return r;
            }
            if let Err(r) = revoke_user_sessions(w, user.id).await {
                return r;
            }
            success_with_session(new_session(w, updated).await)
        }
        Err(r) => r,
    }
}

/// DreamFactory's profile shape; the fields percore does not store are `null` or empty, as
/// DreamFactory shows them for a user who never set them.
fn profile_json(user: &User) -> Json {
    json!({
        "username": Json::Null,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "name": user.name,
        "email": user.email,
        "phone": Json::Null,
        "security_question": Json::Null,
        "default_app_id": Json::Null,
        "oauth_provider": "",
        "adldap": "",
    })
}

/// Applies the change; `Some(user)` (re-read) when the email changed.
async fn update(w: &Worker, req: &Request<'_>, user: &User) -> Result<Option<User>, Response> {
    let body = body_object(req)?;
    if body.is_empty() {
        return Err(bad_request("No data supplied for operation."));
    }
    refuse_unsupported(&body)?;
    let email = email_field(&body)?.filter(|e| e.to_lowercase() != user.email);
    let change = ProfileChange {
        email: email.clone(),
        name: name_field(&body, "name")?,
        first_name: name_field(&body, "first_name")?,
        last_name: name_field(&body, "last_name")?,
    };
    let taken = || {
        Err(validation_failed(
            "email",
            "The email has already been taken.",
        ))
    };
    if let Some(e) = &email {
        match users::by_email(&w.system, e).await {
            Ok(Some(other)) if other.id != user.id => return taken(),
            Ok(_) => {}
            Err(e) => return Err(db_error(&e)),
        }
    }
    match users::update_profile(&w.system, user.id, change).await {
        Ok(()) => {}
        Err(e) if e.kind == percore_connector::ErrorKind::Constraint => return taken(),
        Err(e) => return Err(db_error(&e)),
    }
    if email.is_none() {
        return Ok(None);
    }
    match users::by_id(&w.system, user.id).await {
        Ok(Some(updated)) => Ok(Some(updated)),
        Ok(None) => Err(Response::error(&ApiError::new(
            401,
            "The session's user no longer exists or is inactive.",
        ))),
        Err(e) => Err(db_error(&e)),
    }
}

fn refuse_unsupported(body: &Map<String, Json>) -> Result<(), Response> {
    let sent = |v: &Json| !v.is_null() && v.as_str() != Some("");
    match UNSUPPORTED.iter().find(|f| body.get(**f).is_some_and(sent)) {
        Some(field) => Err(bad_request(format!(
            "The profile field '{field}' is not supported by this server."
        ))),
        None => Ok(()),
    }
}
