//! What can go wrong while reading a request, and the status each answers with.

use thiserror::Error;

use crate::envelope::ApiError;

#[derive(Debug, Error)]
pub enum HttpError {
    #[error("Malformed request: {0}.")]
    Malformed(String),
    #[error("Request line and headers exceed the size limit.")]
    HeadTooLarge,
    #[error("Too many request headers.")]
    TooManyHeaders,
    #[error("Request body exceeds the limit of {limit} bytes.")]
    BodyTooLarge { limit: u64 },
    #[error("Transfer-Encoding other than chunked is not supported.")]
    UnsupportedTransferCoding,
    #[error("Only 'Expect: 100-continue' is supported.")]
    ExpectationFailed,
    #[error("Timed out reading the request.")]
    Timeout,
}

impl HttpError {
    pub fn status(&self) -> u16 {
        match self {
            HttpError::Malformed(_) => 400,
            HttpError::HeadTooLarge | HttpError::TooManyHeaders => 431,
            HttpError::BodyTooLarge { .. } => 413,
            HttpError::UnsupportedTransferCoding => 501,
            HttpError::ExpectationFailed => 417,
            HttpError::Timeout => 408,
        }
    }

    pub fn to_api(&self) -> ApiError {
        ApiError::new(self.status(), self.to_string())
    }
}
