//! SQL text that differs between databases. The API layer writes SQL only through this trait,
//! so no `if postgres` ever appears above the connectors.

use crate::schema::ColumnType;

/// How a database writes "insert, or update when the key exists".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    /// `INSERT ... ON CONFLICT (key) DO UPDATE SET c = EXCLUDED.c` (PostgreSQL, SQLite).
    OnConflict,
    /// `INSERT ... ON DUPLICATE KEY UPDATE c = VALUES(c)` (MySQL, MariaDB).
    OnDuplicateKey,
}

/// A stored routine's kind, for [`Dialect::routine_call`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routine {
    Procedure,
    Function,
}

pub trait Dialect: Sync {
    /// Short name as DreamFactory spells the service type: `sqlite`, `pgsql`, `mysql`.
    fn name(&self) -> &'static str;

    /// Appends a quoted identifier. Callers pass only names checked against the schema; quoting
    /// is the second line of defence, so embedded quote characters are doubled.
    fn quote_ident(&self, out: &mut String, ident: &str);

    /// Appends the placeholder for the `n`-th bound parameter (1-based): `$n` or `?`.
    fn placeholder(&self, out: &mut String, n: usize);

    /// Appends `LIMIT`/`OFFSET` for the given values (already validated, never user text).
    fn limit_offset(&self, out: &mut String, limit: Option<u64>, offset: Option<u64>) {
        if let Some(limit) = limit {
            out.push_str(" LIMIT ");
            out.push_str(&limit.to_string());
        }
        if let Some(offset) = offset.filter(|&o| o > 0) {
            if limit.is_none() {
                out.push_str(self.limit_all());
            }
            out.push_str(" OFFSET ");
            out.push_str(&offset.to_string());
        }
    }

    /// What to write when an OFFSET needs a LIMIT but there is none.
    fn limit_all(&self) -> &'static str {
        " LIMIT -1"
    }

    /// The tail of an INSERT that sets no column explicitly.
    fn insert_defaults(&self) -> &'static str {
        " DEFAULT VALUES"
    }

    /// Whether `INSERT/UPDATE/DELETE ... RETURNING cols` is available.
    fn supports_returning(&self) -> bool;

    fn upsert(&self) -> Upsert;

    /// `NULLS FIRST` / `NULLS LAST` support in ORDER BY; where missing, the API emulates them
    /// with an `IS NULL` sort key.
    fn supports_nulls_order(&self) -> bool;

    /// Case-insensitive LIKE operator: PostgreSQL's `ILIKE`, plain `LIKE` elsewhere (their
    /// default collations are case-insensitive for ASCII).
    fn like_operator(&self) -> &'static str {
        "LIKE"
    }

    /// The column type to create for a DreamFactory schema type.
    fn column_type_sql(
        &self,
        ty: ColumnType,
        length: Option<u32>,
        precision: Option<(u32, u32)>,
    ) -> String;

    /// The definition of an auto-increment integer primary key column (without its name).
    fn auto_increment_pk(&self) -> &'static str;

    /// The statement invoking a stored routine with `argc` bound arguments, or `None` where the
    /// database has no stored routines (SQLite). `name` was checked by the caller; it is quoted
    /// here, part by part when schema-qualified.
    fn routine_call(&self, kind: Routine, name: &str, argc: usize) -> Option<String> {
        let _ = (kind, name, argc);
        None
    }
}
