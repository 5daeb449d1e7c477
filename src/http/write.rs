//! Response encoding into the connection's reused write buffer.

use std::io::Write;

use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;

use super::response::Response;

/// How the head announces the body's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Length(usize),
    Chunked,
    /// HTTP/1.0 streaming: the body ends when the connection closes.
    UntilClose,
    /// 204 and 304 carry no body and must not announce a length.
    NoBody,
}

/// Per-response facts that come from the request and the connection, not the handler.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub date: &'a [u8],
    pub keep_alive: bool,
    pub minor_version: u8,
    pub gzip: bool,
}

pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        417 => "Expectation Failed",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// Writes the status line and headers. The caller writes the body after it (or not, for HEAD).
pub fn encode_head(
    out: &mut Vec<u8>,
    resp: &Response,
    framing: Framing,
    gzipped: bool,
    cx: &Context<'_>,
) {
    out.extend_from_slice(if cx.minor_version == 0 {
        b"HTTP/1.0 "
    } else {
        b"HTTP/1.1 "
    });
    let mut num = itoa::Buffer::new();
    out.extend_from_slice(num.format(resp.status).as_bytes());
    out.push(b' ');
    out.extend_from_slice(reason(resp.status).as_bytes());
    out.extend_from_slice(b"\r\nServer: percore\r\nDate: ");
    out.extend_from_slice(cx.date);
    if let Some(ct) = resp.content_type {
        out.extend_from_slice(b"\r\nContent-Type: ");
        out.extend_from_slice(ct.as_bytes());
    }
    match framing {
        Framing::Length(n) => {
            out.extend_from_slice(b"\r\nContent-Length: ");
            out.extend_from_slice(num.format(n).as_bytes());
        }
        Framing::Chunked => out.extend_from_slice(b"\r\nTransfer-Encoding: chunked"),
        Framing::UntilClose | Framing::NoBody => {}
    }
    if gzipped {
        out.extend_from_slice(b"\r\nContent-Encoding: gzip\r\nVary: Accept-Encoding");
    }
    let keep_alive = cx.keep_alive && framing != Framing::UntilClose;
    if !keep_alive {
        out.extend_from_slice(b"\r\nConnection: close");
    } else if cx.minor_version == 0 {
        out.extend_from_slice(b"\r\nConnection: keep-alive");
    }
    for (name, value) in &resp.headers {
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        // A header value must not smuggle a line break into the response.
        out.extend(value.bytes().filter(|&b| b != b'\r' && b != b'\n'));
    }
    out.extend_from_slice(b"\r\n\r\n");
}

/// Gzip for a whole body. Level 1 to 9; lower is cheaper per byte, which matters on a server
/// whose CPU is the bottleneck.
pub fn gzip(body: &[u8], level: u32) -> Bytes {
    let mut enc = GzEncoder::new(
        Vec::with_capacity(body.len() / 3 + 64),
        Compression::new(level),
    );
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(body);
    enc.finish().unwrap_or_default().into()
}

/// One chunk of a chunked body.
pub fn encode_chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return; // An empty chunk would end the body.
    }
    let mut hex = [0u8; 16];
    let mut n = data.len();
    let mut i = hex.len();
    while n > 0 || i == hex.len() {
        i -= 1;
        hex[i] = b"0123456789abcdef"[n & 15];
        n >>= 4;
    }
    out.extend_from_slice(&hex[i..]);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Gzip over a stream: each input chunk yields whatever compressed bytes are ready.
pub struct GzipStream {
    enc: GzEncoder<Vec<u8>>,
}

impl GzipStream {
    pub fn new(level: u32) -> Self {
        GzipStream {
            enc: GzEncoder::new(Vec::new(), Compression::new(level)),
        }
    }

    pub fn feed(&mut self, data: &[u8]) -> Vec<u8> {
        let _ = self.enc.write_all(data);
        std::mem::take(self.enc.get_mut())
    }

    pub fn finish(self) -> Vec<u8> {
        self.enc.finish().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Response;

    #[test]
    fn head_layout() {
        let resp = Response::json(404, "{}").header("Allow", "GET");
        let mut out = Vec::new();
        let date = [b'D'; 29];
        let cx = Context {
            date: &date,
            keep_alive: true,
            minor_version: 1,
            gzip: false,
        };
        encode_head(&mut out, &resp, Framing::Length(2), false, &cx);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\nServer: percore\r\nDate: DDD"));
        assert!(text.contains("\r\nContent-Length: 2\r\n"));
        assert!(text.ends_with("Allow: GET\r\n\r\n"));
        assert!(!text.contains("Connection"));
    }

    #[test]
    fn chunk_sizes_are_hex() {
        let mut out = Vec::new();
        encode_chunk(&mut out, &[b'x'; 26]);
        assert!(out.starts_with(b"1a\r\n"));
    }

    #[test]
    fn header_values_cannot_split_the_response() {
        let resp = Response::empty(200).header("X", "a\r\nSet-Cookie: evil");
        let mut out = Vec::new();
        let cx = Context {
            date: &[b'D'; 29],
            keep_alive: true,
            minor_version: 1,
            gzip: false,
        };
        encode_head(&mut out, &resp, Framing::Length(0), false, &cx);
        assert!(!String::from_utf8(out).unwrap().contains("\r\nSet-Cookie"));
    }
}
