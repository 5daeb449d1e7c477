//! The `/api/v2/{service}` namespace. Services are published to every core in the config
//! snapshot; until a service of that name exists the answer is DreamFactory's 404.

use serde_json::json;

use crate::envelope::ApiError;
use crate::http::Response;
use crate::runtime::Worker;

/// `GET /api/v2`: DreamFactory's `{"services":[...]}` listing.
pub fn list(_worker: &Worker) -> Response {
    Response::json_value(200, &json!({ "services": [] }))
}

pub async fn call(_worker: &Worker, service: &str, _resource: &str) -> Response {
    let name = percent_decode(service);
    Response::error(&ApiError::not_found(format!("Service '{name}' not found.")))
}

fn percent_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
