//! Typed configuration: defaults < TOML file < `PERCORE_*` environment < command-line flags,
//! merged and validated once at start. A bad value stops the start with a message naming the key.
//!
//! Environment keys mirror the TOML keys, with `__` for nesting: `PERCORE_HTTP__MAX_BODY_BYTES`.

mod cores;
pub(crate) mod mask;
pub mod services;
mod snapshot;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use cores::CoreSpec;
pub use mask::masked_toml;
pub use snapshot::{Snapshot, SnapshotCell};

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

impl ConfigError {
    pub fn invalid(key: &'static str, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address every core's `SO_REUSEPORT` listener binds. Port 0 picks a free port once, shared
    /// by all cores.
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `"all"`, a count (`4`) or a list of CPU ids (`"0,2-3"`).
    pub cores: CoreSpec,
    /// Listen backlog per core.
    pub backlog: u32,
    /// How long a SIGTERM/SIGINT drain may take before the process exits anyway.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    pub http: HttpConfig,
    pub limits: LimitsConfig,
    pub log: LogConfig,
    /// Database services by name (`[services.pg]`); `db` (embedded SQLite) is always present.
    pub services: BTreeMap<String, services::ServiceConfig>,
    /// The system database URL (`sqlite:`, `postgres://`, `mysql://`); by default SQLite in the
    /// data directory. Instances of one deployment share it.
    pub system_db: Option<String>,
    pub auth: AuthConfig,
    /// CORS entries (`[[cors]]`), DreamFactory's fields; the first enabled match wins. Empty:
    /// no CORS headers at all.
    pub cors: Vec<crate::api::cors::CorsEntry>,
    /// Server-side scripts: the engine's limits.
    pub scripts: ScriptsConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScriptsConfig {
    /// Bytes each core's JavaScript runtime may allocate.
    pub memory_limit: usize,
    /// Script CPU time one call may take, unless the script's `config.timeout_ms` says
    /// otherwise.
    #[serde(with = "humantime_serde")]
    pub time_limit: Duration,
}

impl Default for ScriptsConfig {
    fn default() -> Self {
        ScriptsConfig {
            memory_limit: crate::scripts::quickjs::QuickJsOptions::DEFAULT_MEMORY_LIMIT,
            time_limit: crate::scripts::Limits::DEFAULT_TIME,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// HS256 signing secret (at least 32 bytes); by default generated on first start and kept
    /// in `data_dir/jwt.secret` with 0600 permissions.
    pub jwt_secret: Option<String>,
    /// How long a session token is valid.
    #[serde(with = "humantime_serde")]
    pub session_ttl: Duration,
    /// How long after login an expired token may still be refreshed.
    #[serde(with = "humantime_serde")]
    pub refresh_ttl: Duration,
    /// DreamFactory's `allow_open_registration`: anyone may create an account through
    /// `POST /api/v2/user/register`. Off by default.
    pub open_registration: bool,
    /// DreamFactory's `open_reg_role_id`: the role self-registered users get (none when unset).
    pub registration_role_id: Option<i64>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            jwt_secret: None,
            session_ttl: Duration::from_secs(24 * 3600),
            refresh_ttl: Duration::from_secs(14 * 24 * 3600),
            open_registration: false,
            registration_role_id: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    pub max_head_bytes: usize,
    pub max_headers: usize,
    pub max_body_bytes: u64,
    #[serde(with = "humantime_serde")]
    pub header_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub body_timeout: Duration,
    /// Responses smaller than this are not worth compressing.
    pub gzip_min_bytes: usize,
    pub gzip_level: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Open connections per core before new ones get 503; 0 sizes it from memory and the
    /// open-file limit.
    pub max_connections_per_core: usize,
    /// Requests being handled per core before new ones get 503; 0 means 2048.
    pub max_in_flight_per_core: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter: `info`, `percore=debug`, ...
    pub level: String,
    /// One line per request, written by a background thread.
    pub access_log: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            cores: CoreSpec::All,
            backlog: 4096,
            shutdown_timeout: Duration::from_secs(10),
            http: HttpConfig::default(),
            limits: LimitsConfig::default(),
            log: LogConfig::default(),
            services: BTreeMap::new(),
            system_db: None,
            auth: AuthConfig::default(),
            cors: Vec::new(),
            scripts: ScriptsConfig::default(),
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        let l = crate::http::Limits::default();
        HttpConfig {
            max_head_bytes: l.max_head_bytes,
            max_headers: l.max_headers,
            max_body_bytes: l.max_body_bytes,
            header_timeout: l.header_timeout,
            idle_timeout: l.idle_timeout,
            body_timeout: l.body_timeout,
            gzip_min_bytes: l.gzip_min_bytes,
            gzip_level: l.gzip_level,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            level: "info".into(),
            access_log: false,
        }
    }
}

/// The top-level keys, which `PERCORE_*` variables may set. Other `PERCORE_*` variables belong
/// to other tools (test settings, `PERCORE_ADMIN_EMAIL`, ...) and are left alone; see
/// [`Config::unknown_env`].
const TOP_LEVEL_KEYS: [&str; 12] = [
    "listen",
    "data_dir",
    "cores",
    "backlog",
    "shutdown_timeout",
    "http",
    "limits",
    "log",
    "services",
    "system_db",
    "auth",
    "cors",
];

/// `PERCORE_*` variables read elsewhere in percore, so not worth a warning.
const ENV_NOT_CONFIG: [&str; 3] = ["config", "admin_email", "admin_password"];

/// The configuration key a `PERCORE_*` variable sets, if any: `PERCORE_HTTP__GZIP_LEVEL` -> `http`.
fn env_top_key(var: &str) -> Option<String> {
    let rest = var.strip_prefix("PERCORE_")?.to_ascii_lowercase();
    let top = rest.split("__").next().unwrap_or_default().to_string();
    TOP_LEVEL_KEYS.contains(&top.as_str()).then_some(top)
}

impl Config {
    /// Merges the layers and validates the result. `flags` is a serialisable value holding only
    /// the flags actually given (absent ones must be skipped, not serialised as null).
    pub fn load(file: Option<&Path>, flags: impl Serialize) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::invalid(
                    "config",
                    format!("file {} does not exist", path.display()),
                ));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let config: Config = figment
            .merge(
                Env::prefixed("PERCORE_")
                    .filter(|k| env_top_key(&format!("PERCORE_{}", k.as_str())).is_some())
                    .split("__"),
            )
            .merge(Serialized::defaults(flags))
            .extract()
            .map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    /// `PERCORE_*` variables that set nothing: likely typos, worth a warning at start.
    pub fn unknown_env() -> Vec<String> {
        std::env::vars()
            .map(|(k, _)| k)
            .filter(|k| k.starts_with("PERCORE_") && env_top_key(k).is_none())
            .filter(|k| {
                !ENV_NOT_CONFIG.contains(&k["PERCORE_".len()..].to_ascii_lowercase().as_str())
            })
            .filter(|k| !k.starts_with("PERCORE_TEST_") && k != "PERCORE_REQUIRE_DBS")
            .collect()
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let h = &self.http;
        let checks: [(bool, &'static str, &str); 10] = [
            (self.backlog > 0, "backlog", "must be at least 1"),
            (
                !self.shutdown_timeout.is_zero(),
                "shutdown_timeout",
                "must be above zero",
            ),
            (
                h.max_head_bytes >= 1024,
                "http.max_head_bytes",
                "must be at least 1024",
            ),
            (
                (1..=crate::http::parse::MAX_HEADER_SLOTS).contains(&h.max_headers),
                "http.max_headers",
                "must be between 1 and 128",
            ),
            (
                (1..=9).contains(&h.gzip_level),
                "http.gzip_level",
                "must be between 1 and 9",
            ),
            (
                !h.header_timeout.is_zero(),
                "http.header_timeout",
                "must be above zero",
            ),
            (
                !h.idle_timeout.is_zero(),
                "http.idle_timeout",
                "must be above zero",
            ),
            (
                !h.body_timeout.is_zero(),
                "http.body_timeout",
                "must be above zero",
            ),
            (
                self.auth.registration_role_id.is_none_or(|id| id > 0),
                "auth.registration_role_id",
                "must be a role id (1 or more)",
            ),
            (
                tracing_subscriber::EnvFilter::try_new(&self.log.level).is_ok(),
                "log.level",
                "is not a valid filter (try `info` or `percore=debug`)",
            ),
        ];
        for (ok, key, message) in checks {
            if !ok {
                return Err(ConfigError::invalid(key, message));
            }
        }
        services::effective(&self.services, &self.data_dir)?;
        crate::api::cors::CorsPolicy::new(&self.cors)
            .map_err(|message| ConfigError::invalid("cors", message))?;
        Ok(())
    }

    /// The engine limits for one core, given how many cores serve.
    pub fn http_limits(&self) -> crate::http::Limits {
        let h = &self.http;
        crate::http::Limits {
            max_head_bytes: h.max_head_bytes,
            max_headers: h.max_headers,
            max_body_bytes: h.max_body_bytes,
            header_timeout: h.header_timeout,
            idle_timeout: h.idle_timeout,
            body_timeout: h.body_timeout,
            gzip_min_bytes: h.gzip_min_bytes,
            gzip_level: h.gzip_level,
            max_in_flight: match self.limits.max_in_flight_per_core {
                0 => 2048,
                n => n,
            },
            access_log: self.log.access_log,
        }
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error.
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Flags {
        #[serde(skip_serializing_if = "Option::is_none")]
        backlog: Option<u32>,
    }

    #[test]
    fn layers_apply_in_order_and_errors_name_the_key() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "p.toml",
                "backlog = 10\n[http]\ngzip_level = 5\nmax_headers = 32\n",
            )?;
            jail.set_env("PERCORE_HTTP__GZIP_LEVEL", "7");
            let path = jail.directory().join("p.toml");
            let c = Config::load(Some(&path), Flags { backlog: Some(20) }).unwrap();
            assert_eq!(
                (c.backlog, c.http.gzip_level, c.http.max_headers),
                (20, 7, 32)
            );

            jail.set_env("PERCORE_HTTP__GZIP_LEVEL", "11");
            let err = Config::load(Some(&path), Flags { backlog: None }).unwrap_err();
            assert!(err.to_string().contains("http.gzip_level"), "{err}");

            jail.set_env("PERCORE_HTTP__GZIP_LEVEL", "fast");
            let err = Config::load(Some(&path), Flags { backlog: None }).unwrap_err();
            assert!(
                err.to_string().to_lowercase().contains("gzip_level"),
                "{err}"
            );
            Ok(())
        });
    }

    #[test]
    fn other_tools_percore_variables_are_left_alone() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("PERCORE_REQUIRE_DBS", "1");
            jail.set_env("PERCORE_ADMIN_EMAIL", "a@b.c");
            jail.set_env("PERCORE_BACKLOG", "12");
            let c = Config::load(None, Flags { backlog: None }).unwrap();
            assert_eq!(c.backlog, 12);
            assert_eq!(
                env_top_key("PERCORE_HTTP__GZIP_LEVEL").as_deref(),
                Some("http")
            );
            assert_eq!(env_top_key("PERCORE_LISTN"), None);
            Ok(())
        });
    }

    #[test]
    fn open_registration_comes_from_nested_env_keys() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(None, Flags { backlog: None }).unwrap();
            assert!(!c.auth.open_registration);
            assert_eq!(c.auth.registration_role_id, None);
            jail.set_env("PERCORE_AUTH__OPEN_REGISTRATION", "true");
            jail.set_env("PERCORE_AUTH__REGISTRATION_ROLE_ID", "3");
            let c = Config::load(None, Flags { backlog: None }).unwrap();
            assert!(c.auth.open_registration);
            assert_eq!(c.auth.registration_role_id, Some(3));
            jail.set_env("PERCORE_AUTH__REGISTRATION_ROLE_ID", "0");
            let err = Config::load(None, Flags { backlog: None }).unwrap_err();
            assert!(
                err.to_string().contains("auth.registration_role_id"),
                "{err}"
            );
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("p.toml", "[http]\nmax_body = 1\n")?;
            let err = Config::load(
                Some(&jail.directory().join("p.toml")),
                Flags { backlog: None },
            )
            .unwrap_err();
            assert!(err.to_string().contains("max_body"), "{err}");
            Ok(())
        });
    }
}
