//! AST to parameterised SQL. Fields must exist in the table's schema; values, including
//! `:params` and `{lookups}`, are always bound.

use percore_connector::{Dialect, TableSchema, Value};

use super::parse::{Expr, LikeKind, Operand};
use super::FilterError;

/// Bound values in placeholder order. One `Bindings` serves a whole statement, so placeholders
/// stay numbered across the filter and the rest of the query.
#[derive(Debug, Default)]
pub struct Bindings {
    pub values: Vec<Value>,
}

impl Bindings {
    pub fn bind(&mut self, out: &mut String, dialect: &dyn Dialect, value: Value) {
        self.values.push(value);
        dialect.placeholder(out, self.values.len());
    }
}

pub struct SqlContext<'a> {
    pub dialect: &'static dyn Dialect,
    /// Writes the SQL for a field name, or returns `false` when there is no such field. For a
    /// WHERE clause this quotes a column of the table; for HAVING it also knows aggregates.
    pub field: &'a dyn Fn(&str, &mut String) -> bool,
    /// Values of `:name` parameters.
    pub params: &'a dyn Fn(&str) -> Option<Value>,
    /// Values of `{user.id}`-style lookups for the caller.
    pub lookups: &'a dyn Fn(&str) -> Option<Value>,
}

/// The escape character for LIKE patterns we build. Not a backslash: MySQL treats backslash in
/// string literals specially, and `!` means nothing anywhere.
const LIKE_ESCAPE: char = '!';

pub fn to_sql(
    expr: &Expr,
    cx: &SqlContext<'_>,
    out: &mut String,
    b: &mut Bindings,
) -> Result<(), FilterError> {
    match expr {
        Expr::And(l, r) => binary(l, " AND ", r, cx, out, b),
        Expr::Or(l, r) => binary(l, " OR ", r, cx, out, b),
        Expr::Xor(l, r) => {
            // Portable XOR: (l AND NOT r) OR (NOT l AND r).
            out.push_str("((");
            to_sql(l, cx, out, b)?;
            out.push_str(") AND NOT (");
            to_sql(r, cx, out, b)?;
            out.push_str(")) OR (NOT (");
            to_sql(l, cx, out, b)?;
            out.push_str(") AND (");
            to_sql(r, cx, out, b)?;
            out.push_str("))");
            Ok(())
        }
        Expr::Not(e) => {
            out.push_str("NOT (");
            to_sql(e, cx, out, b)?;
            out.push(')');
            Ok(())
        }
        Expr::Cmp { field, op, value } => {
            column(field, cx, out)?;
            out.push(' ');
            out.push_str(op.sql());
            out.push(' ');
            let v = resolve(value, cx)?;
            b.bind(out, cx.dialect, v);
            Ok(())
        }
        Expr::In {
            field,
            negated,
            values,
        } => {
            column(field, cx, out)?;
            out.push_str(if *negated { " NOT IN (" } else { " IN (" });
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let v = resolve(v, cx)?;
                b.bind(out, cx.dialect, v);
            }
            out.push(')');
            Ok(())
        }
        Expr::Like {
            field,
            negated,
            kind,
            value,
        } => {
            column(field, cx, out)?;
            out.push_str(if *negated { " NOT " } else { " " });
            out.push_str(cx.dialect.like_operator());
            out.push(' ');
            let text = match resolve(value, cx)? {
                Value::Text(s) => s,
                Value::Null => String::new(),
                other => other.to_json().to_string(),
            };
            let pattern = match kind {
                LikeKind::Pattern => text,
                LikeKind::StartsWith => format!("{}%", escape_like(&text)),
                LikeKind::EndsWith => format!("%{}", escape_like(&text)),
                LikeKind::Contains => format!("%{}%", escape_like(&text)),
            };
            b.bind(out, cx.dialect, Value::Text(pattern));
            if *kind != LikeKind::Pattern {
                out.push_str(" ESCAPE '!'");
            }
            Ok(())
        }
        Expr::IsNull { field, negated } => {
            column(field, cx, out)?;
            out.push_str(if *negated { " IS NOT NULL" } else { " IS NULL" });
            Ok(())
        }
        Expr::Between { field, low, high } => {
            column(field, cx, out)?;
            out.push_str(" BETWEEN ");
            let low = resolve(low, cx)?;
            b.bind(out, cx.dialect, low);
            out.push_str(" AND ");
            let high = resolve(high, cx)?;
            b.bind(out, cx.dialect, high);
            Ok(())
        }
    }
}

fn binary(
    l: &Expr,
    op: &str,
    r: &Expr,
    cx: &SqlContext<'_>,
    out: &mut String,
    b: &mut Bindings,
) -> Result<(), FilterError> {
    out.push('(');
    to_sql(l, cx, out, b)?;
    out.push_str(op);
    to_sql(r, cx, out, b)?;
    out.push(')');
    Ok(())
}

fn column(field: &str, cx: &SqlContext<'_>, out: &mut String) -> Result<(), FilterError> {
    if (cx.field)(field, out) {
        Ok(())
    } else {
        Err(FilterError::UnknownField(field.to_string()))
    }
}

/// The usual field resolver: columns of `table`, quoted.
pub fn table_columns<'a>(
    dialect: &'static dyn Dialect,
    table: &'a TableSchema,
) -> impl Fn(&str, &mut String) -> bool + 'a {
    move |name, out| match table.column(name) {
        Some(col) => {
            dialect.quote_ident(out, &col.name);
            true
        }
        None => false,
    }
}

fn resolve(op: &Operand, cx: &SqlContext<'_>) -> Result<Value, FilterError> {
    match op {
        Operand::Literal(v) => Ok(v.clone()),
        Operand::Param(name) => {
            (cx.params)(name).ok_or_else(|| FilterError::MissingParam(name.clone()))
        }
        Operand::Lookup(name) => {
            (cx.lookups)(name).ok_or_else(|| FilterError::UnknownLookup(name.clone()))
        }
    }
}

fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '%' || c == '_' || c == LIKE_ESCAPE {
            out.push(LIKE_ESCAPE);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::db::filter::parse;
    use percore_connector::{Column, ColumnType, Upsert};

    /// A PostgreSQL-shaped dialect, enough to check the SQL text.
    struct Pg;

    impl Dialect for Pg {
        fn name(&self) -> &'static str {
            "test"
        }
        fn quote_ident(&self, out: &mut String, ident: &str) {
            out.push('"');
            out.push_str(&ident.replace('"', "\"\""));
            out.push('"');
        }
        fn placeholder(&self, out: &mut String, n: usize) {
            out.push('$');
            out.push_str(&n.to_string());
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
        fn column_type_sql(&self, _: ColumnType, _: Option<u32>, _: Option<(u32, u32)>) -> String {
            String::new()
        }
        fn auto_increment_pk(&self) -> &'static str {
            ""
        }
    }

    static PG: Pg = Pg;

    fn table() -> TableSchema {
        let col = |name: &str| Column {
            name: name.into(),
            ty: ColumnType::String,
            db_type: "text".into(),
            length: None,
            precision: None,
            scale: None,
            allow_null: true,
            default: None,
            auto_increment: false,
            is_primary_key: false,
            is_unique: false,
        };
        TableSchema {
            name: "contact".into(),
            columns: vec![col("id"), col("age"), col("name")],
            primary_key: vec!["id".into()],
            foreign_keys: vec![],
        }
    }

    fn sql(filter: &str) -> Result<(String, Vec<Value>), FilterError> {
        let t = table();
        let params = |n: &str| (n == "p").then_some(Value::Int(7));
        let lookups = |n: &str| (n == "user.id").then_some(Value::Int(42));
        let field = table_columns(&PG, &t);
        let cx = SqlContext {
            dialect: &PG,
            field: &field,
            params: &params,
            lookups: &lookups,
        };
        let mut out = String::new();
        let mut b = Bindings::default();
        to_sql(&parse(filter)?, &cx, &mut out, &mut b)?;
        Ok((out, b.values))
    }

    #[test]
    fn values_are_bound_and_fields_quoted() {
        let (s, v) = sql("(age >= 30) AND name LIKE 'a''b%'").unwrap();
        assert_eq!(s, r#"("age" >= $1 AND "name" LIKE $2)"#);
        assert_eq!(v, vec![Value::Int(30), Value::Text("a'b%".into())]);
        let (s, v) = sql("id IN (1, :p, {user.id})").unwrap();
        assert_eq!(s, r#""id" IN ($1, $2, $3)"#);
        assert_eq!(v, vec![Value::Int(1), Value::Int(7), Value::Int(42)]);
    }

    #[test]
    fn starts_with_escapes_wildcards() {
        let (s, v) = sql("name STARTS WITH '50%_off!'").unwrap();
        assert_eq!(s, r#""name" LIKE $1 ESCAPE '!'"#);
        assert_eq!(v, vec![Value::Text("50!%!_off!!%".into())]);
    }

    #[test]
    fn unknown_fields_params_and_lookups_are_refused() {
        assert_eq!(
            sql("nope = 1"),
            Err(FilterError::UnknownField("nope".into()))
        );
        // A Cyrillic 'і' look-alike is a different field.
        assert_eq!(sql("іd = 1"), Err(FilterError::UnknownField("іd".into())));
        assert_eq!(sql("id = :q"), Err(FilterError::MissingParam("q".into())));
        assert_eq!(
            sql("id = {user.secret}"),
            Err(FilterError::UnknownLookup("user.secret".into()))
        );
    }

    #[test]
    fn xor_and_nor_expand_portably() {
        let (s, _) = sql("id = 1 XOR age = 2").unwrap();
        assert_eq!(
            s,
            r#"(("id" = $1) AND NOT ("age" = $2)) OR (NOT ("id" = $3) AND ("age" = $4))"#
        );
        let (s, _) = sql("id = 1 NOR age = 2").unwrap();
        assert_eq!(s, r#"NOT (("id" = $1 OR "age" = $2))"#);
    }
}
