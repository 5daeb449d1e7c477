//! POST, PUT, PATCH and DELETE on `_table/{t}[/{id}]`, with DreamFactory's batch policies:
//! stop at the first failure (earlier records stay written), `continue` (all attempted, then a
//! batch error), or `rollback` (one transaction). Failures in a batch answer with code 1000 and
//! per-record results; a single record's failure answers with its own error.

mod batch;
mod body;
mod check;

use percore_connector::{Database, Session, Value};
use serde_json::Map;

use self::batch::{
    apply, returning_fields, rows_json, run_batch, select_keys, write_cx, Op, WriteCx,
};
pub use self::body::{parse_records, Records};
use super::error::DbApiError;
use super::params::TableParams;
use super::plan::{Planner, Scope};
use super::read::ids_to_rows;
use super::service::DbService;
use super::DbCall;
use crate::http::Response;

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
    // Rows that may leave the role's filter are written, counted back through it, and undone
    // all together if any did: the update is one unit, like the rest of this path.
    let check = cx
        .call
        .role_filter
        .is_some_and(|f| check::touches(cx, f, record));
    if cx.planner.dialect.supports_returning() && !check {
        let stmt = cx.planner.update(record, &[], &scope, &cx.returning)?;
        let rows = s.query(&stmt.sql, &stmt.values).await?;
        return Ok(rows_json(&stmt, &rows));
    }
    s.begin().await?;
    let result = async {
        let matched = if cx.planner.dialect.supports_returning() {
            // One atomic UPDATE; RETURNING gives the keys as written, for the check.
            let stmt = cx.planner.update(record, &[], &scope, &cx.key_cols)?;
            s.query(&stmt.sql, &stmt.values).await?.rows
        } else {
            let matched = matching_keys(s, cx, &scope).await?;
            let keys = matched.clone();
            // The role filter again: a row changed by someone else since it was matched must
            // not be written unless the role still sees it.
            let by_key = Scope {
                params: &TableParams::default(),
                keys: Some((&cx.key_cols, &keys)),
                role_filter: cx.call.role_filter,
                lookups: cx.call.lookups,
            };
            let stmt = cx.planner.update(record, &[], &by_key, &[])?;
            s.execute(&stmt.sql, &stmt.values).await?;
            matched
        };
        if check && check::count(s, cx, &matched, cx.call.role_filter).await? < matched.len() {
            return Err(check::forbidden());
        }
        select_keys(s, cx, matched).await
    }
    .await;
    batch::settle(s, result).await
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
        let v = batch::settle(&mut session, result).await?;
        return Ok(respond(v, false, 200));
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
