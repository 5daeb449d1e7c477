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

/// JSON string escaping per RFC 8259, copying unescaped runs in one go. This is the hottest
/// function of a large read, so clean stretches are skipped eight bytes at a time (SWAR): a word
/// with no byte below 0x20, no `"` and no `\\` needs no look at its bytes one by one.
pub fn write_json_string(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if i + 8 <= bytes.len() {
            let word = u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap_or([0; 8]));
            if !word_needs_escape(word) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]);
        } else {
            out.extend_from_slice(escape);
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Whether any byte of `w` is below 0x20, a quote or a backslash (exact, no false negatives).
#[inline]
fn word_needs_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    let quote =
        (w ^ (ONES * u64::from(b'"'))).wrapping_sub(ONES) & !(w ^ (ONES * u64::from(b'"'))) & HIGH;
    let slash = (w ^ (ONES * u64::from(b'\\'))).wrapping_sub(ONES)
        & !(w ^ (ONES * u64::from(b'\\')))
        & HIGH;
    below_space | quote | slash != 0
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
        for s in [
            "plain",
            "quote\" back\\slash",
            "ctl\u{1}\n\t",
            "ünï©ødé",
            "a longer clean string of many words",
            "0123456789abcdef\"0123456789\\abcdef\u{1f}xyz",
            "\u{7f}\u{80}ü\"........\u{0}",
        ] {
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
