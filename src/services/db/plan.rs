//! SQL planning: validated parameters and records in, parameterised SQL out, through the
//! connector's dialect. Every identifier written here was found in the table's schema.

use percore_connector::{ColumnType, Dialect, TableSchema, Value};
use serde_json::Map;

use super::error::DbApiError;
use super::filter::{self, table_columns, Bindings, Expr, SqlContext};
use super::params::{Aggregate, Field, TableParams};

/// A statement ready to run: its text, bound values, and (for reads) the output column names.
#[derive(Debug, Default)]
pub struct Statement {
    pub sql: String,
    pub values: Vec<Value>,
    pub columns: Vec<String>,
}

/// What rows a statement applies to, beyond the client's filter.
pub struct Scope<'a> {
    pub params: &'a TableParams,
    /// Key columns and the key values to match (`ids`, or one id from the path).
    pub keys: Option<(&'a [String], &'a [Vec<Value>])>,
    /// Server-side filters from the caller's role, ANDed onto everything.
    pub role_filter: Option<&'a Expr>,
    pub lookups: &'a dyn Fn(&str) -> Option<Value>,
}

pub struct Planner<'a> {
    pub dialect: &'static dyn Dialect,
    pub table: &'a TableSchema,
}

impl<'a> Planner<'a> {
    pub fn new(dialect: &'static dyn Dialect, table: &'a TableSchema) -> Self {
        Planner { dialect, table }
    }

    fn quote(&self, out: &mut String, name: &str) {
        self.dialect.quote_ident(out, name);
    }

    fn quote_table(&self, out: &mut String) {
        self.quote(out, &self.table.name);
    }

    fn column(&self, name: &str) -> Result<&'a str, DbApiError> {
        self.table
            .column(name)
            .map(|c| c.name.as_str())
            .ok_or_else(|| {
                DbApiError::BadRequest(format!(
                    "Invalid or unparsable field: '{}'.",
                    super::params::truncate(name)
                ))
            })
    }

    /// The key columns: `id_field` when given, else the primary key.
    pub fn key_columns(&self, id_field: Option<&[String]>) -> Result<Vec<String>, DbApiError> {
        match id_field {
            Some(fields) if !fields.is_empty() => fields
                .iter()
                .map(|f| self.column(f).map(String::from))
                .collect(),
            _ if self.table.primary_key.is_empty() => Err(DbApiError::BadRequest(format!(
                "Table '{}' has no primary key; give 'id_field'.",
                self.table.name
            ))),
            _ => Ok(self.table.primary_key.clone()),
        }
    }

    /// A key value from text (path or `ids`), typed by its column so numeric keys bind as numbers.
    pub fn key_value(&self, column: &str, text: &str) -> Result<Value, DbApiError> {
        let col = self.table.column(column);
        let numeric = col.is_some_and(|c| {
            matches!(
                c.ty,
                ColumnType::Id | ColumnType::Integer | ColumnType::BigInt
            )
        });
        if numeric {
            text.trim().parse::<i64>().map(Value::Int).map_err(|_| {
                DbApiError::BadRequest(format!(
                    "Invalid id '{}' for field '{column}'.",
                    super::params::truncate(text)
                ))
            })
        } else {
            Ok(Value::Text(text.to_string()))
        }
    }

    /// Writes ` WHERE ...` for the scope (nothing when unrestricted).
    fn where_clause(
        &self,
        scope: &Scope<'_>,
        out: &mut String,
        b: &mut Bindings,
    ) -> Result<(), DbApiError> {
        let mut first = true;
        let mut and = |out: &mut String| {
            out.push_str(if first { " WHERE " } else { " AND " });
            first = false;
        };
        let field = table_columns(self.dialect, self.table);
        let param = |name: &str| scope.params.param(name);
        let cx = SqlContext {
            dialect: self.dialect,
            field: &field,
            params: &param,
            lookups: scope.lookups,
        };
        if let Some(text) = &scope.params.filter {
            let expr = filter::parse(text)?;
            and(out);
            out.push('(');
            filter::to_sql(&expr, &cx, out, b)?;
            out.push(')');
        }
        if let Some(expr) = scope.role_filter {
            and(out);
            out.push('(');
            filter::to_sql(expr, &cx, out, b)?;
            out.push(')');
        }
        if let Some((cols, rows)) = scope.keys {
            and(out);
            self.key_match(cols, rows, out, b);
        }
        Ok(())
    }

    /// `k IN (...)` for one key column, `((a = ? AND b = ?) OR ...)` for composite keys.
    fn key_match(&self, cols: &[String], rows: &[Vec<Value>], out: &mut String, b: &mut Bindings) {
        if rows.is_empty() {
            out.push_str("1 = 0");
            return;
        }
        if cols.len() == 1 {
            self.quote(out, &cols[0]);
            out.push_str(" IN (");
            for (i, row) in rows.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                b.bind(out, self.dialect, row[0].clone());
            }
            out.push(')');
            return;
        }
        out.push('(');
        for (i, row) in rows.iter().enumerate() {
            out.push_str(if i == 0 { "(" } else { " OR (" });
            for (j, (col, v)) in cols.iter().zip(row).enumerate() {
                if j > 0 {
                    out.push_str(" AND ");
                }
                self.quote(out, col);
                out.push_str(" = ");
                b.bind(out, self.dialect, v.clone());
            }
            out.push(')');
        }
        out.push(')');
    }

    /// The output columns for `fields` (all columns when empty or `*`).
    pub fn output_columns(&self, fields: &[Field]) -> Result<Vec<String>, DbApiError> {
        if fields.is_empty() || fields.contains(&Field::All) {
            return Ok(self.table.columns.iter().map(|c| c.name.clone()).collect());
        }
        fields
            .iter()
            .map(|f| match f {
                Field::Column(c) => self.column(c).map(String::from),
                Field::Aggregate { alias, .. } => Ok(alias.clone()),
                Field::All => unreachable!("handled above"),
            })
            .collect()
    }

    pub fn select(&self, scope: &Scope<'_>, limit: Option<u64>) -> Result<Statement, DbApiError> {
        let p = scope.params;
        let mut sql = String::with_capacity(256);
        let mut b = Bindings::default();
        sql.push_str("SELECT ");
        let columns = self.output_columns(&p.fields)?;
        let aggregates: Vec<&Field> = p
            .fields
            .iter()
            .filter(|f| matches!(f, Field::Aggregate { .. }))
            .collect();
        if aggregates.is_empty() {
            for (i, c) in columns.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                self.quote(&mut sql, c);
            }
        } else {
            for (i, f) in p.fields.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                match f {
                    Field::Column(c) => self.quote(&mut sql, self.column(c)?),
                    Field::Aggregate {
                        func,
                        column,
                        alias,
                    } => {
                        self.aggregate(&mut sql, func, column.as_deref())?;
                        sql.push_str(" AS ");
                        self.quote(&mut sql, alias);
                    }
                    Field::All => {
                        return Err(DbApiError::BadRequest(
                            "'*' cannot be combined with aggregates.".into(),
                        ))
                    }
                }
            }
        }
        sql.push_str(" FROM ");
        self.quote_table(&mut sql);
        self.where_clause(scope, &mut sql, &mut b)?;
        if !p.group.is_empty() {
            sql.push_str(" GROUP BY ");
            for (i, g) in p.group.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                self.quote(&mut sql, self.column(g)?);
            }
            if let Some(having) = &p.having {
                self.having(&mut sql, &mut b, having, scope)?;
            }
        } else if p.having.is_some() {
            return Err(DbApiError::BadRequest("'having' requires 'group'.".into()));
        }
        self.order_by(&mut sql, p, &columns)?;
        self.dialect.limit_offset(&mut sql, limit, p.offset);
        Ok(Statement {
            sql,
            values: b.values,
            columns,
        })
    }

    fn aggregate(
        &self,
        sql: &mut String,
        func: &Aggregate,
        column: Option<&str>,
    ) -> Result<(), DbApiError> {
        sql.push_str(match func {
            Aggregate::Count => "COUNT(",
            Aggregate::Sum => "SUM(",
            Aggregate::Avg => "AVG(",
            Aggregate::Min => "MIN(",
            Aggregate::Max => "MAX(",
        });
        match column {
            Some(c) => self.quote(sql, self.column(c)?),
            None => sql.push('*'),
        }
        sql.push(')');
        Ok(())
    }

    /// HAVING speaks in the filter grammar, where a field is a grouped column or an aggregate's
    /// alias (written as the aggregate itself, since PostgreSQL does not accept aliases there).
    fn having(
        &self,
        sql: &mut String,
        b: &mut Bindings,
        text: &str,
        scope: &Scope<'_>,
    ) -> Result<(), DbApiError> {
        let expr = filter::parse(text)?;
        let fields = &scope.params.fields;
        let resolve = |name: &str, out: &mut String| {
            for f in fields {
                if let Field::Aggregate {
                    func,
                    column,
                    alias,
                } = f
                {
                    if alias == name {
                        return self.aggregate(out, func, column.as_deref()).is_ok();
                    }
                }
            }
            if scope.params.group.iter().any(|g| g == name) {
                if let Some(col) = self.table.column(name) {
                    self.quote(out, &col.name);
                    return true;
                }
            }
            false
        };
        let param = |name: &str| scope.params.param(name);
        let cx = SqlContext {
            dialect: self.dialect,
            field: &resolve,
            params: &param,
            lookups: scope.lookups,
        };
        sql.push_str(" HAVING ");
        filter::to_sql(&expr, &cx, sql, b)?;
        Ok(())
    }

    fn order_by(
        &self,
        sql: &mut String,
        p: &TableParams,
        output: &[String],
    ) -> Result<(), DbApiError> {
        if p.order.is_empty() {
            return Ok(());
        }
        sql.push_str(" ORDER BY ");
        for (i, o) in p.order.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            // An aggregate alias may be ordered by; anything else must be a column.
            let name = match self.table.column(&o.field) {
                Some(c) => c.name.as_str(),
                None if output.iter().any(|c| c == &o.field) => o.field.as_str(),
                None => {
                    return Err(DbApiError::BadRequest(format!(
                        "Invalid order field: '{}'.",
                        o.field
                    )))
                }
            };
            if let (Some(first), false) = (o.nulls_first, self.dialect.supports_nulls_order()) {
                // Emulated: sort on "is null" first. `IS NULL` is 1 for nulls.
                self.quote(sql, name);
                sql.push_str(if first {
                    " IS NULL DESC, "
                } else {
                    " IS NULL ASC, "
                });
            }
            self.quote(sql, name);
            sql.push_str(if o.desc { " DESC" } else { " ASC" });
            if let (Some(first), true) = (o.nulls_first, self.dialect.supports_nulls_order()) {
                sql.push_str(if first { " NULLS FIRST" } else { " NULLS LAST" });
            }
        }
        Ok(())
    }

    pub fn count(&self, scope: &Scope<'_>) -> Result<Statement, DbApiError> {
        let mut sql = String::from("SELECT COUNT(*) FROM ");
        let mut b = Bindings::default();
        self.quote_table(&mut sql);
        self.where_clause(scope, &mut sql, &mut b)?;
        Ok(Statement {
            sql,
            values: b.values,
            columns: vec!["count".into()],
        })
    }

    /// Checks a record's fields against the schema and returns them with bound values.
    pub fn record_values(
        &self,
        record: &'a Map<String, serde_json::Value>,
    ) -> Result<Vec<(&'a str, Value)>, DbApiError> {
        record
            .iter()
            .map(|(k, v)| {
                let col = self.table.column(k).ok_or_else(|| {
                    DbApiError::BadRequest(format!(
                        "Invalid field '{}' for table '{}'.",
                        super::params::truncate(k),
                        self.table.name
                    ))
                })?;
                Ok((col.name.as_str(), Value::from_json(v)))
            })
            .collect()
    }

    /// `INSERT ... [RETURNING cols]`. With `upsert_keys`, conflicting rows are updated instead.
    pub fn insert(
        &self,
        record: &Map<String, serde_json::Value>,
        returning: &[String],
        upsert_keys: Option<&[String]>,
    ) -> Result<Statement, DbApiError> {
        let values = self.record_values(record)?;
        let mut sql = String::from("INSERT INTO ");
        let mut b = Bindings::default();
        self.quote_table(&mut sql);
        if values.is_empty() {
            sql.push_str(self.dialect.insert_defaults());
        } else {
            sql.push_str(" (");
            for (i, (c, _)) in values.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                self.quote(&mut sql, c);
            }
            sql.push_str(") VALUES (");
            for (i, (_, v)) in values.into_iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                b.bind(&mut sql, self.dialect, v);
            }
            sql.push(')');
        }
        if let Some(keys) = upsert_keys {
            self.upsert_clause(&mut sql, record, keys);
        }
        let columns = self.returning(&mut sql, returning);
        Ok(Statement {
            sql,
            values: b.values,
            columns,
        })
    }

    fn upsert_clause(
        &self,
        sql: &mut String,
        record: &Map<String, serde_json::Value>,
        keys: &[String],
    ) {
        let updates: Vec<&str> = record
            .keys()
            .filter(|k| !keys.contains(k))
            .map(String::as_str)
            .collect();
        match self.dialect.upsert() {
            percore_connector::Upsert::OnConflict => {
                sql.push_str(" ON CONFLICT (");
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    self.quote(sql, k);
                }
                if updates.is_empty() {
                    sql.push_str(") DO NOTHING");
                    return;
                }
                sql.push_str(") DO UPDATE SET ");
                for (i, c) in updates.iter().enumerate() {
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    self.quote(sql, c);
                    sql.push_str(" = EXCLUDED.");
                    self.quote(sql, c);
                }
            }
            percore_connector::Upsert::OnDuplicateKey => {
                sql.push_str(" ON DUPLICATE KEY UPDATE ");
                let cols: Vec<&str> = if updates.is_empty() {
                    keys.iter().map(String::as_str).collect()
                } else {
                    updates
                };
                for (i, c) in cols.iter().enumerate() {
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    self.quote(sql, c);
                    sql.push_str(" = VALUES(");
                    self.quote(sql, c);
                    sql.push(')');
                }
            }
        }
    }

    fn returning(&self, sql: &mut String, returning: &[String]) -> Vec<String> {
        if returning.is_empty() || !self.dialect.supports_returning() {
            return Vec::new();
        }
        sql.push_str(" RETURNING ");
        for (i, c) in returning.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            self.quote(sql, c);
        }
        returning.to_vec()
    }

    /// `UPDATE ... SET given fields WHERE scope [RETURNING cols]`.
    pub fn update(
        &self,
        record: &Map<String, serde_json::Value>,
        skip: &[String],
        scope: &Scope<'_>,
        returning: &[String],
    ) -> Result<Statement, DbApiError> {
        let values: Vec<(&str, Value)> = self
            .record_values(record)?
            .into_iter()
            .filter(|(c, _)| !skip.iter().any(|s| s == c))
            .collect();
        if values.is_empty() {
            return Err(DbApiError::BadRequest("No fields to update.".into()));
        }
        let mut sql = String::from("UPDATE ");
        let mut b = Bindings::default();
        self.quote_table(&mut sql);
        sql.push_str(" SET ");
        for (i, (c, v)) in values.into_iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            self.quote(&mut sql, c);
            sql.push_str(" = ");
            b.bind(&mut sql, self.dialect, v);
        }
        self.where_clause(scope, &mut sql, &mut b)?;
        let columns = self.returning(&mut sql, returning);
        Ok(Statement {
            sql,
            values: b.values,
            columns,
        })
    }

    pub fn delete(&self, scope: &Scope<'_>, returning: &[String]) -> Result<Statement, DbApiError> {
        let mut sql = String::from("DELETE FROM ");
        let mut b = Bindings::default();
        self.quote_table(&mut sql);
        self.where_clause(scope, &mut sql, &mut b)?;
        let columns = self.returning(&mut sql, returning);
        Ok(Statement {
            sql,
            values: b.values,
            columns,
        })
    }
}
