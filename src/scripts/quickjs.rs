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
//! Values cross as JSON text: `JSON.parse` in C builds the `event` far faster than setting
//! properties one by one from Rust, and `JSON.stringify` gives DreamFactory's rules for the
//! result for free (`undefined` and functions vanish).
//!
//! Limits: the runtime's interrupt handler compares the clock with a deadline set for each call
//! (QuickJS polls it every few thousand operations, and the error it raises cannot be caught by
//! the script); the memory limit is the runtime's own allocator cap. Both unwind the script only,
//! after which the runtime is garbage-collected, and rebuilt if the memory did not come back.
//!
//! Sandbox: QuickJS has no I/O of its own; the file, network and process access of `qjs` lives
//! in its libc modules, which rquickjs does not include and this engine does not add. What a
//! script can reach is `console`, `var_dump` and `platform`.

mod errors;
#[cfg(test)]
mod tests;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

use rquickjs::{Context, Ctx, Function, Object, Persistent, Runtime, Value};

use super::{returned_exception, Limits, Script, ScriptEngine, ScriptError};

/// Engine-wide settings, fixed for the life of the engine.
#[derive(Debug, Clone)]
pub struct QuickJsOptions {
    /// Bytes the runtime may allocate, shared by every script on the core.
    pub memory_limit: usize,
    /// `platform.config`, frozen so that one script cannot change what the next one sees.
    pub config: serde_json::Value,
}

impl QuickJsOptions {
    pub const DEFAULT_MEMORY_LIMIT: usize = 64 << 20;
}

impl Default for QuickJsOptions {
    fn default() -> Self {
        QuickJsOptions {
            memory_limit: Self::DEFAULT_MEMORY_LIMIT,
            config: serde_json::Value::Object(Default::default()),
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
}

/// What the interrupt handler and `console` share with the call in progress.
#[derive(Default)]
struct CallState {
    deadline: Cell<Option<Instant>>,
    interrupted: Cell<bool>,
    script: RefCell<String>,
}

struct Compiled {
    source: String,
    /// A source that does not compile is remembered too, so a broken script that runs on every
    /// request fails fast instead of being parsed again each time.
    function: Result<Persistent<Function<'static>>, String>,
}

/// One runtime with everything that lives in it. Fields drop in declaration order, and every
/// `Persistent` must be freed before the runtime that owns it, so the runtime comes last.
struct Inner {
    cache: HashMap<String, Compiled>,
    compiler: Persistent<Function<'static>>,
    platform: Persistent<Object<'static>>,
    context: Context,
    runtime: Runtime,
    state: Rc<CallState>,
}

/// Installs `console` and `var_dump` over the native log sink, builds the frozen `platform` and
/// the checked compiler. Formatting stays in JavaScript, where `JSON.stringify` and `String`
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
}

impl ScriptEngine for QuickJs {
    fn run(
        &self,
        script: &Script,
        input: serde_json::Value,
        limits: Limits,
    ) -> Result<serde_json::Value, ScriptError> {
        // A script calling back into the engine on the same core (a later `platform.api` that
        // reaches another script) must fail cleanly rather than panic on the borrow.
        let Ok(mut inner) = self.inner.try_borrow_mut() else {
            return Err(errors::internal(&script.name, "script engine re-entered"));
        };
        let result = inner.call(script, &input, limits, &self.compiles);
        if matches!(
            result,
            Err(ScriptError::Timeout { .. } | ScriptError::OutOfMemory { .. })
        ) {
            // Reclaim what the unwound script left (cycles outlive refcounting). If memory stays
            // high a global still holds it, and only a fresh runtime gives the next call room;
            // likewise promise jobs an interrupted call left would run on the next call's time.
            inner.runtime.run_gc();
            let used = usize::try_from(inner.runtime.memory_usage().malloc_size).unwrap_or(0);
            if used > self.options.memory_limit / 2 || inner.runtime.is_job_pending() {
                tracing::warn!(script = %script.name, used, "rebuilding the script runtime");
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
        result
    }
}

impl Inner {
    fn new(options: &QuickJsOptions) -> Result<Self, ScriptError> {
        let fail = |e: rquickjs::Error| errors::internal("<runtime>", e);
        let runtime = Runtime::new().map_err(fail)?;
        runtime.set_memory_limit(options.memory_limit);
        let state = Rc::new(CallState::default());
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
        let (compiler, platform) = context
            .with(|ctx| -> rquickjs::Result<_> {
                let sink = Function::new(ctx.clone(), move |level: i32, line: String| {
                    let script = log_state.script.borrow();
                    match level {
                        0 => tracing::info!(script = %script, "{line}"),
                        1 => tracing::warn!(script = %script, "{line}"),
                        _ => tracing::error!(script = %script, "{line}"),
                    }
                })?;
                let prelude: Function = ctx.eval(PRELUDE)?;
                let made: Object = prelude.call((sink, ctx.json_parse(config)?))?;
                let compiler: Function = made.get("compile")?;
                let platform: Object = made.get("platform")?;
                Ok((
                    Persistent::save(&ctx, compiler),
                    Persistent::save(&ctx, platform),
                ))
            })
            .map_err(fail)?;
        Ok(Inner {
            cache: HashMap::new(),
            compiler,
            platform,
            context,
            runtime,
            state,
        })
    }

    fn call(
        &mut self,
        script: &Script,
        input: &serde_json::Value,
        limits: Limits,
        compiles: &Cell<u64>,
    ) -> Result<serde_json::Value, ScriptError> {
        let name = script.name.as_str();
        let event = serde_json::to_string(input).map_err(|e| errors::internal(name, e))?;
        {
            let mut current = self.state.script.borrow_mut();
            current.clear();
            current.push_str(name);
        }
        self.state.interrupted.set(false);
        self.state.deadline.set(Some(Instant::now() + limits.time));
        let Inner {
            cache,
            compiler,
            platform,
            context,
            state,
            ..
        } = self;
        let output = context.with(|ctx| {
            let fail = |e| errors::from_js(&ctx, e, name, limits.time, state.interrupted.get());
            let function = compiled(&ctx, cache, compiler, script, compiles).map_err(|e| {
                // A source big enough to outlast the deadline while compiling is still a timeout.
                if state.interrupted.get() {
                    errors::timeout(name, limits.time)
                } else {
                    e
                }
            })?;
            let event = ctx.json_parse(event).map_err(fail)?;
            let platform = platform.clone().restore(&ctx).map_err(fail)?;
            let returned: Value = function.call((event, platform)).map_err(fail)?;
            let json = ctx.json_stringify(returned).map_err(fail)?;
            let json = json.map(|s| s.to_string()).transpose().map_err(fail)?;
            drain_jobs(&ctx, state);
            if state.interrupted.get() {
                return Err(errors::timeout(name, limits.time));
            }
            Ok(json)
        });
        self.state.deadline.set(None);
        let value = match output? {
            Some(json) => serde_json::from_str(&json).map_err(|e| errors::internal(name, e))?,
            None => serde_json::Value::Null,
        };
        returned_exception(name, value)
    }
}

/// The script's function, compiled now only if its name is new or its source changed. The
/// whole source is compared rather than a hash of it: equally fast, and never wrong.
fn compiled<'js>(
    ctx: &Ctx<'js>,
    cache: &mut HashMap<String, Compiled>,
    compiler: &Persistent<Function<'static>>,
    script: &Script,
    compiles: &Cell<u64>,
) -> Result<Function<'js>, ScriptError> {
    let name = script.name.as_str();
    let internal = |e| errors::internal(name, e);
    let compile_error = |message: &String| ScriptError::Compile {
        name: name.to_owned(),
        message: message.clone(),
    };
    if let Some(entry) = cache.get(name).filter(|c| c.source == script.source) {
        return match &entry.function {
            Ok(function) => function.clone().restore(ctx).map_err(internal),
            Err(message) => Err(compile_error(message)),
        };
    }
    let compiler = compiler.clone().restore(ctx).map_err(internal)?;
    compiles.set(compiles.get() + 1);
    let (result, kept) = match compiler.call::<_, Function>((script.source.as_str(),)) {
        Ok(function) => (Ok(function.clone()), Ok(Persistent::save(ctx, function))),
        Err(e) => match errors::compile(ctx, e, name) {
            ScriptError::Compile { message, .. } => (Err(compile_error(&message)), Err(message)),
            // Out of memory or out of time says nothing about the source: try again next call.
            other => return Err(other),
        },
    };
    let entry = Compiled {
        source: script.source.clone(),
        function: kept,
    };
    cache.insert(name.to_owned(), entry);
    result
}

/// Runs promise callbacks the script queued, still under its deadline, so that they neither pile
/// up in the core's runtime nor run later on another script's time.
fn drain_jobs(ctx: &Ctx<'_>, state: &CallState) {
    while !state.interrupted.get() && ctx.execute_pending_job() {}
    // A job's exception stays pending on the context; clear it so it cannot be misread later.
    drop(ctx.catch());
}
