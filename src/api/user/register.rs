//! `POST /api/v2/user/register`: open registration, when `auth.open_registration` allows it.
//! The new user is active, not a system admin, and gets `auth.registration_role_id`.

use serde_json::{Map, Value as Json};

use super::{
    body_object, check_new_password, db_error, email_field, flag, hash_password, is_write,
    method_not_allowed, name_field, success, success_with_session, text_field, validation_failed,
};
use crate::api::session::{new_session, throttled};
use crate::api::Query;
use crate::auth::throttle::ThrottleKey;
use crate::envelope::ApiError;
use crate::http::{Method, Request, Response};
use crate::runtime::Worker;
use crate::system::users::{self, NewUser};

const EMAIL_TAKEN: &str = "The email has already been taken.";

pub async fn handle(w: &Worker, req: &Request<'_>, method: Method, query: &Query<'_>) -> Response {
    if !is_write(method) {
        return method_not_allowed(method, "POST");
    }
    let (open, role_id) = {
        let snapshot = w.snapshot();
        let auth = &snapshot.config.auth;
        (auth.open_registration, auth.registration_role_id)
    };
    if !open {
        return Response::error(&ApiError::new(
            403,
            "Open registration for users is not currently enabled for this system.",
        ));
    }
    let client = ThrottleKey::client(req.peer().ip());
    if let Some(refused) = throttled(&w.registrations, &[&client]) {
        return refused;
    }
    match register(w, req, query, role_id, client).await {
        Ok(r) | Err(r) => r,
    }
}

async fn register(
    w: &Worker,
    req: &Request<'_>,
    query: &Query<'_>,
    role_id: Option<i64>,
    client: ThrottleKey,
) -> Result<Response, Response> {
    let body = body_object(req)?;
    let Some(email) = email_field(&body)? else {
        return Err(validation_failed("email", "The email field is required."));
    };
    let password = match text_field(&body, "new_password")? {
        Some(p) => Some(p),
        None => text_field(&body, "password")?,
    };
    let Some(password) = password.filter(|p| !p.is_empty()) else {
        return Err(validation_failed(
            "password",
            "The password field is required.",
        ));
    };
    if text_field(&body, "password_confirmation")?.is_some_and(|c| c != password) {
        return Err(validation_failed(
            "password",
            "The password confirmation does not match.",
        ));
    }
    check_new_password("password", password)?;
    let names = Names::from_body(&body, &email)?;

    // Every attempt that gets this far costs a lookup and a hash, and tells whether an address
    // is taken, so every one counts against the client, not only failures.
    w.registrations.failure(client);
    let taken = || Err(validation_failed("email", EMAIL_TAKEN));
    if users::by_email(&w.system, &email)
        .await
        .map_err(|e| db_error(&e))?
        .is_some()
    {
        return taken();
    }
    let hash = hash_password(w, password).await?;
    let new_user = NewUser {
        email: &email,
        password_hash: &hash,
        first_name: &names.first,
        last_name: &names.last,
        name: Some(&names.display),
        is_sys_admin: false,
        role_id,
    };
    let id = match users::create(&w.system, &new_user).await {
        Ok(id) => id,
        // Registered by a concurrent request between the lookup and the insert.
        Err(e) if e.kind == percore_connector::ErrorKind::Constraint => return taken(),
        Err(e) => return Err(db_error(&e)),
    };
    if !flag(query, &body, "login") {
        return Ok(success());
    }
    match users::by_id(&w.system, id).await {
        Ok(Some(user)) => Ok(success_with_session(new_session(w, user).await)),
        Ok(None) => Err(Response::error(&ApiError::new(
            500,
            "The new user could not be read back.",
        ))),
        Err(e) => Err(db_error(&e)),
    }
}

/// First, last and display names with DreamFactory's defaults: a missing first name is the
/// email's local part; a missing last name is split off a dotted first name (`ada.lovelace`)
/// or else repeats it; a missing display name is `first last`.
struct Names {
    first: String,
    last: String,
    display: String,
}

impl Names {
    fn from_body(body: &Map<String, Json>, email: &str) -> Result<Self, Response> {
        let given = |name: &str| -> Result<Option<String>, Response> {
            Ok(name_field(body, name)?.filter(|v| !v.is_empty()))
        };
        let mut first = given("first_name")?
            .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string());
        let last = match given("last_name")? {
            Some(last) => last,
            None => match first.split_once('.') {
                Some((head, tail)) => {
                    let tail = tail.split('.').next().unwrap_or_default().to_string();
                    first = head.to_string();
                    tail
                }
                None => first.clone(),
            },
        };
        let display = match given("name")? {
            Some(n) => n,
            None => given("display_name")?.unwrap_or_else(|| format!("{first} {last}")),
        };
        Ok(Names {
            first,
            last,
            display,
        })
    }
}
