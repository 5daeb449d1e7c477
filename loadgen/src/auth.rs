//! DreamFactory authentication: log in once before the run and send the
//! session token with every request.

use crate::blocking;
use crate::error::{Error, Result};
use crate::target::Url;
use std::time::Duration;

/// Logs in as `email:password` and returns the session token.
pub fn login(target: &Url, creds: &str, admin: bool, api_key: Option<&str>) -> Result<String> {
    let (email, password) = creds
        .split_once(':')
        .ok_or_else(|| Error::Arg("login must be EMAIL:PASSWORD".into()))?;
    let path = if admin {
        "/api/v2/system/admin/session"
    } else {
        "/api/v2/user/session"
    };
    let url = Url::parse(&format!("{}{path}", target.base()))?;
    let body = serde_json::json!({ "email": email, "password": password }).to_string();
    let headers: Vec<(String, String)> = api_key
        .map(|k| vec![("X-DreamFactory-API-Key".to_string(), k.to_string())])
        .unwrap_or_default();
    let resp = blocking::request(
        "POST",
        &url,
        &headers,
        Some(body.as_bytes()),
        Duration::from_secs(10),
    )?;
    if resp.status != 200 {
        return Err(Error::Login(format!(
            "{path} answered {}: {}",
            resp.status,
            resp.text()
        )));
    }
    let json = resp.json()?;
    json.get("session_token")
        .or_else(|| json.get("session_id"))
        .and_then(|t| t.as_str())
        .map(str::to_string)
        .ok_or_else(|| Error::Login(format!("{path}: no session_token in response")))
}
