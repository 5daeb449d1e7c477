//! [`Value`] to a bound parameter of the type the server inferred for it.
//!
//! Numbers, booleans and bytea go in binary. Everything else goes in PostgreSQL's text format,
//! so the server's own input function for the column type parses it: a JSON string
//! `"2024-01-01 10:00:00"` becomes a timestamp, `"12.50"` a numeric, `"{1,2}"` an array, with the
//! server's precise error (`invalid input syntax for type ...`) when it does not parse.

use std::borrow::Cow;
use std::error::Error;

use bytes::{BufMut, BytesMut};
use percore_connector::{DbError, ErrorKind, Value};
use tokio_postgres::types::{to_sql_checked, Format, IsNull, Kind, ToSql, Type};

/// One parameter ready for the wire.
#[derive(Debug)]
pub(crate) enum Bound<'a> {
    Null,
    Bool(bool),
    I16(i16),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    /// Binary format: bytea.
    Bytes(Cow<'a, [u8]>),
    /// Text format, parsed by the server as the parameter's type.
    Text(Cow<'a, str>),
}

impl ToSql for Bound<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            Bound::Null => return Ok(IsNull::Yes),
            Bound::Bool(v) => return v.to_sql(ty, out),
            Bound::I16(v) => return v.to_sql(ty, out),
            Bound::I32(v) => return v.to_sql(ty, out),
            Bound::I64(v) => return v.to_sql(ty, out),
            Bound::F32(v) => return v.to_sql(ty, out),
            Bound::F64(v) => return v.to_sql(ty, out),
            Bound::Bytes(b) => out.put_slice(b),
            Bound::Text(s) => out.put_slice(s.as_bytes()),
        }
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        // `bind` already picked the representation for the exact type.
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        match self {
            Bound::Text(_) => Format::Text,
            _ => Format::Binary,
        }
    }

    to_sql_checked!();
}

/// How a parameter type wants its value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Bool,
    I16,
    I32,
    I64,
    F32,
    F64,
    Bytea,
    Text,
    Json,
    Array,
    Other,
}

fn target(ty: &Type) -> Target {
    match *ty {
        Type::BOOL => Target::Bool,
        Type::INT2 => Target::I16,
        Type::INT4 => Target::I32,
        Type::INT8 => Target::I64,
        Type::FLOAT4 => Target::F32,
        Type::FLOAT8 => Target::F64,
        Type::BYTEA => Target::Bytea,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => Target::Text,
        Type::JSON | Type::JSONB => Target::Json,
        _ => match ty.kind() {
            // A domain's wire format is its base type's.
            Kind::Domain(base) => target(base),
            Kind::Array(_) => Target::Array,
            _ if ty.name() == "citext" => Target::Text,
            _ => Target::Other,
        },
    }
}

/// Binds every parameter, checking the count first so the message is ours, not the driver's.
pub(crate) fn bind_all<'a>(values: &'a [Value], types: &[Type]) -> Result<Vec<Bound<'a>>, DbError> {
    if values.len() != types.len() {
        return Err(DbError::new(
            ErrorKind::InvalidInput,
            format!(
                "The statement takes {} parameters but {} were given.",
                types.len(),
                values.len()
            ),
        ));
    }
    values
        .iter()
        .zip(types)
        .map(|(v, ty)| bind(v, ty))
        .collect()
}

pub(crate) fn bind<'a>(value: &'a Value, ty: &Type) -> Result<Bound<'a>, DbError> {
    let t = target(ty);
    let mismatch = |what: &str| {
        DbError::new(
            ErrorKind::InvalidInput,
            format!("Expected a value of type {}, got {what}.", ty.name()),
        )
    };
    Ok(match value {
        Value::Null => Bound::Null,
        Value::Bool(b) => match t {
            Target::Bool => Bound::Bool(*b),
            Target::I16 => Bound::I16(*b as i16),
            Target::I32 => Bound::I32(*b as i32),
            Target::I64 => Bound::I64(*b as i64),
            Target::F32 => Bound::F32(*b as u8 as f32),
            Target::F64 => Bound::F64(*b as u8 as f64),
            Target::Bytea | Target::Array => return Err(mismatch("a boolean")),
            Target::Text | Target::Json | Target::Other => {
                Bound::Text(Cow::Borrowed(if *b { "true" } else { "false" }))
            }
        },
        Value::Int(i) => match t {
            Target::Bool => match i {
                0 => Bound::Bool(false),
                1 => Bound::Bool(true),
                _ => return Err(mismatch("an integer other than 0 or 1")),
            },
            Target::I16 => Bound::I16(i16::try_from(*i).map_err(|_| out_of_range(ty))?),
            Target::I32 => Bound::I32(i32::try_from(*i).map_err(|_| out_of_range(ty))?),
            Target::I64 => Bound::I64(*i),
            Target::F32 => Bound::F32(*i as f32),
            Target::F64 => Bound::F64(*i as f64),
            Target::Bytea | Target::Array => return Err(mismatch("a number")),
            Target::Text | Target::Json | Target::Other => Bound::Text(Cow::Owned(i.to_string())),
        },
        Value::Float(f) => match t {
            Target::I16 | Target::I32 | Target::I64 => {
                if f.fract() != 0.0 || !f.is_finite() {
                    return Err(mismatch("a number with a fraction"));
                }
                // `as` saturates; the range check below catches what it clipped.
                let i = *f as i64;
                if i as f64 != *f {
                    return Err(out_of_range(ty));
                }
                return bind_owned(Value::Int(i), ty);
            }
            Target::F32 => Bound::F32(*f as f32),
            Target::F64 => Bound::F64(*f),
            Target::Bool | Target::Bytea | Target::Array => return Err(mismatch("a number")),
            Target::Json if !f.is_finite() => return Err(mismatch("a non-finite number")),
            Target::Text | Target::Json | Target::Other => Bound::Text(Cow::Owned(float_text(*f))),
        },
        Value::Text(s) => match t {
            Target::Bytea => Bound::Bytes(Cow::Borrowed(s.as_bytes())),
            _ => Bound::Text(Cow::Borrowed(s)),
        },
        Value::Bytes(b) => match t {
            Target::Bytea => Bound::Bytes(Cow::Borrowed(b)),
            Target::Text | Target::Json | Target::Other | Target::Array => {
                match std::str::from_utf8(b) {
                    Ok(s) => Bound::Text(Cow::Borrowed(s)),
                    Err(_) => return Err(mismatch("binary data that is not UTF-8 text")),
                }
            }
            _ => return Err(mismatch("binary data")),
        },
        Value::Json(j) => match (t, j) {
            (Target::Json | Target::Text, _) => Bound::Text(Cow::Owned(j.to_string())),
            (Target::Array, serde_json::Value::Array(items)) => {
                let mut out = String::new();
                array_literal(items, &mut out);
                Bound::Text(Cow::Owned(out))
            }
            (_, serde_json::Value::Object(_) | serde_json::Value::Array(_)) => {
                if matches!(t, Target::Other) {
                    Bound::Text(Cow::Owned(j.to_string()))
                } else {
                    return Err(mismatch("a JSON object or array"));
                }
            }
            (_, scalar) => return bind_owned(Value::from_json(scalar), ty),
        },
    })
}

fn bind_owned(value: Value, ty: &Type) -> Result<Bound<'static>, DbError> {
    Ok(match bind(&value, ty)? {
        Bound::Null => Bound::Null,
        Bound::Bool(v) => Bound::Bool(v),
        Bound::I16(v) => Bound::I16(v),
        Bound::I32(v) => Bound::I32(v),
        Bound::I64(v) => Bound::I64(v),
        Bound::F32(v) => Bound::F32(v),
        Bound::F64(v) => Bound::F64(v),
        Bound::Bytes(b) => Bound::Bytes(Cow::Owned(b.into_owned())),
        Bound::Text(s) => Bound::Text(Cow::Owned(s.into_owned())),
    })
}

fn out_of_range(ty: &Type) -> DbError {
    DbError::new(
        ErrorKind::InvalidInput,
        format!("Value out of range for type {}.", ty.name()),
    )
}

/// Shortest text that reads back as the same double; the spellings numeric accepts for the rest.
fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        f.to_string()
    }
}

/// A JSON array as a PostgreSQL array literal: `[1, "a\"b", null]` -> `{1,"a\"b",NULL}`.
fn array_literal(items: &[serde_json::Value], out: &mut String) {
    out.push('{');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match item {
            serde_json::Value::Null => out.push_str("NULL"),
            serde_json::Value::Array(inner) => array_literal(inner, out),
            serde_json::Value::String(s) => quote_element(s, out),
            serde_json::Value::Object(_) => quote_element(&item.to_string(), out),
            serde_json::Value::Bool(_) | serde_json::Value::Number(_) => {
                out.push_str(&item.to_string())
            }
        }
    }
    out.push('}');
}

fn quote_element(s: &str, out: &mut String) {
    out.push('"');
    for ch in s.chars() {
        if ch == '"' || ch == '\\' {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_check_their_range() {
        assert!(matches!(
            bind(&Value::Int(7), &Type::INT2),
            Ok(Bound::I16(7))
        ));
        assert_eq!(
            bind(&Value::Int(1 << 40), &Type::INT4).unwrap_err().kind,
            ErrorKind::InvalidInput
        );
        assert!(matches!(
            bind(&Value::Float(3.0), &Type::INT8),
            Ok(Bound::I64(3))
        ));
        assert!(bind(&Value::Float(3.5), &Type::INT8).is_err());
        assert!(bind(&Value::Float(1e30), &Type::INT8).is_err());
    }

    #[test]
    fn numbers_for_numeric_go_as_text() {
        assert!(matches!(bind(&Value::Int(5), &Type::NUMERIC), Ok(Bound::Text(s)) if s == "5"));
        assert!(
            matches!(bind(&Value::Float(0.1), &Type::NUMERIC), Ok(Bound::Text(s)) if s == "0.1")
        );
        assert!(matches!(bind(&Value::Int(5), &Type::FLOAT8), Ok(Bound::F64(f)) if f == 5.0));
    }

    #[test]
    fn json_arrays_become_array_literals() {
        let v = Value::Json(serde_json::json!([1, "a\"b", null, [2]]));
        match bind(&v, &Type::TEXT_ARRAY).unwrap() {
            Bound::Text(s) => assert_eq!(s, r#"{1,"a\"b",NULL,{2}}"#),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn count_mismatch_is_reported() {
        assert!(bind_all(&[Value::Null], &[]).is_err());
    }
}
