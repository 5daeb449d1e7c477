//! Reading system tables as plain rows: `SELECT *` through the connector, with the few value
//! conversions the three databases disagree on (MySQL's booleans are integers, PostgreSQL's
//! `COUNT` is a bigint, ...).

use std::collections::HashMap;

use percore_connector::{DbError, Value};

use crate::services::AnyDb;

/// One row by column name.
pub struct Row(HashMap<String, Value>);

impl Row {
    /// A record as the system API receives it, read the way stored rows are.
    pub fn from_json(record: &serde_json::Map<String, serde_json::Value>) -> Row {
        Row(record
            .iter()
            .map(|(k, v)| (k.clone(), Value::from_json(v)))
            .collect())
    }

    pub fn int(&self, col: &str) -> Option<i64> {
        match self.0.get(col)? {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(*b as i64),
            Value::Text(t) => t.parse().ok(),
            Value::Float(f) => Some(*f as i64),
            _ => None,
        }
    }

    pub fn set(&mut self, col: &str, value: Value) {
        self.0.insert(col.to_string(), value);
    }

    pub fn text(&self, col: &str) -> Option<String> {
        match self.0.get(col)? {
            Value::Text(t) => Some(t.clone()),
            Value::Null => None,
            other => Some(other.to_json().to_string()),
        }
    }

    /// Booleans, stored as `BOOLEAN`, `TINYINT(1)` or SQLite integers.
    pub fn flag(&self, col: &str) -> bool {
        match self.0.get(col) {
            Some(Value::Bool(b)) => *b,
            Some(Value::Int(i)) => *i != 0,
            Some(Value::Text(t)) => matches!(t.as_str(), "1" | "t" | "true"),
            _ => false,
        }
    }
}

pub fn quoted(db: &AnyDb, name: &str) -> String {
    let mut s = String::new();
    db.dialect().quote_ident(&mut s, name);
    s
}

/// Every row of `table`, ordered by `id`.
pub async fn all(db: &AnyDb, table: &str) -> Result<Vec<Row>, DbError> {
    let sql = format!(
        "SELECT * FROM {} ORDER BY {}",
        quoted(db, table),
        quoted(db, "id")
    );
    let rows = db.query(&sql, &[]).await?;
    Ok(rows
        .rows
        .into_iter()
        .map(|r| Row(rows.columns.iter().cloned().zip(r).collect()))
        .collect())
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
