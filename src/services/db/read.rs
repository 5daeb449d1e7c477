//! GET on `_table/{t}` and `_table/{t}/{id}`: filtered, ordered, limited, streamed.
//! A COUNT runs only when `include_count` or `count_only` asks for it (DreamFactory runs one
//! implicitly, which is a known performance trap on large tables).

use std::borrow::Cow;

use percore_connector::{Database, RowStream, Value};

use super::encode::{resource_response, RowEncoder};
use super::error::DbApiError;
use super::params::TableParams;
use super::plan::{Planner, Scope};
use super::service::DbService;
use super::DbCall;
use crate::http::Response;

pub async fn records<D: Database>(
    svc: &DbService<D>,
    call: &DbCall<'_>,
    table: &str,
    params: &TableParams,
) -> Result<Response, DbApiError> {
    let schema = svc.table(table).await?;
    let (relations, params) = with_relations(svc, &schema, params).await?;
    let params = params.as_ref();
    let planner = Planner::new(svc.db.dialect(), &schema);
    let key_cols;
    let key_rows;
    let keys = match &params.ids {
        Some(ids) => {
            key_cols = planner.key_columns(params.id_field.as_deref())?;
            key_rows = ids_to_rows(&planner, &key_cols, ids)?;
            Some((&key_cols[..], &key_rows[..]))
        }
        None => None,
    };
    let scope = Scope {
        params,
        keys,
        role_filter: call.role_filter,
        lookups: call.lookups,
    };

    let count = if params.include_count || params.count_only {
        let stmt = planner.count(&scope)?;
        let rows = svc.db.query(&stmt.sql, &stmt.values).await?;
        Some(match rows.rows.first().and_then(|r| r.first()) {
            Some(Value::Int(n)) => *n,
            Some(Value::Text(s)) => s.parse().unwrap_or(0),
            Some(Value::Float(f)) => *f as i64,
            _ => 0,
        })
    } else {
        None
    };
    if params.count_only {
        return Ok(Response::json(200, count.unwrap_or(0).to_string()));
    }

    let limit = params
        .limit
        .filter(|&l| l > 0)
        .map_or(svc.max_records, |l| l.min(svc.max_records));
    let stmt = planner.select(&scope, Some(limit))?;
    let mut tail = Vec::new();
    if count.is_some() || params.include_schema {
        let mut meta = serde_json::Map::new();
        if let Some(n) = count {
            meta.insert("count".into(), n.into());
        }
        if params.include_schema {
            meta.insert("schema".into(), super::schema::describe_json(&schema));
        }
        tail.extend_from_slice(b",\"meta\":");
        tail.extend_from_slice(serde_json::Value::Object(meta).to_string().as_bytes());
    }
    if !relations.is_empty() {
        // Related records need the whole page at hand for their batched queries.
        let rows = svc.db.query(&stmt.sql, &stmt.values).await?;
        let records = super::related::records_with(svc, call.query, &rows, &relations).await?;
        let mut out =
            serde_json::to_vec(&serde_json::json!({ "resource": records })).unwrap_or_default();
        out.pop();
        out.extend_from_slice(&tail);
        out.push(b'}');
        return Ok(Response::json(200, out));
    }
    // Up to a page of COLLECT_UP_TO rows is read in one go: that path shares pipelined
    // connections (PostgreSQL) and holds at most one page. Larger reads stream on a connection
    // of their own, in bounded memory however many rows there are.
    let rows = if limit <= COLLECT_UP_TO {
        let rows = svc.db.query(&stmt.sql, &stmt.values).await?;
        RowStream {
            columns: rows.columns,
            rows: Box::pin(futures_util::stream::iter(rows.rows.into_iter().map(Ok))),
        }
    } else {
        svc.db.query_stream(stmt.sql, stmt.values).await?
    };
    Ok(resource_response(rows, tail).await?)
}

/// Reads of at most this many rows are collected rather than streamed.
const COLLECT_UP_TO: u64 = 1000;

/// One record by its key from the path; no wrapper, 404 when absent.
pub async fn record<D: Database>(
    svc: &DbService<D>,
    call: &DbCall<'_>,
    table: &str,
    id: &str,
    params: &TableParams,
) -> Result<Response, DbApiError> {
    let schema = svc.table(table).await?;
    let (relations, params) = with_relations(svc, &schema, params).await?;
    let params = params.as_ref();
    let planner = Planner::new(svc.db.dialect(), &schema);
    let key_cols = planner.key_columns(params.id_field.as_deref())?;
    let key_rows = ids_to_rows(&planner, &key_cols, &[id.to_string()])?;
    let scope = Scope {
        params,
        keys: Some((&key_cols, &key_rows)),
        role_filter: call.role_filter,
        lookups: call.lookups,
    };
    let stmt = planner.select(&scope, Some(1))?;
    let not_found = || {
        DbApiError::NotFound(format!(
            "Record with identifier '{}' not found.",
            super::params::truncate(id)
        ))
    };
    if !relations.is_empty() {
        let rows = svc.db.query(&stmt.sql, &stmt.values).await?;
        let record = super::related::records_with(svc, call.query, &rows, &relations)
            .await?
            .into_iter()
            .next()
            .ok_or_else(not_found)?;
        return Ok(Response::json_value(200, &record));
    }
    let rows = svc.db.query(&stmt.sql, &stmt.values).await?;
    let encoder = RowEncoder::new(&rows.columns);
    match rows.rows.first() {
        Some(row) => {
            let mut out = Vec::with_capacity(256);
            encoder.write(&mut out, row);
            Ok(Response::json(200, out))
        }
        None => Err(DbApiError::NotFound(format!(
            "Record with identifier '{}' not found.",
            super::params::truncate(id)
        ))),
    }
}

/// The relations the request names, and its parameters with their key fields added.
async fn with_relations<'p, D: Database>(
    svc: &DbService<D>,
    schema: &percore_connector::TableSchema,
    params: &'p TableParams,
) -> Result<(Vec<super::related::Relation>, Cow<'p, TableParams>), DbApiError> {
    let relations = super::related::relations_for(svc, schema, &params.related).await?;
    let params = if relations.is_empty() {
        Cow::Borrowed(params)
    } else {
        Cow::Owned(super::related::with_key_fields(params, &relations))
    };
    Ok((relations, params))
}

/// `ids` entries to key rows. A composite key's id joins its parts with `|` in key order.
pub fn ids_to_rows(
    planner: &Planner<'_>,
    key_cols: &[String],
    ids: &[String],
) -> Result<Vec<Vec<Value>>, DbApiError> {
    ids.iter()
        .map(|id| {
            let parts: Vec<&str> = if key_cols.len() == 1 {
                vec![id.as_str()]
            } else {
                id.split('|').collect()
            };
            if parts.len() != key_cols.len() {
                return Err(DbApiError::BadRequest(format!(
                    "Invalid id '{}': expected {} key parts separated by '|'.",
                    super::params::truncate(id),
                    key_cols.len()
                )));
            }
            key_cols
                .iter()
                .zip(parts)
                .map(|(c, p)| planner.key_value(c, p))
                .collect()
        })
        .collect()
}
