//! Turning what QuickJS raised into a [`ScriptError`].
//!
//! rquickjs reports a JavaScript exception as `Error::Exception` and leaves the thrown value on
//! the context; [`from_js`] takes it off (which also clears it) and reads it the way DreamFactory
//! reads a script's failure: a thrown string is the message, a thrown object lends its
//! `message`, `status_code` and `code`.

use std::fmt::Display;
use std::time::Duration;

use rquickjs::convert::Coerced;
use rquickjs::{Ctx, Object, Value};

use crate::scripts::{error_fields, ScriptError};

pub(super) fn internal(name: &str, error: impl Display) -> ScriptError {
    ScriptError::Internal {
        name: name.to_owned(),
        message: error.to_string(),
    }
}

pub(super) fn timeout(name: &str, limit: Duration) -> ScriptError {
    ScriptError::Timeout {
        name: name.to_owned(),
        limit,
    }
}

/// A failure while running the script. `interrupted` says the interrupt handler fired during
/// the call: whatever QuickJS then reports (its uncatchable "interrupted" error, or a value the
/// unwinding produced) the cause is the time limit.
pub(super) fn from_js(
    ctx: &Ctx<'_>,
    error: rquickjs::Error,
    name: &str,
    limit: Duration,
    interrupted: bool,
) -> ScriptError {
    if interrupted {
        drop(ctx.catch());
        return timeout(name, limit);
    }
    match error {
        rquickjs::Error::Exception => thrown(name, ctx.catch()),
        rquickjs::Error::Allocation => out_of_memory(name),
        other => internal(name, other),
    }
}

/// A failure of the `Function` constructor: a syntax error is the script's source at fault;
/// anything else (out of memory while compiling) is read like a run-time failure.
pub(super) fn compile(ctx: &Ctx<'_>, error: rquickjs::Error, name: &str) -> ScriptError {
    if !matches!(error, rquickjs::Error::Exception) {
        return from_js(ctx, error, name, Duration::ZERO, false);
    }
    let value = ctx.catch();
    let syntax = value
        .as_object()
        .and_then(|o| o.get::<_, Option<String>>("name").ok().flatten())
        .is_some_and(|n| n == "SyntaxError");
    if !syntax {
        return thrown(name, value);
    }
    let message = value
        .as_object()
        .and_then(message_of)
        .unwrap_or_else(|| "syntax error".to_owned());
    ScriptError::Compile {
        name: name.to_owned(),
        message,
    }
}

fn out_of_memory(name: &str) -> ScriptError {
    ScriptError::OutOfMemory {
        name: name.to_owned(),
    }
}

/// Reads a thrown value. QuickJS reports an exhausted memory limit as a catchable
/// `InternalError: out of memory`, or, when even that error cannot be allocated, as a bare
/// `null`. A script's own `throw null` looks the same from here (by then the script's memory
/// is freed, so usage cannot tell them apart); it is reported as out of memory too, which
/// answers with the same 500 a thrown value without a status gets.
fn thrown(name: &str, value: Value<'_>) -> ScriptError {
    let message_only = |message: String| ScriptError::Thrown {
        name: name.to_owned(),
        message,
        status_code: None,
        code: None,
    };
    if value.is_null() || value.is_undefined() {
        return out_of_memory(name);
    }
    if let Some(text) = value.as_string() {
        return message_only(text.to_string().unwrap_or_default());
    }
    let Some(object) = value.as_object() else {
        // A thrown number or boolean: its text is the best message there is.
        let text = value.get::<Coerced<String>>().map(|c| c.0);
        return message_only(text.unwrap_or_else(|_| "script threw".to_owned()));
    };
    let error_name = object.get::<_, Option<String>>("name").ok().flatten();
    let message = message_of(object);
    if error_name.as_deref() == Some("InternalError") && message.as_deref() == Some("out of memory")
    {
        return out_of_memory(name);
    }
    // `message` of an Error is not enumerable, so read the three fields one by one and hand
    // them to the same reader as a returned `{exception:{...}}`.
    let mut fields = serde_json::Map::new();
    for key in ["status_code", "code"] {
        if let Some(v) = object.get::<_, Value>(key).ok().and_then(|v| to_json(&v)) {
            fields.insert(key.to_owned(), v);
        }
    }
    let (_, status_code, code) = error_fields(&fields);
    let message = message
        .or_else(|| stringify(object))
        .unwrap_or_else(|| "script threw".to_owned());
    ScriptError::Thrown {
        name: name.to_owned(),
        message,
        status_code,
        code,
    }
}

fn message_of(object: &Object<'_>) -> Option<String> {
    let value: Value = object.get("message").ok()?;
    if value.is_undefined() || value.is_null() {
        return None;
    }
    value.get::<Coerced<String>>().ok().map(|c| c.0)
}

fn to_json(value: &Value<'_>) -> Option<serde_json::Value> {
    if let Some(i) = value.as_int() {
        return Some(i.into());
    }
    if let Some(f) = value.as_float() {
        // Whole numbers past i32 arrive as floats; a fraction is no status or code.
        return (f.is_finite() && f.fract() == 0.0).then(|| (f as i64).into());
    }
    let text = value.as_string()?.to_string().ok()?;
    Some(serde_json::Value::String(text))
}

/// A thrown plain object without a message, shown whole so the client sees what was thrown.
fn stringify(object: &Object<'_>) -> Option<String> {
    let ctx = object.ctx();
    let text = ctx.json_stringify(object.clone()).ok()??;
    text.to_string().ok()
}
