//! Query-string decoding (percent-escapes and `+` as space), done once per request and only
//! allocating for values that actually contain escapes.

use std::borrow::Cow;

#[derive(Debug, Default)]
pub struct Query<'a> {
    pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> Query<'a> {
    pub fn parse(raw: &'a str) -> Self {
        if raw.is_empty() {
            return Query::default();
        }
        Query {
            pairs: form_urlencoded::parse(raw.as_bytes()).collect(),
        }
    }

    /// The first value of `name`. DreamFactory parameter names are case-sensitive.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_ref())
    }

    /// The first value among several aliases (`limit` / `top`, `filter` / `where`, ...).
    pub fn get_any(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| self.get(n))
    }

    /// This query with `name=value` set in front (so it wins over a caller's own).
    pub fn with(&self, name: &'a str, value: String) -> Query<'a> {
        let mut pairs = Vec::with_capacity(self.pairs.len() + 1);
        pairs.push((Cow::Borrowed(name), Cow::Owned(value)));
        pairs.extend(self.pairs.iter().cloned());
        Query { pairs }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_and_plus() {
        let q = Query::parse("filter=age%3E%3D30+AND+city%3D%27Paris%27&limit=5&top=9&x");
        assert_eq!(q.get("filter"), Some("age>=30 AND city='Paris'"));
        assert_eq!(q.get_any(&["top", "limit"]), Some("9"));
        assert_eq!(q.get("x"), Some(""));
        assert_eq!(q.get("missing"), None);
    }

    #[test]
    fn invalid_utf8_escapes_do_not_panic() {
        let q = Query::parse("a=%FF%FE&b=%");
        assert!(q.get("a").is_some());
        assert_eq!(q.get("b"), Some("%"));
    }
}
