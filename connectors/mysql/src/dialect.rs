//! MySQL's and MariaDB's SQL spelling.

use percore_connector::{ColumnType, Dialect, Upsert};

pub struct MysqlDialect;

/// The dialect every MySQL/MariaDB service uses.
pub static DIALECT: MysqlDialect = MysqlDialect;

/// The longest VARCHAR that fits MySQL's 65,535-byte row limit in utf8mb4 (4 bytes a
/// character); longer strings become MEDIUMTEXT.
const MAX_VARCHAR: u32 = 16_383;

impl Dialect for MysqlDialect {
    fn name(&self) -> &'static str {
        "mysql"
    }

    fn quote_ident(&self, out: &mut String, ident: &str) {
        out.push('`');
        for c in ident.chars() {
            if c == '`' {
                out.push('`');
            }
            out.push(c);
        }
        out.push('`');
    }

    fn placeholder(&self, out: &mut String, _n: usize) {
        out.push('?');
    }

    /// MySQL has no "no limit"; its documentation recommends the largest BIGINT UNSIGNED.
    fn limit_all(&self) -> &'static str {
        " LIMIT 18446744073709551615"
    }

    /// MariaDB 10.5+ has `INSERT ... RETURNING` but not `UPDATE ... RETURNING`, and MySQL has
    /// neither: keys come from `last_insert_id` instead.
    fn supports_returning(&self) -> bool {
        false
    }

    fn upsert(&self) -> Upsert {
        Upsert::OnDuplicateKey
    }

    fn supports_nulls_order(&self) -> bool {
        false
    }

    fn column_type_sql(
        &self,
        ty: ColumnType,
        length: Option<u32>,
        precision: Option<(u32, u32)>,
    ) -> String {
        match ty {
            ColumnType::Id | ColumnType::Integer => "INT".into(),
            ColumnType::BigInt => "BIGINT".into(),
            ColumnType::Boolean => "TINYINT(1)".into(),
            ColumnType::Float => "FLOAT".into(),
            ColumnType::Double => "DOUBLE".into(),
            ColumnType::Decimal => {
                // MySQL's bare DECIMAL is DECIMAL(10,0), which would round 12.5 to 13.
                let (p, s) = precision.unwrap_or((10, 2));
                let p = p.clamp(1, 65);
                format!("DECIMAL({p},{})", s.min(30).min(p))
            }
            ColumnType::String => match length.unwrap_or(255) {
                0 => "VARCHAR(255)".into(),
                n if n <= MAX_VARCHAR => format!("VARCHAR({n})"),
                _ => "MEDIUMTEXT".into(),
            },
            ColumnType::Text | ColumnType::Other => "TEXT".into(),
            ColumnType::Binary => match length {
                Some(n) if n > 0 && n <= 65_535 => format!("VARBINARY({n})"),
                _ => "BLOB".into(),
            },
            ColumnType::Date => "DATE".into(),
            ColumnType::Time => "TIME".into(),
            ColumnType::DateTime => "DATETIME".into(),
            // NULL explicitly: with `explicit_defaults_for_timestamp` off (MySQL 5.x, MariaDB
            // before 10.10) a bare TIMESTAMP becomes NOT NULL DEFAULT CURRENT_TIMESTAMP ON
            // UPDATE CURRENT_TIMESTAMP.
            ColumnType::Timestamp => "TIMESTAMP NULL".into(),
            ColumnType::Json => "JSON".into(),
        }
    }

    fn auto_increment_pk(&self) -> &'static str {
        "INT NOT NULL AUTO_INCREMENT PRIMARY KEY"
    }

    /// `CALL p(?, ...)`, or `SELECT f(?, ...) AS f` (MySQL functions are scalar).
    fn routine_call(
        &self,
        kind: percore_connector::Routine,
        name: &str,
        argc: usize,
    ) -> Option<String> {
        let mut quoted = String::new();
        for (i, part) in name.split('.').enumerate() {
            if i > 0 {
                quoted.push('.');
            }
            self.quote_ident(&mut quoted, part);
        }
        let args = vec!["?"; argc].join(", ");
        Some(match kind {
            percore_connector::Routine::Procedure => format!("CALL {quoted}({args})"),
            percore_connector::Routine::Function => {
                let mut alias = String::new();
                self.quote_ident(&mut alias, name.rsplit('.').next().unwrap_or(name));
                format!("SELECT {quoted}({args}) AS {alias}")
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_types() {
        let mut out = String::new();
        DIALECT.quote_ident(&mut out, "we`ird");
        assert_eq!(out, "`we``ird`");
        let mut sql = String::new();
        DIALECT.limit_offset(&mut sql, None, Some(5));
        assert_eq!(sql, " LIMIT 18446744073709551615 OFFSET 5");
        assert_eq!(
            DIALECT.column_type_sql(ColumnType::String, None, None),
            "VARCHAR(255)"
        );
        assert_eq!(
            DIALECT.column_type_sql(ColumnType::Decimal, None, Some((12, 4))),
            "DECIMAL(12,4)"
        );
        assert_eq!(
            DIALECT.column_type_sql(ColumnType::String, Some(100_000), None),
            "MEDIUMTEXT"
        );
    }
}
