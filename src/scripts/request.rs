//! [`RequestParts`]: DreamFactory's `event.request` as the pipeline hands it to an engine.

use serde_json::Value as Json;

/// `event.request` in parts, kept in Rust until a script reads them: the QuickJS engine gives
/// the script an object that owns these parts and makes each member a JavaScript value only
/// when it is first read, so a script that looks at `method` pays for `method` alone.
///
/// `uri`, `service`, `resource` and the `parameters` and `headers` JSON texts sit one after
/// another in one buffer, so building a request costs one allocation however many parts it
/// has. Parts are pushed in that order ([`RequestParts::push`]); one not pushed reads empty
/// (and `{}` for the two objects).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestParts {
    pub method: &'static str,
    pub payload: Json,
    text: Vec<u8>,
    /// Where each pushed part ends in `text`.
    ends: [usize; PARTS],
    pushed: usize,
}

const PARTS: usize = 5;

/// The parts, in the order they are pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Uri = 0,
    Service = 1,
    Resource = 2,
    /// `{"name":"value",...}`
    Parameters = 3,
    /// `{"lower-case-name":"value",...}`
    Headers = 4,
}

impl RequestParts {
    /// A request with no parts yet; `capacity` is what the parts will take, in bytes.
    pub fn new(method: &'static str, payload: Json, capacity: usize) -> Self {
        RequestParts {
            method,
            payload,
            text: Vec::with_capacity(capacity),
            ends: [0; PARTS],
            pushed: 0,
        }
    }

    /// Every part at once, for callers that have them as text.
    pub fn from_parts(
        method: &'static str,
        [uri, service, resource, parameters, headers]: [&str; PARTS],
        payload: Json,
    ) -> Self {
        let all = [uri, service, resource, parameters, headers];
        let mut parts = Self::new(method, payload, all.iter().map(|p| p.len()).sum());
        for part in all {
            parts.push(|out| out.extend_from_slice(part.as_bytes()));
        }
        parts
    }

    /// Appends the next part, written by `write`. Checked when read, not here (most parts are
    /// never read): one that is not UTF-8 (which the writers in the pipeline never produce)
    /// reads as if it had not been pushed.
    pub fn push(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        if self.pushed == PARTS {
            return;
        }
        write(&mut self.text);
        self.ends[self.pushed] = self.text.len();
        self.pushed += 1;
    }

    pub fn get(&self, part: Part) -> &str {
        let i = part as usize;
        if i >= self.pushed {
            return match part {
                Part::Parameters | Part::Headers => "{}",
                _ => "",
            };
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        match std::str::from_utf8(&self.text[start..self.ends[i]]) {
            Ok(text) if !text.is_empty() => text,
            _ if matches!(part, Part::Parameters | Part::Headers) => "{}",
            _ => "",
        }
    }

    /// The request as one JSON value (`api_version` and `content_type` included).
    pub fn to_json(&self) -> Json {
        let parse = |part| serde_json::from_str(self.get(part)).unwrap_or(Json::Null);
        serde_json::json!({
            "api_version": "2.0",
            "method": self.method,
            "uri": self.get(Part::Uri),
            "service": self.get(Part::Service),
            "resource": self.get(Part::Resource),
            "parameters": parse(Part::Parameters),
            "headers": parse(Part::Headers),
            "payload": self.payload,
            "content_type": "application/json",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_read_back_in_order_and_missing_ones_read_empty() {
        let mut r = RequestParts::new("GET", Json::Null, 0);
        r.push(|o| o.extend_from_slice(b"/api/v2/db/_table/t"));
        r.push(|o| o.extend_from_slice(b"db"));
        r.push(|o| o.extend_from_slice(&[0xff, 0xfe]));
        assert_eq!(r.get(Part::Uri), "/api/v2/db/_table/t");
        assert_eq!(r.get(Part::Service), "db");
        assert_eq!(r.get(Part::Resource), "", "not UTF-8: dropped");
        assert_eq!(r.get(Part::Parameters), "{}");
        assert_eq!(r.get(Part::Headers), "{}");
        let all =
            RequestParts::from_parts("POST", ["/u", "s", "r", r#"{"a":"1"}"#, "{}"], Json::Null);
        assert_eq!(all.to_json()["parameters"]["a"], "1");
        assert_eq!(all.to_json()["resource"], "r");
    }
}
