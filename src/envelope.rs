//! DreamFactory's error envelope: `{"error":{"code":..,"context":..,"message":..,"status_code":..}}`.
//!
//! Every error leaves percore through [`ApiError::body`], whether the HTTP engine rejected the
//! bytes or a handler refused the request, so a client sees one shape everywhere.

use std::borrow::Cow;

use serde::Serialize;

/// An error on its way to the client: the HTTP status, DreamFactory's numeric code (the status
/// unless a richer code applies, e.g. 1000 for batch errors) and a message safe to show.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: u32,
    pub message: Cow<'static, str>,
    pub context: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: u32,
    context: &'a Option<serde_json::Value>,
    message: &'a str,
    status_code: u16,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<Cow<'static, str>>) -> Self {
        ApiError {
            status,
            code: u32::from(status),
            message: message.into(),
            context: None,
        }
    }

    pub fn with_context(mut self, context: serde_json::Value) -> Self {
        self.context = Some(context);
        self
    }

    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(404, message)
    }

    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(400, message)
    }

    /// The JSON body. Serialising these plain fields cannot fail; the fallback exists so that
    /// even an impossible failure still yields a valid envelope rather than a panic.
    pub fn body(&self) -> Vec<u8> {
        let envelope = Envelope {
            error: Inner {
                code: self.code,
                context: &self.context,
                message: &self.message,
                status_code: self.status,
            },
        };
        serde_json::to_vec(&envelope).unwrap_or_else(|_| {
            br#"{"error":{"code":500,"context":null,"message":"Internal error.","status_code":500}}"#
                .to_vec()
        })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_dreamfactory_fields() {
        let body = ApiError::not_found("Service 'x' not found.").body();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["code"], 404);
        assert_eq!(v["error"]["status_code"], 404);
        assert_eq!(v["error"]["message"], "Service 'x' not found.");
        assert!(v["error"]["context"].is_null());
    }
}
