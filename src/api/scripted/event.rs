//! The JSON a script sees (`event.request`, `event.response`, `platform.session`) and the
//! responses made of what it leaves or returns.

use std::borrow::Cow;
use std::rc::Rc;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use serde_json::{json, Map, Value as Json};

use crate::api::caller::Caller;
use crate::api::services::ServiceCall;
use crate::envelope::ApiError;
use crate::http::response::{Body, TEXT};
use crate::http::Response;
use crate::runtime::Worker;
use crate::scripts::{RequestParts, ScriptError};

/// DreamFactory's `event.request`: its `parameters` (by name, the first of repeated ones) and
/// `headers` (lower-case names) as pairs the engine makes objects of only when a script reads
/// them; the payload parsed when it is JSON, else its text.
pub fn request(call: &ServiceCall<'_>) -> RequestParts {
    let payload = if call.body.is_empty() {
        Json::Null
    } else {
        serde_json::from_slice(call.body)
            .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(call.body).into_owned()))
    };
    // Platform.api calls have no HTTP request: their URI is made from the path.
    let uri = match call.request {
        Some(req) => Cow::Borrowed(req.path()),
        None => Cow::Owned(format!("/api/v2/{}/{}", call.service, call.resource)),
    };
    let (head_bytes, headers) = call.request.map_or((0, 0), |req| {
        req.headers().fold((0, 0), |(bytes, n), (name, value)| {
            (bytes + name.len() + value.len(), n + 1)
        })
    });
    // The scalars, the head's pairs, and room for a few parameters.
    let bytes = uri.len() + call.service.len() + call.resource.len() + head_bytes + 64;
    let mut parts = RequestParts::new(verb_name(call.method), payload, bytes, headers + 4);
    for scalar in [&*uri, call.service, call.resource] {
        parts.push(scalar.as_bytes());
    }
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in call.query.iter() {
        if !seen.contains(&name) {
            seen.push(name);
            parts.push_parameter(name, value);
        }
    }
    if let Some(req) = call.request {
        for (name, value) in req.headers() {
            parts.push_header(name, value);
        }
    }
    parts
}

fn verb_name(m: crate::http::Method) -> &'static str {
    use crate::http::Method::*;
    match m {
        Get => "GET",
        Head => "HEAD",
        Post => "POST",
        Put => "PUT",
        Patch => "PATCH",
        Delete => "DELETE",
        Options => "OPTIONS",
        Other => "OTHER",
    }
}

/// The last session text a core made, and what it was made from.
#[derive(Default)]
pub struct SessionCache(std::cell::RefCell<Option<CachedSession>>);

struct CachedSession {
    token: Option<String>,
    api_key: Option<String>,
    app: Option<(i64, Option<i64>)>,
    /// Roles and their names come from the snapshot.
    generation: u64,
    text: Rc<str>,
}

/// `platform.session` as JSON text: who the call is from, as far as it is known. The same
/// caller under the same snapshot gets the text made last time.
pub fn session(worker: &Worker, caller: &Caller<'_>) -> Rc<str> {
    let generation = worker.snapshot().generation;
    let mut cache = worker.script_session.0.borrow_mut();
    if let Some(c) = cache.as_ref() {
        if c.generation == generation
            && c.token.as_deref() == caller.token.as_deref()
            && c.api_key.as_deref() == caller.api_key.as_deref()
            && c.app == caller.app
        {
            return Rc::clone(&c.text);
        }
    }
    let text: Rc<str> = make_session(worker, caller).into();
    *cache = Some(CachedSession {
        token: caller.token.as_deref().map(str::to_owned),
        api_key: caller.api_key.as_deref().map(str::to_owned),
        app: caller.app,
        generation,
        text: Rc::clone(&text),
    });
    text
}

fn make_session(worker: &Worker, caller: &Caller<'_>) -> String {
    #[derive(serde::Serialize)]
    struct User<'a> {
        id: i64,
        email: &'a str,
        is_sys_admin: bool,
    }
    #[derive(serde::Serialize)]
    struct Role<'a> {
        id: i64,
        name: Option<&'a str>,
    }
    #[derive(serde::Serialize)]
    struct App {
        id: i64,
    }
    #[derive(serde::Serialize)]
    struct Session<'a> {
        user: Option<User<'a>>,
        role: Option<Role<'a>>,
        app: Option<App>,
        api_key: Option<&'a str>,
        session_token: Option<&'a str>,
    }
    let snapshot = worker.snapshot();
    let authz = &snapshot.authz;
    let session = Session {
        user: caller.claims.as_ref().map(|c| User {
            id: c.user_id,
            email: &c.email,
            is_sys_admin: c.is_sys_admin,
        }),
        role: caller.role_id(authz).map(|id| Role {
            id,
            name: authz.access.role(id).map(|r| r.name.as_str()),
        }),
        app: caller.app.map(|(id, _)| App { id }),
        api_key: caller.api_key.as_deref(),
        session_token: caller.token.as_deref(),
    };
    serde_json::to_string(&session).unwrap_or_else(|_| "null".into())
}

/// The body a modified `event.request.payload` stands for.
pub fn payload_bytes(payload: Option<&Json>) -> Vec<u8> {
    match payload {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::String(s)) => s.clone().into_bytes(),
        Some(other) => serde_json::to_vec(other).unwrap_or_default(),
    }
}

/// The query string a modified `event.request.parameters` stands for.
pub fn query_text(parameters: Option<&Json>) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    if let Some(Json::Object(params)) = parameters {
        for (k, v) in params {
            match v {
                Json::Null => continue,
                Json::String(s) => out.append_pair(k, s),
                other => out.append_pair(k, &other.to_string()),
            };
        }
    }
    out.finish()
}

/// `{status_code, content, content_type, headers}` of a response, and the response itself
/// (its body now whole) for when the script does not replace it.
pub async fn response_json(response: Response) -> (Json, Response) {
    let Response {
        status,
        content_type,
        headers,
        body,
        close,
    } = response;
    let (bytes, body) = match body {
        Body::Empty => (Bytes::new(), Body::Empty),
        Body::Full(b) => (b.clone(), Body::Full(b)),
        Body::Stream(mut chunks) => {
            let mut buf = BytesMut::new();
            while let Some(chunk) = chunks.next().await {
                match chunk {
                    Ok(c) => buf.extend_from_slice(&c),
                    Err(e) => {
                        let message = format!("The response failed: {e}");
                        let r = Response::error(&ApiError::new(500, message.clone()));
                        return (json!({"status_code": 500, "content": message}), r);
                    }
                }
            }
            let b = buf.freeze();
            (b.clone(), Body::Full(b))
        }
    };
    let json_body = content_type.is_none_or(|t| t.contains("json"));
    let content = if bytes.is_empty() {
        Json::Null
    } else if json_body {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(&bytes).into_owned()))
    } else {
        Json::String(String::from_utf8_lossy(&bytes).into_owned())
    };
    let header_map: Map<String, Json> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), Json::String(v.to_string())))
        .collect();
    let value = json!({
        "status_code": status,
        "content": content,
        "content_type": content_type,
        "headers": header_map,
    });
    let rebuilt = Response {
        status,
        content_type,
        headers,
        body,
        close,
    };
    (value, rebuilt)
}

/// The response a script gave: a returned object with `content` or `status_code`, else the
/// `response` it left in the event. `None`: the script gave none.
pub fn short_circuit(returned: &Json, left: Option<&Json>) -> Option<Response> {
    let is_response = |v: &Json| {
        v.as_object()
            .is_some_and(|o| o.contains_key("content") || o.contains_key("status_code"))
    };
    let given = if is_response(returned) {
        returned
    } else {
        left.filter(|v| v.is_object())?
    };
    let status = given
        .get("status_code")
        .and_then(Json::as_u64)
        .filter(|s| (100..=599).contains(s))
        .map_or(200, |s| s as u16);
    let content = given.get("content").unwrap_or(&Json::Null);
    let text_type = given
        .get("content_type")
        .and_then(Json::as_str)
        .is_some_and(|t| !t.contains("json"));
    let mut response = match content {
        Json::Null => Response::empty(status),
        Json::String(s) if text_type => {
            Response::new(status, Some(TEXT), Body::Full(s.clone().into()))
        }
        other => Response::json_value(status, other),
    };
    if let Some(Json::Object(headers)) = given.get("headers") {
        for (k, v) in headers {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            response = response.header(k.clone(), v);
        }
    }
    Some(response)
}

/// A failed script as an API error: its name and why are logged, the client gets the message.
pub fn error(e: &ScriptError) -> Response {
    tracing::warn!(script = %e.script_name(), error = %e, "script failed");
    let (message, code) = match e {
        ScriptError::Thrown { message, code, .. } => {
            (message.clone(), code.and_then(|c| u32::try_from(c).ok()))
        }
        other => (other.to_string(), None),
    };
    let mut err = ApiError::new(e.status(), message);
    if let Some(code) = code {
        err.code = code;
    }
    Response::error(&err)
}

pub fn error_message(status: u16, message: &'static str) -> Response {
    Response::error(&ApiError::new(status, message))
}
