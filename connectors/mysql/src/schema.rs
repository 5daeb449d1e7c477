//! Introspection through `information_schema`, for the connection's current database.
//!
//! `information_schema` compares names case-insensitively, so lookups filter by the given
//! name in SQL (to use the index) and again exactly here: on a case-sensitive server `Foo`
//! and `foo` are two tables.

use std::time::Duration;

use percore_connector::{Column, ColumnType, DbError, ForeignKey, TableSchema, Value};

use crate::exec;
use crate::pool::PooledConn;

const TABLES: &str = "SELECT TABLE_NAME FROM information_schema.TABLES \
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE IN ('BASE TABLE', 'VIEW')";

const COLUMNS: &str =
    "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, CHARACTER_MAXIMUM_LENGTH, \
     NUMERIC_PRECISION, NUMERIC_SCALE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA \
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? \
     ORDER BY ORDINAL_POSITION";

const INDEXES: &str = "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME \
     FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? \
     ORDER BY INDEX_NAME, SEQ_IN_INDEX";

const FOREIGN_KEYS: &str =
    "SELECT TABLE_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME \
     FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? \
     AND REFERENCED_TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL \
     ORDER BY CONSTRAINT_NAME, ORDINAL_POSITION";

/// MariaDB's JSON is LONGTEXT with a `json_valid(col)` check; MySQL has no `TABLE_NAME` here
/// and a real JSON type, so this query fails there and is skipped.
const CHECKS: &str = "SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS \
     WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = ?";

pub(crate) async fn tables(pc: &mut PooledConn, limit: Duration) -> Result<Vec<String>, DbError> {
    let rows = exec::query(pc, limit, TABLES, &[]).await?.rows;
    let mut names: Vec<String> = rows
        .into_iter()
        .filter_map(|r| text(r.into_iter().next()))
        .collect();
    names.sort();
    Ok(names)
}

pub(crate) async fn describe(
    pc: &mut PooledConn,
    limit: Duration,
    table: &str,
) -> Result<Option<TableSchema>, DbError> {
    let param = [Value::Text(table.to_owned())];
    let columns = exact(exec::query(pc, limit, COLUMNS, &param).await?.rows, table);
    if columns.is_empty() {
        return Ok(None);
    }
    let indexes = exact(exec::query(pc, limit, INDEXES, &param).await?.rows, table);
    let fks = exact(
        exec::query(pc, limit, FOREIGN_KEYS, &param).await?.rows,
        table,
    );
    let json_checks = if columns
        .iter()
        .any(|c| text(c.get(2).cloned()).as_deref() == Some("longtext"))
    {
        match exec::query(pc, limit, CHECKS, &param).await {
            Ok(rows) => exact(rows.rows, table)
                .into_iter()
                .filter_map(|r| text(r.into_iter().nth(1)))
                .collect(),
            Err(_) => Vec::new(),
        }
    } else {
        Vec::new()
    };

    let mut primary_key = Vec::new();
    let mut unique_indexes: Vec<(String, Vec<String>)> = Vec::new();
    for row in indexes {
        let mut row = row.into_iter().skip(1);
        let (index, non_unique, column) = (text(row.next()), int(row.next()), text(row.next()));
        let (Some(index), Some(column)) = (index, column) else {
            continue;
        };
        if index == "PRIMARY" {
            primary_key.push(column);
        } else if non_unique == Some(0) {
            match unique_indexes.last_mut() {
                Some((name, cols)) if *name == index => cols.push(column),
                _ => unique_indexes.push((index, vec![column])),
            }
        }
    }
    let unique: Vec<&str> = unique_indexes
        .iter()
        .filter(|(_, cols)| cols.len() == 1)
        .map(|(_, cols)| cols[0].as_str())
        .collect();

    let columns: Vec<Column> = columns
        .into_iter()
        .map(|row| column(row, &primary_key, &unique, &json_checks))
        .collect();
    // MariaDB sends JSON as LONGTEXT: from now on results from these columns decode as JSON
    // (MySQL's own JSON type needs no help).
    let json = columns
        .iter()
        .filter(|c| c.ty == ColumnType::Json && c.db_type.eq_ignore_ascii_case("longtext"));
    pc.set_json_columns(table, json.map(|c| c.name.clone()));
    let foreign_keys = fks
        .into_iter()
        .filter_map(|row| {
            let mut row = row.into_iter().skip(1);
            Some(ForeignKey {
                column: text(row.next())?,
                ref_table: text(row.next())?,
                ref_column: text(row.next())?,
            })
        })
        .collect();
    Ok(Some(TableSchema {
        name: table.to_owned(),
        columns,
        primary_key,
        foreign_keys,
    }))
}

fn column(
    row: Vec<Value>,
    primary_key: &[String],
    unique: &[&str],
    json_checks: &[String],
) -> Column {
    let mut row = row.into_iter().skip(1);
    let name = text(row.next()).unwrap_or_default();
    let data_type = text(row.next()).unwrap_or_default().to_ascii_lowercase();
    let db_type = text(row.next()).unwrap_or_default();
    let char_length = int(row.next());
    let precision = int(row.next());
    let scale = int(row.next());
    let allow_null = text(row.next()).as_deref() == Some("YES");
    // MariaDB reports "no default" on a nullable column as the text NULL (a string default
    // would be quoted).
    let default = text(row.next()).filter(|d| d != "NULL");
    let auto_increment =
        text(row.next()).is_some_and(|e| e.to_ascii_lowercase().contains("auto_increment"));
    let is_primary_key = primary_key.contains(&name);
    let is_json = json_checks
        .iter()
        .any(|c| *c == format!("json_valid(`{}`)", name.replace('`', "``")));
    let mut ty = if is_json {
        ColumnType::Json
    } else {
        column_type(&data_type, &db_type)
    };
    if auto_increment && is_primary_key && matches!(ty, ColumnType::Integer | ColumnType::BigInt) {
        ty = ColumnType::Id;
    }
    let numeric = matches!(
        ty,
        ColumnType::Decimal | ColumnType::Float | ColumnType::Double
    );
    let to_u32 = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
    Column {
        is_unique: unique.contains(&name.as_str()),
        name,
        ty,
        db_type,
        length: to_u32(char_length),
        precision: if numeric { to_u32(precision) } else { None },
        scale: if numeric { to_u32(scale) } else { None },
        allow_null,
        default,
        auto_increment,
        is_primary_key,
    }
}

/// DreamFactory's type for a MySQL `DATA_TYPE` (`COLUMN_TYPE` tells `tinyint(1)` and `bit(1)`,
/// the boolean spellings).
pub(crate) fn column_type(data_type: &str, column_type: &str) -> ColumnType {
    let column_type = column_type.to_ascii_lowercase();
    match data_type {
        "tinyint" if column_type.starts_with("tinyint(1)") => ColumnType::Boolean,
        "bit" if column_type == "bit(1)" => ColumnType::Boolean,
        "bool" | "boolean" => ColumnType::Boolean,
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "year" | "bit" => {
            ColumnType::Integer
        }
        "bigint" => ColumnType::BigInt,
        "float" => ColumnType::Float,
        "double" | "real" | "double precision" => ColumnType::Double,
        "decimal" | "numeric" | "dec" | "fixed" => ColumnType::Decimal,
        "char" | "varchar" | "enum" | "set" | "inet4" | "inet6" | "uuid" => ColumnType::String,
        "tinytext" | "text" | "mediumtext" | "longtext" => ColumnType::Text,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
            ColumnType::Binary
        }
        "date" => ColumnType::Date,
        "time" => ColumnType::Time,
        "datetime" => ColumnType::DateTime,
        "timestamp" => ColumnType::Timestamp,
        "json" => ColumnType::Json,
        _ => ColumnType::Other,
    }
}

/// Rows whose first column is exactly `table`.
fn exact(rows: Vec<Vec<Value>>, table: &str) -> Vec<Vec<Value>> {
    rows.into_iter()
        .filter(|r| matches!(r.first(), Some(Value::Text(t)) if t == table))
        .collect()
}

fn text(v: Option<Value>) -> Option<String> {
    match v? {
        Value::Text(s) => Some(s),
        Value::Bytes(b) => String::from_utf8(b).ok(),
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

fn int(v: Option<Value>) -> Option<i64> {
    match v? {
        Value::Int(i) => Some(i),
        Value::Text(s) => s.parse().ok(),
        Value::Bool(b) => Some(i64::from(b)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_types() {
        assert_eq!(column_type("tinyint", "tinyint(1)"), ColumnType::Boolean);
        assert_eq!(column_type("tinyint", "tinyint(4)"), ColumnType::Integer);
        assert_eq!(column_type("varchar", "varchar(255)"), ColumnType::String);
        assert_eq!(column_type("decimal", "decimal(10,2)"), ColumnType::Decimal);
        assert_eq!(column_type("longblob", "longblob"), ColumnType::Binary);
        assert_eq!(column_type("geometry", "geometry"), ColumnType::Other);
    }
}
