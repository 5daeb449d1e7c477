//! Request bodies for writes: `{"resource":[...]}`, a bare array, or one record, parsed with
//! simd-json.

use serde_json::Map;

use super::super::error::DbApiError;

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
