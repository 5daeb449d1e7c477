//! Result columns, which tokio-postgres always receives in binary format, to [`Value`].
//!
//! We read the raw bytes and decode them ourselves: the numeric and date/time formats are short,
//! and this way every type has an answer (unknown ones fall back to their bytes) instead of a
//! driver error for the first column the driver has no Rust type for.

mod datetime;
mod network;
mod numeric;

use std::error::Error;

use percore_connector::{DbError, ErrorKind, Value};
use tokio_postgres::types::{FromSql, Kind, Type};
use tokio_postgres::Row;

/// How to decode one column, chosen once per prepared statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Dec {
    Bool,
    I16,
    I32,
    I64,
    Oid,
    F32,
    F64,
    Numeric,
    Text,
    Char,
    Bytea,
    Json,
    Jsonb,
    Date,
    Time,
    TimeTz,
    Timestamp,
    Uuid,
    Interval,
    Money,
    Inet,
    Array(Box<Dec>),
    Other,
}

pub(crate) fn decoder(ty: &Type) -> Dec {
    match *ty {
        Type::BOOL => Dec::Bool,
        Type::INT2 => Dec::I16,
        Type::INT4 => Dec::I32,
        Type::INT8 => Dec::I64,
        Type::OID | Type::XID | Type::CID | Type::REGCLASS | Type::REGPROC | Type::REGTYPE => {
            Dec::Oid
        }
        Type::FLOAT4 => Dec::F32,
        Type::FLOAT8 => Dec::F64,
        Type::NUMERIC => Dec::Numeric,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::XML => {
            Dec::Text
        }
        Type::CHAR => Dec::Char,
        Type::BYTEA => Dec::Bytea,
        Type::JSON => Dec::Json,
        Type::JSONB => Dec::Jsonb,
        Type::DATE => Dec::Date,
        Type::TIME => Dec::Time,
        Type::TIMETZ => Dec::TimeTz,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => Dec::Timestamp,
        Type::UUID => Dec::Uuid,
        Type::INTERVAL => Dec::Interval,
        Type::MONEY => Dec::Money,
        Type::INET | Type::CIDR => Dec::Inet,
        _ => match ty.kind() {
            Kind::Domain(base) => decoder(base),
            Kind::Array(elem) => Dec::Array(Box::new(decoder(elem))),
            // Enum labels travel as their text; so do citext and other text-like extensions.
            Kind::Enum(_) => Dec::Text,
            _ => Dec::Other,
        },
    }
}

/// Borrows a column's raw bytes from a row without interpreting them.
struct Raw<'a>(Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(Raw(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(Raw(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

pub(crate) fn decode_row(row: &Row, decoders: &[Dec]) -> Result<Vec<Value>, DbError> {
    let mut out = Vec::with_capacity(decoders.len());
    for (i, dec) in decoders.iter().enumerate() {
        let raw = row.try_get::<_, Raw>(i).map_err(|_| malformed())?;
        out.push(match raw.0 {
            None => Value::Null,
            Some(bytes) => decode(dec, bytes)?,
        });
    }
    Ok(out)
}

pub(crate) fn decode(dec: &Dec, raw: &[u8]) -> Result<Value, DbError> {
    Ok(match dec {
        Dec::Bool => Value::Bool(*raw.first().ok_or_else(malformed)? != 0),
        Dec::I16 => Value::Int(i16::from_be_bytes(fixed(raw)?) as i64),
        Dec::I32 => Value::Int(i32::from_be_bytes(fixed(raw)?) as i64),
        Dec::I64 => Value::Int(i64::from_be_bytes(fixed(raw)?)),
        Dec::Oid => Value::Int(u32::from_be_bytes(fixed(raw)?) as i64),
        // Through the f32's shortest text, so 0.1 reads as 0.1 and not 0.10000000149011612.
        Dec::F32 => Value::Float(
            f32::from_be_bytes(fixed(raw)?)
                .to_string()
                .parse()
                .unwrap_or(f64::NAN),
        ),
        Dec::F64 => Value::Float(f64::from_be_bytes(fixed(raw)?)),
        Dec::Numeric => Value::Text(numeric::to_string(raw).ok_or_else(malformed)?),
        Dec::Text => Value::Text(text(raw)?),
        Dec::Char => Value::Text(char::from(*raw.first().ok_or_else(malformed)?).to_string()),
        Dec::Bytea => Value::Bytes(raw.to_vec()),
        Dec::Json => Value::Json(serde_json::from_slice(raw).map_err(|_| malformed())?),
        Dec::Jsonb => match raw.split_first() {
            Some((1, json)) => Value::Json(serde_json::from_slice(json).map_err(|_| malformed())?),
            _ => return Err(malformed()),
        },
        Dec::Date => Value::Text(datetime::date(i32::from_be_bytes(fixed(raw)?))),
        Dec::Time => Value::Text(datetime::time(i64::from_be_bytes(fixed(raw)?))),
        Dec::TimeTz => Value::Text(datetime::timetz(raw).ok_or_else(malformed)?),
        Dec::Timestamp => Value::Text(datetime::timestamp(i64::from_be_bytes(fixed(raw)?))),
        Dec::Interval => Value::Text(datetime::interval(raw).ok_or_else(malformed)?),
        Dec::Uuid => Value::Text(network::uuid(&fixed(raw)?)),
        Dec::Money => Value::Text(network::money(i64::from_be_bytes(fixed(raw)?))),
        Dec::Inet => Value::Text(network::inet(raw).ok_or_else(malformed)?),
        Dec::Array(elem) => Value::Json(array(elem, raw).ok_or_else(malformed)?),
        Dec::Other => match std::str::from_utf8(raw) {
            Ok(s) => Value::Text(s.to_owned()),
            Err(_) => Value::Bytes(raw.to_vec()),
        },
    })
}

/// Binary array format: header, one (length, lower bound) per dimension, then the elements in
/// row-major order, each a length (-1 for NULL) and its bytes. Arrays become JSON arrays.
fn array(elem: &Dec, raw: &[u8]) -> Option<serde_json::Value> {
    let mut cur = Cursor(raw);
    let ndim = usize::try_from(cur.i32()?).ok()?;
    cur.i32()?; // has-nulls flag
    cur.i32()?; // element type oid
    let mut dims = Vec::with_capacity(ndim);
    for _ in 0..ndim {
        dims.push(usize::try_from(cur.i32()?).ok()?);
        cur.i32()?; // lower bound: JSON arrays start at 0 regardless
    }
    if dims.is_empty() {
        return Some(serde_json::Value::Array(Vec::new()));
    }
    array_level(elem, &dims, &mut cur)
}

fn array_level(elem: &Dec, dims: &[usize], cur: &mut Cursor<'_>) -> Option<serde_json::Value> {
    let (&len, rest) = dims.split_first()?;
    let mut items = Vec::with_capacity(len.min(1024));
    for _ in 0..len {
        items.push(if rest.is_empty() {
            match cur.i32()? {
                -1 => serde_json::Value::Null,
                n => decode(elem, cur.take(usize::try_from(n).ok()?)?)
                    .ok()?
                    .to_json(),
            }
        } else {
            array_level(elem, rest, cur)?
        });
    }
    Some(serde_json::Value::Array(items))
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }

    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
}

fn fixed<const N: usize>(raw: &[u8]) -> Result<[u8; N], DbError> {
    raw.try_into().map_err(|_| malformed())
}

fn text(raw: &[u8]) -> Result<String, DbError> {
    String::from_utf8(raw.to_vec()).map_err(|_| malformed())
}

fn malformed() -> DbError {
    DbError::new(
        ErrorKind::Internal,
        "The database sent a value that could not be decoded.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_decode_to_nested_json() {
        // int4[][] {{1,2},{3,NULL}}
        let mut raw = Vec::new();
        for n in [2i32, 1, 23, 2, 1, 2, 1] {
            raw.extend_from_slice(&n.to_be_bytes());
        }
        for v in [Some(1i32), Some(2), Some(3), None] {
            match v {
                Some(v) => {
                    raw.extend_from_slice(&4i32.to_be_bytes());
                    raw.extend_from_slice(&v.to_be_bytes());
                }
                None => raw.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        let v = decode(&Dec::Array(Box::new(Dec::I32)), &raw).unwrap();
        assert_eq!(v, Value::Json(serde_json::json!([[1, 2], [3, null]])));
    }

    #[test]
    fn short_input_is_an_error_not_a_panic() {
        assert!(decode(&Dec::I64, &[1, 2]).is_err());
        assert!(decode(&Dec::Array(Box::new(Dec::I32)), &[0, 0, 0, 1]).is_err());
        assert!(decode(&Dec::Numeric, &[0]).is_err());
    }
}
