//! DreamFactory-style CORS: entries (`path`, `origin`, `header`, `exposed_header`, `method`
//! mask, `max_age`, `supports_credentials`, `enabled`) compiled once into a read-only
//! [`CorsPolicy`] that answers preflights before routing and auth, and decorates every other
//! response. The first enabled entry matching the path, the origin and the method wins.
//!
//! A preflight that no entry allows gets a plain 403 in the error envelope, without any
//! `Access-Control-*` header: a preflight is never a real API call, so running it through
//! routing and auth would only produce a 404 or 401 that hides the actual reason, while the
//! 403's message says what to configure. With no entries at all the policy is not consulted
//! (see `api::dispatch`), so a server without CORS answers `OPTIONS` as before.
//!
//! Paths are matched against the request path as sent, still percent-encoded. That can only
//! refuse more than matching the decoded path would, never allow more: an entry holds no `%`
//! escapes, so a raw path equal to it (or starting with its prefix) decodes to one that is too.

use std::borrow::Cow;
use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use crate::envelope::ApiError;
use crate::http::{Method, Request, Response};

/// One CORS entry, with DreamFactory's field names (`/api/v2/system/cors` speaks the same).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsEntry {
    /// `*`, `api/v2/*` or `api/v2/db/_table/contact`: leading `/` optional, a trailing `*`
    /// matches any rest (so `api/v2/*` does not match `api/v2` itself, as in DreamFactory).
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `*` or a comma list of `scheme://host[:port]`. With `supports_credentials`, `*` still
    /// answers with the request's own origin (browsers refuse `*` with credentials), which
    /// lets every site make credentialed calls: list the origins instead.
    pub origin: String,
    /// Request headers a preflight may ask for: `*` or a comma list.
    #[serde(default = "any")]
    pub header: String,
    /// Response headers scripts may read (`Access-Control-Expose-Headers`), a comma list.
    #[serde(default)]
    pub exposed_header: Option<String>,
    /// DreamFactory's verb mask; all methods when absent.
    #[serde(default)]
    pub method: MethodMask,
    /// How long a browser may cache a preflight answer, in seconds.
    #[serde(default = "default_max_age")]
    pub max_age: u32,
    #[serde(default)]
    pub supports_credentials: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn any() -> String {
    "*".into()
}
fn default_max_age() -> u32 {
    3600
}
fn yes() -> bool {
    true
}

/// DreamFactory's verb bits (GET 1, POST 2, PUT 4, PATCH 8, DELETE 16, OPTIONS 32, HEAD 64),
/// which are [`Method::bit`]. Read from a number, a list of names or a comma string (`"*"` for
/// all); written as the number, as DreamFactory does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodMask(pub u16);

impl MethodMask {
    pub const ALL: MethodMask = MethodMask(127);

    fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut bits = 0;
        for name in names.into_iter().map(str::trim).filter(|n| !n.is_empty()) {
            bits |= match (name, Method::from_tunnel(name)) {
                ("*", _) => Self::ALL.0,
                (_, Some(m)) => u16::from(m.bit()),
                (_, None) => return Err(format!("unknown method `{name}`")),
            };
        }
        Ok(MethodMask(bits))
    }
}

impl Default for MethodMask {
    fn default() -> Self {
        Self::ALL
    }
}

impl Serialize for MethodMask {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u16(self.0)
    }
}

impl<'de> Deserialize<'de> for MethodMask {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = MethodMask;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a verb mask (1..127) or method names such as [\"GET\", \"POST\"]")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<MethodMask, E> {
                // Out-of-range masks are kept (saturated) so validation names the `cors` key.
                Ok(MethodMask(u16::try_from(v).unwrap_or(u16::MAX)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<MethodMask, E> {
                self.visit_u64(u64::try_from(v).unwrap_or(u64::MAX))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MethodMask, E> {
                MethodMask::from_names(v.split(',')).map_err(E::custom)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<MethodMask, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    names.push(name);
                }
                MethodMask::from_names(names.iter().map(String::as_str)).map_err(de::Error::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Entries compiled for matching; disabled ones are left out. Read-only once built, so one
/// policy can serve every core.
#[derive(Debug, Default)]
pub struct CorsPolicy {
    rules: Vec<Rule>,
}

#[derive(Debug)]
struct Rule {
    /// The path without its leading `/` and without the trailing `*` when `prefix`.
    path: String,
    prefix: bool,
    /// Lower-cased origins; `None` for `*`.
    origins: Option<Vec<String>>,
    /// Lower-cased allowed request headers; `None` for `*`.
    headers: Option<Vec<String>>,
    methods: u16,
    // Header values rendered once here rather than on every request.
    allow_methods: String,
    expose: Option<String>,
    max_age: String,
    credentials: bool,
}

/// A comma list, trimmed, empties dropped; `None` for `*`.
fn list(s: &str) -> Option<Vec<String>> {
    let items: Vec<String> = s
        .split(',')
        .map(|i| i.trim().to_ascii_lowercase())
        .filter(|i| !i.is_empty())
        .collect();
    (!items.iter().any(|i| i == "*")).then_some(items)
}

fn compile(i: usize, e: &CorsEntry) -> Result<Rule, String> {
    let at = |msg: String| format!("entry {} (path `{}`): {msg}", i + 1, e.path);
    let path = e.path.trim().trim_start_matches('/');
    let (path, prefix) = match path.strip_suffix('*') {
        Some(p) => (p, true),
        None => (path, false),
    };
    if (path.is_empty() && !prefix) || path.contains(['*', '?', '#', ' ']) {
        return Err(at(
            "a path is `*`, `api/v2/*` or an exact path; `*` only at the end".into(),
        ));
    }
    let origins = list(&e.origin);
    match &origins {
        Some(o) if o.is_empty() => return Err(at("`origin` is empty (use `*` or a list)".into())),
        Some(o) => {
            if let Some(bad) = o.iter().find(|o| !valid_origin(o)) {
                return Err(at(format!(
                    "origin `{bad}` is not `scheme://host[:port]` (no path, no trailing `/`)"
                )));
            }
        }
        None => {}
    }
    if e.method.0 == 0 || e.method.0 > MethodMask::ALL.0 {
        return Err(at(format!(
            "method mask {} is not within 1..127",
            e.method.0
        )));
    }
    let allow_methods: Vec<&str> = [1u16, 2, 4, 8, 16, 32, 64]
        .iter()
        .filter(|&&b| e.method.0 & b != 0)
        .map(|&b| bit_name(b))
        .collect();
    let expose = e.exposed_header.as_deref().map(|h| {
        let items: Vec<&str> = h
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        items.join(", ")
    });
    Ok(Rule {
        path: path.to_string(),
        prefix,
        origins,
        headers: list(&e.header),
        methods: e.method.0,
        allow_methods: allow_methods.join(", "),
        expose: expose.filter(|h| !h.is_empty()),
        max_age: e.max_age.to_string(),
        credentials: e.supports_credentials,
    })
}

fn bit_name(bit: u16) -> &'static str {
    Method::ALL
        .iter()
        .find(|m| u16::from(m.bit()) == bit)
        .map_or("", |m| m.as_str())
}

fn valid_origin(o: &str) -> bool {
    o.split_once("://").is_some_and(|(scheme, host)| {
        !scheme.is_empty() && !host.is_empty() && !host.contains(['/', '?', '#', ' '])
    })
}

impl CorsPolicy {
    /// Compiles `entries`, in order. This is also the validation of entries: an error names the
    /// entry (1-based) and what is wrong with it.
    pub fn new(entries: &[CorsEntry]) -> Result<Self, String> {
        let mut rules = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            // Disabled entries are checked too: enabling one later must not be what breaks.
            let rule = compile(i, e)?;
            if e.enabled {
                rules.push(rule);
            }
        }
        Ok(CorsPolicy { rules })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    fn find(&self, path: &str, origin: &str, method: Method) -> Option<&Rule> {
        let path = path.strip_prefix('/').unwrap_or(path);
        let bit = u16::from(method.bit());
        self.rules.iter().find(|r| {
            r.methods & bit != 0
                && (if r.prefix {
                    path.starts_with(&r.path)
                } else {
                    path == r.path
                })
                && r.origins
                    .as_ref()
                    .is_none_or(|list| list.iter().any(|o| o.eq_ignore_ascii_case(origin)))
        })
    }

    /// Answers a CORS preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`),
    /// without auth; `None` when `req` is not one, so normal handling goes on.
    pub fn preflight(&self, req: &Request, path: &str) -> Option<Response> {
        if req.method() != Method::Options {
            return None;
        }
        let origin = req.header_str("origin")?;
        let wanted = req.header_str("access-control-request-method")?;
        let method = Method::from_bytes(wanted.trim().as_bytes());
        let Some(rule) = self.find(path, origin, method) else {
            return Some(refuse(format!(
                "CORS preflight refused: no enabled CORS entry allows {} on this path from \
                 this origin.",
                method.as_str()
            )));
        };
        let asked = req
            .header_str("access-control-request-headers")
            .unwrap_or("");
        let asked: Vec<&str> = asked
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        if let Some(allowed) = &rule.headers {
            if let Some(h) = asked
                .iter()
                .find(|h| !allowed.iter().any(|a| a.eq_ignore_ascii_case(h)))
            {
                return Some(refuse(format!(
                    "CORS preflight refused: request header '{h}' is not allowed."
                )));
            }
        }
        let mut resp = allow_origin(Response::empty(204), rule, origin)
            .header("Access-Control-Allow-Methods", rule.allow_methods.clone())
            .header("Access-Control-Max-Age", rule.max_age.clone());
        if !asked.is_empty() {
            // Echoed rather than `*`, which browsers ignore on credentialed requests.
            resp = resp.header("Access-Control-Allow-Headers", asked.join(", "));
        }
        // The answer depends on all three request headers; caches must key on them.
        Some(resp.header(
            "Vary",
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        ))
    }

    /// Adds the matching entry's headers to a normal response; leaves it alone when there is
    /// no `Origin` or nothing matches.
    pub fn decorate(&self, req: &Request, path: &str, resp: Response) -> Response {
        let Some(origin) = req.header_str("origin") else {
            return resp;
        };
        let Some(rule) = self.find(path, origin, req.method()) else {
            return resp;
        };
        let mut resp = allow_origin(resp, rule, origin);
        if let Some(expose) = &rule.expose {
            resp = resp.header("Access-Control-Expose-Headers", expose.clone());
        }
        resp.header("Vary", "Origin")
    }
}

fn allow_origin(resp: Response, rule: &Rule, origin: &str) -> Response {
    let value: Cow<'static, str> = match (&rule.origins, rule.credentials) {
        // `*` is only sent when it is true and usable: any origin, no credentials.
        (None, false) => "*".into(),
        _ => origin.to_string().into(),
    };
    let resp = resp.header("Access-Control-Allow-Origin", value);
    if rule.credentials {
        resp.header("Access-Control-Allow-Credentials", "true")
    } else {
        resp
    }
}

fn refuse(message: String) -> Response {
    Response::error(&ApiError::new(403, message))
}

#[cfg(test)]
mod tests;
