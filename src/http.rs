//! The HTTP/1.1 engine: our own, on `httparse`, because it is the hot path.
//!
//! Bytes arrive in a per-connection buffer that is reused for the life of the connection;
//! [`parse`] records where the method, target and headers sit in it (offsets, no copies) and
//! [`Request`] is a borrowed view over those offsets. A [`Handler`] turns a request into a
//! [`Response`]; [`conn`] owns everything about the connection itself: keep-alive, pipelining,
//! bodies, timeouts, limits and the overload answer.

pub mod body;
pub mod conn;
pub mod date;
pub mod engine;
pub mod error;
pub mod method;
pub mod parse;
pub mod request;
pub mod response;
pub mod scripted;
pub mod write;

use std::future::Future;

pub use engine::{Engine, Limits};
pub use error::HttpError;
pub use method::Method;
pub use request::Request;
pub use response::{Body, Response};

/// The application behind the engine. Handlers run on their core's `LocalSet`, so neither the
/// future nor the handler needs to be `Send`.
pub trait Handler {
    fn call(&self, req: &Request<'_>) -> impl Future<Output = Response>;
}
