//! Scripts in the API pipeline: event scripts around a service's handler, and scripted
//! (`javascript`) services. [`super::services::dispatch`] comes here only when the snapshot
//! has an active script for the service, so calls on other services pay one set lookup.
//!
//! - pre_process runs after authorization with `event.request`. With
//!   `allow_event_modification` the request it leaves (`payload`, `parameters`) is the one the
//!   service gets, and the one a post_process script sees (other members it changes have no
//!   effect); a returned response (an object with `content` or `status_code`), or an
//!   `event.response` it sets, answers the call without the service.
//! - post_process runs with `event.request` and `event.response` (`status_code`, `content`,
//!   `content_type`, `headers`); with modification allowed, the response it leaves (or returns)
//!   is the answer. A streamed response is collected first, so a post_process script on a big
//!   query costs memory for the whole result.
//! - Whatever the modification flag, a script that throws, returns `{exception:{..}}` or runs
//!   past a limit answers with an error in the envelope (504 time, 500 memory, or the status it
//!   threw); the next request on the core runs normally.
//!
//! `platform.api` calls go back through [`super::services::dispatch`] with requestor SCRIPT and
//! the caller's credentials, see [`drive`].

mod drive;
mod event;

pub use event::SessionCache;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value as Json};

use super::services::{handle, ServiceCall};
use super::Query;
use crate::http::Response;
use crate::runtime::Worker;
use crate::scripts::events::Phase;
use crate::scripts::{Limits, Script};
use crate::services::db::filter::Expr;
use crate::services::ServiceDef;
use drive::Run;

/// A call on a service that has event scripts.
pub async fn around(
    worker: &Worker,
    call: &ServiceCall<'_>,
    role_filter: Option<&Expr>,
    def: &Arc<ServiceDef>,
) -> Response {
    let snapshot = worker.snapshot();
    let scripts = &snapshot.scripts;
    let pre = scripts.find(call.service, call.resource, call.method, Phase::Pre);
    let post = scripts.find(call.service, call.resource, call.method, Phase::Post);
    if pre.is_none() && post.is_none() {
        return handle(worker, call, def, role_filter).await;
    }
    let default_time = snapshot.config.scripts.time_limit;
    let mut parts = event::request(call);
    let mut request = Json::Null;
    let mut body: Option<Vec<u8>> = None;
    let mut query_text: Option<String> = None;
    if let Some(pre) = pre {
        let modify = pre.allow_event_modification;
        let run = Run {
            script: &pre.script,
            event: json!({}),
            // Cloned only when a post_process script needs the request again.
            request: Some(if post.is_some() {
                parts.clone()
            } else {
                std::mem::take(&mut parts)
            }),
            want_event: modify,
            limits: pre.limits(default_time),
        };
        let outcome = match drive::run(worker, call, run).await {
            Ok(o) => o,
            Err(e) => return event::error(&e),
        };
        let mut changed = outcome.event.unwrap_or(Json::Null);
        if modify {
            if let Some(answer) = event::short_circuit(&outcome.value, changed.get("response")) {
                return answer;
            }
        }
        if post.is_some() {
            request = parts.to_json();
        }
        if let Some(left @ Json::Object(_)) = changed.get_mut("request").map(Json::take) {
            body = Some(event::payload_bytes(left.get("payload")));
            query_text = Some(event::query_text(left.get("parameters")));
            // post_process sees the parameters and payload the service got.
            if let Json::Object(seen) = &mut request {
                for key in ["parameters", "payload"] {
                    seen.insert(key.into(), left.get(key).cloned().unwrap_or(Json::Null));
                }
            }
        }
    } else if post.is_some() {
        request = parts.to_json();
    }
    let query = query_text.as_deref().map(Query::parse);
    let modified = ServiceCall {
        query: query.as_ref().unwrap_or(call.query),
        body: body.as_deref().unwrap_or(call.body),
        ..*call
    };
    let response = handle(worker, &modified, def, role_filter).await;
    let Some(post) = post else {
        return response;
    };
    let (response_json, original) = event::response_json(response).await;
    let modify = post.allow_event_modification;
    let run = Run {
        script: &post.script,
        event: json!({ "request": request, "response": response_json }),
        request: None,
        want_event: modify,
        limits: post.limits(default_time),
    };
    match drive::run(worker, call, run).await {
        Err(e) => event::error(&e),
        Ok(outcome) if modify => {
            let left = outcome.event.as_ref().and_then(|e| e.get("response"));
            event::short_circuit(&outcome.value, left).unwrap_or(original)
        }
        Ok(_) => original,
    }
}

/// A call on a `javascript` service: its script answers. `event.resource` is the path after the
/// service name (`/api/v2/math/add` -> `add`); what the script returns is the response's
/// content, or the response itself when it has `content` or `status_code`.
pub async fn service(worker: &Worker, call: &ServiceCall<'_>, def: &Arc<ServiceDef>) -> Response {
    let c = &def.config.config;
    let Some(content) = c.content.as_deref() else {
        return event::error_message(500, "The service has no script.");
    };
    let time = c.timeout_ms.filter(|ms| *ms > 0).map_or(
        worker.snapshot().config.scripts.time_limit,
        Duration::from_millis,
    );
    // Named by the service: event scripts' names all have dots, service names never do.
    let script = Script::new(def.name.as_str(), content);
    let parts = event::request(call);
    let run = Run {
        script: &script,
        event: json!({
            "resource": call.resource,
            "service": call.service,
        }),
        request: Some(parts),
        want_event: false,
        limits: Limits { time },
    };
    match drive::run(worker, call, run).await {
        Err(e) => event::error(&e),
        Ok(outcome) => event::short_circuit(&outcome.value, None)
            .unwrap_or_else(|| Response::json_value(200, &outcome.value)),
    }
}
