//! DreamFactory's verb tunnelling: a POST may carry the real verb for clients and proxies that
//! only speak GET and POST.

use super::Query;
use crate::http::{Method, Request};

/// Headers checked in DreamFactory's order, then the `method` / `_method` parameters.
const HEADERS: [&str; 3] = [
    "X-HTTP-Method",
    "X-HTTP-Method-Override",
    "X-Method-Override",
];

pub fn effective_method(req: &Request<'_>, query: &Query<'_>) -> Method {
    let method = req.method();
    if method != Method::Post {
        return method;
    }
    HEADERS
        .iter()
        .find_map(|h| req.header_str(h))
        .or_else(|| query.get_any(&["method", "_method"]))
        .and_then(Method::from_tunnel)
        .unwrap_or(method)
}
