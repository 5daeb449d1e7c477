//! [`Value`]s to SQLite parameters and SQLite values back to [`Value`]s.
//!
//! SQLite stores values by storage class whatever the declared type (affinity converts numeric
//! text on the way in), so parameters bind as what they are and results come back by storage
//! class. Two declared types get their meaning back on the way out: BOOLEAN columns (stored as
//! 0/1) become `Bool`, and JSON columns (stored as text) become `Json`.

use percore_connector::{ColumnType, DbError, ErrorKind, Value};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::ToSql;

use crate::types::column_type;

/// How a result column's values are read, from its declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Plain,
    Bool,
    Json,
}

impl Kind {
    pub(crate) fn of(declared: Option<&str>) -> Kind {
        match declared.map(column_type) {
            Some(ColumnType::Boolean) => Kind::Bool,
            Some(ColumnType::Json) => Kind::Json,
            _ => Kind::Plain,
        }
    }
}

pub(crate) fn read(v: ValueRef<'_>, kind: Kind) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) if kind == Kind::Bool => Value::Bool(i != 0),
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Float(f),
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            // Text that is not JSON after all (written by another program) is still returned.
            Ok(s) if kind == Kind::Json => {
                serde_json::from_str(s).map_or_else(|_| Value::Text(s.to_owned()), Value::Json)
            }
            Ok(s) => Value::Text(s.to_owned()),
            Err(_) => Value::Bytes(t.to_vec()),
        },
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
    }
}

/// Refuses what SQLite would silently change: it stores a NaN as NULL.
pub(crate) fn check(n: usize, v: &Value) -> Result<(), DbError> {
    match v {
        Value::Float(f) if f.is_nan() => Err(DbError::new(
            ErrorKind::InvalidInput,
            format!("Parameter {n} is not a number (NaN); SQLite stores numbers only."),
        )),
        _ => Ok(()),
    }
}

/// A [`Value`] bound as a parameter, borrowing text and bytes.
pub(crate) struct Param<'a>(pub(crate) &'a Value);

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        use rusqlite::types::Value as Owned;
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*b))),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Float(f) => ToSqlOutput::Borrowed(ValueRef::Real(*f)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            Value::Json(j) => ToSqlOutput::Owned(Owned::Text(j.to_string())),
        })
    }
}
