//! The per-record machinery of writes: what one record asks for ([`Op`]), applying it on a
//! session, and running a batch under DreamFactory's policies.

use percore_connector::{Rows, Session, Value};
use serde_json::Map;

use super::super::error::DbApiError;
use super::super::params::TableParams;
use super::super::plan::{Planner, Scope, Statement};
use super::super::DbCall;
use super::check;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Policy {
    Stop,
    Continue,
    Rollback,
}

/// Ends a transaction by its outcome: commit after success, roll back after a failure (whose
/// error is the one to report, not the rollback's).
pub(super) async fn settle<S: Session, T>(
    s: &mut S,
    result: Result<T, DbApiError>,
) -> Result<T, DbApiError> {
    match result {
        Ok(v) => {
            s.commit().await?;
            Ok(v)
        }
        Err(e) => {
            let _ = s.rollback().await;
            Err(e)
        }
    }
}

/// A request body: `{"resource":[...]}`, a bare array, or one record.
pub(super) fn policy(params: &TableParams) -> Policy {
    if params.rollback {
        Policy::Rollback
    } else if params.continue_on_error {
        Policy::Continue
    } else {
        Policy::Stop
    }
}

/// What one record of a batch asks for.
pub(super) enum Op<'r> {
    Insert {
        record: &'r Map<String, serde_json::Value>,
        upsert: bool,
    },
    UpdateByKey {
        record: &'r Map<String, serde_json::Value>,
    },
    DeleteByKey {
        record: &'r Map<String, serde_json::Value>,
    },
}

pub(super) struct WriteCx<'p> {
    pub(super) planner: Planner<'p>,
    pub(super) key_cols: Vec<String>,
    /// What each record's result shows: the key, or the requested `fields`.
    pub(super) returning: Vec<String>,
    pub(super) params: &'p TableParams,
    pub(super) call: &'p DbCall<'p>,
}

pub(super) fn row_json(columns: &[String], row: &[Value]) -> serde_json::Value {
    columns
        .iter()
        .zip(row)
        .map(|(c, v)| (c.clone(), v.to_json()))
        .collect::<Map<_, _>>()
        .into()
}

pub(super) fn key_of(
    cx: &WriteCx<'_>,
    record: &Map<String, serde_json::Value>,
) -> Result<Vec<Value>, DbApiError> {
    cx.key_cols
        .iter()
        .map(|k| {
            record
                .get(k)
                .filter(|v| !v.is_null())
                .map(Value::from_json)
                .ok_or_else(|| {
                    DbApiError::BadRequest(format!("No value given for identifier field '{k}'."))
                })
        })
        .collect()
}

/// Selects the result columns of the given keys (after a write without RETURNING).
pub(super) async fn select_keys<S: Session>(
    s: &mut S,
    cx: &WriteCx<'_>,
    keys: Vec<Vec<Value>>,
) -> Result<Vec<serde_json::Value>, DbApiError> {
    if cx.returning == cx.key_cols {
        return Ok(keys.iter().map(|k| row_json(&cx.key_cols, k)).collect());
    }
    let params = TableParams {
        fields: returning_fields(&cx.returning),
        ..TableParams::default()
    };
    let scope = Scope {
        params: &params,
        keys: Some((&cx.key_cols, &keys)),
        role_filter: None,
        lookups: cx.call.lookups,
    };
    let stmt = cx.planner.select(&scope, None)?;
    let rows = s.query(&stmt.sql, &stmt.values).await?;
    Ok(rows
        .rows
        .iter()
        .map(|r| row_json(&stmt.columns, r))
        .collect())
}

pub(super) fn rows_json(stmt: &Statement, rows: &Rows) -> Vec<serde_json::Value> {
    rows.rows
        .iter()
        .map(|r| row_json(&stmt.columns, r))
        .collect()
}

pub(super) fn not_found(key: &[Value]) -> DbApiError {
    let id: Vec<String> = key
        .iter()
        .map(|v| match v.to_json() {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        })
        .collect();
    DbApiError::NotFound(format!(
        "Record with identifier '{}' not found.",
        id.join("|")
    ))
}

pub(super) async fn apply<S: Session>(
    s: &mut S,
    cx: &WriteCx<'_>,
    op: &Op<'_>,
) -> Result<serde_json::Value, DbApiError> {
    match op {
        Op::Insert { record, upsert } => {
            let upsert_keys = upsert.then_some(&cx.key_cols[..]);
            let stmt = cx.planner.insert(record, &cx.returning, upsert_keys)?;
            if !stmt.columns.is_empty() {
                let rows = s.query(&stmt.sql, &stmt.values).await?;
                if let Some(first) = rows_json(&stmt, &rows).into_iter().next() {
                    return Ok(first);
                }
                // An upsert that changed nothing returns no row; report the record's key.
                let key = key_of(cx, record)?;
                return Ok(select_keys(s, cx, vec![key])
                    .await?
                    .into_iter()
                    .next()
                    .unwrap_or_default());
            }
            let done = s.execute(&stmt.sql, &stmt.values).await?;
            let key = match (key_of(cx, record), done.last_insert_id) {
                (Ok(key), _) => key,
                (Err(_), Some(id)) if cx.key_cols.len() == 1 => vec![Value::Int(id)],
                (Err(e), _) => return Err(e),
            };
            Ok(select_keys(s, cx, vec![key])
                .await?
                .into_iter()
                .next()
                .unwrap_or_default())
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
            let stmt = cx
                .planner
                .update(record, &cx.key_cols, &scope, &cx.returning)?;
            if !stmt.columns.is_empty() {
                let rows = s.query(&stmt.sql, &stmt.values).await?;
                return rows_json(&stmt, &rows)
                    .into_iter()
                    .next()
                    .ok_or_else(|| not_found(&key));
            }
            // MySQL reports rows *changed*, so an update to identical values says 0: check
            // existence instead of trusting the count.
            s.execute(&stmt.sql, &stmt.values).await?;
            visible(s, cx, key.clone())
                .await?
                .ok_or_else(|| not_found(&key))
        }
        Op::DeleteByKey { record } => {
            let key = key_of(cx, record)?;
            let keys = vec![key.clone()];
            let scope = Scope {
                params: &TableParams::default(),
                keys: Some((&cx.key_cols, &keys)),
                role_filter: cx.call.role_filter,
                lookups: cx.call.lookups,
            };
            if cx.planner.dialect.supports_returning() {
                let stmt = cx.planner.delete(&scope, &cx.returning)?;
                let rows = s.query(&stmt.sql, &stmt.values).await?;
                return rows_json(&stmt, &rows)
                    .into_iter()
                    .next()
                    .ok_or_else(|| not_found(&key));
            }
            let before = visible(s, cx, key.clone())
                .await?
                .ok_or_else(|| not_found(&key))?;
            let stmt = cx.planner.delete(&scope, &[])?;
            s.execute(&stmt.sql, &stmt.values).await?;
            Ok(before)
        }
    }
}

/// The result columns of one key's row, if the role may see it (its filter applies).
pub(super) async fn visible<S: Session>(
    s: &mut S,
    cx: &WriteCx<'_>,
    key: Vec<Value>,
) -> Result<Option<serde_json::Value>, DbApiError> {
    let params = TableParams {
        fields: returning_fields(&cx.returning),
        ..TableParams::default()
    };
    let keys = vec![key];
    let scope = Scope {
        params: &params,
        keys: Some((&cx.key_cols, &keys)),
        role_filter: cx.call.role_filter,
        lookups: cx.call.lookups,
    };
    let stmt = cx.planner.select(&scope, Some(1))?;
    let rows = s.query(&stmt.sql, &stmt.values).await?;
    Ok(rows_json(&stmt, &rows).into_iter().next())
}

pub(super) fn returning_fields(cols: &[String]) -> Vec<super::super::params::Field> {
    cols.iter()
        .map(|c| super::super::params::Field::Column(c.clone()))
        .collect()
}

pub(super) fn error_json(e: &DbApiError) -> serde_json::Value {
    let api = e.to_api();
    serde_json::json!({ "error": { "code": api.code, "message": api.message, "status_code": api.status } })
}

pub(super) async fn run_batch<S: Session>(
    s: &mut S,
    cx: &WriteCx<'_>,
    ops: &[Op<'_>],
    verb: &'static str,
) -> Result<Vec<serde_json::Value>, DbApiError> {
    let policy = policy(cx.params);
    if policy == Policy::Rollback {
        s.begin().await?;
    }
    let mut results = Vec::with_capacity(ops.len());
    let mut failed = Vec::new();
    let mut first_error = None;
    for (i, op) in ops.iter().enumerate() {
        let outcome = if check::needed(cx, op) {
            check::guarded(s, cx, op, policy == Policy::Rollback).await
        } else {
            apply(s, cx, op).await
        };
        match outcome {
            Ok(v) => results.push(v),
            Err(e) => {
                failed.push(i);
                results.push(error_json(&e));
                first_error.get_or_insert(e);
                if policy != Policy::Continue {
                    break;
                }
            }
        }
    }
    if policy == Policy::Rollback {
        if failed.is_empty() {
            s.commit().await?;
        } else {
            s.rollback().await?;
        }
    }
    match first_error {
        None => Ok(results),
        Some(e) if ops.len() == 1 => Err(e),
        Some(_) => Err(DbApiError::Batch {
            verb,
            failed,
            results,
        }),
    }
}

pub(super) fn write_cx<'p>(
    planner: Planner<'p>,
    params: &'p TableParams,
    call: &'p DbCall<'p>,
) -> Result<WriteCx<'p>, DbApiError> {
    let key_cols = planner.key_columns(params.id_field.as_deref())?;
    let returning = if params.fields.is_empty() {
        key_cols.clone()
    } else {
        planner.output_columns(&params.fields)?
    };
    Ok(WriteCx {
        planner,
        key_cols,
        returning,
        params,
        call,
    })
}
