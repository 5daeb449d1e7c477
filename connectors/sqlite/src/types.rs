//! Declared SQLite column types read the way SQLite's affinity rules read them, refined into
//! DreamFactory's vocabulary where the name says more (BOOLEAN, DATETIME, JSON, ...).

use percore_connector::ColumnType;

/// The DreamFactory type of a declared column type such as `VARCHAR(40)` or `unsigned big int`.
pub(crate) fn column_type(declared: &str) -> ColumnType {
    let upper = declared.trim().to_ascii_uppercase();
    let base = upper.split('(').next().unwrap_or("").trim();
    if base.is_empty() {
        return ColumnType::Other;
    }
    // Names SQLite would give a generic affinity but whose meaning DreamFactory knows. They are
    // checked first: BOOLEAN has NUMERIC affinity, DATETIME too, and `JSON` none at all.
    if base.contains("BOOL") {
        return ColumnType::Boolean;
    }
    if base.contains("JSON") {
        return ColumnType::Json;
    }
    if base.starts_with("TIMESTAMP") {
        return ColumnType::Timestamp;
    }
    if base.starts_with("DATETIME") {
        return ColumnType::DateTime;
    }
    if base.starts_with("DATE") {
        return ColumnType::Date;
    }
    if base.starts_with("TIME") {
        return ColumnType::Time;
    }
    // SQLite's own rules, in its order (https://sqlite.org/datatype3.html, 3.1).
    if base.contains("INT") {
        return if base.contains("BIG") || base == "INT8" {
            ColumnType::BigInt
        } else {
            ColumnType::Integer
        };
    }
    if base.contains("CHAR") {
        return ColumnType::String;
    }
    if base.contains("CLOB") || base.contains("TEXT") {
        return ColumnType::Text;
    }
    if base.contains("BLOB") || base.contains("BINARY") {
        return ColumnType::Binary;
    }
    if base.contains("FLOA") {
        return ColumnType::Float;
    }
    if base.contains("REAL") || base.contains("DOUB") {
        return ColumnType::Double;
    }
    if base.contains("NUMERIC") || base.contains("DECIMAL") || base.contains("MONEY") {
        return ColumnType::Decimal;
    }
    ColumnType::Other
}

/// The numbers in a declared type's parentheses: `(255)` or `(10, 2)`.
pub(crate) fn type_args(declared: &str) -> (Option<u32>, Option<u32>) {
    let Some(open) = declared.find('(') else {
        return (None, None);
    };
    let inner = declared[open + 1..].split(')').next().unwrap_or("");
    let mut parts = inner.split(',').map(|p| p.trim().parse::<u32>().ok());
    (parts.next().flatten(), parts.next().flatten())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_affinity_rules() {
        let cases = [
            ("INTEGER", ColumnType::Integer),
            ("int", ColumnType::Integer),
            ("UNSIGNED BIG INT", ColumnType::BigInt),
            ("BIGINT", ColumnType::BigInt),
            ("VARCHAR(40)", ColumnType::String),
            ("NVARCHAR(10)", ColumnType::String),
            ("TEXT", ColumnType::Text),
            ("CLOB", ColumnType::Text),
            ("BLOB", ColumnType::Binary),
            ("REAL", ColumnType::Double),
            ("DOUBLE PRECISION", ColumnType::Double),
            ("FLOAT", ColumnType::Float),
            ("NUMERIC", ColumnType::Decimal),
            ("DECIMAL(10,2)", ColumnType::Decimal),
            ("BOOLEAN", ColumnType::Boolean),
            ("DATE", ColumnType::Date),
            ("TIME", ColumnType::Time),
            ("DATETIME", ColumnType::DateTime),
            ("TIMESTAMP", ColumnType::Timestamp),
            ("JSON", ColumnType::Json),
            ("", ColumnType::Other),
            ("UUID", ColumnType::Other),
        ];
        for (declared, ty) in cases {
            assert_eq!(column_type(declared), ty, "{declared}");
        }
    }

    #[test]
    fn reads_type_arguments() {
        assert_eq!(type_args("VARCHAR(255)"), (Some(255), None));
        assert_eq!(type_args("DECIMAL(10, 2)"), (Some(10), Some(2)));
        assert_eq!(type_args("TEXT"), (None, None));
    }
}
