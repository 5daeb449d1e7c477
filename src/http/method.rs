//! Request methods as an enum, so routing and masks compare integers instead of strings.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
    /// Any other token (TRACE, CONNECT, ...): parsed so the router can answer 405 with `Allow`.
    Other,
}

impl Method {
    pub const ALL: [Method; 7] = [
        Method::Get,
        Method::Head,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Options,
    ];

    /// Parses a method token. `MERGE` is DreamFactory's alias for PATCH.
    pub fn from_bytes(token: &[u8]) -> Method {
        match token {
            b"GET" => Method::Get,
            b"HEAD" => Method::Head,
            b"POST" => Method::Post,
            b"PUT" => Method::Put,
            b"PATCH" | b"MERGE" => Method::Patch,
            b"DELETE" => Method::Delete,
            b"OPTIONS" => Method::Options,
            _ => Method::Other,
        }
    }

    /// Like [`Method::from_bytes`] but case-insensitive, for tunnelling headers and parameters
    /// where clients send `patch` as often as `PATCH`.
    pub fn from_tunnel(token: &str) -> Option<Method> {
        let upper = token.trim().to_ascii_uppercase();
        match Method::from_bytes(upper.as_bytes()) {
            Method::Other => None,
            m => Some(m),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Other => "OTHER",
        }
    }

    /// One bit per method, for allow-sets and (later) DreamFactory verb masks.
    pub fn bit(self) -> u8 {
        match self {
            Method::Get => 1,
            Method::Post => 2,
            Method::Put => 4,
            Method::Patch => 8,
            Method::Delete => 16,
            Method::Options => 32,
            Method::Head => 64,
            Method::Other => 128,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
