//! Driving a script call to its end: run it, make the `platform.api` requests it waits for,
//! resume it with the answers, until it finishes.
//!
//! A request goes through [`dispatch`] like a client's, with the caller's credentials and
//! requestor SCRIPT, so the role's `requestor_mask` decides whether scripts may make it; no
//! HTTP loopback. Paths are DreamFactory's: `db/_table/todo`, `/api/v2/db/_table/todo` or a
//! full URL (its host is ignored: the call stays in this process), with a query string and/or
//! `options.parameters`. The system and user endpoints (`system/...`, `user/session`) are not
//! reachable this way. Requests a script makes at once are made one after another.
//!
//! A script calling an API whose script calls the API... is cut at [`MAX_DEPTH`].

use std::borrow::Cow;

use serde_json::{json, Value as Json};

use super::event;
use crate::api::caller::Caller;
use crate::api::services::{dispatch, ServiceCall};
use crate::api::Query;
use crate::auth::access::Requestor;
use crate::http::Method;
use crate::runtime::Worker;
use crate::scripts::{
    ApiRequest, Call, Limits, Outcome, QuickJs, Script, ScriptEngine, ScriptError, Step,
};

/// How deep `platform.api` calls may nest.
pub const MAX_DEPTH: u8 = 4;

pub struct Run<'a> {
    pub script: &'a Script,
    pub event: Json,
    pub request: Option<crate::scripts::RequestParts>,
    pub want_event: bool,
    pub limits: Limits,
}

/// Abandons the engine's waiting call if the request goes away while the script waits.
struct Waiting<'a> {
    engine: &'a QuickJs,
    call: Option<u64>,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.call {
            self.engine.abandon(id);
        }
    }
}

pub async fn run(
    worker: &Worker,
    call: &ServiceCall<'_>,
    run: Run<'_>,
) -> Result<Outcome, ScriptError> {
    let engine = &worker.scripts;
    let mut step = engine.start(Call {
        script: run.script,
        event: run.event,
        request: run.request,
        session: event::session(worker, call.caller),
        limits: run.limits,
        want_event: run.want_event,
    })?;
    let mut waiting = Waiting { engine, call: None };
    loop {
        match step {
            Step::Done(outcome) => return Ok(outcome),
            Step::Waiting { call: id, requests } => {
                waiting.call = Some(id);
                let mut answers = Vec::with_capacity(requests.len());
                for r in &requests {
                    answers.push((r.id, api(worker, call, r).await));
                }
                waiting.call = None;
                step = engine.resume(id, answers)?;
            }
        }
    }
}

fn answer(status: u16, message: &str) -> Json {
    json!({
        "status_code": status,
        "content": {"error": {"code": status, "message": message}},
        "headers": {},
    })
}

/// One `platform.api` request, answered `{status_code, content, content_type, headers}`;
/// failures come back in `content.error`, as DreamFactory's do, never thrown.
async fn api(worker: &Worker, parent: &ServiceCall<'_>, r: &ApiRequest) -> Json {
    if parent.depth >= MAX_DEPTH {
        return answer(500, "platform.api calls nest too deep.");
    }
    let method = match r.method.to_ascii_uppercase().as_str() {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "PATCH" | "MERGE" => Method::Patch,
        "DELETE" => Method::Delete,
        _ => return answer(400, "platform.api: unknown method."),
    };
    let (path, mut query_text) = split(&r.path);
    let params = r.options.as_ref().and_then(|o| o.get("parameters"));
    if let Some(Json::Object(params)) = params {
        let mut out = form_urlencoded::Serializer::for_suffix(query_text, 0);
        for (k, v) in params {
            match v {
                Json::String(s) => out.append_pair(k, s),
                other => out.append_pair(k, &other.to_string()),
            };
        }
        query_text = out.finish();
    }
    let query = Query::parse(&query_text);
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let (service, resource) = decoded.split_once('/').unwrap_or((&decoded, ""));
    if service.is_empty() {
        return answer(400, "platform.api: the path names no service.");
    }
    let from = parent.caller;
    let caller = Caller {
        claims: from.claims.clone(),
        token: from.token.as_deref().map(Cow::Borrowed),
        app: from.app,
        api_key: from.api_key.as_deref().map(Cow::Borrowed),
        requestor: Requestor::Script,
    };
    let call = ServiceCall {
        method,
        service,
        resource: resource.trim_matches('/'),
        query: &query,
        body: r.payload.as_deref().unwrap_or_default().as_bytes(),
        caller: &caller,
        request: None,
        depth: parent.depth + 1,
    };
    // Boxed: dispatch may run a script that calls here again.
    let response = Box::pin(dispatch(worker, &call)).await;
    event::response_json(response).await.0
}

/// `http://host/api/v2/db/_table/t?x=1` -> (`db/_table/t`, `x=1`).
fn split(path: &str) -> (&str, String) {
    let mut p = path;
    if let Some(i) = p.find("://") {
        p = &p[i + 3..];
        p = p.find('/').map_or("", |i| &p[i..]);
    }
    let (p, q) = p.split_once('?').unwrap_or((p, ""));
    let p = p.trim_start_matches('/');
    let p = p.strip_prefix("api/v2/").unwrap_or(p);
    (p.trim_end_matches('/'), q.to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_in_every_form() {
        assert_eq!(super::split("db/_table/t"), ("db/_table/t", String::new()));
        assert_eq!(
            super::split("/api/v2/db/_table/t?limit=1"),
            ("db/_table/t", "limit=1".to_owned())
        );
        assert_eq!(
            super::split("https://example.com/api/v2/math/add/"),
            ("math/add", String::new())
        );
    }
}
