//! What a handler returns. Bodies are whole (`Content-Length`) or a stream of chunks, which the
//! engine sends with chunked transfer coding so a large result never sits in memory at once.

use std::borrow::Cow;
use std::io;

use bytes::Bytes;
use futures_util::stream::LocalBoxStream;

use crate::envelope::ApiError;

pub const JSON: &str = "application/json";
pub const TEXT: &str = "text/plain; charset=utf-8";

pub enum Body {
    Empty,
    Full(Bytes),
    /// Chunks produced as the data arrives (query rows, say). An `Err` ends the response early;
    /// the engine then closes the connection so the client sees a truncated body, never a
    /// well-formed lie.
    Stream(LocalBoxStream<'static, io::Result<Bytes>>),
}

pub struct Response {
    pub status: u16,
    pub content_type: Option<&'static str>,
    pub headers: Vec<(Cow<'static, str>, Cow<'static, str>)>,
    pub body: Body,
    /// Close the connection after this response (the engine also closes on its own reasons).
    pub close: bool,
}

impl Response {
    pub fn new(status: u16, content_type: Option<&'static str>, body: Body) -> Self {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body,
            close: false,
        }
    }

    pub fn empty(status: u16) -> Self {
        Self::new(status, None, Body::Empty)
    }

    pub fn json(status: u16, body: impl Into<Bytes>) -> Self {
        Self::new(status, Some(JSON), Body::Full(body.into()))
    }

    /// Serialises `value` as the JSON body; serialising our own types does not fail, but if it
    /// ever did the client gets a 500 envelope rather than a panic.
    pub fn json_value<T: serde::Serialize>(status: u16, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => Self::json(status, body),
            Err(_) => Self::error(&ApiError::new(500, "Failed to encode the response.")),
        }
    }

    pub fn text(status: u16, body: impl Into<Bytes>) -> Self {
        Self::new(status, Some(TEXT), Body::Full(body.into()))
    }

    pub fn stream(
        status: u16,
        content_type: &'static str,
        body: LocalBoxStream<'static, io::Result<Bytes>>,
    ) -> Self {
        Self::new(status, Some(content_type), Body::Stream(body))
    }

    pub fn error(err: &ApiError) -> Self {
        Self::json(err.status, err.body())
    }

    pub fn header(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<Cow<'static, str>>,
    ) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn closing(mut self) -> Self {
        self.close = true;
        self
    }
}
