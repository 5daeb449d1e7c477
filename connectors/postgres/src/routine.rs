//! Stored procedures and functions, for the API's `_proc` and `_func` resources. The routine
//! name is quoted as one identifier (exact and case-sensitive, like table names); arguments
//! are bound parameters typed by the server's overload resolution.

use percore_connector::{Database, DbError, RowStream, Rows, Value};

use crate::database::PostgresDatabase;
use crate::dialect::push_quoted;

pub(crate) fn invocation(prefix: &str, name: &str, args: usize) -> String {
    let mut sql = String::with_capacity(prefix.len() + name.len() + 4 * args + 4);
    sql.push_str(prefix);
    push_quoted(&mut sql, name);
    sql.push('(');
    for n in 1..=args {
        if n > 1 {
            sql.push_str(", ");
        }
        sql.push('$');
        sql.push_str(&n.to_string());
    }
    sql.push(')');
    sql
}

impl PostgresDatabase {
    /// `CALL name($1, ...)`. A procedure with OUT or INOUT parameters answers with one row of
    /// them (pass NULL in the OUT positions, as PostgreSQL 14+ expects); others with no rows.
    pub async fn call_procedure(&self, name: &str, args: &[Value]) -> Result<Rows, DbError> {
        self.query(&invocation("CALL ", name, args.len()), args)
            .await
    }

    /// `SELECT * FROM name($1, ...)`, streamed: a set-returning function may yield any number
    /// of rows; a scalar function yields one row with one column named after it.
    pub async fn call_function(&self, name: &str, args: Vec<Value>) -> Result<RowStream, DbError> {
        let sql = invocation("SELECT * FROM ", name, args.len());
        self.query_stream(sql, args).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_quoted_calls() {
        assert_eq!(invocation("CALL ", "p", 0), r#"CALL "p"()"#);
        assert_eq!(
            invocation("SELECT * FROM ", r#"f"x"#, 2),
            r#"SELECT * FROM "f""x"($1, $2)"#
        );
    }
}
