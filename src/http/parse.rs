//! Request-head parsing: `httparse` over the connection's buffer, keeping offsets, not copies.
//!
//! The parse result must not borrow the buffer, because the connection keeps reading into it
//! (the body, the next pipelined request). So we record each slice as a range into the buffer
//! and the framing facts (length, chunked, keep-alive, ...) the connection loop needs, all in a
//! [`Head`] the connection reuses for every request.

use std::mem::MaybeUninit;
use std::ops::Range;

use super::error::HttpError;
use super::method::Method;

/// The most headers a request may carry, whatever the configuration says.
pub const MAX_HEADER_SLOTS: usize = 128;

/// Where a request's parts sit in the read buffer, plus the framing facts derived once here so
/// that nothing downstream scans the headers again for them.
#[derive(Debug, Default, Clone)]
pub struct Head {
    pub method: Option<Method>,
    pub method_token: Range<usize>,
    pub target: Range<usize>,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    pub headers: Vec<(Range<usize>, Range<usize>)>,
    /// Bytes taken by the request line and headers, including the blank line.
    pub len: usize,
    pub content_length: Option<u64>,
    pub chunked: bool,
    pub connection_close: bool,
    pub connection_keep_alive: bool,
    pub expect_continue: bool,
    pub accept_gzip: bool,
}

impl Head {
    pub fn method(&self) -> Method {
        self.method.unwrap_or(Method::Other)
    }

    /// Whether the connection stays open after this request: HTTP/1.1 unless `close`,
    /// HTTP/1.0 only with `keep-alive`.
    pub fn keep_alive(&self) -> bool {
        if self.minor_version >= 1 {
            !self.connection_close
        } else {
            self.connection_keep_alive && !self.connection_close
        }
    }

    /// Whether a body follows the head.
    pub fn has_body(&self) -> bool {
        self.chunked || self.content_length.is_some_and(|n| n > 0)
    }
}

/// Parses a complete request head from `buf` into `head`, reusing its allocations.
///
/// Returns `Ok(false)` when more bytes are needed. `max_headers` bounds the header count
/// (431 past it); the byte limit on the head is the caller's, since only it knows whether
/// more bytes are coming.
pub fn parse_head(buf: &[u8], max_headers: usize, head: &mut Head) -> Result<bool, HttpError> {
    // Uninitialised slots: initialising 128 headers per request would cost more than parsing.
    let mut storage = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADER_SLOTS];
    let slots = max_headers.min(MAX_HEADER_SLOTS);
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(buf, &mut storage[..slots]) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(false),
        Err(httparse::Error::TooManyHeaders) => return Err(HttpError::TooManyHeaders),
        Err(e) => return Err(HttpError::Malformed(e.to_string())),
    };
    let base = buf.as_ptr() as usize;
    let range = |s: &[u8]| {
        let start = s.as_ptr() as usize - base;
        start..start + s.len()
    };
    // httparse only yields Complete with all three present; the fallbacks keep this total.
    let method = req.method.unwrap_or("");
    let target = req.path.unwrap_or("");
    *head = Head {
        method: Some(Method::from_bytes(method.as_bytes())),
        method_token: range(method.as_bytes()),
        target: range(target.as_bytes()),
        minor_version: req.version.unwrap_or(1),
        headers: std::mem::take(&mut head.headers),
        len,
        ..Head::default()
    };
    head.headers.clear();
    for h in req.headers.iter() {
        head.headers
            .push((range(h.name.as_bytes()), range(h.value)));
        note_framing(head, h.name, h.value)?;
    }
    if head.chunked && head.content_length.is_some() {
        // Both framings at once is the classic request-smuggling shape: refuse it.
        return Err(HttpError::Malformed(
            "both Content-Length and Transfer-Encoding".into(),
        ));
    }
    Ok(true)
}

fn note_framing(head: &mut Head, name: &str, value: &[u8]) -> Result<(), HttpError> {
    if name.eq_ignore_ascii_case("content-length") {
        let n = parse_content_length(value)?;
        if head.content_length.is_some_and(|prev| prev != n) {
            return Err(HttpError::Malformed("conflicting Content-Length".into()));
        }
        head.content_length = Some(n);
    } else if name.eq_ignore_ascii_case("transfer-encoding") {
        // Only `chunked` alone is supported; any other coding (gzip, chunked) is a 501.
        for coding in value.split(|&b| b == b',') {
            let coding = trim(coding);
            if coding.eq_ignore_ascii_case(b"chunked") && !head.chunked {
                head.chunked = true;
            } else if !coding.is_empty() {
                return Err(HttpError::UnsupportedTransferCoding);
            }
        }
    } else if name.eq_ignore_ascii_case("connection") {
        for token in value.split(|&b| b == b',') {
            let token = trim(token);
            if token.eq_ignore_ascii_case(b"close") {
                head.connection_close = true;
            } else if token.eq_ignore_ascii_case(b"keep-alive") {
                head.connection_keep_alive = true;
            }
        }
    } else if name.eq_ignore_ascii_case("expect") {
        if trim(value).eq_ignore_ascii_case(b"100-continue") {
            head.expect_continue = true;
        } else {
            return Err(HttpError::ExpectationFailed);
        }
    } else if name.eq_ignore_ascii_case("accept-encoding") {
        head.accept_gzip = accepts_gzip(value);
    }
    Ok(())
}

fn parse_content_length(value: &[u8]) -> Result<u64, HttpError> {
    let value = trim(value);
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return Err(HttpError::Malformed("invalid Content-Length".into()));
    }
    Ok(value.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}

/// True when `gzip` is listed without `q=0`.
fn accepts_gzip(value: &[u8]) -> bool {
    value.split(|&b| b == b',').any(|item| {
        let mut parts = item.split(|&b| b == b';');
        let coding = trim(parts.next().unwrap_or_default());
        let named = coding.eq_ignore_ascii_case(b"gzip") || coding == b"*";
        named
            && !parts.any(|p| {
                let p = trim(p);
                p.len() >= 2
                    && p[..2].eq_ignore_ascii_case(b"q=")
                    && p[2..].iter().all(|&b| b == b'0' || b == b'.')
            })
    })
}

pub(crate) fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Result<Option<Head>, HttpError> {
        let mut head = Head::default();
        parse_head(raw, 64, &mut head).map(|done| done.then_some(head))
    }

    #[test]
    fn offsets_point_into_the_buffer() {
        let raw = b"GET /api/v2/db?x=1 HTTP/1.1\r\nHost: a\r\nAccept-Encoding: br, gzip\r\n\r\n";
        let head = parse(raw).unwrap().unwrap();
        assert_eq!(&raw[head.target.clone()], b"/api/v2/db?x=1");
        assert_eq!(head.method(), Method::Get);
        assert_eq!(head.len, raw.len());
        assert!(head.accept_gzip && head.keep_alive());
        let (n, v) = &head.headers[0];
        assert_eq!(
            (&raw[n.clone()], &raw[v.clone()]),
            (&b"Host"[..], &b"a"[..])
        );
    }

    #[test]
    fn partial_heads_ask_for_more() {
        assert!(parse(b"GET / HTTP/1.1\r\nHost:").unwrap().is_none());
    }

    #[test]
    fn framing_errors() {
        let both = b"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert!(matches!(parse(both), Err(HttpError::Malformed(_))));
        let te = b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
        assert!(matches!(
            parse(te),
            Err(HttpError::UnsupportedTransferCoding)
        ));
        let cl = b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
        assert!(matches!(parse(cl), Err(HttpError::Malformed(_))));
        let neg = b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n";
        assert!(matches!(parse(neg), Err(HttpError::Malformed(_))));
    }

    #[test]
    fn gzip_with_q_zero_is_refused() {
        assert!(accepts_gzip(b"gzip;q=0.5"));
        assert!(!accepts_gzip(b"gzip;q=0"));
        assert!(!accepts_gzip(b"identity"));
    }

    #[test]
    fn http10_keep_alive_is_opt_in() {
        let h = parse(b"GET / HTTP/1.0\r\n\r\n").unwrap().unwrap();
        assert!(!h.keep_alive());
        let h = parse(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(h.keep_alive());
    }
}
