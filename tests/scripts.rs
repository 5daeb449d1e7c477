//! Server-side JavaScript through the API: event scripts (pre/post, modification allowed and
//! not, short-circuit, exceptions), name-addressed `system/event_script`, scripted services,
//! `platform.api` as the caller (a role that forbids SCRIPT requests included), the store, the
//! limits (infinite loop, allocation bomb, a script that always throws) and a script changed
//! while requests are running.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::db::{call, create_contacts, ok};
use common::{Client, Server};
use serde_json::{json, Value};

fn put_script(c: &mut Client, name: &str, content: &str, modify: bool) {
    ok(call(
        c,
        "POST",
        &format!("system/event_script/{name}"),
        Some(
            json!({"type": "javascript", "content": content, "is_active": true,
                    "allow_event_modification": modify}),
        ),
    ));
}

fn service(c: &mut Client, name: &str, content: &str) {
    ok(call(
        c,
        "POST",
        "system/service",
        Some(json!({"resource": [{"name": name, "type": "javascript",
                    "config": {"content": content}}]})),
    ));
}

fn first_names(v: &Value) -> Vec<String> {
    let mut names: Vec<String> = v["resource"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|r| r["first_name"].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn event_scripts_hook_table_calls() {
    let server = Server::start(&[]);
    let mut c = server.admin();
    create_contacts(&mut c, "db", "contact");

    // pre_process with modification: the request's parameters change what the service does.
    let pre = "db._table.contact.get.pre_process";
    put_script(
        &mut c,
        pre,
        "event.request.parameters.filter = 'age > 40';",
        true,
    );
    let got = ok(call(
        &mut c,
        "GET",
        &format!("system/event_script/{pre}"),
        None,
    ));
    assert_eq!(got["name"], pre, "{got}");
    assert_eq!(got["allow_event_modification"], json!(true), "{got}");
    let v = ok(call(&mut c, "GET", "db/_table/contact", None));
    assert_eq!(first_names(&v), ["Alan", "Grace"]);

    // The generic post_process event sees (and may change) the response.
    put_script(
        &mut c,
        "db._table.{table_name}.get.post_process",
        "event.response.content.resource.forEach(r => { r.seen = event.request.method; });",
        true,
    );
    let v = ok(call(&mut c, "GET", "db/_table/contact", None));
    assert_eq!(v["resource"][0]["seen"], "GET", "{v}");

    // Without modification allowed the scripts run but change nothing. POST to the name of an
    // existing script updates it.
    put_script(
        &mut c,
        pre,
        "event.request.parameters.filter = 'age > 40';",
        false,
    );
    ok(call(
        &mut c,
        "PATCH",
        "system/event_script/db._table.{table_name}.get.post_process",
        Some(json!({"allow_event_modification": false})),
    ));
    let v = ok(call(&mut c, "GET", "db/_table/contact", None));
    assert_eq!(first_names(&v).len(), 4, "{v}");
    assert!(v["resource"][0].get("seen").is_none(), "{v}");

    // A pre_process script returning a response answers without the service.
    put_script(
        &mut c,
        "db._table.contact.post.pre_process",
        "return {status_code: 202, content: {queued: event.request.payload.resource.length}};",
        true,
    );
    let r = call(
        &mut c,
        "POST",
        "db/_table/contact",
        Some(json!({"resource": [{"first_name": "Nobody", "email": "n@x.io"}]})),
    );
    assert_eq!(r.status, 202);
    assert_eq!(r.json(), json!({"queued": 1}));
    let v = ok(call(&mut c, "GET", "db/_table/contact", None));
    assert_eq!(
        first_names(&v).len(),
        4,
        "the short-circuited POST stored nothing"
    );

    // A throw, or a returned exception, is an API error, whatever the modification flag.
    put_script(
        &mut c,
        "db._table.contact.delete.pre_process",
        "throw {message: 'No deletes here.', status_code: 403};",
        false,
    );
    let r = call(&mut c, "DELETE", "db/_table/contact/1", None);
    r.assert_error(403);
    assert_eq!(r.json()["error"]["message"], "No deletes here.");
    put_script(
        &mut c,
        "db._table.contact.patch.post_process",
        "return {exception: {message: 'conflict', status_code: 409}};",
        false,
    );
    call(
        &mut c,
        "PATCH",
        "db/_table/contact/1",
        Some(json!({"age": 37})),
    )
    .assert_error(409);

    // Inactive scripts do not run; deleted ones neither.
    ok(call(
        &mut c,
        "PATCH",
        "system/event_script/db._table.contact.delete.pre_process",
        Some(json!({"is_active": false})),
    ));
    ok(call(&mut c, "DELETE", "db/_table/contact/4", None));
    ok(call(
        &mut c,
        "DELETE",
        "system/event_script/db._table.contact.post.pre_process",
        None,
    ));
    ok(call(
        &mut c,
        "POST",
        "db/_table/contact",
        Some(json!({"resource": [{"first_name": "Kept", "email": "k@x.io"}]})),
    ));

    let events = ok(call(&mut c, "GET", "system/event", None));
    let listed = events["resource"].as_array().unwrap();
    assert!(listed.contains(&json!("db._table.contact.get.pre_process")));
    assert!(listed.contains(&json!("db._table.{table_name}.get.post_process")));
}

#[test]
fn scripted_services_platform_api_and_roles() {
    let server = Server::start(&[]);
    let mut c = server.admin();
    create_contacts(&mut c, "db", "contact");
    service(
        &mut c,
        "probe",
        "const r = await platform.api.get('db/_table/contact', null, {parameters: {fields: 'first_name', order: 'first_name'}});
         const s = platform.session;
         return {code: r.status_code, records: r.content.resource || r.content.error,
                 user: s.user && s.user.email, role: s.role && s.role.name,
                 resource: event.resource, x: event.request.parameters.x};",
    );
    let v = ok(call(&mut c, "GET", "probe/sub/path?x=1", None));
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(v["records"].as_array().unwrap().len(), 4, "{v}");
    assert_eq!(v["user"], common::ADMIN_EMAIL);
    assert_eq!(v["resource"], "sub/path");
    assert_eq!(v["x"], "1");

    // Two roles that may both call `probe` and read `db`; only the second lets scripts read it.
    let mut key_for = |role: &str, mask: u8| -> String {
        let r = ok(call(
            &mut c,
            "POST",
            "system/role",
            Some(json!({"resource": [{"name": role, "is_active": true,
                "role_service_access_by_role_id": [
                    {"service": "db", "component": "_table/*", "verb_mask": 1, "requestor_mask": mask},
                    {"service": "probe", "component": "*", "verb_mask": 1, "requestor_mask": 1}]}]})),
        ));
        let role_id = r["resource"][0]["id"].clone();
        let app = ok(call(
            &mut c,
            "POST",
            "system/app?fields=api_key",
            Some(
                json!({"resource": [{"name": format!("app-{role}"), "role_id": role_id, "is_active": true}]}),
            ),
        ));
        app["resource"][0]["api_key"].as_str().unwrap().to_owned()
    };
    let api_only = key_for("api-only", 1);
    let scripts_too = key_for("scripts-too", 3);
    let by_key = |key: &str, path: &str| {
        let raw = format!(
            "GET /api/v2/{path} HTTP/1.1\r\nHost: t\r\nX-DreamFactory-API-Key: {key}\r\n\r\n"
        );
        server.connect().roundtrip(raw.as_bytes())
    };
    // The role lets the app read the table directly, but not through a script.
    assert_eq!(by_key(&api_only, "db/_table/contact").status, 200);
    let v = ok(by_key(&api_only, "probe"));
    assert_eq!(v["code"], 403, "{v}");
    assert_eq!(v["role"], "api-only");
    let v = ok(by_key(&scripts_too, "probe"));
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(v["user"], Value::Null);

    // platform.store keeps values between calls; a returned response object is the response.
    service(
        &mut c,
        "counter",
        "const n = (platform.store.get('n') || 0) + 1; platform.store.set('n', n);
         return {status_code: 201, content: {n: n}, headers: {'X-Count': String(n)}};",
    );
    let r = call(&mut c, "GET", "counter", None);
    assert_eq!((r.status, r.json()), (201, json!({"n": 1})));
    let r = call(&mut c, "POST", "counter", None);
    assert_eq!(r.json(), json!({"n": 2}));
    assert_eq!(r.header("x-count"), Some("2"));

    // A script calling itself through platform.api is cut off rather than looping.
    service(
        &mut c,
        "again",
        "const r = await platform.api.get('again'); return {depth: (r.content.depth || 0) + 1, error: r.content.error};",
    );
    let v = ok(call(&mut c, "GET", "again", None));
    assert!(v["depth"].as_u64().unwrap() <= 5, "{v}");
}

#[test]
fn limits_fail_one_request_and_the_core_goes_on() {
    let server = Server::start(&[]);
    let mut c = server.admin();
    service(&mut c, "ok", "return {fine: true};");
    service(&mut c, "spin", "while (true) {}");
    service(
        &mut c,
        "bomb",
        "const keep = []; while (true) keep.push(new Array(100000).fill(keep.length));",
    );
    service(&mut c, "throws", "throw new Error('always fails');");

    let started = Instant::now();
    let r = call(&mut c, "GET", "spin", None);
    r.assert_error(504);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("time limit"),
        "{}",
        r.json()
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(ok(call(&mut c, "GET", "ok", None)), json!({"fine": true}));

    let r = call(&mut c, "GET", "bomb", None);
    r.assert_error(500);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("out of memory"),
        "{}",
        r.json()
    );
    assert_eq!(ok(call(&mut c, "GET", "ok", None)), json!({"fine": true}));

    for _ in 0..20 {
        let r = call(&mut c, "GET", "throws", None);
        r.assert_error(500);
        assert_eq!(r.json()["error"]["message"], "always fails");
    }
    assert_eq!(ok(call(&mut c, "GET", "ok", None)), json!({"fine": true}));

    // An event script's own time limit, from its config.
    create_contacts(&mut c, "db", "contact");
    ok(call(
        &mut c,
        "POST",
        "system/event_script/db._table.contact.get.pre_process",
        Some(
            json!({"type": "javascript", "is_active": true, "config": {"timeout_ms": 10},
                    "content": "const end = Date.now() + 50; while (Date.now() < end) {}"}),
        ),
    ));
    call(&mut c, "GET", "db/_table/contact", None).assert_error(504);
    assert_eq!(ok(call(&mut c, "GET", "ok", None)), json!({"fine": true}));
}

#[test]
fn a_changed_script_reaches_every_core_while_requests_run() {
    let server = Server::start_with(&[], &["--cores", "2"]);
    let mut c = server.admin();
    create_contacts(&mut c, "db", "contact");
    let name = "db._table.contact.get.post_process";
    put_script(&mut c, name, "event.response.content.v = 1;", true);

    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (stop, failures, done) = (stop.clone(), failures.clone(), done.clone());
            let token = server.admin_token();
            let addr = server.addr;
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                c.token = Some(token);
                while !stop.load(Ordering::Relaxed) {
                    let r = call(&mut c, "GET", "db/_table/contact", None);
                    if r.status != 200 {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    put_script(&mut c, name, "event.response.content.v = 2;", true);
    let changed = Instant::now();
    // Every core serves the new script within a second: fresh connections land on both.
    let mut streak = 0;
    while streak < 20 {
        let mut fresh = server.admin();
        let v = ok(call(&mut fresh, "GET", "db/_table/contact", None));
        streak = if v["v"] == 2 { streak + 1 } else { 0 };
        assert!(
            changed.elapsed() < Duration::from_secs(1),
            "old script still served: {v}"
        );
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    assert!(done.load(Ordering::Relaxed) > 20);
    assert_eq!(failures.load(Ordering::Relaxed), 0);
}

#[test]
fn scripts_see_the_request_as_sent() {
    let server = Server::start(&[]);
    let mut c = server.admin();
    service(
        &mut c,
        "echo",
        "return {h: event.request.headers, p: event.request.parameters, m: event.request.method,
                 u: event.request.uri, r: event.resource};",
    );
    let token = server.admin_token();
    let raw = format!(
        "GET /api/v2/echo/a/b?x=1&x=2&y=%22q%22 HTTP/1.1\r\nHost: t\r\nX-Quote: say \"hi\" \\ back\r\nX-DreamFactory-Session-Token: {token}\r\n\r\n"
    );
    let r = c.roundtrip(raw.as_bytes());
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    // Lower-case names; a value with quotes and a backslash arrives intact.
    assert_eq!(v["h"]["x-quote"], "say \"hi\" \\ back");
    assert_eq!(v["h"]["host"], "t");
    // The first of repeated parameters, decoded.
    assert_eq!(v["p"], json!({"x": "1", "y": "\"q\""}));
    assert_eq!(v["m"], "GET");
    assert_eq!(v["u"], "/api/v2/echo/a/b");
    assert_eq!(v["r"], "a/b");
}
