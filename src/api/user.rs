//! DreamFactory's self-service user resources: `POST /api/v2/user/register` (open registration),
//! `/api/v2/user/profile` and `/api/v2/user/password`, and the system admins' twins
//! `/api/v2/system/admin/profile` and `/api/v2/system/admin/password` (`admin_only`).
//! Sessions themselves stay in [`super::session`]; this module reuses its token checks and
//! its session JSON so a login here looks exactly like one there.

mod password;
mod profile;
mod register;

use serde_json::{Map, Value as Json};

use super::Query;
use crate::envelope::ApiError;
use crate::http::{Method, Request, Response};
use crate::runtime::Worker;

pub use password::handle as password;
pub use profile::handle as profile;
pub use register::handle as register;

/// The minimum a new password must have, the same rule as for the first admin's.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Longest email and name fields: the columns are `VARCHAR(255)`.
const MAX_FIELD_CHARS: usize = 255;

/// DreamFactory answers PUT and PATCH on these resources as POST (its `verbAliases`).
fn is_write(method: Method) -> bool {
    matches!(method, Method::Post | Method::Put | Method::Patch)
}

fn method_not_allowed(method: Method, allow: &'static str) -> Response {
    Response::error(&ApiError::new(
        405,
        format!("{method} is not supported on this resource."),
    ))
    .header("Allow", allow)
}

fn bad_request(message: impl Into<std::borrow::Cow<'static, str>>) -> Response {
    Response::error(&ApiError::bad_request(message))
}

/// DreamFactory's validation failure: 400 "Validation failed" with the messages per field.
fn validation_failed(field: &str, message: &str) -> Response {
    let context = serde_json::json!({ field: [message] });
    Response::error(&ApiError::bad_request("Validation failed").with_context(context))
}

/// The request body as a JSON object; an empty body is an empty object.
fn body_object(req: &Request<'_>) -> Result<Map<String, Json>, Response> {
    let body = req.body();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(_) => Err(bad_request("The request body must be a JSON object.")),
        Err(_) => Err(bad_request("Invalid JSON in the request body.")),
    }
}

/// A string field: absent and `null` are `None`; any other non-string is a 400 naming it.
fn text_field<'b>(body: &'b Map<String, Json>, name: &str) -> Result<Option<&'b str>, Response> {
    match body.get(name) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(validation_failed(
            name,
            &format!("The {name} must be a string."),
        )),
    }
}

/// A name-like field, checked for length.
fn name_field(body: &Map<String, Json>, name: &str) -> Result<Option<String>, Response> {
    match text_field(body, name)? {
        Some(v) if v.chars().count() > MAX_FIELD_CHARS => Err(validation_failed(
            name,
            &format!("The {name} may not be greater than {MAX_FIELD_CHARS} characters."),
        )),
        Some(v) => Ok(Some(v.trim().to_string())),
        None => Ok(None),
    }
}

/// DreamFactory's boolean parameters (`?login=true`), from the query or else the body.
fn flag(query: &Query<'_>, body: &Map<String, Json>, name: &str) -> bool {
    let truthy = |s: &str| {
        matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "on" | "yes"
        )
    };
    match query.get(name) {
        Some(v) => truthy(v),
        None => match body.get(name) {
            Some(Json::Bool(b)) => *b,
            Some(Json::Number(n)) => n.as_i64() == Some(1),
            Some(Json::String(s)) => truthy(s),
            _ => false,
        },
    }
}

/// A plausible address: one `@`, a local part of RFC 5322 `atext` and dots, a domain of
/// letters, digits, hyphens and dots. Stricter than the RFC (no quoted local parts, no IP
/// literals) on purpose: these addresses are login names.
fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
    let dotted = |s: &str, ok: &dyn Fn(char) -> bool| {
        !s.is_empty()
            && s.split('.')
                .all(|part| !part.is_empty() && part.chars().all(ok))
    };
    email.len() <= MAX_FIELD_CHARS
        && local.len() <= 64
        && dotted(local, &atext)
        && dotted(domain, &|c: char| c.is_ascii_alphanumeric() || c == '-')
}

/// The email field, trimmed and validated.
fn email_field(body: &Map<String, Json>) -> Result<Option<String>, Response> {
    match text_field(body, "email")?.map(str::trim) {
        None | Some("") => Ok(None),
        Some(e) if valid_email(e) => Ok(Some(e.to_string())),
        Some(_) => Err(validation_failed(
            "email",
            "The email must be a valid email address.",
        )),
    }
}

/// A new password's rules, as DreamFactory's validation message for `field`.
fn check_new_password(field: &str, password: &str) -> Result<(), Response> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(validation_failed(
            field,
            &format!("The {field} must be at least {MIN_PASSWORD_CHARS} characters."),
        ));
    }
    if password.len() > crate::auth::password::MAX_PASSWORD_BYTES {
        return Err(validation_failed(
            field,
            &format!(
                "The {field} may not be greater than {} bytes.",
                crate::auth::password::MAX_PASSWORD_BYTES
            ),
        ));
    }
    Ok(())
}

/// Hashes a new password off the event loop.
async fn hash_password(w: &Worker, password: &str) -> Result<String, Response> {
    w.shared
        .passwords
        .hash_async(password.to_string())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "cannot hash a new password");
            Response::error(&ApiError::new(500, "The password could not be stored."))
        })
}

fn db_error(e: &percore_connector::DbError) -> Response {
    Response::error(&crate::services::db::error::db_error(e))
}

fn success() -> Response {
    Response::json_value(200, &serde_json::json!({ "success": true }))
}

/// DreamFactory's answer to a write that logs in: `success` and the session (a superset of
/// its `{"success":true,"session_token":..}`, shaped like `POST user/session`).
fn success_with_session(mut session: Json) -> Response {
    if let Some(map) = session.as_object_mut() {
        map.insert("success".into(), Json::Bool(true));
    }
    Response::json_value(200, &session)
}

#[cfg(test)]
mod tests {
    use super::valid_email;

    #[test]
    fn emails_are_checked_for_shape() {
        for ok in [
            "a@b.co",
            "o'brien+x@example.com",
            "a.b@sub.example-x.org",
            "a@localhost",
        ] {
            assert!(valid_email(ok), "{ok}");
        }
        for bad in [
            "", "a", "@b.co", "a@", "a@@b.co", "a b@c.d", "a@b..c", ".a@b.c", "a@b.c.", "a\"@b.c",
            "a@b_c.d", "a@b.c;", "a\n@b.c",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }
}
