//! Database services declared in configuration, in DreamFactory's service shape:
//! `{"name":"pg","label":..,"type":"pgsql","config":{"host":..,"database":..,"max_records":1000}}`.
//!
//! The embedded default, `db` over a SQLite file in the data directory, exists unless the
//! configuration names a service `db` itself.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceType {
    Sqlite,
    Pgsql,
    Mysql,
    /// A scripted service: `config.content` is JavaScript that answers every call on the
    /// service (DreamFactory keeps a script service's code in its config's `content` too).
    Javascript,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    #[serde(rename = "type")]
    pub kind: ServiceType,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "yes")]
    pub is_active: bool,
    #[serde(default)]
    pub config: DbConfig,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DbConfig {
    /// Full connection URL; when given, the separate fields below are ignored.
    pub url: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    /// Database name, or for SQLite the file path (relative to the data directory).
    pub database: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Most records one GET returns; `limit` is capped by it.
    pub max_records: u64,
    /// Connections per core.
    pub pool_size: Option<usize>,
    #[serde(with = "humantime_serde")]
    pub statement_timeout: Option<Duration>,
    /// Whether PUT may insert records that do not exist.
    pub allow_upsert: bool,
    /// A `javascript` service's script.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// A `javascript` service's time limit per call, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

impl Default for DbConfig {
    fn default() -> Self {
        DbConfig {
            url: None,
            host: None,
            port: None,
            database: None,
            username: None,
            password: None,
            max_records: 1000,
            pool_size: None,
            statement_timeout: None,
            allow_upsert: false,
            content: None,
            timeout_ms: None,
        }
    }
}

/// Names the API itself uses under `/api/v2`.
const RESERVED: [&str; 4] = ["system", "user", "api_docs", "admin"];

/// The declared services plus the embedded default `db`, validated.
pub fn effective(
    declared: &BTreeMap<String, ServiceConfig>,
    data_dir: &Path,
) -> Result<BTreeMap<String, ServiceConfig>, ConfigError> {
    let mut out = declared.clone();
    out.entry("db".into()).or_insert_with(|| ServiceConfig {
        kind: ServiceType::Sqlite,
        label: Some("Embedded SQLite database".into()),
        description: None,
        is_active: true,
        config: DbConfig {
            database: Some(data_dir.join("db.sqlite").to_string_lossy().into_owned()),
            ..DbConfig::default()
        },
    });
    for (name, svc) in &out {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !valid || RESERVED.contains(&name.as_str()) {
            return Err(ConfigError::invalid(
                "services",
                format!("`{name}` is not a valid service name (lower-case letters, digits, '_' and '-'; not {RESERVED:?})"),
            ));
        }
        if svc.config.max_records == 0 {
            return Err(ConfigError::invalid(
                "services.*.config.max_records",
                format!("service `{name}`: must be at least 1"),
            ));
        }
        if svc.kind == ServiceType::Javascript && svc.config.content.is_none() {
            return Err(ConfigError::invalid(
                "services.*.config.content",
                format!("service `{name}`: a javascript service needs its script in `content`"),
            ));
        }
        if svc.kind == ServiceType::Sqlite
            && svc.config.database.is_none()
            && svc.config.url.is_none()
        {
            return Err(ConfigError::invalid(
                "services.*.config.database",
                format!("service `{name}`: a SQLite service needs a file path"),
            ));
        }
    }
    Ok(out)
}
