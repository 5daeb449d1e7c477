//! Introspection from pg_catalog, for the connection's `current_schema()` (the configured
//! schema, or `public`). Tables, partitioned tables, views, materialized views and foreign
//! tables all count as tables, as DreamFactory lists them.

use std::collections::BTreeMap;

use futures_util::future::try_join3;
use percore_connector::{
    Column, ColumnType, DbError, ErrorKind, ForeignKey, Row, TableSchema, Value,
};

use crate::conn::Conn;

const TABLES: &str = "SELECT c.relname::text FROM pg_catalog.pg_class c \
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')";

const RELATION: &str = "SELECT c.oid::int8 FROM pg_catalog.pg_class c \
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
    WHERE n.nspname = current_schema() AND c.relname = $1::text AND c.relkind IN ('r', 'p', 'v', 'm', 'f')";

/// Domains resolve to their base type (and their own type modifier).
const COLUMNS: &str = "SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod), \
    COALESCE(bt.typname, t.typname)::text, \
    CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END, \
    a.attnotnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text \
    FROM pg_catalog.pg_attribute a \
    JOIN pg_catalog.pg_type t ON t.oid = a.atttypid \
    LEFT JOIN pg_catalog.pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype \
    LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
    WHERE a.attrelid = $1::int8::oid AND a.attnum > 0 AND NOT a.attisdropped \
    ORDER BY a.attnum";

/// Unique indexes (the primary key's among them), key columns in key order. Partial indexes do
/// not make a column unique; expression columns do not join and are caught by the count.
const INDEXES: &str = "SELECT i.indexrelid::int8, i.indisprimary, i.indnkeyatts::int8, a.attname::text \
    FROM pg_catalog.pg_index i \
    CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
    JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
    WHERE i.indrelid = $1::int8::oid AND i.indisunique AND i.indpred IS NULL AND k.ord <= i.indnkeyatts \
    ORDER BY i.indexrelid, k.ord";

const FOREIGN_KEYS: &str = "SELECT a.attname::text, rc.relname::text, ra.attname::text \
    FROM pg_catalog.pg_constraint con \
    CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(attnum, refnum, ord) \
    JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum \
    JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid \
    JOIN pg_catalog.pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.refnum \
    WHERE con.conrelid = $1::int8::oid AND con.contype = 'f' \
    ORDER BY con.conname, k.ord";

pub(crate) async fn tables(conn: &Conn) -> Result<Vec<String>, DbError> {
    let rows = conn.query(TABLES, &[], true).await?;
    let mut names = rows
        .rows
        .into_iter()
        .map(|mut r| text(&mut r, 0))
        .collect::<Result<Vec<_>, _>>()?;
    // Byte order, whatever the server's collation.
    names.sort_unstable();
    Ok(names)
}

pub(crate) async fn describe(conn: &Conn, table: &str) -> Result<Option<TableSchema>, DbError> {
    let found = conn
        .query(RELATION, &[Value::Text(table.to_owned())], true)
        .await?;
    let Some(oid) = found.rows.first().and_then(|r| r.first()).cloned() else {
        return Ok(None);
    };
    let oid = [oid];
    let (columns, indexes, fks) = try_join3(
        conn.query(COLUMNS, &oid, true),
        conn.query(INDEXES, &oid, true),
        conn.query(FOREIGN_KEYS, &oid, true),
    )
    .await?;

    // Group index rows: (oid, primary, key count, column).
    let mut by_index: BTreeMap<i64, (bool, i64, Vec<String>)> = BTreeMap::new();
    for mut row in indexes.rows {
        let entry =
            by_index
                .entry(int(&row, 0)?)
                .or_insert((flag(&row, 1)?, int(&row, 2)?, Vec::new()));
        entry.2.push(text(&mut row, 3)?);
    }
    let mut primary_key = Vec::new();
    let mut unique = Vec::new();
    for (is_primary, count, cols) in by_index.into_values() {
        if cols.len() as i64 != count {
            continue;
        }
        if cols.len() == 1 {
            unique.push(cols[0].clone());
        }
        if is_primary {
            primary_key = cols;
        }
    }

    let mut out = Vec::with_capacity(columns.rows.len());
    for mut row in columns.rows {
        out.push(column(&mut row, &primary_key, &unique)?);
    }
    let foreign_keys = fks
        .rows
        .into_iter()
        .map(|mut r| {
            Ok(ForeignKey {
                column: text(&mut r, 0)?,
                ref_table: text(&mut r, 1)?,
                ref_column: text(&mut r, 2)?,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    Ok(Some(TableSchema {
        name: table.to_owned(),
        columns: out,
        primary_key,
        foreign_keys,
    }))
}

fn column(row: &mut Row, primary_key: &[String], unique: &[String]) -> Result<Column, DbError> {
    let name = text(row, 0)?;
    let db_type = text(row, 1)?;
    let base = text(row, 2)?;
    let typmod = int(row, 3)?;
    let not_null = flag(row, 4)?;
    let default = opt_text(row, 5)?;
    let identity = text(row, 6)?;
    let generated = text(row, 7)?;

    let auto_increment = !identity.is_empty()
        || (generated.is_empty()
            && default
                .as_deref()
                .is_some_and(|d| d.starts_with("nextval(")));
    let is_primary_key = primary_key.contains(&name);
    let mut ty = column_type(&base);
    if auto_increment
        && primary_key.len() == 1
        && is_primary_key
        && matches!(ty, ColumnType::Integer | ColumnType::BigInt)
    {
        ty = ColumnType::Id;
    }
    let (length, precision, scale) = match base.as_str() {
        "varchar" | "bpchar" if typmod >= 4 => (u32::try_from(typmod - 4).ok(), None, None),
        "numeric" if typmod >= 4 => {
            let m = typmod - 4;
            (
                None,
                u32::try_from((m >> 16) & 0xffff).ok(),
                u32::try_from(m & 0xffff).ok(),
            )
        }
        _ => (None, None, None),
    };
    Ok(Column {
        is_unique: unique.contains(&name),
        name,
        ty,
        db_type,
        length,
        precision,
        scale,
        allow_null: !not_null,
        default,
        auto_increment,
        is_primary_key,
    })
}

fn column_type(base: &str) -> ColumnType {
    match base {
        "int2" | "int4" => ColumnType::Integer,
        "int8" => ColumnType::BigInt,
        "bool" => ColumnType::Boolean,
        "float4" => ColumnType::Float,
        "float8" => ColumnType::Double,
        "numeric" | "money" => ColumnType::Decimal,
        "varchar" | "bpchar" | "name" | "uuid" => ColumnType::String,
        "text" | "citext" => ColumnType::Text,
        "bytea" => ColumnType::Binary,
        "date" => ColumnType::Date,
        "time" | "timetz" => ColumnType::Time,
        "timestamp" => ColumnType::DateTime,
        "timestamptz" => ColumnType::Timestamp,
        "json" | "jsonb" => ColumnType::Json,
        _ => ColumnType::Other,
    }
}

fn catalog_error() -> DbError {
    DbError::new(
        ErrorKind::Internal,
        "Unexpected answer from the PostgreSQL catalog.",
    )
}

fn text(row: &mut Row, i: usize) -> Result<String, DbError> {
    opt_text(row, i)?.ok_or_else(catalog_error)
}

fn opt_text(row: &mut Row, i: usize) -> Result<Option<String>, DbError> {
    match row.get_mut(i).map(|v| std::mem::replace(v, Value::Null)) {
        Some(Value::Text(s)) => Ok(Some(s)),
        Some(Value::Null) => Ok(None),
        _ => Err(catalog_error()),
    }
}

fn int(row: &Row, i: usize) -> Result<i64, DbError> {
    match row.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        _ => Err(catalog_error()),
    }
}

fn flag(row: &Row, i: usize) -> Result<bool, DbError> {
    match row.get(i) {
        Some(Value::Bool(b)) => Ok(*b),
        _ => Err(catalog_error()),
    }
}
