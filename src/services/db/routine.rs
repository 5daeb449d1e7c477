//! `_proc/{name}` and `_func/{name}`: stored procedures and functions with bound arguments,
//! given as query parameters (GET) or as `{"params":[{"name":..,"value":..}, ...]}` or a plain
//! array of values (POST), in the routine's parameter order.

use percore_connector::{Database, Routine, Value};
use serde_json::Value as Json;

use super::encode::resource_response;
use super::error::DbApiError;
use super::params::truncate;
use super::service::DbService;
use super::DbCall;
use crate::http::{Method, Response};

/// Query parameters that steer the API rather than feed the routine.
const RESERVED: [&str; 5] = ["api_key", "session_token", "method", "_method", "wrapper"];

pub async fn call<D: Database>(
    svc: &DbService<D>,
    call: &DbCall<'_>,
    kind: Routine,
    name: &str,
) -> Result<Response, DbApiError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !valid {
        return Err(DbApiError::BadRequest(format!(
            "Invalid routine name '{}'.",
            truncate(name)
        )));
    }
    let args = match call.method {
        Method::Get | Method::Head => call
            .query
            .iter()
            .filter(|(k, _)| !RESERVED.contains(k))
            .map(|(_, v)| Value::Text(v.to_string()))
            .collect(),
        Method::Post => body_args(call.body)?,
        m => {
            return Err(DbApiError::BadRequest(format!(
                "{m} is not supported on stored routines."
            )))
        }
    };
    let Some(sql) = svc.db.dialect().routine_call(kind, name, args.len()) else {
        return Err(DbApiError::BadRequest(format!(
            "Stored {} are not supported by service '{}'.",
            if kind == Routine::Procedure {
                "procedures"
            } else {
                "functions"
            },
            svc.name
        )));
    };
    let rows = svc.db.query_stream(sql, args).await?;
    Ok(resource_response(rows, Vec::new()).await?)
}

fn body_args(raw: &[u8]) -> Result<Vec<Value>, DbApiError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let mut buf = raw.to_vec();
    let body: Json = simd_json::serde::from_slice(&mut buf)
        .map_err(|_| DbApiError::BadRequest("Invalid JSON in the request body.".into()))?;
    let list = match body {
        Json::Object(mut m) => match m.remove("params") {
            Some(Json::Array(a)) => a,
            None => Vec::new(),
            Some(_) => return Err(DbApiError::BadRequest("'params' must be an array.".into())),
        },
        Json::Array(a) => a,
        _ => {
            return Err(DbApiError::BadRequest(
                "Give the arguments as {\"params\":[...]}.".into(),
            ))
        }
    };
    Ok(list
        .iter()
        .map(|p| match p {
            Json::Object(o) => Value::from_json(o.get("value").unwrap_or(&Json::Null)),
            v => Value::from_json(v),
        })
        .collect())
}
