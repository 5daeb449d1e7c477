//! The cost of a pre_process event script per request, through the script layer: the `event`
//! built as the pipeline builds it (method, URI, parameters, headers, payload), the call on a
//! per-core QuickJS engine with the compiled script cached, the event read back (the script may
//! modify it) and the modified request's parameters and payload turned back into a query
//! string and body. The target is 20 µs per request on one core. A no-op script and a
//! scripted service's bare call are measured beside it for scale.

use std::hint::black_box;
use std::rc::Rc;

use criterion::{criterion_group, criterion_main, Criterion};
use percore::scripts::{Call, Limits, QuickJs, RequestParts, Script, ScriptEngine, Step};
use serde_json::{json, Value};

fn event() -> Value {
    json!({"request": {
        "api_version": "2.0",
        "method": "GET",
        "uri": "/api/v2/db/_table/contact",
        "service": "db",
        "resource": "_table/contact",
        "parameters": {"filter": "age >= 30", "limit": "10", "order": "last_name"},
        "headers": {
            "host": "127.0.0.1:8080",
            "user-agent": "wrk",
            "accept": "application/json",
            "x-dreamfactory-session-token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        },
        "payload": null,
        "content_type": "application/json",
    }})
}

fn borrow(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// The same request as the pipeline hands it over: scalars, and the parameters and headers as
/// pairs the engine makes objects of only when a script reads them. Built once; each call gets
/// a copy (two allocations and copies, as the pipeline's own building makes).
fn parts() -> RequestParts {
    let request = event()["request"].take();
    let pairs = |member: &str| -> Vec<(String, String)> {
        let object = request[member].as_object().cloned().unwrap_or_default();
        object
            .into_iter()
            .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned()))
            .collect()
    };
    let (parameters, headers) = (pairs("parameters"), pairs("headers"));
    RequestParts::from_parts(
        "GET",
        [
            request["uri"].as_str().unwrap_or_default(),
            "db",
            "_table/contact",
        ],
        &borrow(&parameters),
        &borrow(&headers),
        Value::Null,
    )
}

/// Built once: a core reuses the session text for every call from the same caller.
fn session() -> Rc<str> {
    json!({"user": {"id": 1, "email": "admin@example.com", "is_sys_admin": true},
           "role": null, "app": null, "api_key": null, "session_token": "t"})
    .to_string()
    .into()
}

/// One pre_process call as the pipeline makes it, modification allowed.
fn pre_process(
    engine: &QuickJs,
    script: &Script,
    parts: &RequestParts,
    session: &Rc<str>,
) -> (String, Vec<u8>) {
    let call = Call {
        script,
        event: json!({}),
        request: Some(parts.clone()),
        session: Rc::clone(session),
        limits: Limits::default(),
        want_event: true,
    };
    let Ok(Step::Done(outcome)) = engine.start(call) else {
        panic!("the script did not finish")
    };
    let mut event = outcome.event.expect("the event back");
    let request = event["request"].take();
    let mut query = String::new();
    if let Some(params) = request["parameters"].as_object() {
        let mut s = form_urlencoded_like(&mut query);
        for (k, v) in params {
            s(k, v.as_str().unwrap_or_default());
        }
    }
    let body = match &request["payload"] {
        Value::Null => Vec::new(),
        other => serde_json::to_vec(other).unwrap_or_default(),
    };
    (query, body)
}

/// The pipeline uses `form_urlencoded`; the bench crate does not depend on it, and escaping
/// these plain values is no part of the cost being measured.
fn form_urlencoded_like(out: &mut String) -> impl FnMut(&str, &str) + '_ {
    move |k, v| {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
}

fn scripts(c: &mut Criterion) {
    let engine = QuickJs::new().expect("engine");
    let (parts, session) = (parts(), session());
    let adds = Script::new(
        "db._table.contact.get.pre_process",
        "event.request.parameters.fields = 'id,first_name';",
    );
    let noop = Script::new("db._table.contact.get.post_process", "");
    let mut g = c.benchmark_group("pre_process script per request");
    g.bench_function("adds a parameter (modification allowed)", |b| {
        b.iter(|| black_box(pre_process(&engine, &adds, &parts, &session)))
    });
    g.bench_function("empty script (no modification)", |b| {
        b.iter(|| {
            let call = Call {
                script: &noop,
                event: json!({}),
                request: Some(parts.clone()),
                session: Rc::clone(&session),
                limits: Limits::default(),
                want_event: false,
            };
            black_box(engine.start(call).is_ok())
        })
    });
    g.finish();
    let service = Script::new("math", "return {sum: 1 + 2};");
    c.bench_function("scripted service call, bare", |b| {
        b.iter(|| black_box(engine.run(&service, Value::Null, Limits::default())))
    });
}

criterion_group!(benches, scripts);
criterion_main!(benches);
