//! `event.request` as a JavaScript object that owns its [`RequestParts`].
//!
//! A call used to turn every part into a JavaScript string and set it on a fresh object, and
//! that was most of what a trivial script cost: the script that checks `event.request.method`
//! paid for the URI, the service, the resource, the parameters and the headers it never read.
//! Now the request is an instance of a host class holding the parts, with the prelude's request
//! prototype: its accessors ask [`part`] for a member when the script first reads it (the
//! objects, `parameters`, `headers` and `payload`, are then kept as own properties so changes
//! to them stick). The object owns the parts, so one a script keeps past its call still reads
//! its own request; they are freed with the object. A script allowed to modify the event gets
//! a plain object instead, built by the prelude from the same parts.

use std::borrow::Cow;
use std::cell::Cell;
use std::rc::Rc;

use rquickjs::class::{JsClass, Readable, Trace, Tracer};
use rquickjs::function::Constructor;

use rquickjs::{Class, Ctx, JsLifetime, Object, Value};

use super::convert::{define, to_js};
use crate::scripts::request::Part;
use crate::scripts::RequestParts;

pub(super) struct HostRequest {
    parts: RequestParts,
    /// What it adds to the runtime's [`Held`] bytes, given back when the object is freed.
    weight: usize,
    held: Held,
}

/// Bytes held by the host requests alive in one runtime. QuickJS's memory limit counts only its
/// own allocations, and a script that keeps every request (`kept.push(event.request)`) would
/// otherwise grow the core's memory past the limit unseen; the engine checks this before each
/// call.
#[derive(Clone, Default)]
pub(super) struct Held(Rc<Cell<usize>>);

impl Held {
    pub(super) fn bytes(&self) -> usize {
        self.0.get()
    }
}

impl Drop for HostRequest {
    fn drop(&mut self) {
        self.held
            .0
            .set(self.held.0.get().saturating_sub(self.weight));
    }
}

// SAFETY: holds no JavaScript values, so it is the same type under any lifetime.
unsafe impl<'js> JsLifetime<'js> for HostRequest {
    type Changed<'to> = HostRequest;
}

impl<'js> Trace<'js> for HostRequest {
    /// No JavaScript values inside: nothing for the collector to follow.
    fn trace<'a>(&self, _tracer: Tracer<'a, 'js>) {}
}

impl<'js> JsClass<'js> for HostRequest {
    const NAME: &'static str = "Request";
    type Mutable = Readable;

    /// Scripts cannot make requests; only the host does.
    fn constructor(_ctx: &Ctx<'js>) -> rquickjs::Result<Option<Constructor<'js>>> {
        Ok(None)
    }
}

/// The request object for `parts`, with the prelude's request prototype.
pub(super) fn instance<'js>(
    parts: RequestParts,
    prototype: Object<'js>,
    held: &Held,
) -> rquickjs::Result<Value<'js>> {
    let weight = parts.weight();
    held.0.set(held.0.get() + weight);
    let request = HostRequest {
        parts,
        weight,
        held: held.clone(),
    };
    Ok(Class::instance_proto(request, prototype)?.into_value())
}

/// The prelude's accessors call this as `part(request, index)`: member `index` of a host
/// request as a JavaScript value, or `undefined` for anything that is not a host request (an
/// object made with the request as its prototype). `parameters` and `headers` come as fresh
/// objects, their members defined as `JSON.parse` would (a `__proto__` name is an own
/// property, not the prototype).
pub(super) fn part<'js>(
    ctx: Ctx<'js>,
    request: Value<'js>,
    index: i32,
) -> rquickjs::Result<Value<'js>> {
    let Some(request) = request
        .as_object()
        .and_then(Class::<HostRequest>::from_object)
    else {
        return Ok(Value::new_undefined(ctx));
    };
    let parts = &request.borrow().parts;
    let text = match index {
        0 => parts.method,
        1 => parts.get(Part::Uri),
        2 => parts.get(Part::Service),
        3 => parts.get(Part::Resource),
        4 => return object(&ctx, parts.parameters()),
        5 => return object(&ctx, parts.headers()),
        6 => return to_js(&ctx, &parts.payload),
        _ => return Ok(Value::new_undefined(ctx)),
    };
    Ok(rquickjs::String::from_str(ctx, text)?.into_value())
}

fn object<'js, 'a>(
    ctx: &Ctx<'js>,
    pairs: impl Iterator<Item = (Cow<'a, str>, Cow<'a, str>)>,
) -> rquickjs::Result<Value<'js>> {
    let object = Object::new(ctx.clone())?;
    for (name, value) in pairs {
        define(
            &object,
            &name,
            rquickjs::String::from_str(ctx.clone(), &value)?,
        )?;
    }
    Ok(object.into_value())
}
