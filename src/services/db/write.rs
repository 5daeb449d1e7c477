//! POST, PUT, PATCH and DELETE on `_table/{t}[/{id}]`, with DreamFactory's batch policies:
//! stop at the first failure (earlier records stay written), `continue` (all attempted, then a
//! batch error), or `rollback` (one transaction). Failures in a batch answer with code 1000 and
//! per-record results; a single record's failure answers with its own error.

use percore_connector::{Database, Rows, Session, Value};
use serde_json::Map;

use super::error::DbApiError;
use super::params::TableParams;
use super::plan::{Planner, Scope, Statement};
use super::read::ids_to_rows;
use super::service::DbService;
use super::DbCall;
use crate::http::Response;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    Stop,
    Continue,
    Rollback,
}

/// A request body: `{"resource":[...]}`, a bare array, or one record.
pub struct Records {
    pub items: Vec<Map<String, serde_json::Value>>,
    /// The top-level object, which may also carry `ids`, `filter` and `params`.
    pub top: Option<Map<String, serde_json::Value>>,
}

/// Parses a JSON body with simd-json.
pub fn parse_records(raw: &[u8]) -> Result<Records, DbApiError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(Records {
            items: Vec::new(),
            top: None,
        });
    }
    let mut buf = raw.to_vec();
    let value: serde_json::Value = simd_json::serde::from_slice(&mut buf)
        .map_err(|_| DbApiError::BadRequest("Invalid JSON in the request body.".into()))?;
    let not_record = || DbApiError::BadRequest("Each record must be a JSON object.".into());
    let objects = |list: Vec<serde_json::Value>| -> Result<Vec<_>, DbApiError> {
        list.into_iter()
            .map(|v| match v {
                serde_json::Value::Object(m) => Ok(m),
                _ => Err(not_record()),
            })
            .collect()
    };
    match value {
        serde_json::Value::Object(mut m) => match m.remove("resource") {
            Some(serde_json::Value::Array(list)) => Ok(Records {
                items: objects(list)?,
                top: Some(m),
            }),
            Some(_) => Err(DbApiError::BadRequest(
                "'resource' must be an array of records.".into(),
            )),
            None => Ok(Records {
                items: vec![m.clone()],
                top: Some(m),
            }),
        },
        serde_json::Value::Array(list) => Ok(Records {
            items: objects(list)?,
            top: None,
        }),
        _ => Err(not_record()),
    }
}

fn policy(params: &TableParams) -> Policy {
    if params.rollback {
        Policy::Rollback
    } else if params.continue_on_error {
        Policy::Continue
    } else {
        Policy::Stop
    }
}

/// What one record of a batch asks for.
enum Op<'r> {
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

struct WriteCx<'p> {
    planner: Planner<'p>,
    key_cols: Vec<String>,
    /// What each record's result shows: the key, or the requested `fields`.
    returning: Vec<String>,
    params: &'p TableParams,
    call: &'p DbCall<'p>,
}

fn row_json(columns: &[String], row: &[Value]) -> serde_json::Value {
    columns
        .iter()
        .zip(row)
        .map(|(c, v)| (c.clone(), v.to_json()))
        .collect::<Map<_, _>>()
        .into()
}

fn key_of(
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
async fn select_keys<S: Session>(
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

fn rows_json(stmt: &Statement, rows: &Rows) -> Vec<serde_json::Value> {
    rows.rows
        .iter()
        .map(|r| row_json(&stmt.columns, r))
        .collect()
}

async fn apply<S: Session>(
    s: &mut S,
    cx: &WriteCx<'_>,
    op: &Op<'_>,
) -> Result<serde_json::Value, DbApiError> {
    let not_found = |key: &[Value]| {
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
    };
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
            select_keys_checked(s, cx, key, not_found).await
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
            let before = select_keys_checked(s, cx, key.clone(), not_found).await?;
            let stmt = cx.planner.delete(&scope, &[])?;
            s.execute(&stmt.sql, &stmt.values).await?;
            Ok(before)
        }
    }
}

async fn select_keys_checked<S: Session>(
    s: &mut S,
    cx: &WriteCx<'_>,
    key: Vec<Value>,
    not_found: impl Fn(&[Value]) -> DbApiError,
) -> Result<serde_json::Value, DbApiError> {
    let params = TableParams {
        fields: returning_fields(&cx.returning),
        ..TableParams::default()
    };
    let keys = vec![key.clone()];
    let scope = Scope {
        params: &params,
        keys: Some((&cx.key_cols, &keys)),
        role_filter: cx.call.role_filter,
        lookups: cx.call.lookups,
    };
    let stmt = cx.planner.select(&scope, Some(1))?;
    let rows = s.query(&stmt.sql, &stmt.values).await?;
    rows_json(&stmt, &rows)
        .into_iter()
        .next()
        .ok_or_else(|| not_found(&key))
}

fn returning_fields(cols: &[String]) -> Vec<super::params::Field> {
    cols.iter()
        .map(|c| super::params::Field::Column(c.clone()))
        .collect()
}

fn error_json(e: &DbApiError) -> serde_json::Value {
    let api = e.to_api();
    serde_json::json!({ "error": { "code": api.code, "message": api.message, "status_code": api.status } })
}

async fn run_batch<S: Session>(
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
        match apply(s, cx, op).await {
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

fn write_cx<'p>(
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

fn respond(results: Vec<serde_json::Value>, single: bool, status: u16) -> Response {
    if single {
        Response::json_value(status, &results.into_iter().next().unwrap_or_default())
    } else {
        Response::json_value(status, &serde_json::json!({ "resource": results }))
    }
}

pub async fn create<D: Database>(
    svc: &DbService<D>,
    call: &DbCall<'_>,
    table: &str,
    params: &TableParams,
    records: &Records,
) -> Result<Response, DbApiError> {
    let schema = svc.table(table).await?;
    let cx = write_cx(Planner::new(svc.db.dialect(), &schema), params, call)?;
    if records.items.is_empty() {
        return Err(DbApiError::BadRequest(
            "No record(s) detected in request.".into(),
        ));
    }
    let ops: Vec<Op<'_>> = records
        .items
        .iter()
        .map(|record| Op::Insert {
            record,
            upsert: false,
        })
        .collect();
    let mut session = svc.db.session().await?;
    let results = run_batch(&mut session, &cx, &ops, "created").await?;
    Ok(respond(results, false, 201))
}

/// PUT and PATCH. With a path id, ids or a filter, the body is one record applied to every
/// matching row; otherwise each record carries its key.
pub async fn update<D: Database>(
    svc: &DbService<D>,
    call: &DbCall<'_>,
    table: &str,
    id: Option<&str>,
    params: &TableParams,
    records: &Records,
    replace: bool,
) -> Result<Response, DbApiError> {
    let schema = svc.table(table).await?;
    let cx = write_cx(Planner::new(svc.db.dialect(), &schema), params, call)?;
    let mut session = svc.db.session().await?;
    if id.is_some() || params.ids.is_some() || params.filter.is_some() {
        let Some(record) = records.items.first().filter(|_| records.items.len() == 1) else {
            return Err(DbApiError::BadRequest(
                "Give one record to apply to the matching rows.".into(),
            ));
        };
        let ids: Vec<String> = match (id, &params.ids) {
            (Some(id), _) => vec![id.to_string()],
            (None, Some(ids)) => ids.clone(),
            (None, None) => Vec::new(),
        };
        let results = update_scope(&mut session, &cx, record, &ids).await?;
        if id.is_some() {
            return match results.into_iter().next() {
                Some(r) => Ok(Response::json_value(200, &r)),
                None => Err(DbApiError::NotFound(format!(
                    "Record with identifier '{}' not found.",
                    id.unwrap_or_default()
                ))),
            };
        }
        return Ok(respond(results, false, 200));
    }
    if records.items.is_empty() {
        return Err(DbApiError::BadRequest(
            "No record(s) detected in request.".into(),
        ));
    }
    let upsert = replace && svc.allow_upsert;
    let ops: Vec<Op<'_>> = records
        .items
        .iter()
        .map(|record| {
            if upsert {
                Op::Insert {
                    record,
                    upsert: true,
                }
            } else {
                Op::UpdateByKey { record }
            }
        })
        .collect();
    let results = run_batch(&mut session, &cx, &ops, "updated").await?;
    Ok(respond(results, false, 200))
}

/// One record applied to every row in scope (ids or filter), in one transaction.
async fn update_scope<S: Session>(
    s: &mut S,
    cx: &WriteCx<'_>,
    record: &Map<String, serde_json::Value>,
    ids: &[String],
) -> Result<Vec<serde_json::Value>, DbApiError> {
    let key_rows = ids_to_rows(&cx.planner, &cx.key_cols, ids)?;
    let filter_params = TableParams {
        filter: cx.params.filter.clone(),
        params: cx.params.params.clone(),
        ..TableParams::default()
    };
    let keys = (!ids.is_empty()).then_some((&cx.key_cols[..], &key_rows[..]));
    let scope = Scope {
        params: &filter_params,
        keys,
        role_filter: cx.call.role_filter,
        lookups: cx.call.lookups,
    };
    if cx.planner.dialect.supports_returning() {
        let stmt = cx.planner.update(record, &[], &scope, &cx.returning)?;
        let rows = s.query(&stmt.sql, &stmt.values).await?;
        return Ok(rows_json(&stmt, &rows));
    }
    s.begin().await?;
    let result = async {
        let matched = matching_keys(s, cx, &scope).await?;
        let keys = matched.clone();
        let by_key = Scope {
            params: &TableParams::default(),
            keys: Some((&cx.key_cols, &keys)),
            role_filter: None,
            lookups: cx.call.lookups,
        };
        let stmt = cx.planner.update(record, &[], &by_key, &[])?;
        s.execute(&stmt.sql, &stmt.values).await?;
        select_keys(s, cx, matched).await
    }
    .await;
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

async fn matching_keys<S: Session>(
    s: &mut S,
    cx: &WriteCx<'_>,
    scope: &Scope<'_>,
) -> Result<Vec<Vec<Value>>, DbApiError> {
    let params = TableParams {
        fields: returning_fields(&cx.key_cols),
        filter: scope.params.filter.clone(),
        params: scope.params.params.clone(),
        ..TableParams::default()
    };
    let keyed = Scope {
        params: &params,
        ..*scope
    };
    let stmt = cx.planner.select(&keyed, None)?;
    Ok(s.query(&stmt.sql, &stmt.values).await?.rows)
}

pub async fn delete<D: Database>(
    svc: &DbService<D>,
    call: &DbCall<'_>,
    table: &str,
    id: Option<&str>,
    params: &TableParams,
    records: &Records,
) -> Result<Response, DbApiError> {
    let schema = svc.table(table).await?;
    let cx = write_cx(Planner::new(svc.db.dialect(), &schema), params, call)?;
    let mut session = svc.db.session().await?;
    if let Some(id) = id {
        let key = ids_to_rows(&cx.planner, &cx.key_cols, &[id.to_string()])?.remove(0);
        let record: Map<String, serde_json::Value> = cx
            .key_cols
            .iter()
            .cloned()
            .zip(key.iter().map(Value::to_json))
            .collect();
        let result = apply(&mut session, &cx, &Op::DeleteByKey { record: &record }).await?;
        return Ok(Response::json_value(200, &result));
    }
    if params.ids.is_some() || params.filter.is_some() || (records.items.is_empty() && params.force)
    {
        let ids = params.ids.clone().unwrap_or_default();
        let key_rows = ids_to_rows(&cx.planner, &cx.key_cols, &ids)?;
        let filter_params = TableParams {
            filter: params.filter.clone(),
            params: params.params.clone(),
            ..TableParams::default()
        };
        let keys = params
            .ids
            .is_some()
            .then_some((&cx.key_cols[..], &key_rows[..]));
        let scope = Scope {
            params: &filter_params,
            keys,
            role_filter: call.role_filter,
            lookups: call.lookups,
        };
        if cx.planner.dialect.supports_returning() {
            let stmt = cx.planner.delete(&scope, &cx.returning)?;
            let rows = session.query(&stmt.sql, &stmt.values).await?;
            return Ok(respond(rows_json(&stmt, &rows), false, 200));
        }
        session.begin().await?;
        let matched = matching_keys(&mut session, &cx, &scope).await;
        let result = match matched {
            Ok(keys) => {
                let before = select_keys(&mut session, &cx, keys.clone()).await;
                let by_key = Scope {
                    params: &TableParams::default(),
                    keys: Some((&cx.key_cols, &keys)),
                    role_filter: None,
                    lookups: call.lookups,
                };
                match (before, cx.planner.delete(&by_key, &[])) {
                    (Ok(before), Ok(stmt)) => session
                        .execute(&stmt.sql, &stmt.values)
                        .await
                        .map(|_| before)
                        .map_err(DbApiError::from),
                    (Err(e), _) | (_, Err(e)) => Err(e),
                }
            }
            Err(e) => Err(e),
        };
        return match result {
            Ok(v) => {
                session.commit().await?;
                Ok(respond(v, false, 200))
            }
            Err(e) => {
                let _ = session.rollback().await;
                Err(e)
            }
        };
    }
    if records.items.is_empty() {
        return Err(DbApiError::BadRequest(
            "No records given: pass ids, a filter or records, or 'force=true' to delete every record.".into(),
        ));
    }
    let ops: Vec<Op<'_>> = records
        .items
        .iter()
        .map(|record| Op::DeleteByKey { record })
        .collect();
    let results = run_batch(&mut session, &cx, &ops, "deleted").await?;
    Ok(respond(results, false, 200))
}
