//! One error type for every connector, classified so the API picks the status without knowing
//! which database answered.

use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The database cannot be reached or the connection broke: 503, retry later.
    Unavailable,
    /// The statement ran past the service's statement timeout: 504.
    Timeout,
    /// A unique, foreign-key, not-null or check constraint refused the write: 400.
    Constraint,
    /// Bad input that reached the database (wrong type for a column, ...): 400.
    InvalidInput,
    /// A table or column that does not exist: 404 or 400 depending on what was named.
    NotFound,
    /// Anything else: 500, with details only in the server log.
    Internal,
}

#[derive(Debug, Clone, Error)]
#[error("{message}")]
pub struct DbError {
    pub kind: ErrorKind,
    /// Safe to show to the client: no SQL, no connection strings.
    pub message: String,
}

impl DbError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        DbError {
            kind,
            message: message.into(),
        }
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }

    pub fn timeout() -> Self {
        Self::new(
            ErrorKind::Timeout,
            "The database did not answer within the statement timeout.",
        )
    }
}
