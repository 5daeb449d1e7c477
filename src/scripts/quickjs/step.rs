//! Running a call in segments: [`Inner::start`] runs the script, [`Inner::resume`] settles its
//! `platform.api` promises; after each, [`advance`] drains the promise jobs and either hands the
//! queued requests out or reads the settled result.

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rquickjs::function::Args;
use rquickjs::promise::PromiseState;
use rquickjs::{Ctx, Function, Persistent, Value};

use super::convert::{self, to_js};
use super::{errors, request, CallState, Hooks, Inner};
use crate::scripts::{returned_exception, ApiRequest, Call, Outcome, Script, ScriptError, Step};

pub(super) struct Compiled {
    source: Arc<str>,
    /// A source that does not compile is remembered too, so a broken script that runs on every
    /// request fails fast instead of being parsed again each time.
    function: Result<Persistent<Function<'static>>, String>,
}

/// A call waiting for `platform.api` answers.
pub(super) struct Pending {
    name: Arc<str>,
    limit: Duration,
    /// CPU time the call's segments took so far.
    used: Duration,
    /// What the script returned: a promise for an async body.
    result: Persistent<Value<'static>>,
    event: Option<Persistent<Value<'static>>>,
    /// Requests handed out and not answered yet.
    requests: Vec<u64>,
    /// `platform.session` of this call, set again whenever it resumes.
    session: Rc<str>,
}

/// A segment's end: the call waits, or its result and what was read back from its event.
enum Progress {
    Waiting(Pending, Vec<ApiRequest>),
    Done(Option<serde_json::Value>, Option<serde_json::Value>),
}

impl Inner {
    pub(super) fn start(
        &mut self,
        id: u64,
        call: Call<'_>,
        compiles: &Cell<u64>,
    ) -> Result<Step, ScriptError> {
        let name = &call.script.name;
        let session = &*call.session;
        let limit = call.limits.time;
        self.begin(name, limit);
        let started = Instant::now();
        let same_session = Rc::ptr_eq(&self.session, &call.session) || *self.session == *session;
        if !same_session {
            self.session = Rc::clone(&call.session);
        }
        let Inner {
            cache,
            hooks,
            context,
            state,
            held,
            ..
        } = self;
        let progress = context.with(|ctx| {
            let fail = |e| errors::from_js(&ctx, e, name, limit, state.interrupted.get());
            let run = || {
                let function = compiled(&ctx, cache, &hooks.compile, call.script, compiles)
                    .map_err(|e| {
                        // A source big enough to outlast the deadline while compiling is still
                        // a timeout.
                        if state.interrupted.get() {
                            errors::timeout(name, limit)
                        } else {
                            e
                        }
                    })?;
                // Built as JavaScript values directly: QuickJS's JSON.parse of the same text cost
                // several times more (it grows strings a character at a time).
                let event = to_js(&ctx, &call.event).map_err(fail)?;
                // One call into JavaScript sets `event.request` and `platform.session` and runs
                // the script: each crossing costs about as much as a small script does.
                let invoke = hooks.invoke.clone().restore(&ctx).map_err(fail)?;
                let request = match call.request {
                    Some(parts) => {
                        let proto = hooks.request_proto.clone().restore(&ctx).map_err(fail)?;
                        Some(request::instance(parts, proto, held).map_err(fail)?)
                    }
                    None => None,
                };
                let mut args = Args::new(ctx.clone(), 5);
                let pushed = (|| {
                    args.push_arg(function)?;
                    args.push_arg(event.clone())?;
                    // `undefined`: the session the runtime holds already.
                    args.push_arg((!same_session).then_some(session))?;
                    args.push_arg(call.want_event)?;
                    args.push_arg(request)
                })();
                pushed.map_err(fail)?;
                let returned: Value = invoke.call_arg(args).map_err(fail)?;
                let pending = Pending {
                    name: Arc::clone(name),
                    limit,
                    used: Duration::ZERO,
                    result: Persistent::save(&ctx, returned),
                    event: call.want_event.then(|| Persistent::save(&ctx, event)),
                    requests: Vec::new(),
                    session: Rc::clone(&call.session),
                };
                advance(&ctx, hooks, state, pending)
            };
            discarding_on_failure(&ctx, hooks, run())
        });
        self.end_segment(id, progress, started.elapsed())
    }

    pub(super) fn resume(
        &mut self,
        id: u64,
        answers: Vec<(u64, serde_json::Value)>,
    ) -> Result<Step, ScriptError> {
        let Some(pending) = self.pending.remove(&id) else {
            return Err(errors::internal(
                "<resume>",
                "the call is no longer waiting (its runtime was reset)",
            ));
        };
        let name = Arc::clone(&pending.name);
        let (limit, used) = (pending.limit, pending.used);
        self.begin(&name, limit.saturating_sub(used));
        // The runtime holds this call's session again (another call may have run meanwhile).
        self.session.clone_from(&pending.session);
        let started = Instant::now();
        let Inner {
            hooks,
            context,
            state,
            ..
        } = self;
        let progress = context.with(|ctx| {
            let fail = |e| errors::from_js(&ctx, e, &name, limit, state.interrupted.get());
            let run = || {
                let platform_for = hooks.platform_for.clone().restore(&ctx).map_err(fail)?;
                let _: Value = platform_for.call((&*pending.session,)).map_err(fail)?;
                let settle = hooks.settle.clone().restore(&ctx).map_err(fail)?;
                for (request, answer) in &answers {
                    let answer = to_js(&ctx, answer).map_err(fail)?;
                    let () = settle.call((*request as f64, answer)).map_err(fail)?;
                }
                advance(&ctx, hooks, state, pending)
            };
            discarding_on_failure(&ctx, hooks, run())
        });
        self.end_segment(id, progress, used + started.elapsed())
    }

    pub(super) fn abandon(&mut self, id: u64) {
        let Some(pending) = self.pending.remove(&id) else {
            return;
        };
        let forget = &self.hooks.forget;
        self.context.with(|ctx| {
            if let Ok(forget) = forget.clone().restore(&ctx) {
                for request in &pending.requests {
                    let _ = forget.call::<_, ()>((*request as f64,));
                }
            }
        });
    }

    /// After a run segment (`used`: the call's CPU time so far): the deadline off, and the call
    /// parked or finished.
    fn end_segment(
        &mut self,
        id: u64,
        progress: Result<Progress, ScriptError>,
        used: Duration,
    ) -> Result<Step, ScriptError> {
        self.state.deadline.set(None);
        let progress = progress.inspect_err(|_| {
            // Whether the runtime took the new session is unknown: send it again next time.
            self.session = Rc::from("");
        })?;
        match progress {
            Progress::Waiting(mut pending, requests) => {
                pending.used = used;
                pending.requests = requests.iter().map(|r| r.id).collect();
                if pending.used >= pending.limit {
                    return Err(errors::timeout(&pending.name, pending.limit));
                }
                self.pending.insert(id, pending);
                Ok(Step::Waiting { call: id, requests })
            }
            Progress::Done(value, event) => {
                let name = &*self.state.script.borrow().clone();
                let value = returned_exception(name, value.unwrap_or_default())?;
                Ok(Step::Done(Outcome { value, event }))
            }
        }
    }
}

/// Runs the jobs the segment queued, then either hands out the `platform.api` requests the
/// script made or, when none is outstanding, reads its settled result.
fn advance<'js>(
    ctx: &Ctx<'js>,
    hooks: &Hooks,
    state: &CallState,
    pending: Pending,
) -> Result<Progress, ScriptError> {
    let (name, limit) = (&*pending.name, pending.limit);
    let fail = |e| errors::from_js(ctx, e, name, limit, state.interrupted.get());
    drain_jobs(ctx, state);
    if state.interrupted.get() {
        return Err(errors::timeout(name, limit));
    }
    let queued: Option<String> = if state.queued.replace(false) {
        let take = hooks.take.clone().restore(ctx).map_err(fail)?;
        take.call(()).map_err(fail)?
    } else {
        None
    };
    if let Some(text) = queued {
        let requests: Vec<ApiRequest> =
            serde_json::from_str(&text).map_err(|e| errors::internal(name, e))?;
        return Ok(Progress::Waiting(pending, requests));
    }
    let result = pending.result.clone().restore(ctx).map_err(fail)?;
    let value = match result.as_promise() {
        None => result,
        Some(promise) => match promise.state() {
            PromiseState::Pending => {
                return Err(ScriptError::Thrown {
                    name: name.to_owned(),
                    message: "the script awaits something that never settles".into(),
                    status_code: None,
                    code: None,
                })
            }
            // A rejection comes back as the thrown value on the context, read like a throw.
            _ => promise
                .result::<Value>()
                .unwrap_or(Ok(Value::new_undefined(ctx.clone())))
                .map_err(fail)?,
        },
    };
    // Most hooks return nothing and most calls want no event back: nothing to convert.
    if value.is_undefined() && pending.event.is_none() {
        return Ok(Progress::Done(None, None));
    }
    let rules = convert::Rules {
        object_prototype: hooks.object_prototype.clone().restore(ctx).map_err(fail)?,
        stringify: hooks.stringify.clone().restore(ctx).map_err(fail)?,
    };
    let value = convert::from_js(&rules, value).map_err(fail)?;
    let event = match &pending.event {
        Some(event) => {
            let read_back = hooks.read_back.clone().restore(ctx).map_err(fail)?;
            let event = event.clone().restore(ctx).map_err(fail)?;
            let left: Value = read_back.call((event,)).map_err(fail)?;
            convert::from_js(&rules, left).map_err(fail)?
        }
        None => None,
    };
    Ok(Progress::Done(value, event))
}

/// A failed segment's requests will never be made, so their promises go too.
fn discarding_on_failure(
    ctx: &Ctx<'_>,
    hooks: &Hooks,
    progress: Result<Progress, ScriptError>,
) -> Result<Progress, ScriptError> {
    if progress.is_err() {
        discard_queue(ctx, hooks);
    }
    progress
}

/// After a failure: requests the script queued will never be made, so their promises go too.
fn discard_queue(ctx: &Ctx<'_>, hooks: &Hooks) {
    drop(ctx.catch());
    let (Ok(take), Ok(forget)) = (
        hooks.take.clone().restore(ctx),
        hooks.forget.clone().restore(ctx),
    ) else {
        return;
    };
    if let Ok(Some(text)) = take.call::<_, Option<String>>(()) {
        if let Ok(requests) = serde_json::from_str::<Vec<ApiRequest>>(&text) {
            for r in requests {
                let _ = forget.call::<_, ()>((r.id as f64,));
            }
        }
    }
    drop(ctx.catch());
}

/// The script's function, compiled now only if its name is new or its source changed. Sources
/// are compared by pointer first (a snapshot shares one text with every call), then by text.
fn compiled<'js>(
    ctx: &Ctx<'js>,
    cache: &mut HashMap<Arc<str>, Compiled>,
    compiler: &Persistent<Function<'static>>,
    script: &Script,
    compiles: &Cell<u64>,
) -> Result<Function<'js>, ScriptError> {
    let name = &*script.name;
    let internal = |e| errors::internal(name, e);
    let compile_error = |message: &String| ScriptError::Compile {
        name: name.to_owned(),
        message: message.clone(),
    };
    let same = |c: &&Compiled| Arc::ptr_eq(&c.source, &script.source) || c.source == script.source;
    if let Some(entry) = cache.get(name).filter(same) {
        return match &entry.function {
            Ok(function) => function.clone().restore(ctx).map_err(internal),
            Err(message) => Err(compile_error(message)),
        };
    }
    let compiler = compiler.clone().restore(ctx).map_err(internal)?;
    compiles.set(compiles.get() + 1);
    // `await` anywhere (even in a string) makes an async body: harmless when it was not needed.
    let is_async = script.source.contains("await");
    let (result, kept) = match compiler.call::<_, Function>((&*script.source, is_async)) {
        Ok(function) => (Ok(function.clone()), Ok(Persistent::save(ctx, function))),
        Err(e) => match errors::compile(ctx, e, name) {
            ScriptError::Compile { message, .. } => (Err(compile_error(&message)), Err(message)),
            // Out of memory or out of time says nothing about the source: try again next call.
            other => return Err(other),
        },
    };
    let entry = Compiled {
        source: Arc::clone(&script.source),
        function: kept,
    };
    cache.insert(Arc::clone(&script.name), entry);
    result
}

/// Runs promise callbacks the script queued, still under its deadline, so that they neither pile
/// up in the core's runtime nor run later on another script's time.
fn drain_jobs(ctx: &Ctx<'_>, state: &CallState) {
    while !state.interrupted.get() && ctx.execute_pending_job() {}
    // A job's exception stays pending on the context; clear it so it cannot be misread later.
    drop(ctx.catch());
}
