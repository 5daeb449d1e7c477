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

pub mod quickjs;

use std::time::Duration;

pub use quickjs::QuickJs;

/// A script to run: `name` identifies it in logs and errors (for event scripts it is the event
/// name) and keys the engine's compile cache together with a hash of `source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub name: String,
    pub source: String,
}

impl Script {
    pub fn new(name: impl Into<String>, source: impl Into<String>) -> Self {
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

/// A script engine. `input` is the `event` object the script sees; the result is what the
/// script returned (JSON; `undefined` becomes `null`).
pub trait ScriptEngine {
    fn run(
        &self,
        script: &Script,
        input: serde_json::Value,
        limits: Limits,
    ) -> Result<serde_json::Value, ScriptError>;
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
