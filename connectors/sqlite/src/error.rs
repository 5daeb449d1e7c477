//! rusqlite errors classified into [`DbError`]s whose messages are safe for clients: SQLite's
//! own text where it names only tables, columns and constraints; never the SQL itself.

use percore_connector::{DbError, ErrorKind};
use rusqlite::ffi::ErrorCode;

/// `SQLITE_CONSTRAINT_DATATYPE`: a STRICT table refused a value of the wrong type. That is bad
/// input, not a constraint in DreamFactory's sense.
const CONSTRAINT_DATATYPE: i32 = 3091;

pub(crate) fn classify(e: rusqlite::Error) -> DbError {
    match e {
        rusqlite::Error::SqliteFailure(f, msg) => from_code(f, msg.as_deref()),
        // Carries the SQL text and the offending token: keep only SQLite's message.
        rusqlite::Error::SqlInputError { error, msg, .. } => from_code(error, Some(&msg)),
        rusqlite::Error::InvalidParameterCount(given, expected) => DbError::new(
            ErrorKind::Internal,
            format!("The statement takes {expected} parameters but {given} were bound."),
        ),
        rusqlite::Error::MultipleStatement => {
            DbError::new(ErrorKind::Internal, "Only one statement can run per call.")
        }
        rusqlite::Error::NulError(_) => DbError::new(
            ErrorKind::Internal,
            "The statement text contains a NUL character.",
        ),
        rusqlite::Error::InvalidPath(_) => unavailable("The database path is not usable."),
        other => DbError::new(
            ErrorKind::Internal,
            format!("SQLite failed: {}", short(&other)),
        ),
    }
}

fn from_code(f: rusqlite::ffi::Error, msg: Option<&str>) -> DbError {
    let text = || msg.map_or_else(|| f.to_string(), str::to_owned);
    match f.code {
        ErrorCode::ConstraintViolation if f.extended_code == CONSTRAINT_DATATYPE => {
            DbError::new(ErrorKind::InvalidInput, text())
        }
        ErrorCode::ConstraintViolation => DbError::new(ErrorKind::Constraint, text()),
        ErrorCode::TypeMismatch => DbError::new(
            ErrorKind::InvalidInput,
            "A value does not fit the column's type (an INTEGER PRIMARY KEY takes only integers).",
        ),
        ErrorCode::TooBig => DbError::new(
            ErrorKind::InvalidInput,
            "A value is larger than SQLite accepts.",
        ),
        ErrorCode::OperationInterrupted => DbError::timeout(),
        ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => DbError::new(
            ErrorKind::Timeout,
            "The database stayed locked by another writer for longer than the busy timeout.",
        ),
        ErrorCode::CannotOpen
        | ErrorCode::NotADatabase
        | ErrorCode::DatabaseCorrupt
        | ErrorCode::SystemIoFailure
        | ErrorCode::DiskFull
        | ErrorCode::PermissionDenied
        | ErrorCode::ReadOnly
        | ErrorCode::NoLargeFileSupport
        | ErrorCode::FileLockingProtocolFailed
        | ErrorCode::OutOfMemory => {
            unavailable(format!("The SQLite database is not usable: {}.", text()))
        }
        ErrorCode::Unknown => generic(msg.unwrap_or("SQL error")),
        _ => DbError::new(ErrorKind::Internal, text()),
    }
}

/// `SQLITE_ERROR`, whose only detail is the message.
fn generic(msg: &str) -> DbError {
    const MISSING: [&str; 4] = [
        "no such table",
        "no such column",
        "no such view",
        "no such index",
    ];
    if MISSING.iter().any(|m| msg.starts_with(m)) {
        return DbError::new(ErrorKind::NotFound, msg);
    }
    if msg.contains("malformed JSON") || msg.contains("JSON cannot hold BLOB") {
        return DbError::new(ErrorKind::InvalidInput, msg);
    }
    // `near "...": syntax error` and friends quote the statement: never echo them.
    if msg.starts_with("near ")
        || msg.starts_with("unrecognized token")
        || msg.contains("incomplete input")
    {
        return DbError::new(ErrorKind::Internal, "SQL syntax error.");
    }
    DbError::new(ErrorKind::Internal, msg)
}

fn short(e: &rusqlite::Error) -> String {
    e.to_string().chars().take(200).collect()
}

pub(crate) fn unavailable(message: impl Into<String>) -> DbError {
    DbError::unavailable(message)
}

pub(crate) fn internal(message: impl Into<String>) -> DbError {
    DbError::new(ErrorKind::Internal, message)
}

/// Whether the connection that produced this error should be closed instead of reused.
pub(crate) fn breaks_connection(e: &DbError) -> bool {
    e.kind == ErrorKind::Unavailable
}
