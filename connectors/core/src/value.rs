//! Values crossing the connector boundary, in both directions.

use std::fmt::Write;

/// A bound parameter or a result value. Dates and times travel as text (ISO 8601,
/// `YYYY-MM-DD HH:MM:SS[.ffffff]` as DreamFactory returns them); decimals as text, so no
/// precision is lost on the way to JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    /// JSON columns (PostgreSQL `json`/`jsonb`, MySQL `JSON`), passed through unchanged.
    Json(serde_json::Value),
}

impl Value {
    /// From a JSON request value. Objects and arrays become [`Value::Json`].
    pub fn from_json(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::Text(s.clone()),
            other => Value::Json(other.clone()),
        }
    }

    /// Appends the value as JSON to `out`: the hot path of every read, so no intermediate
    /// `serde_json::Value` is built.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(true) => out.extend_from_slice(b"true"),
            Value::Bool(false) => out.extend_from_slice(b"false"),
            Value::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
            Value::Float(f) if f.is_finite() => {
                out.extend_from_slice(ryu::Buffer::new().format_finite(*f).as_bytes())
            }
            Value::Float(_) => out.extend_from_slice(b"null"),
            Value::Text(s) => write_json_string(out, s),
            Value::Bytes(b) => {
                // Binary has no JSON form; DreamFactory sends it base64-free as text when it is
                // UTF-8. We do the same, and hex-escape otherwise.
                match std::str::from_utf8(b) {
                    Ok(s) => write_json_string(out, s),
                    Err(_) => {
                        let mut hex = String::with_capacity(b.len() * 2 + 2);
                        hex.push_str("\\x");
                        for byte in b {
                            let _ = write!(hex, "{byte:02x}");
                        }
                        write_json_string(out, &hex);
                    }
                }
            }
            Value::Json(v) => {
                let _ = serde_json::to_writer(&mut *out, v);
            }
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Int(i) => (*i).into(),
            Value::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
            }
            Value::Text(s) => s.clone().into(),
            Value::Bytes(b) => String::from_utf8_lossy(b).into_owned().into(),
            Value::Json(v) => v.clone(),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// JSON string escaping per RFC 8259, copying unescaped runs in one go.
pub fn write_json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(v: Value) -> String {
        let mut out = Vec::new();
        v.write_json(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn encodes_like_serde_json() {
        for s in ["plain", "quote\" back\\slash", "ctl\u{1}\n\t", "ünï©ødé"] {
            assert_eq!(
                json(Value::Text(s.into())),
                serde_json::to_string(s).unwrap()
            );
        }
        assert_eq!(json(Value::Float(1.5)), "1.5");
        assert_eq!(json(Value::Float(f64::NAN)), "null");
        assert_eq!(json(Value::Int(-7)), "-7");
    }
}
