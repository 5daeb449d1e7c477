//! Server-side role filters checked on writes. The planner ANDs the role's filter onto every
//! WHERE, so updates and deletes only touch rows the role may see; this module makes sure a
//! created or updated row still satisfies the filter once written.
//!
//! The check runs in the database, in the write's own transaction: the row is written, then
//! read back through the filter (`... WHERE key AND (filter)`). That keeps the exact SQL
//! semantics of every operator on every dialect (collations, coercions, NULLs), which an
//! evaluation in Rust could only approximate. A row that fails is undone with its transaction
//! and reported as 403, through the same per-record path as any other failure.

use percore_connector::{Session, Value};
use serde_json::Map;

use super::super::error::DbApiError;
use super::super::filter::Expr;
use super::super::params::TableParams;
use super::super::plan::Scope;
use super::batch::{apply, key_of, not_found, visible, Op, WriteCx};

pub(super) fn forbidden() -> DbApiError {
    DbApiError::Forbidden("The record does not satisfy the role's server-side filter.".into())
}

/// Whether writing `op` must be checked. Deletes never are. An update that sets none of the
/// filter's columns is decided without a round trip: its WHERE already required the filter,
/// and the values the filter reads did not change.
pub(super) fn needed(cx: &WriteCx<'_>, op: &Op<'_>) -> bool {
    let Some(filter) = cx.call.role_filter else {
        return false;
    };
    match op {
        Op::Insert { .. } => true,
        Op::UpdateByKey { record } => touches(cx, filter, record),
        Op::DeleteByKey { .. } => false,
    }
}

/// Whether `record` sets a column the filter reads (names compared as the schema spells them).
pub(super) fn touches(
    cx: &WriteCx<'_>,
    filter: &Expr,
    record: &Map<String, serde_json::Value>,
) -> bool {
    let table = cx.planner.table;
    let canonical = |name: &str| {
        table
            .column(name)
            .map_or(name.to_string(), |c| c.name.clone())
    };
    let read: Vec<String> = filter.fields().into_iter().map(canonical).collect();
    record.keys().any(|k| read.contains(&canonical(k)))
}

/// Writes and checks `op`. Inside the caller's transaction (`in_tx`, the `rollback` policy) a
/// failure undoes the whole batch anyway; otherwise the record gets a transaction of its own, so
/// a refused record is undone alone and the batch policy carries on as for any failure.
pub(super) async fn guarded<S: Session>(
    s: &mut S,
    cx: &WriteCx<'_>,
    op: &Op<'_>,
    in_tx: bool,
) -> Result<serde_json::Value, DbApiError> {
    if in_tx {
        return apply_checked(s, cx, op).await;
    }
    s.begin().await?;
    let result = apply_checked(s, cx, op).await;
    super::batch::settle(s, result).await
}

async fn apply_checked<S: Session>(
    s: &mut S,
    cx: &WriteCx<'_>,
    op: &Op<'_>,
) -> Result<serde_json::Value, DbApiError> {
    match op {
        Op::Insert { record, upsert } => {
            if *upsert {
                refuse_hidden_row(s, cx, record).await?;
            }
            let upsert_keys = upsert.then_some(&cx.key_cols[..]);
            // Only the key comes back here: the check reads the result columns anyway.
            let stmt = cx.planner.insert(record, &cx.key_cols, upsert_keys)?;
            let key = if stmt.columns.is_empty() {
                let done = s.execute(&stmt.sql, &stmt.values).await?;
                match (key_of(cx, record), done.last_insert_id) {
                    (Ok(key), _) => key,
                    (Err(_), Some(id)) if cx.key_cols.len() == 1 => vec![Value::Int(id)],
                    (Err(e), _) => return Err(e),
                }
            } else {
                let rows = s.query(&stmt.sql, &stmt.values).await?;
                match rows.rows.into_iter().next() {
                    Some(row) => row,
                    // An upsert that changed nothing returns no row.
                    None => key_of(cx, record)?,
                }
            };
            visible(s, cx, key).await?.ok_or_else(forbidden)
        }
        Op::UpdateByKey { record } => {
            let key = key_of(cx, record)?;
            let keys = vec![key.clone()];
            let scope = Scope {
                params: &TableParams::default(),
                keys: Some((&cx.key_cols, &keys)),
                role_filter: cx.call.role_filter,
                lookups: cx.call.lookups,
            };
            let stmt = cx.planner.update(record, &cx.key_cols, &scope, &[])?;
            let done = s.execute(&stmt.sql, &stmt.values).await?;
            match visible(s, cx, key.clone()).await? {
                Some(v) => Ok(v),
                // MySQL counts changed rows, the others matched rows; either way a count means
                // the row was in scope and written, so it has now left the scope. No count and
                // no row: it was never in scope (or does not exist), as without a role filter.
                None if done.affected > 0 => Err(forbidden()),
                None => Err(not_found(&key)),
            }
        }
        Op::DeleteByKey { .. } => apply(s, cx, op).await,
    }
}

/// An upsert may land on an existing row, and a role may only update rows its filter shows:
/// an existing row outside the filter refuses the write before it happens.
async fn refuse_hidden_row<S: Session>(
    s: &mut S,
    cx: &WriteCx<'_>,
    record: &Map<String, serde_json::Value>,
) -> Result<(), DbApiError> {
    // Without a key the upsert is a plain insert.
    let Ok(key) = key_of(cx, record) else {
        return Ok(());
    };
    let keys = vec![key];
    let existing = count(s, cx, &keys, None).await?;
    if existing > 0 && count(s, cx, &keys, cx.call.role_filter).await? < existing {
        return Err(forbidden());
    }
    Ok(())
}

/// How many of `keys` exist, seen through `role_filter` when given.
pub(super) async fn count<S: Session>(
    s: &mut S,
    cx: &WriteCx<'_>,
    keys: &[Vec<Value>],
    role_filter: Option<&Expr>,
) -> Result<usize, DbApiError> {
    let scope = Scope {
        params: &TableParams::default(),
        keys: Some((&cx.key_cols, keys)),
        role_filter,
        lookups: cx.call.lookups,
    };
    let stmt = cx.planner.count(&scope)?;
    let rows = s.query(&stmt.sql, &stmt.values).await?;
    Ok(match rows.rows.first().and_then(|r| r.first()) {
        Some(Value::Int(n)) => usize::try_from(*n).unwrap_or(0),
        Some(Value::Text(t)) => t.parse().unwrap_or(0),
        _ => 0,
    })
}

#[cfg(test)]
mod tests;
