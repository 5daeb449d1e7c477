//! The database API's errors, mapped to DreamFactory's envelope only here, at the edge.

use percore_connector::{DbError, ErrorKind};
use thiserror::Error;

use super::filter::FilterError;
use crate::envelope::ApiError;

#[derive(Debug, Error)]
pub enum DbApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// The caller's role does not allow this (e.g. a write its server-side filter refuses).
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Filter(#[from] FilterError),
    #[error(transparent)]
    Db(#[from] DbError),
    /// DreamFactory's batch error: code 1000, the failed indexes and per-record outcomes.
    #[error("Batch Error: Not all requested records could be {verb}.")]
    Batch {
        verb: &'static str,
        failed: Vec<usize>,
        results: Vec<serde_json::Value>,
    },
}

impl DbApiError {
    pub fn to_api(&self) -> ApiError {
        match self {
            DbApiError::BadRequest(m) => ApiError::bad_request(m.clone()),
            DbApiError::NotFound(m) => ApiError::not_found(m.clone()),
            DbApiError::Forbidden(m) => ApiError::new(403, m.clone()),
            DbApiError::Filter(e) => ApiError::bad_request(e.to_string()),
            DbApiError::Db(e) => db_error(e),
            DbApiError::Batch {
                failed, results, ..
            } => {
                let mut err = ApiError::new(400, self.to_string());
                err.code = 1000;
                err.with_context(serde_json::json!({ "error": failed, "resource": results }))
            }
        }
    }
}

pub fn db_error(e: &DbError) -> ApiError {
    match e.kind {
        ErrorKind::Unavailable => {
            ApiError::new(503, format!("Database unavailable: {}", e.message))
        }
        ErrorKind::Timeout => ApiError::new(504, e.message.clone()),
        ErrorKind::Constraint | ErrorKind::InvalidInput => ApiError::bad_request(e.message.clone()),
        ErrorKind::NotFound => ApiError::not_found(e.message.clone()),
        ErrorKind::Internal => {
            tracing::error!(error = %e.message, "database error");
            ApiError::new(500, "Database error.")
        }
    }
}
