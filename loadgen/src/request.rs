//! What to send: method, paths, headers and body, pre-rendered to bytes so
//! the hot path is mostly a `memcpy`.

pub mod ids;

use crate::target::Url;
use ids::{IdSampler, IdSource};
use rand::rngs::SmallRng;
use rand::Rng;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Which path each request goes to.
#[derive(Debug, Clone)]
pub enum Paths {
    Fixed(String),
    /// Cycled in order across all connections.
    List(Vec<String>),
    /// A path containing `{id}`, replaced per request.
    Template {
        path: String,
        ids: IdSource,
    },
}

/// The immutable description of the request stream, shared by all workers.
#[derive(Debug, Clone)]
pub struct RequestPlan {
    pub method: String,
    pub paths: Paths,
    /// `Host` plus user headers, already `Name: value\r\n` formatted.
    header_block: Vec<u8>,
    /// Body; `{id}` inside it is replaced like in the path.
    pub body: Option<Vec<u8>>,
    /// The complete request when nothing varies per request.
    fixed: Option<Vec<u8>>,
}

/// Per-connection state needed to render requests.
pub struct Renderer {
    plan: Arc<RequestPlan>,
    ids: Option<IdSampler>,
    rng: SmallRng,
    list_cursor: Arc<AtomicU64>,
    path: String,
    id_text: String,
}

impl RequestPlan {
    pub fn new(
        method: &str,
        url: &Url,
        paths: Paths,
        headers: &[(String, String)],
        body: Option<Vec<u8>>,
    ) -> RequestPlan {
        let mut header_block = format!("Host: {}\r\n", url.authority()).into_bytes();
        let mut has_ua = false;
        for (k, v) in headers {
            has_ua |= k.eq_ignore_ascii_case("user-agent");
            header_block.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        if !has_ua {
            header_block.extend_from_slice(b"User-Agent: loadgen\r\n");
        }
        let mut plan = RequestPlan {
            method: method.to_ascii_uppercase(),
            paths,
            header_block,
            body,
            fixed: None,
        };
        let body_varies = plan.body.as_ref().is_some_and(|b| contains(b, b"{id}"));
        if let (Paths::Fixed(p), false) = (&plan.paths, body_varies) {
            let mut out = Vec::new();
            plan.write(&mut out, p.as_bytes(), plan.body.as_deref());
            plan.fixed = Some(out);
        }
        plan
    }

    /// True for methods whose responses carry no body (HEAD).
    pub fn is_head(&self) -> bool {
        self.method == "HEAD"
    }

    fn write(&self, out: &mut Vec<u8>, path: &[u8], body: Option<&[u8]>) {
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(path);
        out.extend_from_slice(b" HTTP/1.1\r\n");
        out.extend_from_slice(&self.header_block);
        if let Some(body) = body {
            out.extend_from_slice(b"Content-Length: ");
            out.extend_from_slice(body.len().to_string().as_bytes());
            out.extend_from_slice(b"\r\n\r\n");
            out.extend_from_slice(body);
        } else {
            out.extend_from_slice(b"\r\n");
        }
    }

    /// A renderer for one connection; `cursor` is shared by all of them.
    pub fn renderer(self: &Arc<Self>, seed: u64, cursor: Arc<AtomicU64>) -> Renderer {
        use rand::SeedableRng;
        let ids = match &self.paths {
            Paths::Template { ids, .. } => Some(ids.sampler(cursor.clone())),
            _ => None,
        };
        Renderer {
            plan: self.clone(),
            ids,
            rng: SmallRng::seed_from_u64(seed),
            list_cursor: cursor,
            path: String::new(),
            id_text: String::new(),
        }
    }
}

impl Renderer {
    /// Appends one request to `out`.
    pub fn render(&mut self, out: &mut Vec<u8>) {
        let plan = &*self.plan;
        if let Some(fixed) = &plan.fixed {
            out.extend_from_slice(fixed);
            return;
        }
        let id = match &mut self.ids {
            Some(s) => s.next(&mut self.rng),
            None => self.rng.random_range(1..=1_000_000_000),
        };
        // Reused buffers: this runs once per request on the hot path.
        self.id_text.clear();
        let _ = write!(self.id_text, "{id}");
        self.path.clear();
        match &plan.paths {
            Paths::Fixed(p) => self.path.push_str(p),
            Paths::List(list) => {
                let i = self.list_cursor.fetch_add(1, Ordering::Relaxed) as usize;
                self.path.push_str(&list[i % list.len()]);
            }
            Paths::Template { path, .. } => {
                let mut parts = path.split("{id}");
                self.path.push_str(parts.next().unwrap_or(""));
                for part in parts {
                    self.path.push_str(&self.id_text);
                    self.path.push_str(part);
                }
            }
        }
        let body = plan
            .body
            .as_ref()
            .filter(|b| contains(b, b"{id}"))
            .map(|b| replace_bytes(b, b"{id}", self.id_text.as_bytes()));
        let body = body.as_deref().or(plan.body.as_deref());
        plan.write(out, self.path.as_bytes(), body);
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}

/// Naive substring search; needles here are a few bytes long.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

fn replace_bytes(src: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len() + 16);
    let mut rest = src;
    while let Some(i) = find(rest, from) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(to);
        rest = &rest[i + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_request_is_prerendered() {
        let url = Url::parse("http://127.0.0.1:9/x").unwrap();
        let plan = Arc::new(RequestPlan::new(
            "post",
            &url,
            Paths::Fixed("/x".into()),
            &[("X-A".into(), "1".into())],
            Some(b"hello".to_vec()),
        ));
        let mut r = plan.renderer(1, Arc::default());
        let mut out = Vec::new();
        r.render(&mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("POST /x HTTP/1.1\r\nHost: 127.0.0.1:9\r\nX-A: 1\r\n"));
        assert!(text.ends_with("Content-Length: 5\r\n\r\nhello"));
    }

    #[test]
    fn template_replaces_id_in_path_and_body() {
        let url = Url::parse("http://h/").unwrap();
        let ids = IdSource::parse_range("42..42", ids::Dist::Uniform).unwrap();
        let plan = Arc::new(RequestPlan::new(
            "GET",
            &url,
            Paths::Template {
                path: "/t/{id}".into(),
                ids,
            },
            &[],
            Some(b"{\"n\":{id}}".to_vec()),
        ));
        let mut out = Vec::new();
        plan.renderer(1, Arc::default()).render(&mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("GET /t/42 HTTP/1.1"));
        assert!(text.ends_with("{\"n\":42}"));
    }
}
