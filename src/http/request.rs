//! A borrowed, zero-copy view of one request: the [`Head`]'s offsets resolved against the
//! connection's buffer, and the body (a slice of the same buffer, or of the de-chunked copy).

use std::net::SocketAddr;

use super::method::Method;
use super::parse::Head;

pub struct Request<'a> {
    head: &'a Head,
    buf: &'a [u8],
    body: &'a [u8],
    peer: SocketAddr,
}

impl<'a> Request<'a> {
    pub fn new(head: &'a Head, buf: &'a [u8], body: &'a [u8], peer: SocketAddr) -> Self {
        Request {
            head,
            buf,
            body,
            peer,
        }
    }

    pub fn method(&self) -> Method {
        self.head.method()
    }

    /// The request target as sent: path and query, still percent-encoded.
    pub fn target(&self) -> &'a str {
        // httparse only accepts visible ASCII in the target, so this is valid UTF-8.
        std::str::from_utf8(&self.buf[self.head.target.clone()]).unwrap_or("")
    }

    pub fn path(&self) -> &'a str {
        let t = self.target();
        t.split_once('?').map_or(t, |(p, _)| p)
    }

    /// The raw query string after `?` (empty when absent).
    pub fn query(&self) -> &'a str {
        self.target().split_once('?').map_or("", |(_, q)| q)
    }

    pub fn minor_version(&self) -> u8 {
        self.head.minor_version
    }

    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// A header's value as text, when it is valid UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&'a str> {
        self.header(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    pub fn headers(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        let buf = self.buf;
        self.head.headers.iter().map(move |(n, v)| {
            // Header names are tokens (ASCII) once httparse accepted them.
            let name = std::str::from_utf8(&buf[n.clone()]).unwrap_or("");
            (name, &buf[v.clone()])
        })
    }

    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    pub fn accepts_gzip(&self) -> bool {
        self.head.accept_gzip
    }
}
