//! `platform.api` in steps, `platform.session`, `platform.store`, and the event read back.

use std::time::Duration;

use serde_json::json;

use super::QuickJs;
use crate::scripts::{Call, Limits, Outcome, Script, ScriptEngine, ScriptError, Step};

fn call<'a>(script: &'a Script, event: serde_json::Value, want_event: bool) -> Call<'a> {
    Call {
        script,
        event,
        request: None,
        session: json!({"user": {"id": 7}}).to_string().into(),
        limits: Limits::default(),
        want_event,
    }
}

fn done(step: Result<Step, ScriptError>) -> Outcome {
    match step {
        Ok(Step::Done(o)) => o,
        other => panic!("expected a finished call, got {other:?}"),
    }
}

#[test]
fn awaited_api_calls_resume_with_answers() {
    let engine = QuickJs::new().unwrap();
    let script = Script::new(
        "t",
        "const a = await platform.api.get('db/_table/x', null, {parameters:{limit:1}});
         const b = await platform.api.post('db/_table/y', {n: a.content.n + 1});
         return [a.status_code, b.content, platform.session.user.id];",
    );
    let Step::Waiting { call: id, requests } =
        engine.start(call(&script, json!({}), false)).unwrap()
    else {
        panic!("expected to wait")
    };
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "db/_table/x");
    assert_eq!(
        requests[0].options,
        Some(json!({"parameters": {"limit": 1}}))
    );
    let answer = json!({"status_code": 200, "content": {"n": 1}});
    let Step::Waiting {
        call: id2,
        requests,
    } = engine.resume(id, vec![(requests[0].id, answer)]).unwrap()
    else {
        panic!("expected to wait again")
    };
    assert_eq!(id, id2);
    assert_eq!(requests[0].payload.as_deref(), Some(r#"{"n":2}"#));
    // Another call runs while the first one waits.
    assert_eq!(
        engine.run(
            &Script::new("other", "return 1;"),
            json!({}),
            Limits::default()
        ),
        Ok(json!(1))
    );
    let answer = json!({"status_code": 201, "content": "ok"});
    let out = done(engine.resume(id, vec![(requests[0].id, answer)]));
    assert_eq!(out.value, json!([200, "ok", 7]));
    assert_eq!(engine.waiting(), 0);
}

#[test]
fn fire_and_forget_requests_are_still_made() {
    let engine = QuickJs::new().unwrap();
    let script = Script::new("t", "platform.api.delete('db/_table/x/1'); return 5;");
    let Step::Waiting { call: id, requests } =
        engine.start(call(&script, json!({}), false)).unwrap()
    else {
        panic!("expected to wait")
    };
    assert_eq!(requests[0].method, "DELETE");
    let out = done(engine.resume(id, vec![(requests[0].id, json!({}))]));
    assert_eq!(out.value, json!(5));
}

#[test]
fn rejected_async_body_is_an_error_and_abandon_forgets() {
    let engine = QuickJs::new().unwrap();
    let script = Script::new("t", "await null; throw {message: 'no', status_code: 409};");
    let err = engine.start(call(&script, json!({}), false)).unwrap_err();
    assert_eq!(err.status(), 409);
    let script = Script::new("t2", "await platform.api.get('x'); return 1;");
    let Step::Waiting { call: id, .. } = engine.start(call(&script, json!({}), false)).unwrap()
    else {
        panic!("expected to wait")
    };
    engine.abandon(id);
    assert_eq!(engine.waiting(), 0);
    assert!(engine.resume(id, vec![]).is_err());
}

#[test]
fn event_is_read_back_when_wanted() {
    let engine = QuickJs::new().unwrap();
    let script = Script::new("t", "event.request.payload.added = true;");
    let out = done(engine.start(call(&script, json!({"request": {"payload": {}}}), true)));
    assert_eq!(
        out.event,
        Some(json!({"request": {"payload": {"added": true}}}))
    );
    assert_eq!(out.value, json!(null));
}

#[test]
fn time_spent_waiting_does_not_count() {
    let engine = QuickJs::new().unwrap();
    let script = Script::new("t", "await platform.api.get('x'); return 1;");
    let mut c = call(&script, json!({}), false);
    c.limits = Limits {
        time: Duration::from_millis(50),
    };
    let Step::Waiting { call: id, requests } = engine.start(c).unwrap() else {
        panic!("expected to wait")
    };
    std::thread::sleep(Duration::from_millis(80));
    let out = done(engine.resume(id, vec![(requests[0].id, json!({}))]));
    assert_eq!(out.value, json!(1));
}

#[test]
fn store_is_shared_across_engines() {
    let a = QuickJs::new().unwrap();
    let b = QuickJs::new().unwrap();
    let set = Script::new("s", "platform.store.set('k-test', {v: [1]}); return true;");
    let get = Script::new("g", "return platform.store.get('k-test');");
    assert_eq!(a.run(&set, json!({}), Limits::default()), Ok(json!(true)));
    assert_eq!(
        b.run(&get, json!({}), Limits::default()),
        Ok(json!({"v": [1]}))
    );
}

fn parts() -> crate::scripts::RequestParts {
    crate::scripts::RequestParts::from_parts(
        "GET",
        ["/api/v2/db/_table/t", "db", "_table/t"],
        &[("limit", "5")],
        &[("X-A", "1")],
        serde_json::Value::Null,
    )
}

#[test]
fn the_request_reads_and_copies_as_a_plain_object() {
    let engine = QuickJs::new().unwrap();
    // Read without modification: lazy members and prototype constants read like own ones.
    let reader = Script::new(
        "db._table.t.get.pre_process",
        "return [event.request.method, event.request.parameters.limit, event.request.headers['x-a'],
                 event.request.api_version, JSON.parse(JSON.stringify(event.request)).headers];",
    );
    let mut c = call(&reader, json!({}), false);
    c.request = Some(parts());
    assert_eq!(
        done(engine.start(c)).value,
        json!(["GET", "5", "1", "2.0", {"x-a": "1"}])
    );
    // A modifying script may copy the request: every member comes along.
    let copier = Script::new(
        "db._table.t.get.post_process",
        "const r = {...event.request}; r.parameters.limit = '9'; event.request = r;
         return Object.keys(r).sort();",
    );
    let mut c = call(&copier, json!({}), true);
    c.request = Some(parts());
    let outcome = done(engine.start(c));
    assert_eq!(
        outcome.value,
        json!([
            "api_version",
            "content_type",
            "headers",
            "method",
            "parameters",
            "payload",
            "resource",
            "service",
            "uri"
        ])
    );
    // `headers` is read on demand in a modifiable request too; a copy shares it, as a shallow
    // copy of a plain object would.
    let headers = Script::new(
        "db._table.t.get.pre_process",
        "const copy = {...event.request}; event.request.headers['x-b'] = '2';
         return [copy.headers['x-a'], event.request.headers, JSON.parse(JSON.stringify(copy)).headers];",
    );
    let mut c = call(&headers, json!({}), true);
    c.request = Some(parts());
    assert_eq!(
        done(engine.start(c)).value,
        json!(["1", {"x-a": "1", "x-b": "2"}, {"x-a": "1", "x-b": "2"}])
    );
    // Read back: what the pipeline acts on.
    assert_eq!(
        outcome.event,
        Some(json!({"request": {"parameters": {"limit": "9"}, "payload": null}}))
    );
}

#[test]
fn a_request_kept_past_its_call_still_reads_its_own_parts() {
    let engine = QuickJs::new().unwrap();
    // Unmodifiable: members are read from the host object on demand. One call keeps its
    // request; the next, with another request, reads the kept one's unread members.
    let keep = Script::new(
        "keep",
        "if (globalThis.kept === undefined) { globalThis.kept = event.request; return null; }
         event.request.uri = 'changed';
         const frozen = Object.freeze(event.request);
         return [kept.uri, kept.resource, kept.parameters.limit, event.request.uri,
                 event.request.service, Object.create(event.request).method === undefined,
                 frozen.headers];",
    );
    let mut first = call(&keep, json!({}), false);
    first.request = Some(parts());
    assert_eq!(done(engine.start(first)).value, json!(null));
    let mut second = call(&keep, json!({}), false);
    second.request = Some(crate::scripts::RequestParts::from_parts(
        "POST",
        ["/api/v2/other/x", "other", "x"],
        &[],
        &[],
        serde_json::Value::Null,
    ));
    assert_eq!(
        done(engine.start(second)).value,
        json!([
            "/api/v2/db/_table/t",
            "_table/t",
            "5",
            "changed",
            "other",
            true,
            {}
        ])
    );
}

#[test]
fn each_call_sees_its_own_session() {
    let engine = QuickJs::new().unwrap();
    let who = Script::new("who", "return platform.session.user.id;");
    let broken = Script::new("broken", "throw 'no';");
    let as_user = |script: &Script, id: i64| {
        let mut c = call(script, json!({}), false);
        c.session = json!({"user": {"id": id}}).to_string().into();
        engine.start(c)
    };
    assert_eq!(done(as_user(&who, 1)).value, json!(1));
    assert_eq!(done(as_user(&who, 2)).value, json!(2));
    // The same session again is not sent again, and still read right.
    assert_eq!(done(as_user(&who, 2)).value, json!(2));
    assert!(as_user(&broken, 3).is_err());
    assert_eq!(done(as_user(&who, 3)).value, json!(3));
    assert_eq!(done(as_user(&who, 1)).value, json!(1));
}

#[test]
fn requests_kept_by_a_script_count_against_the_memory_limit() {
    let options = super::QuickJsOptions {
        memory_limit: 4 << 20,
        ..Default::default()
    };
    let engine = QuickJs::with_options(options).unwrap();
    let hoarder = Script::new("hoard", "(globalThis.kept ??= []).push(event.request);");
    let big = "x".repeat(64 << 10);
    let with_big_request = |script: &Script| {
        let mut c = call(script, json!({}), false);
        c.request = Some(crate::scripts::RequestParts::from_parts(
            "GET",
            ["/api/v2/db/_table/t", "db", "_table/t"],
            &[],
            &[("x-big", &big)],
            serde_json::Value::Null,
        ));
        engine.start(c)
    };
    // A request nobody keeps is given back when its call ends.
    let reader = Script::new("reader", "return event.request.headers['x-big'].length;");
    assert_eq!(done(with_big_request(&reader)).value, json!(64 << 10));
    assert_eq!(engine.inner.borrow().held.bytes(), 0);
    let failed = (0..200).find_map(|_| with_big_request(&hoarder).err());
    assert_eq!(
        failed,
        Some(ScriptError::OutOfMemory {
            name: "hoard".into()
        }),
        "64 KiB kept per call must reach a 4 MiB limit within 200 calls"
    );
    // The runtime that held them was replaced; the next call runs.
    assert_eq!(engine.rebuilds(), 1);
    assert!(with_big_request(&hoarder).is_ok());
}
