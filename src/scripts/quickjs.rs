//! The QuickJS engine (rquickjs): one runtime and one context per core, compiled scripts cached.
//!
//! A script's body becomes a function `(event, platform)` compiled by the `Function` constructor
//! captured when the runtime starts, so a script that reassigns the global `Function` cannot
//! change how later scripts compile. QuickJS's constructor, like a hand-made wrapper, pastes the
//! body into `function anonymous(...) {\n BODY \n}` text, so a body such as `}); x(); (function(){`
//! would close it early; the compiler therefore checks that the function's source text is
//! exactly that wrapper around the body, which no early close can satisfy. The compiled function
//! is kept per script name and reused while the source stays the same.
//!
//! Values going in are made directly as JavaScript values: `event.request` is a host object that
//! owns the request's parts and makes each member when the script first reads it
//! (`request.rs`), so a script pays for what it reads; the session is JSON text parsed only when
//! `platform.session` is read, and sent to the runtime only when it changes. Values coming out
//! (the result, and for a modifiable event what the pipeline acts on) are converted by the host
//! with `JSON.stringify`'s rules (`convert.rs`): plain objects and arrays walked directly, the
//! rest through the runtime's own `JSON.stringify`.
//!
//! Limits: the runtime's interrupt handler compares the clock with a deadline set for each call
//! (QuickJS polls it every few thousand operations, and the error it raises cannot be caught by
//! the script); the memory limit is the runtime's own allocator cap. Both unwind the script only,
//! after which the runtime is garbage-collected, and rebuilt if the memory did not come back.
//!
//! `platform.api` without blocking: the API functions queue a request and return a Promise.
//! After the script (and the promise jobs it started) has run as far as it can, the engine
//! takes the queue and hands it to the caller ([`Step::Waiting`]); the caller makes the calls
//! through the API pipeline on this core's async runtime and resumes the call with the answers,
//! which settle the promises; this repeats until the script's result is settled and no request
//! is outstanding. Meanwhile the engine runs other calls: a waiting call is only a few
//! `Persistent` handles. A body that mentions `await` is compiled as an async function (so
//! `const r = await platform.api.get(..)` works at top level); others as a plain function, which
//! skips the promise machinery. The time limit is CPU time: each run segment gets what the call
//! has left, and waiting for `platform.api` does not count.
//!
//! Sandbox: QuickJS has no I/O of its own; the file, network and process access of `qjs` lives
//! in its libc modules, which rquickjs does not include and this engine does not add. What a
//! script can reach is `console`, `var_dump` and `platform`.

mod convert;
mod errors;
mod request;
mod step;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_api;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use rquickjs::{Context, Function, Object, Persistent, Runtime};

use super::{Call, ScriptEngine, ScriptError, Step, Store};
use step::{Compiled, Pending};

/// Engine-wide settings, fixed for the life of the engine.
#[derive(Debug, Clone)]
pub struct QuickJsOptions {
    /// Bytes the runtime may allocate, shared by every script on the core.
    pub memory_limit: usize,
    /// `platform.config`, frozen so that one script cannot change what the next one sees.
    pub config: serde_json::Value,
    /// `platform.store`.
    pub store: &'static Store,
}

impl QuickJsOptions {
    pub const DEFAULT_MEMORY_LIMIT: usize = 64 << 20;
}

impl Default for QuickJsOptions {
    fn default() -> Self {
        QuickJsOptions {
            memory_limit: Self::DEFAULT_MEMORY_LIMIT,
            config: serde_json::Value::Object(Default::default()),
            store: Store::instance(),
        }
    }
}

/// The QuickJS [`ScriptEngine`]. Not `Send`: it is built and used on one core's thread.
pub struct QuickJs {
    options: QuickJsOptions,
    inner: RefCell<Inner>,
    /// Compilations so far; lets tests see the cache work without timing anything.
    compiles: Cell<u64>,
    /// Runtimes replaced after a failure left them unfit; worth a metric, and a test hook.
    rebuilds: Cell<u64>,
    /// Ids of calls, for [`Step::Waiting`].
    next_call: Cell<u64>,
}

/// What the interrupt handler and `console` share with the call in progress.
#[derive(Default)]
struct CallState {
    deadline: Cell<Option<Instant>>,
    interrupted: Cell<bool>,
    /// Set by `platform.api` when it queues a request, so a call that made none does not ask
    /// the prelude for its queue.
    queued: Cell<bool>,
    script: RefCell<Arc<str>>,
}

/// The prelude's functions the host calls.
struct Hooks {
    compile: Persistent<Function<'static>>,
    invoke: Persistent<Function<'static>>,
    read_back: Persistent<Function<'static>>,
    /// What [`convert::from_js`] needs, as the runtime had them before any script ran.
    object_prototype: Persistent<Object<'static>>,
    stringify: Persistent<Function<'static>>,
    /// The prototype of `event.request` objects.
    request_proto: Persistent<Object<'static>>,
    platform_for: Persistent<Function<'static>>,
    take: Persistent<Function<'static>>,
    settle: Persistent<Function<'static>>,
    forget: Persistent<Function<'static>>,
}

/// One runtime with everything that lives in it. Fields drop in declaration order, and every
/// `Persistent` must be freed before the runtime that owns it, so the runtime comes last.
struct Inner {
    /// The `platform.session` text the runtime holds now: a call from the same session passes
    /// none (most calls on a keep-alive connection), sparing a string copy and comparison.
    session: Rc<str>,
    pending: HashMap<u64, Pending>,
    cache: HashMap<Arc<str>, Compiled>,
    hooks: Hooks,
    context: Context,
    runtime: Runtime,
    state: Rc<CallState>,
    /// Bytes of the host requests alive in this runtime.
    held: request::Held,
}

/// Installs `console` and `var_dump` over the native log sink, the `platform` parts and the
/// checked compiler. Formatting stays in JavaScript, where `JSON.stringify` and `String`
/// already know every type.
const PRELUDE: &str = include_str!("quickjs/prelude.js");

impl QuickJs {
    /// An engine with the default memory limit and an empty `platform.config`.
    pub fn new() -> Result<Self, ScriptError> {
        Self::with_options(QuickJsOptions::default())
    }

    pub fn with_options(options: QuickJsOptions) -> Result<Self, ScriptError> {
        let inner = Inner::new(&options)?;
        Ok(QuickJs {
            options,
            inner: RefCell::new(inner),
            compiles: Cell::new(0),
            rebuilds: Cell::new(0),
            next_call: Cell::new(0),
        })
    }

    /// How many times a script source has been compiled by this engine.
    pub fn compilations(&self) -> u64 {
        self.compiles.get()
    }

    /// Drops a script's compiled function, for a script that was deleted: the cache otherwise
    /// keeps every name it has seen. A changed source needs no call; it recompiles by itself.
    pub fn forget(&self, name: &str) {
        if let Ok(mut inner) = self.inner.try_borrow_mut() {
            inner.cache.remove(name);
        }
    }

    /// How many times the runtime has been replaced after a timeout or out-of-memory.
    pub fn rebuilds(&self) -> u64 {
        self.rebuilds.get()
    }

    /// Calls waiting for `platform.api` answers.
    pub fn waiting(&self) -> usize {
        self.inner.try_borrow().map_or(0, |i| i.pending.len())
    }

    fn inner(&self, name: &str) -> Result<std::cell::RefMut<'_, Inner>, ScriptError> {
        // A script calling back into the engine on the same core must fail cleanly rather than
        // panic on the borrow (the pipeline never does: it awaits between steps).
        self.inner
            .try_borrow_mut()
            .map_err(|_| errors::internal(name, "script engine re-entered"))
    }

    /// After a failed step: reclaim what the unwound script left (cycles outlive refcounting).
    /// If memory stays high a global still holds it, and only a fresh runtime gives the next
    /// call room; likewise promise jobs an interrupted call left would run on the next call's
    /// time. A rebuild ends the calls waiting in the old runtime (their resume fails).
    fn recover(&self, inner: &mut Inner, result: &Result<Step, ScriptError>) {
        let Err(e @ (ScriptError::Timeout { .. } | ScriptError::OutOfMemory { .. })) = result
        else {
            return;
        };
        inner.runtime.run_gc();
        let used = usize::try_from(inner.runtime.memory_usage().malloc_size).unwrap_or(0)
            + inner.held.bytes();
        if used > self.options.memory_limit / 2 || inner.runtime.is_job_pending() {
            tracing::warn!(script = %e.script_name(), used, "rebuilding the script runtime");
            match Inner::new(&self.options) {
                Ok(fresh) => {
                    *inner = fresh;
                    self.rebuilds.set(self.rebuilds.get() + 1);
                }
                // The old runtime stays; the caller still learns why this script failed.
                Err(e) => tracing::error!(error = %e, "script runtime could not be rebuilt"),
            }
        }
    }
}

/// Bytes allocated between cycle collections.
const GC_THRESHOLD: usize = 8 << 20;

impl ScriptEngine for QuickJs {
    fn start(&self, call: Call<'_>) -> Result<Step, ScriptError> {
        let mut inner = self.inner(&call.script.name)?;
        // Requests scripts kept (in globals) count against the limit too: past it, a collection
        // may free unreachable ones; if not, this call fails as out of memory, and recovery
        // replaces the runtime (and the requests it held) for the next one.
        if inner.held.bytes() > self.options.memory_limit / 2 {
            inner.runtime.run_gc();
            if inner.held.bytes() > self.options.memory_limit / 2 {
                let result = Err(ScriptError::OutOfMemory {
                    name: call.script.name.to_string(),
                });
                self.recover(&mut inner, &result);
                return result;
            }
        }
        let id = self.next_call.get() + 1;
        self.next_call.set(id);
        let result = inner.start(id, call, &self.compiles);
        self.recover(&mut inner, &result);
        result
    }

    fn resume(
        &self,
        call: u64,
        answers: Vec<(u64, serde_json::Value)>,
    ) -> Result<Step, ScriptError> {
        let mut inner = self.inner("<resume>")?;
        let result = inner.resume(call, answers);
        self.recover(&mut inner, &result);
        result
    }

    fn abandon(&self, call: u64) {
        if let Ok(mut inner) = self.inner.try_borrow_mut() {
            inner.abandon(call);
        }
    }
}

impl Inner {
    fn new(options: &QuickJsOptions) -> Result<Self, ScriptError> {
        let fail = |e: rquickjs::Error| errors::internal("<runtime>", e);
        // QuickJS allocates through the process allocator (mimalloc) rather than the C
        // library's malloc: faster for its many small objects, and one heap to watch.
        let runtime = Runtime::new_with_alloc(rquickjs::allocator::RustAllocator).map_err(fail)?;
        runtime.set_memory_limit(options.memory_limit);
        // Every call allocates a little (the event, the platform object) and almost all of it is
        // freed by reference counting; the cycle collector's default 256 KiB trigger ran it every
        // few dozen calls, each time walking the whole heap. A higher trigger runs it rarely.
        runtime.set_gc_threshold(GC_THRESHOLD.min(options.memory_limit / 4));
        let state = Rc::new(CallState {
            queued: Cell::new(false),
            script: RefCell::new(Arc::from("")),
            ..CallState::default()
        });
        let interrupt_state = Rc::clone(&state);
        runtime.set_interrupt_handler(Some(Box::new(move || {
            match interrupt_state.deadline.get() {
                Some(deadline) if Instant::now() >= deadline => {
                    interrupt_state.interrupted.set(true);
                    true
                }
                _ => false,
            }
        })));
        let context = Context::full(&runtime).map_err(fail)?;
        let config =
            serde_json::to_string(&options.config).map_err(|e| errors::internal("<runtime>", e))?;
        let log_state = Rc::clone(&state);
        let store = options.store;
        let hooks = context
            .with(|ctx| -> rquickjs::Result<_> {
                let sink = Function::new(ctx.clone(), move |level: i32, line: String| {
                    let script = log_state.script.borrow();
                    match level {
                        0 => tracing::info!(script = %script, "{line}"),
                        1 => tracing::warn!(script = %script, "{line}"),
                        _ => tracing::error!(script = %script, "{line}"),
                    }
                })?;
                let store_op = Function::new(
                    ctx.clone(),
                    move |op: i32, key: String, value: String| -> Option<String> {
                        match op {
                            0 => store.get(&key),
                            1 => store.set(&key, value).ok().map(|()| "ok".to_owned()),
                            _ => store.delete(&key).then(|| "ok".to_owned()),
                        }
                    },
                )?;
                let queued_state = Rc::clone(&state);
                let queued = Function::new(ctx.clone(), move || queued_state.queued.set(true))?;
                let prelude: Function = ctx.eval(PRELUDE)?;
                let made: Object = prelude.call((
                    sink,
                    ctx.json_parse(config)?,
                    store_op,
                    queued,
                    Function::new(ctx.clone(), request::part)?,
                ))?;
                let hook = |name: &str| -> rquickjs::Result<Persistent<Function<'static>>> {
                    Ok(Persistent::save(&ctx, made.get::<_, Function>(name)?))
                };
                Ok(Hooks {
                    compile: hook("compile")?,
                    invoke: hook("invoke")?,
                    read_back: hook("readBack")?,
                    object_prototype: Persistent::save(
                        &ctx,
                        made.get::<_, Object>("objectPrototype")?,
                    ),
                    stringify: hook("stringify")?,
                    request_proto: Persistent::save(&ctx, made.get::<_, Object>("requestProto")?),
                    platform_for: hook("platformFor")?,
                    take: hook("take")?,
                    settle: hook("settle")?,
                    forget: hook("forget")?,
                })
            })
            .map_err(fail)?;
        Ok(Inner {
            session: Rc::from(""),
            pending: HashMap::new(),
            cache: HashMap::new(),
            hooks,
            context,
            runtime,
            state,
            held: request::Held::default(),
        })
    }

    /// Sets up the call state for one run segment of `name` with `budget` left.
    fn begin(&self, name: &Arc<str>, budget: std::time::Duration) {
        *self.state.script.borrow_mut() = Arc::clone(name);
        self.state.interrupted.set(false);
        self.state.deadline.set(Some(Instant::now() + budget));
    }
}
