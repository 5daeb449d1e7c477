//! Database services: DreamFactory's `_table` and `_schema` API over the connectors.
//!
//! The pipeline for one call: [`route`] splits the resource path, [`params`] parses and
//! validates the parameters, [`plan`] writes parameterised SQL through the connector's dialect
//! (with [`filter`] for the filter grammar), then [`read`] / [`write`] / [`schema`] execute it and
//! [`encode`] streams the JSON. Handlers are generic over the connector, so each service type
//! gets statically dispatched code.

pub mod encode;
pub mod error;
pub mod filter;
pub mod params;
pub mod plan;
pub mod read;
pub mod related;
pub mod routine;
pub mod schema;
pub mod service;
pub mod write;

use percore_connector::{Database, Value};
use serde_json::json;

use self::error::DbApiError;
use self::filter::Expr;
use self::params::TableParams;
use self::service::DbService;
use crate::api::Query;
use crate::http::{Method, Response};

/// One call on a database service, as the API pipeline hands it over.
pub struct DbCall<'a> {
    pub method: Method,
    /// The decoded path after the service name, without leading or trailing `/`.
    pub resource: &'a str,
    pub query: &'a Query<'a>,
    pub body: &'a [u8],
    /// `{user.id}`-style lookups for the caller.
    pub lookups: &'a dyn Fn(&str) -> Option<Value>,
    /// Server-side filters from the caller's role, ANDed onto every query.
    pub role_filter: Option<&'a Expr>,
}

pub async fn handle<D: Database>(svc: &DbService<D>, call: &DbCall<'_>) -> Response {
    match route(svc, call).await {
        Ok(r) => r,
        Err(e) => Response::error(&e.to_api()),
    }
}

async fn route<D: Database>(svc: &DbService<D>, call: &DbCall<'_>) -> Result<Response, DbApiError> {
    let parts: Vec<&str> = call.resource.split('/').filter(|p| !p.is_empty()).collect();
    let m = call.method;
    let not_allowed =
        || DbApiError::BadRequest(format!("{m} is not supported on '{}'.", call.resource));
    match parts.as_slice() {
        [] if m == Method::Get || m == Method::Head => Ok(Response::json_value(
            200,
            &json!({ "resource": [{ "name": "_schema" }, { "name": "_table" }, { "name": "_proc" }, { "name": "_func" }] }),
        )),
        ["_table"] | ["_schema"] if m == Method::Get || m == Method::Head => {
            let flag = |name| {
                call.query
                    .get(name)
                    .is_some_and(|v| v == "true" || v == "1")
            };
            schema::list(svc, flag("refresh"), flag("as_list")).await
        }
        ["_table", table] | ["_table", table, _] => {
            let id = parts.get(2).copied();
            let records = match m {
                Method::Get | Method::Head => write::Records {
                    items: Vec::new(),
                    top: None,
                },
                _ => write::parse_records(call.body)?,
            };
            let params = TableParams::parse(call.query, records.top.as_ref())?;
            if params.refresh {
                svc.schema_changed();
            }
            match (m, id) {
                (Method::Get | Method::Head, None) => {
                    read::records(svc, call, table, &params).await
                }
                (Method::Get | Method::Head, Some(id)) => {
                    read::record(svc, call, table, id, &params).await
                }
                (Method::Post, None) => write::create(svc, call, table, &params, &records).await,
                (Method::Post, Some(_)) => Err(DbApiError::BadRequest(
                    "POST with an identifier in the path is not allowed; use PUT or PATCH.".into(),
                )),
                (Method::Put, id) => {
                    write::update(svc, call, table, id, &params, &records, true).await
                }
                (Method::Patch, id) => {
                    write::update(svc, call, table, id, &params, &records, false).await
                }
                (Method::Delete, id) => {
                    write::delete(svc, call, table, id, &params, &records).await
                }
                _ => Err(not_allowed()),
            }
        }
        ["_schema"] if m == Method::Post => {
            let records = write::parse_records(call.body)?;
            schema::create(svc, &records.items).await
        }
        ["_schema", table] => match m {
            Method::Get | Method::Head => schema::describe(svc, table, None).await,
            Method::Put | Method::Patch => {
                let records = write::parse_records(call.body)?;
                let def = records
                    .items
                    .first()
                    .ok_or_else(|| DbApiError::BadRequest("Give the table definition.".into()))?;
                schema::alter(svc, table, def).await
            }
            Method::Delete => schema::drop_table(svc, table).await,
            _ => Err(not_allowed()),
        },
        ["_schema", table, "_field", field] => match m {
            Method::Get | Method::Head => schema::describe(svc, table, Some(field)).await,
            Method::Delete => schema::drop_field(svc, table, field).await,
            _ => Err(not_allowed()),
        },
        ["_proc", name] => {
            routine::call(svc, call, percore_connector::Routine::Procedure, name).await
        }
        ["_func", name] => {
            routine::call(svc, call, percore_connector::Routine::Function, name).await
        }
        _ => Err(DbApiError::NotFound(format!(
            "Resource '{}' not found for service '{}'.",
            params::truncate(call.resource),
            svc.name
        ))),
    }
}
