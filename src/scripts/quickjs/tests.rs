use std::time::Duration;

use serde_json::json;

use super::{QuickJs, QuickJsOptions};
use crate::scripts::{Limits, Script, ScriptEngine, ScriptError};

fn run(
    engine: &QuickJs,
    source: &str,
    input: serde_json::Value,
) -> Result<serde_json::Value, ScriptError> {
    engine.run(&Script::new("test", source), input, Limits::default())
}

fn engine() -> QuickJs {
    QuickJs::new().expect("engine")
}

/// After any failure the engine must answer the next call normally.
fn assert_usable(engine: &QuickJs) {
    let out = engine.run(
        &Script::new("after", "return event.n + 1;"),
        json!({"n": 41}),
        Limits::default(),
    );
    assert_eq!(out, Ok(json!(42)));
}

#[test]
fn modifies_the_request_payload() {
    let engine = engine();
    let source = "event.request.payload.added = 'yes'; return event;";
    let input = json!({"request": {"method": "POST", "payload": {"name": "a"}}});
    let out = run(&engine, source, input).unwrap();
    assert_eq!(
        out,
        json!({"request": {"method": "POST", "payload": {"name": "a", "added": "yes"}}})
    );
}

#[test]
fn top_level_return_and_undefined() {
    let engine = engine();
    assert_eq!(
        run(&engine, "return [1, 'two', {three: 3}];", json!({})),
        Ok(json!([1, "two", {"three": 3}]))
    );
    assert_eq!(run(&engine, "var x = 1;", json!({})), Ok(json!(null)));
}

#[test]
fn thrown_bare_string() {
    let err = run(&engine(), "throw 'bare string';", json!({})).unwrap_err();
    assert_eq!(
        err,
        ScriptError::Thrown {
            name: "test".into(),
            message: "bare string".into(),
            status_code: None,
            code: None
        }
    );
    assert_eq!(err.status(), 500);
}

#[test]
fn thrown_error_object() {
    let engine = engine();
    let err = run(&engine, "throw new Error('x');", json!({})).unwrap_err();
    assert!(
        matches!(&err, ScriptError::Thrown { message, status_code: None, .. } if message == "x"),
        "{err:?}"
    );
    let source = "var e = new Error('gone'); e.status_code = 404; e.code = 7; throw e;";
    let err = run(&engine, source, json!({})).unwrap_err();
    assert!(
        matches!(
            &err,
            ScriptError::Thrown {
                status_code: Some(404),
                code: Some(7),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.status(), 404);
}

#[test]
fn returned_exception_object() {
    let source = "return {exception: {status_code: 422, message: 'bad'}};";
    let err = run(&engine(), source, json!({})).unwrap_err();
    assert_eq!(
        err,
        ScriptError::Thrown {
            name: "test".into(),
            message: "bad".into(),
            status_code: Some(422),
            code: None
        }
    );
    assert_eq!(err.status(), 422);
}

#[test]
fn infinite_loop_times_out_and_engine_recovers() {
    let engine = engine();
    let limits = Limits {
        time: Duration::from_millis(50),
    };
    // try/catch must not swallow the interrupt.
    let source = "while (true) { try { for (;;) {} } catch (e) {} }";
    let err = engine
        .run(&Script::new("spin", source), json!({}), limits)
        .unwrap_err();
    assert_eq!(
        err,
        ScriptError::Timeout {
            name: "spin".into(),
            limit: Duration::from_millis(50)
        }
    );
    assert_eq!(err.status(), 504);
    assert_usable(&engine);
    // The same cached script times out again rather than carrying state over.
    assert!(matches!(
        engine.run(&Script::new("spin", source), json!({}), limits),
        Err(ScriptError::Timeout { .. })
    ));
    assert_usable(&engine);
}

#[test]
fn allocation_bomb_fails_cleanly_and_engine_recovers() {
    let options = QuickJsOptions {
        memory_limit: 32 << 20,
        ..Default::default()
    };
    let engine = QuickJs::with_options(options).unwrap();
    let limits = Limits {
        time: Duration::from_secs(5),
    };
    let out_of_memory = |name: &str| ScriptError::OutOfMemory { name: name.into() };
    let bomb = "let a = []; while (true) a.push(new Array(1e6).fill(1));";
    let err = engine
        .run(&Script::new("bomb", bomb), json!({}), limits)
        .unwrap_err();
    assert_eq!(err, out_of_memory("bomb"));
    assert_eq!(err.status(), 500);
    assert_usable(&engine);
    // Small objects exhaust memory so fully that QuickJS cannot build its error and throws null.
    let small = "let a = []; while (true) a.push({});";
    let err = engine
        .run(&Script::new("small", small), json!({}), limits)
        .unwrap_err();
    assert_eq!(err, out_of_memory("small"));
    assert_usable(&engine);
    // Garbage held only by the script's locals is freed with them: no rebuild needed.
    assert_eq!(engine.rebuilds(), 0);
    // A bomb that parks its garbage in a global survives GC; the engine must rebuild its runtime.
    let leak = "globalThis.kept = []; while (true) kept.push(new Array(1e6).fill(1));";
    let err = engine
        .run(&Script::new("leak", leak), json!({}), limits)
        .unwrap_err();
    assert_eq!(err, out_of_memory("leak"));
    assert_eq!(engine.rebuilds(), 1);
    assert_usable(&engine);
    assert_eq!(
        run(&engine, "return typeof kept;", json!({})),
        Ok(json!("undefined"))
    );
}

#[test]
fn syntax_error_is_compile_error() {
    let engine = engine();
    let err = run(&engine, "return {;", json!({})).unwrap_err();
    assert!(
        matches!(&err, ScriptError::Compile { name, .. } if name == "test"),
        "{err:?}"
    );
    // The failure is cached like a success: the same broken source is not parsed again.
    assert_eq!(run(&engine, "return {;", json!({})), Err(err));
    assert_eq!(engine.compilations(), 1);
    // A body cannot close the function it is compiled into.
    let err = run(&engine, "}); (function() {", json!({})).unwrap_err();
    assert!(matches!(err, ScriptError::Compile { .. }), "{err:?}");
    assert_usable(&engine);
}

#[test]
fn compiles_once_per_source() {
    let engine = engine();
    let call = |source: &str, n: i64| {
        engine.run(
            &Script::new("cached", source),
            json!({ "n": n }),
            Limits::default(),
        )
    };
    assert_eq!(call("return event.n * 2;", 2), Ok(json!(4)));
    assert_eq!(call("return event.n * 2;", 3), Ok(json!(6)));
    assert_eq!(engine.compilations(), 1);
    // A changed source under the same name recompiles, and is then cached in its turn.
    assert_eq!(call("return event.n * 3;", 3), Ok(json!(9)));
    assert_eq!(call("return event.n * 3;", 1), Ok(json!(3)));
    assert_eq!(engine.compilations(), 2);
    engine.forget("cached");
    assert_eq!(call("return event.n * 3;", 1), Ok(json!(3)));
    assert_eq!(engine.compilations(), 3);
}

#[test]
fn console_and_var_dump_do_not_crash() {
    let source = "console.log('hi', 1, {a: [1]}, undefined, Symbol('s')); \
                  var c = {}; c.self = c; console.error(c); console.warn(Object.create(null)); \
                  var_dump(event); return 'ok';";
    assert_eq!(run(&engine(), source, json!({"x": 1})), Ok(json!("ok")));
}

#[test]
fn platform_config_is_visible_and_frozen() {
    let options = QuickJsOptions {
        config: json!({"df": {"version": "5"}}),
        ..Default::default()
    };
    let engine = QuickJs::with_options(options).unwrap();
    let source = "platform.config.df.version = 'changed'; return platform.config.df.version;";
    assert_eq!(run(&engine, source, json!({})), Ok(json!("5")));
    assert_eq!(
        run(&engine, "return typeof platform.api.get;", json!({})),
        Ok(json!("function"))
    );
}

#[test]
fn no_host_access() {
    let source = "return [typeof require, typeof std, typeof os, typeof process, typeof fetch];";
    let out = run(&engine(), source, json!({})).unwrap();
    assert_eq!(
        out,
        json!([
            "undefined",
            "undefined",
            "undefined",
            "undefined",
            "undefined"
        ])
    );
}

#[test]
fn replaced_builtins_do_not_break_later_scripts() {
    let engine = engine();
    let vandal = "Function.prototype.call = null; Function.prototype.toString = null; \
                  Function = null; JSON.stringify = null; Array.prototype.map = null; \
                  Reflect.apply = null; return 1;";
    assert_eq!(run(&engine, vandal, json!({})), Ok(json!(1)));
    let other = Script::new("other", "console.log('still', {logs: true}); return 2;");
    assert_eq!(
        engine.run(&other, json!({}), Limits::default()),
        Ok(json!(2))
    );
}

#[test]
fn runaway_recursion_is_an_error() {
    let engine = engine();
    let source = "function f(n) { return f(n + 1) + 1; } return f(0);";
    let err = run(&engine, source, json!({})).unwrap_err();
    assert!(
        matches!(&err, ScriptError::Thrown { message, .. } if message.contains("stack")),
        "{err:?}"
    );
    assert_usable(&engine);
}

#[test]
fn results_convert_as_json_stringify_writes_them() {
    let engine = QuickJs::new().unwrap();
    let source = r#"
        const sparse = []; sparse[20000] = 1;
        let deep = {end: true}; for (let i = 0; i < 100; i++) deep = {next: deep, list: [i]};
        const bare = Object.create(null); bare.x = 1;
        const v = {
            a: 1, b: undefined, c: function () {}, d: Symbol('x'), e: NaN, f: -Infinity,
            g: -0, h: 1.5, i: 1e21, j: 2 ** 53, l: -(2 ** 53), m: 2 ** 64,
            n: [undefined, function () {}, NaN, null, Symbol('y')], o: new Date(0),
            p: new Map([[1, 2]]), q: new String('s'), r: {toJSON() { return 'custom'; }},
            s: bare, t: new Proxy({a: 1}, {}), u: [1, [2, [3]]], w: 'é😀\n"\\',
            x: sparse, y: deep, z: new Proxy([1, 2], {}), e1: new Error('no'), n1: new Number(4),
        };
        Object.defineProperty(v, 'hidden', {value: 1, enumerable: false});
        Object.defineProperty(v, 'getter', {get() { return 'got'; }, enumerable: true});
        v['__proto__'] = 'ignored: sets the prototype';
        return [v, JSON.stringify(v)];
    "#;
    let out = engine
        .run(
            &Script::new("convert", source),
            json!({}),
            Limits::default(),
        )
        .unwrap();
    let expected: serde_json::Value = serde_json::from_str(out[1].as_str().unwrap()).unwrap();
    // Compared member by member: the sparse array would flood a failure message.
    let (got, want) = (out[0].as_object().unwrap(), expected.as_object().unwrap());
    let differ: Vec<_> = want
        .keys()
        .chain(got.keys())
        .filter(|k| got.get(*k) != want.get(*k))
        .map(|k| format!("{k}: {:.80?} vs {:.80?}", got.get(k), want.get(k)))
        .collect();
    assert!(differ.is_empty(), "{differ:#?}");
    // What JSON.stringify refuses is an error, never a hang or a panic.
    for refused in [
        "const a = {}; a.self = a; return a;",
        "return {big: 1n};",
        "const a = []; a.push(a); return {a};",
    ] {
        let result = engine.run(
            &Script::new("refused", refused),
            json!({}),
            Limits::default(),
        );
        assert!(result.is_err(), "{refused} -> {result:?}");
    }
    assert_usable(&engine);
}
