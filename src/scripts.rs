//! Server-side scripts: the engine core behind DreamFactory's event scripts and scripted services.
//!
//! A script is the body of a JavaScript function called with `event` (the request, and in
//! post_process the response) and `platform` (what the server lends the script). What it returns
//! becomes the script's result; what it throws, or an `{exception:{...}}` object it returns,
//! becomes an API error. Everything crossing the boundary is JSON ([`serde_json::Value`]), so
//! the callers never see an engine's value types and another engine can be put behind
//! [`ScriptEngine`] without touching them.
//!
//! Engines are per-core values: one is created on each core thread and used only there, so
//! they need not be `Send` and run scripts synchronously. Scripts are CPU-bound and bounded by
//! [`Limits::time`]; a script past a limit fails that call only, and the engine stays usable.
//!
//! - [`quickjs`]: the QuickJS engine (rquickjs): one runtime per core, compiled scripts cached.
//! - [`events`]: event scripts as the snapshot holds them, and which one a call meets.
//! - [`store`]: `platform.store`, one per process.
//! - `request.rs`: [`RequestParts`], `event.request` as the pipeline hands it over.
//!
//! The engine never makes `platform.api` calls itself: [`ScriptEngine::start`] runs a call as
//! far as it can and returns the requests it waits for, the caller (the API pipeline, on the
//! core's async runtime) makes them and [`ScriptEngine::resume`]s the call with the answers.

pub mod events;
pub mod quickjs;
mod request;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

pub use quickjs::QuickJs;
pub use request::RequestParts;
pub use store::Store;

/// A script to run: `name` identifies it in logs and errors (for event scripts it is the event
/// name) and keys the engine's compile cache; `source` is compared with the cached one, so a
/// changed script recompiles on its next call. Shared text: a snapshot builds each `Script`
/// once and every call borrows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub name: Arc<str>,
    pub source: Arc<str>,
}

impl Script {
    pub fn new(name: impl Into<Arc<str>>, source: impl Into<Arc<str>>) -> Self {
        Script {
            name: name.into(),
            source: source.into(),
        }
    }
}

/// Per-call limits. Memory is limited per engine (it is shared by every script on a core), so it
/// is set when the engine is built rather than here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall time one call may take, compilation included.
    pub time: Duration,
}

impl Limits {
    /// DreamFactory has no script timeout at all; 100 ms is far above what a request hook
    /// should cost yet stops a runaway loop before it stalls every connection on its core.
    pub const DEFAULT_TIME: Duration = Duration::from_millis(100);
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            time: Self::DEFAULT_TIME,
        }
    }
}

/// Why a script call failed. Each carries the script's name so the log line and the API error
/// say which script it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    /// The call ran past [`Limits::time`] and was interrupted.
    #[error("script {name} exceeded its time limit of {} ms", limit.as_millis())]
    Timeout { name: String, limit: Duration },
    /// The engine's memory limit was reached during the call.
    #[error("script {name} ran out of memory")]
    OutOfMemory { name: String },
    /// The script threw (`throw 'msg'`, `throw new Error('msg')`) or returned an
    /// `{exception:{code,message,status_code}}` object.
    #[error("script {name} failed: {message}")]
    Thrown {
        name: String,
        message: String,
        status_code: Option<u16>,
        code: Option<i64>,
    },
    /// The source does not parse.
    #[error("script {name} does not compile: {message}")]
    Compile { name: String, message: String },
    /// The engine itself failed (converting values, creating a runtime); not the script's fault.
    #[error("script {name}: engine error: {message}")]
    Internal { name: String, message: String },
}

impl ScriptError {
    /// The HTTP status this failure answers with: 504 for time (the script is the upstream that
    /// did not answer in time), the script's own status for a throw that names one, 500 else.
    pub fn status(&self) -> u16 {
        match self {
            ScriptError::Timeout { .. } => 504,
            ScriptError::Thrown {
                status_code: Some(status),
                ..
            } if (400..=599).contains(status) => *status,
            _ => 500,
        }
    }

    /// The script the failure belongs to.
    pub fn script_name(&self) -> &str {
        match self {
            ScriptError::Timeout { name, .. }
            | ScriptError::OutOfMemory { name }
            | ScriptError::Thrown { name, .. }
            | ScriptError::Compile { name, .. }
            | ScriptError::Internal { name, .. } => name,
        }
    }
}

/// One call of a script: the `event` it sees, the caller's `platform.session`, and whether what
/// the script left in the event is wanted back (for `allow_event_modification`).
pub struct Call<'a> {
    pub script: &'a Script,
    pub event: serde_json::Value,
    /// `event.request`, given in parts so the engine builds it in one step; `None` when
    /// `event` carries its own (or none).
    pub request: Option<RequestParts>,
    /// `platform.session` as JSON text, parsed when first read. Shared: a core hands the same
    /// text to every call from the same caller, and the engine sends it to the runtime only
    /// when it differs from the last one.
    pub session: std::rc::Rc<str>,
    pub limits: Limits,
    /// Read back what the pipeline acts on ([`Outcome::event`]). Costs a serialisation, so
    /// only for scripts allowed to modify the event.
    pub want_event: bool,
}

/// What a finished call produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// What the script returned (`undefined` is `null`).
    pub value: serde_json::Value,
    /// When [`Call::want_event`] asked for it, what the pipeline acts on as the script left
    /// it: `{"request": {"parameters", "payload"}, "response"}` (members the script left
    /// `undefined` are absent; `request` as it is when the script made it something other than
    /// an object). The rest of the event (headers, URI, ...) changes nothing in the call, so
    /// it is not serialised back.
    pub event: Option<serde_json::Value>,
}

/// A `platform.api` request a script made: `platform.api.call(method, path, payload, options)`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct ApiRequest {
    /// Answers go back under this id ([`ScriptEngine::resume`]).
    pub id: u64,
    pub method: String,
    pub path: String,
    /// The payload as JSON text (the script's object stringified, or its string as given);
    /// `None` without a payload.
    #[serde(default)]
    pub payload: Option<String>,
    /// `{parameters:{..}, headers:{..}}`, when given.
    #[serde(default)]
    pub options: Option<serde_json::Value>,
}

/// Where a call stands after running as far as it can without the server.
#[derive(Debug)]
pub enum Step {
    Done(Outcome),
    /// The script waits for these `platform.api` requests; answer them all with
    /// [`ScriptEngine::resume`] under `call`.
    Waiting {
        call: u64,
        requests: Vec<ApiRequest>,
    },
}

/// A script engine. Scripts run synchronously on the core's thread; `platform.api` is the one
/// thing they wait for, and the engine hands those requests to its caller rather than making
/// them itself: the caller awaits them through the API pipeline and resumes the call. Between
/// the two the engine is free to run other calls, so a script waiting for the database never
/// holds up its core.
pub trait ScriptEngine {
    fn start(&self, call: Call<'_>) -> Result<Step, ScriptError>;

    /// Answers a waiting call's requests: `(request id, {status_code, content, headers})`.
    fn resume(
        &self,
        call: u64,
        answers: Vec<(u64, serde_json::Value)>,
    ) -> Result<Step, ScriptError>;

    /// Forgets a waiting call that will not be resumed (its request went away).
    fn abandon(&self, call: u64);

    /// A call that may not use `platform.api` (tests, tools): its value, or the error it raised.
    fn run(
        &self,
        script: &Script,
        input: serde_json::Value,
        limits: Limits,
    ) -> Result<serde_json::Value, ScriptError> {
        let call = Call {
            script,
            event: input,
            request: None,
            session: "null".into(),
            limits,
            want_event: false,
        };
        match self.start(call)? {
            Step::Done(outcome) => Ok(outcome.value),
            Step::Waiting { call, .. } => {
                self.abandon(call);
                Err(ScriptError::Internal {
                    name: script.name.to_string(),
                    message: "platform.api is not available here".into(),
                })
            }
        }
    }
}

/// Turns a returned `{exception:{code,message,status_code}}` into the error DreamFactory makes
/// of it; any other value passes through. Engine-neutral, so every engine shares the contract.
pub(crate) fn returned_exception(
    name: &str,
    value: serde_json::Value,
) -> Result<serde_json::Value, ScriptError> {
    match value.get("exception") {
        Some(serde_json::Value::Object(exception)) => {
            let (message, status_code, code) = error_fields(exception);
            Err(ScriptError::Thrown {
                name: name.to_owned(),
                message: message.unwrap_or_else(|| "Script returned an exception.".to_owned()),
                status_code,
                code,
            })
        }
        _ => Ok(value),
    }
}

/// Reads `message`, `status_code` and `code` the way DreamFactory's exception objects carry
/// them; a numeric string is accepted because PHP-minded scripts often write `'404'`.
pub(crate) fn error_fields(
    object: &serde_json::Map<String, serde_json::Value>,
) -> (Option<String>, Option<u16>, Option<i64>) {
    let message = object.get("message").map(|m| match m {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let int = |key: &str| match object.get(key)? {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    let status_code = int("status_code").and_then(|s| u16::try_from(s).ok());
    (message, status_code, int("code"))
}
