//! Values in both directions: [`Value`] to the driver's parameters, and result columns to
//! [`Value`] by their declared type.
//!
//! Parameters go as the nearest wire type and the server converts them to the column's type
//! (`'2024-01-01 10:00:00'` into DATETIME, `'12.50'` into DECIMAL); in strict mode a value it
//! cannot convert is an error, which [`crate::error`] classifies as `InvalidInput`.

use std::fmt::Write;

use mysql_async::consts::{ColumnFlags, ColumnType as Wire};
use mysql_async::{Column, Value as My};
use percore_connector::{DbError, ErrorKind, Value};

/// MySQL's character set number for binary strings (BLOB, BINARY, VARBINARY).
const BINARY_CHARSET: u16 = 63;

pub(crate) fn to_params(params: &[Value]) -> Result<Vec<My>, DbError> {
    params.iter().map(to_param).collect()
}

fn to_param(value: &Value) -> Result<My, DbError> {
    Ok(match value {
        Value::Null => My::NULL,
        Value::Bool(b) => My::Int(i64::from(*b)),
        Value::Int(i) => My::Int(*i),
        Value::Float(f) if f.is_finite() => My::Double(*f),
        Value::Float(_) => {
            return Err(DbError::new(
                ErrorKind::InvalidInput,
                "MySQL cannot store NaN or infinite numbers.",
            ))
        }
        Value::Text(s) => My::Bytes(s.as_bytes().to_vec()),
        Value::Bytes(b) => My::Bytes(b.clone()),
        Value::Json(j) => My::Bytes(serde_json::to_vec(j).unwrap_or_default()),
    })
}

/// How one result column decodes, decided once per result from its metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decoder {
    Int,
    /// `TINYINT(1)`, MySQL's boolean.
    Bool,
    /// `FLOAT`: single precision, printed as its shortest decimal form.
    Float,
    Double,
    /// DECIMAL, ENUM, SET and the text types.
    Text,
    Bytes,
    Json,
    Date,
    DateTime,
    Time,
    /// `BIT(n)`: an integer, or a boolean for `BIT(1)`.
    Bit {
        single: bool,
    },
}

impl Decoder {
    pub(crate) fn for_column(col: &Column) -> Decoder {
        let binary = col.character_set() == BINARY_CHARSET;
        match col.column_type() {
            Wire::MYSQL_TYPE_TINY if col.column_length() == 1 => Decoder::Bool,
            Wire::MYSQL_TYPE_TINY
            | Wire::MYSQL_TYPE_SHORT
            | Wire::MYSQL_TYPE_INT24
            | Wire::MYSQL_TYPE_LONG
            | Wire::MYSQL_TYPE_LONGLONG
            | Wire::MYSQL_TYPE_YEAR => Decoder::Int,
            Wire::MYSQL_TYPE_FLOAT => Decoder::Float,
            Wire::MYSQL_TYPE_DOUBLE => Decoder::Double,
            Wire::MYSQL_TYPE_DATE | Wire::MYSQL_TYPE_NEWDATE => Decoder::Date,
            Wire::MYSQL_TYPE_DATETIME
            | Wire::MYSQL_TYPE_DATETIME2
            | Wire::MYSQL_TYPE_TIMESTAMP
            | Wire::MYSQL_TYPE_TIMESTAMP2 => Decoder::DateTime,
            Wire::MYSQL_TYPE_TIME | Wire::MYSQL_TYPE_TIME2 => Decoder::Time,
            Wire::MYSQL_TYPE_BIT => Decoder::Bit {
                single: col.column_length() == 1,
            },
            Wire::MYSQL_TYPE_JSON => Decoder::Json,
            Wire::MYSQL_TYPE_GEOMETRY => Decoder::Bytes,
            Wire::MYSQL_TYPE_TINY_BLOB
            | Wire::MYSQL_TYPE_MEDIUM_BLOB
            | Wire::MYSQL_TYPE_LONG_BLOB
            | Wire::MYSQL_TYPE_BLOB
            | Wire::MYSQL_TYPE_VAR_STRING
            | Wire::MYSQL_TYPE_VARCHAR
            | Wire::MYSQL_TYPE_STRING
                if binary
                    && !col
                        .flags()
                        .intersects(ColumnFlags::ENUM_FLAG | ColumnFlags::SET_FLAG) =>
            {
                Decoder::Bytes
            }
            _ => Decoder::Text,
        }
    }

    /// Decodes one value. Both wire protocols arrive here: the binary one (prepared
    /// statements) sends typed values, the text one sends everything as bytes.
    pub(crate) fn decode(self, value: My) -> Value {
        match value {
            My::NULL => Value::Null,
            My::Int(i) if self == Decoder::Bool => Value::Bool(i != 0),
            My::Int(i) => Value::Int(i),
            My::UInt(u) => i64::try_from(u).map_or_else(|_| Value::Text(u.to_string()), Value::Int),
            // f32 -> f64 directly would print 1.1 as 1.100000023841858.
            My::Float(f) => Value::Float(f.to_string().parse().unwrap_or(f64::from(f))),
            My::Double(d) => Value::Float(d),
            My::Date(y, mo, d, h, mi, s, us) => {
                let mut out = format!("{y:04}-{mo:02}-{d:02}");
                if self != Decoder::Date {
                    let _ = write!(out, " {h:02}:{mi:02}:{s:02}");
                    push_micros(&mut out, us);
                }
                Value::Text(out)
            }
            My::Time(negative, days, h, mi, s, us) => {
                let hours = u64::from(days) * 24 + u64::from(h);
                let mut out = String::with_capacity(16);
                if negative {
                    out.push('-');
                }
                let _ = write!(out, "{hours:02}:{mi:02}:{s:02}");
                push_micros(&mut out, us);
                Value::Text(out)
            }
            My::Bytes(bytes) => self.decode_bytes(bytes),
        }
    }

    fn decode_bytes(self, bytes: Vec<u8>) -> Value {
        let text = |bytes: Vec<u8>| {
            String::from_utf8(bytes).map_or_else(|e| Value::Bytes(e.into_bytes()), Value::Text)
        };
        let parsed = std::str::from_utf8(&bytes).ok();
        match self {
            Decoder::Bytes => Value::Bytes(bytes),
            Decoder::Text => text(bytes),
            Decoder::Json => match serde_json::from_slice(&bytes) {
                Ok(json) => Value::Json(json),
                Err(_) => text(bytes),
            },
            Decoder::Int => match parsed.and_then(|s| s.parse().ok()) {
                Some(i) => Value::Int(i),
                None => text(bytes),
            },
            Decoder::Bool => match parsed.and_then(|s| s.parse::<i64>().ok()) {
                Some(i) => Value::Bool(i != 0),
                None => text(bytes),
            },
            Decoder::Float | Decoder::Double => match parsed.and_then(|s| s.parse().ok()) {
                Some(f) => Value::Float(f),
                None => text(bytes),
            },
            Decoder::Date | Decoder::DateTime | Decoder::Time => match parsed {
                Some(s) => Value::Text(trim_fraction(s)),
                None => Value::Bytes(bytes),
            },
            Decoder::Bit { single } => {
                let n = bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
                match (single, i64::try_from(n)) {
                    (true, _) => Value::Bool(n != 0),
                    (false, Ok(i)) => Value::Int(i),
                    (false, Err(_)) => Value::Text(n.to_string()),
                }
            }
        }
    }
}

/// `.ffffff` without trailing zeros, and nothing when the fraction is zero.
fn push_micros(out: &mut String, us: u32) {
    if us != 0 {
        let digits = format!("{us:06}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

/// The text protocol prints a `DATETIME(6)` as `10:00:00.500000`; normalize to the binary
/// protocol's form.
fn trim_fraction(s: &str) -> String {
    match s.split_once('.') {
        Some((whole, frac)) if frac.bytes().all(|b| b.is_ascii_digit()) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                whole.to_owned()
            } else {
                format!("{whole}.{frac}")
            }
        }
        _ => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_print_like_dreamfactory() {
        let dt = Decoder::DateTime.decode(My::Date(2024, 1, 2, 3, 4, 5, 0));
        assert_eq!(dt, Value::Text("2024-01-02 03:04:05".into()));
        let frac = Decoder::DateTime.decode(My::Date(2024, 1, 2, 3, 4, 5, 500_000));
        assert_eq!(frac, Value::Text("2024-01-02 03:04:05.5".into()));
        assert_eq!(
            Decoder::Date.decode(My::Date(2024, 1, 2, 0, 0, 0, 0)),
            Value::Text("2024-01-02".into())
        );
        let time = Decoder::Time.decode(My::Time(true, 1, 2, 3, 4, 0));
        assert_eq!(time, Value::Text("-26:03:04".into()));
        assert_eq!(trim_fraction("10:00:00.000000"), "10:00:00");
        assert_eq!(trim_fraction("10:00:00.120000"), "10:00:00.12");
    }

    #[test]
    fn numbers() {
        assert_eq!(Decoder::Float.decode(My::Float(1.1)), Value::Float(1.1));
        assert_eq!(
            Decoder::Int.decode(My::UInt(u64::MAX)),
            Value::Text(u64::MAX.to_string())
        );
        assert_eq!(Decoder::Bool.decode(My::Int(1)), Value::Bool(true));
        assert_eq!(
            Decoder::Int.decode(My::Bytes(b"42".to_vec())),
            Value::Int(42)
        );
        assert_eq!(
            Decoder::Bit { single: false }.decode(My::Bytes(vec![1, 0])),
            Value::Int(256)
        );
        assert!(to_param(&Value::Float(f64::NAN)).is_err());
    }
}
