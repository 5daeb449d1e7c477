//! Values across the boundary without JSON text: serde JSON to JavaScript ([`to_js`]) and
//! back ([`from_js`]).
//!
//! Coming back used to be `JSON.stringify` in QuickJS and a parse in Rust: a third of what a
//! modifying pre_process script cost, most of it QuickJS writing the text a character at a
//! time. [`from_js`] walks plain objects and arrays itself, with `JSON.stringify`'s rules
//! (`undefined`, functions and symbols vanish from objects and are `null` in arrays; `NaN` and
//! the infinities are `null`); any other object (a `Date`, a `Map`, a boxed string, anything
//! with `toJSON`), a `BigInt`, or nesting deeper than [`DEPTH`] (a cycle, most likely) is
//! handed to the runtime's own `JSON.stringify`, so those keep its exact behaviour, errors
//! included.

use rquickjs::object::Property;
use rquickjs::{Ctx, Function, IntoJs, Object, Type, Value};
use serde_json::{Map, Number, Value as Json};

/// How deep [`from_js`] walks before leaving the rest to `JSON.stringify`.
const DEPTH: usize = 64;
/// The longest array [`from_js`] walks itself.
const LONGEST_WALKED: f64 = 10_000.0;

/// A JSON value as the equivalent JavaScript value.
pub(super) fn to_js<'js>(ctx: &Ctx<'js>, v: &Json) -> rquickjs::Result<Value<'js>> {
    Ok(match v {
        Json::Null => Value::new_null(ctx.clone()),
        Json::Bool(b) => Value::new_bool(ctx.clone(), *b),
        Json::Number(n) => match n.as_i64().and_then(|i| i32::try_from(i).ok()) {
            Some(i) => Value::new_int(ctx.clone(), i),
            None => Value::new_float(ctx.clone(), n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => rquickjs::String::from_str(ctx.clone(), s)?.into_value(),
        Json::Array(items) => {
            let array = rquickjs::Array::new(ctx.clone())?;
            for (i, item) in items.iter().enumerate() {
                array.set(i, to_js(ctx, item)?)?;
            }
            array.into_value()
        }
        Json::Object(members) => {
            let object = Object::new(ctx.clone())?;
            for (k, item) in members {
                define(&object, k, to_js(ctx, item)?)?;
            }
            object.into_value()
        }
    })
}

/// Defines `object[name] = value` as an own, plain data member, as `JSON.parse` does: a
/// `__proto__` member is data, never the object's prototype.
pub(super) fn define<'js>(
    object: &Object<'js>,
    name: &str,
    value: impl IntoJs<'js>,
) -> rquickjs::Result<()> {
    object.prop(
        name,
        Property::from(value).writable().enumerable().configurable(),
    )
}

/// What [`from_js`] needs from the runtime, captured when it started (a script replacing
/// `Object` or `JSON.stringify` changes nothing here).
pub(super) struct Rules<'js> {
    /// `Object.prototype`: objects with it (or none) as prototype are walked here.
    pub object_prototype: Object<'js>,
    pub stringify: Function<'js>,
}

/// A JavaScript value as JSON, as `JSON.stringify` would write it; `None` where it would write
/// nothing (`undefined`, a function, a symbol).
pub(super) fn from_js<'js>(
    rules: &Rules<'js>,
    value: Value<'js>,
) -> rquickjs::Result<Option<Json>> {
    walk(rules, value, 0)
}

fn walk<'js>(
    rules: &Rules<'js>,
    value: Value<'js>,
    depth: usize,
) -> rquickjs::Result<Option<Json>> {
    Ok(Some(match value.type_of() {
        Type::Uninitialized | Type::Undefined | Type::Function | Type::Constructor => {
            return Ok(None)
        }
        Type::Symbol => return Ok(None),
        Type::Null => Json::Null,
        Type::Bool => Json::Bool(value.as_bool().unwrap_or_default()),
        Type::Int => Json::from(value.as_int().unwrap_or_default()),
        Type::Float => number(value.as_float().unwrap_or(f64::NAN)),
        Type::String => match value.as_string() {
            Some(s) => Json::String(s.to_string()?),
            None => Json::Null,
        },
        Type::Array if depth < DEPTH && !proxy(&value) => {
            let Some(array) = value.as_object().cloned() else {
                return Ok(None);
            };
            let length: Value = array.get("length")?;
            let length = length.as_number().unwrap_or(0.0);
            // A long (or sparse: `a[1e9] = 1`) array is JSON.stringify's, under the runtime's
            // time and memory limits, which this loop would not be.
            if !(0.0..=LONGEST_WALKED).contains(&length) {
                return stringified(rules, value);
            }
            let length = length as u32;
            let mut items = Vec::with_capacity(length as usize);
            for i in 0..length {
                let item: Value = array.get(i)?;
                items.push(walk(rules, item, depth + 1)?.unwrap_or(Json::Null));
            }
            Json::Array(items)
        }
        Type::Object if depth < DEPTH && !proxy(&value) && plain(rules, &value)? => {
            let Some(object) = value.as_object() else {
                return Ok(None);
            };
            let mut members = Map::new();
            // Own enumerable string-keyed members in JSON.stringify's order, each read (getters
            // run) with the key's atom as listed.
            for member in object.props::<String, Value>() {
                let (key, member) = member?;
                if let Some(json) = walk(rules, member, depth + 1)? {
                    members.insert(key, json);
                }
            }
            Json::Object(members)
        }
        // Everything else, exactly as JSON.stringify has it.
        _ => return stringified(rules, value),
    }))
}

fn stringified<'js>(rules: &Rules<'js>, value: Value<'js>) -> rquickjs::Result<Option<Json>> {
    let text: Option<String> = rules.stringify.call((value,))?;
    match text {
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| rquickjs::Error::new_from_js_message("JSON", "value", e.to_string())),
        None => Ok(None),
    }
}

/// Proxies run script code on every step (and may lie about their shape): left to
/// `JSON.stringify`.
fn proxy(value: &Value<'_>) -> bool {
    // SAFETY: reads the tag and class of a live value; no reference is taken or released.
    unsafe { rquickjs::qjs::JS_IsProxy(value.as_raw()) }
}

/// An object of `Object.prototype` (or of none) without a `toJSON` of its own or inherited.
fn plain<'js>(rules: &Rules<'js>, value: &Value<'js>) -> rquickjs::Result<bool> {
    let Some(object) = value.as_object() else {
        return Ok(false);
    };
    let ordinary = match object.get_prototype() {
        None => true,
        Some(proto) => proto == rules.object_prototype,
    };
    Ok(ordinary && object.get::<_, Value>("toJSON")?.is_undefined())
}

/// A number as `JSON.stringify` writes it and serde reads that back: integral values as
/// integers where they fit 64 bits (serde reads wider ones as floats, and so do we), non-finite
/// ones as `null`. Past 2^53 the integer is the double's exact value, where `JSON.stringify`
/// writes its shortest digits (2^63 as 9223372036854776000): the same double either way.
fn number(f: f64) -> Json {
    const TWO_64: f64 = 18_446_744_073_709_551_616.0;
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f.is_finite() && f.fract() == 0.0 {
        if (0.0..TWO_64).contains(&f) {
            return Json::from(f as u64);
        }
        if (-TWO_63..0.0).contains(&f) {
            return Json::from(f as i64);
        }
    }
    Number::from_f64(f).map_or(Json::Null, Json::Number)
}
