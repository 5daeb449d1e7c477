//! SQLite's SQL dialect: double-quoted identifiers, `?N` placeholders, `LIMIT -1`, RETURNING and
//! `ON CONFLICT` upserts (the bundled SQLite is far newer than 3.35, which added RETURNING).

use std::fmt::Write;

use percore_connector::{ColumnType, Dialect, Upsert};

pub struct SqliteDialect;

/// The dialect every [`crate::SqliteDatabase`] reports.
pub static DIALECT: SqliteDialect = SqliteDialect;

impl Dialect for SqliteDialect {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn quote_ident(&self, out: &mut String, ident: &str) {
        out.reserve(ident.len() + 2);
        out.push('"');
        for ch in ident.chars() {
            if ch == '"' {
                out.push('"');
            }
            out.push(ch);
        }
        out.push('"');
    }

    fn placeholder(&self, out: &mut String, n: usize) {
        // Numbered rather than bare `?`, so the API may reuse a parameter without rebinding it.
        let _ = write!(out, "?{n}");
    }

    fn supports_returning(&self) -> bool {
        true
    }

    fn upsert(&self) -> Upsert {
        Upsert::OnConflict
    }

    fn supports_nulls_order(&self) -> bool {
        true
    }

    fn column_type_sql(
        &self,
        ty: ColumnType,
        length: Option<u32>,
        precision: Option<(u32, u32)>,
    ) -> String {
        match ty {
            ColumnType::Id | ColumnType::Integer => "INTEGER".into(),
            ColumnType::BigInt => "BIGINT".into(),
            ColumnType::Boolean => "BOOLEAN".into(),
            ColumnType::Float => "FLOAT".into(),
            ColumnType::Double => "DOUBLE".into(),
            ColumnType::Decimal => match precision {
                Some((p, s)) => format!("DECIMAL({p},{s})"),
                None => "DECIMAL".into(),
            },
            ColumnType::String => format!("VARCHAR({})", length.unwrap_or(255)),
            ColumnType::Text | ColumnType::Other => "TEXT".into(),
            ColumnType::Binary => "BLOB".into(),
            ColumnType::Date => "DATE".into(),
            ColumnType::Time => "TIME".into(),
            ColumnType::DateTime => "DATETIME".into(),
            ColumnType::Timestamp => "TIMESTAMP".into(),
            ColumnType::Json => "JSON".into(),
        }
    }

    fn auto_increment_pk(&self) -> &'static str {
        "INTEGER PRIMARY KEY AUTOINCREMENT"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::column_type;

    #[test]
    fn quotes_and_placeholders() {
        let mut s = String::new();
        DIALECT.quote_ident(&mut s, r#"we"ird"#);
        s.push(' ');
        DIALECT.placeholder(&mut s, 12);
        assert_eq!(s, r#""we""ird" ?12"#);
        let mut s = String::from("SELECT 1");
        DIALECT.limit_offset(&mut s, None, Some(5));
        assert_eq!(s, "SELECT 1 LIMIT -1 OFFSET 5");
    }

    #[test]
    fn created_types_describe_back_to_themselves() {
        use ColumnType::*;
        for ty in [
            Integer, BigInt, Boolean, Float, Double, Decimal, String, Text, Binary, Date, Time,
            DateTime, Timestamp, Json,
        ] {
            assert_eq!(
                column_type(&DIALECT.column_type_sql(ty, Some(40), Some((10, 2)))),
                ty
            );
        }
        assert_eq!(DIALECT.column_type_sql(String, None, None), "VARCHAR(255)");
    }
}
