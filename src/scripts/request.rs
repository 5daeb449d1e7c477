//! [`RequestParts`]: DreamFactory's `event.request` as the pipeline hands it to an engine.

use std::borrow::Cow;

use serde_json::{Map, Value as Json};

/// `event.request` in parts, kept in Rust until a script reads them: the QuickJS engine gives
/// the script an object that owns these parts and makes each member a JavaScript value only
/// when it is first read, so a script that looks at `method` pays for `method` alone, and one
/// that reads `headers` gets an object built straight from the pairs (QuickJS's `JSON.parse`
/// of the same text cost several times more).
///
/// The texts (`uri`, `service`, `resource`, then each parameter's and each header's name and
/// value) sit one after another in one buffer, with their ends in a second: two allocations per
/// request however many parts it has. Push them in that order: the three scalars
/// ([`RequestParts::push`]), the parameters, then the headers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestParts {
    pub method: &'static str,
    pub payload: Json,
    text: Vec<u8>,
    /// Where each text ends in `text`: three scalars, then a name and a value per pair.
    ends: Vec<u32>,
    /// How many of the pairs are parameters; the rest are headers.
    parameters: usize,
}

/// The scalar members, in the order they are pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Uri = 0,
    Service = 1,
    Resource = 2,
}

const SCALARS: usize = 3;

impl RequestParts {
    /// A request with no parts yet, with room for `bytes` of text and `pairs` parameters and
    /// headers.
    pub fn new(method: &'static str, payload: Json, bytes: usize, pairs: usize) -> Self {
        RequestParts {
            method,
            payload,
            text: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(SCALARS + 2 * pairs),
            parameters: 0,
        }
    }

    /// Every part at once, for callers that have them at hand.
    pub fn from_parts<'a>(
        method: &'static str,
        [uri, service, resource]: [&str; SCALARS],
        parameters: &[(&'a str, &'a str)],
        headers: &[(&'a str, &'a str)],
        payload: Json,
    ) -> Self {
        let mut parts = Self::new(method, payload, 64, parameters.len() + headers.len());
        for scalar in [uri, service, resource] {
            parts.push(scalar.as_bytes());
        }
        for (name, value) in parameters {
            parts.push_parameter(name, value);
        }
        for (name, value) in headers {
            parts.push_header(name, value.as_bytes());
        }
        parts
    }

    /// Appends the next scalar. Checked as UTF-8 when read, not here (most parts are never
    /// read): one that is not UTF-8 reads empty.
    pub fn push(&mut self, scalar: &[u8]) {
        if self.ends.len() < SCALARS {
            self.text.extend_from_slice(scalar);
            self.end();
        }
    }

    /// Appends a parameter; all of them come before any header.
    pub fn push_parameter(&mut self, name: &str, value: &str) {
        debug_assert_eq!(
            self.pairs_from(SCALARS),
            self.parameters,
            "a header came first"
        );
        self.pad_scalars();
        self.text.extend_from_slice(name.as_bytes());
        self.end();
        self.text.extend_from_slice(value.as_bytes());
        self.end();
        self.parameters += 1;
    }

    /// Appends a header: the name lower-cased, the value as sent.
    pub fn push_header(&mut self, name: &str, value: &[u8]) {
        self.pad_scalars();
        self.text
            .extend(name.bytes().map(|b| b.to_ascii_lowercase()));
        self.end();
        self.text.extend_from_slice(value);
        self.end();
    }

    pub fn get(&self, part: Part) -> &str {
        std::str::from_utf8(self.text(part as usize)).unwrap_or_default()
    }

    /// The parameters, by name (the pipeline pushes the first of repeated ones only).
    pub fn parameters(&self) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
        self.pairs(0..self.parameters)
    }

    /// The headers, names lower-cased; a value that is not UTF-8 is read lossily.
    pub fn headers(&self) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
        self.pairs(self.parameters..self.pairs_from(SCALARS))
    }

    /// The request as one JSON value (`api_version` and `content_type` included).
    pub fn to_json(&self) -> Json {
        let object = |pairs: &mut dyn Iterator<Item = (Cow<'_, str>, Cow<'_, str>)>| {
            let map: Map<String, Json> = pairs
                .map(|(k, v)| (k.into_owned(), Json::String(v.into_owned())))
                .collect();
            Json::Object(map)
        };
        serde_json::json!({
            "api_version": "2.0",
            "method": self.method,
            "uri": self.get(Part::Uri),
            "service": self.get(Part::Service),
            "resource": self.get(Part::Resource),
            "parameters": object(&mut self.parameters()),
            "headers": object(&mut self.headers()),
            "payload": self.payload,
            "content_type": "application/json",
        })
    }

    /// Roughly the bytes this request holds: its buffers and its payload. The engine counts the
    /// requests scripts keep against the runtime's memory limit, which sees only JavaScript's
    /// own allocations.
    pub fn weight(&self) -> usize {
        fn json(v: &Json) -> usize {
            std::mem::size_of::<Json>()
                + match v {
                    Json::String(s) => s.capacity(),
                    Json::Array(items) => items.iter().map(json).sum(),
                    Json::Object(members) => {
                        members.iter().map(|(k, v)| k.capacity() + json(v)).sum()
                    }
                    _ => 0,
                }
        }
        std::mem::size_of::<Self>()
            + self.text.capacity()
            + 4 * self.ends.capacity()
            + json(&self.payload)
    }

    fn end(&mut self) {
        // Request heads and query strings are far below 4 GiB; a bigger text reads empty.
        self.ends
            .push(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
    }

    /// Scalars not pushed read empty.
    fn pad_scalars(&mut self) {
        while self.ends.len() < SCALARS {
            self.end();
        }
    }

    fn pairs_from(&self, start: usize) -> usize {
        self.ends.len().saturating_sub(start) / 2
    }

    fn text(&self, i: usize) -> &[u8] {
        let Some(&end) = self.ends.get(i) else {
            return b"";
        };
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.text
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }

    fn pairs(
        &self,
        range: std::ops::Range<usize>,
    ) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
        range.map(move |pair| {
            let at = SCALARS + 2 * pair;
            (
                String::from_utf8_lossy(self.text(at)),
                String::from_utf8_lossy(self.text(at + 1)),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_read_back_in_order_and_missing_ones_read_empty() {
        let mut r = RequestParts::new("GET", Json::Null, 0, 0);
        r.push(b"/api/v2/db/_table/t");
        r.push(&[0xff, 0xfe]);
        r.push_header("X-Big", &[b'a', 0xff]);
        assert_eq!(r.get(Part::Uri), "/api/v2/db/_table/t");
        assert_eq!(r.get(Part::Service), "", "not UTF-8: empty");
        assert_eq!(r.get(Part::Resource), "", "not pushed: empty");
        assert_eq!(r.parameters().count(), 0);
        let headers: Vec<_> = r.headers().collect();
        assert_eq!(headers, [("x-big".into(), "a\u{fffd}".into())]);
        let all = RequestParts::from_parts(
            "POST",
            ["/u", "s", "r"],
            &[("a", "1"), ("b", "")],
            &[("Host", "h")],
            Json::Null,
        );
        let json = all.to_json();
        assert_eq!(json["parameters"], serde_json::json!({"a": "1", "b": ""}));
        assert_eq!(json["headers"], serde_json::json!({"host": "h"}));
        assert_eq!(json["resource"], "r");
    }
}
