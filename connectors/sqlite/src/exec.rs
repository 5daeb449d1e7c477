//! Running one statement: the blocking part (prepare from the connection's cache, bind, step,
//! read) and the async wrappers that move a [`Lease`] to a blocking thread and wait for it.

use std::sync::Arc;
use std::time::Duration;

use percore_connector::{DbError, Executed, Row, Rows, Value};
use rusqlite::{CachedStatement, Statement};

use crate::conn::{CancelOnDrop, Conn, Role};
use crate::error::{classify, internal};
use crate::pool::{blocking, Lease};
use crate::value::{self, Kind, Param};

/// Column names and rows, in a form that can cross threads (`Rows` holds an `Rc`).
pub(crate) type Collected = (Vec<String>, Vec<Row>);

/// Runs a query on `lease`. `Ok(None)` means the statement writes and the lease is a read
/// connection: the caller reruns it on the writer.
pub(crate) async fn query(
    mut lease: Lease,
    sql: Arc<str>,
    params: Arc<[Value]>,
    timeout: Duration,
) -> Result<Option<Rows>, DbError> {
    let cancel = CancelOnDrop::new(lease.conn());
    let read_only = lease.role() == Role::Read;
    let collected =
        blocking(move || lease.run(timeout, |c| query_blocking(c, &sql, &params, read_only))).await;
    cancel.disarm();
    Ok(collected??.map(|(names, rows)| Rows {
        columns: names.into(),
        rows,
    }))
}

pub(crate) async fn execute(
    mut lease: Lease,
    sql: Arc<str>,
    params: Arc<[Value]>,
    timeout: Duration,
) -> Result<Executed, DbError> {
    let cancel = CancelOnDrop::new(lease.conn());
    let done = blocking(move || lease.run(timeout, |c| execute_blocking(c, &sql, &params))).await;
    cancel.disarm();
    done?
}

pub(crate) async fn execute_batch(
    mut lease: Lease,
    sql: String,
    timeout: Duration,
) -> Result<(), DbError> {
    let cancel = CancelOnDrop::new(lease.conn());
    let done =
        blocking(move || lease.run(timeout, |c| c.db.execute_batch(&sql).map_err(classify))).await;
    cancel.disarm();
    done?
}

/// Prepares `sql` through the connection's statement cache and binds `params` (`?N` = N-th).
pub(crate) fn prepare<'c>(
    conn: &'c Conn,
    sql: &str,
    params: &[Value],
) -> Result<CachedStatement<'c>, DbError> {
    let mut stmt = conn.db.prepare_cached(sql).map_err(classify)?;
    let expected = stmt.parameter_count();
    if expected != params.len() {
        return Err(internal(format!(
            "The statement takes {expected} parameters but {} were bound.",
            params.len()
        )));
    }
    for (i, v) in params.iter().enumerate() {
        value::check(i + 1, v)?;
        stmt.raw_bind_parameter(i + 1, Param(v)).map_err(classify)?;
    }
    Ok(stmt)
}

/// Result column names and how to read each, from the declared types.
pub(crate) fn columns(stmt: &Statement<'_>) -> (Vec<String>, Vec<Kind>) {
    stmt.columns()
        .iter()
        .map(|c| (c.name().to_owned(), Kind::of(c.decl_type())))
        .unzip()
}

pub(crate) fn read_row(row: &rusqlite::Row<'_>, kinds: &[Kind]) -> Result<Row, DbError> {
    kinds
        .iter()
        .enumerate()
        .map(|(i, &kind)| {
            row.get_ref(i)
                .map(|v| value::read(v, kind))
                .map_err(classify)
        })
        .collect()
}

pub(crate) fn query_blocking(
    conn: &Conn,
    sql: &str,
    params: &[Value],
    read_only: bool,
) -> Result<Option<Collected>, DbError> {
    let mut stmt = prepare(conn, sql, params)?;
    if read_only && !stmt.readonly() {
        return Ok(None);
    }
    let (names, kinds) = columns(&stmt);
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(classify)? {
        out.push(read_row(row, &kinds)?);
    }
    Ok(Some((names, out)))
}

pub(crate) fn execute_blocking(
    conn: &Conn,
    sql: &str,
    params: &[Value],
) -> Result<Executed, DbError> {
    let rowid_before = conn.db.last_insert_rowid();
    let mut stmt = prepare(conn, sql, params)?;
    let writes = !stmt.readonly();
    // Stepped to the end rather than `execute`d, so `INSERT ... RETURNING` works here too.
    let mut rows = stmt.raw_query();
    while rows.next().map_err(classify)?.is_some() {}
    drop(rows);
    drop(stmt);
    // `changes()` keeps the count of the last DML statement, so it is only read after one.
    let keyword = first_keyword(sql);
    let dml = matches!(
        keyword.as_str(),
        "INSERT" | "REPLACE" | "UPDATE" | "DELETE" | "WITH"
    );
    let affected = if writes && dml { conn.db.changes() } else { 0 };
    let rowid = conn.db.last_insert_rowid();
    // A changed rowid proves an insert. An unchanged one is still this statement's when a plain
    // INSERT re-used the previous key; but an upsert that took its UPDATE path leaves an older
    // statement's rowid behind, which must not be reported.
    let plain_insert = matches!(keyword.as_str(), "INSERT" | "REPLACE")
        && !contains_ignore_case(sql, "ON CONFLICT");
    let inserted = rowid != rowid_before || plain_insert;
    Ok(Executed {
        affected,
        last_insert_id: (affected > 0 && inserted).then_some(rowid),
    })
}

/// The statement's first keyword, upper-cased, past whitespace, comments and parentheses.
fn first_keyword(sql: &str) -> String {
    let mut rest = sql;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, after)| after);
        } else {
            break;
        }
    }
    rest.chars()
        .take_while(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::first_keyword;

    #[test]
    fn finds_the_first_keyword() {
        assert_eq!(first_keyword("  insert into t"), "INSERT");
        assert_eq!(first_keyword("-- note\n/* x */ (SELECT 1)"), "SELECT");
        assert_eq!(first_keyword("/* open"), "");
    }
}
