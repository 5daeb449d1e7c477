//! Connection settings, from code or from a `mysql://` URL.

use std::time::Duration;

use mysql_async::{Opts, OptsBuilder};
use percent_encoding::percent_decode_str;
use percore_connector::{DbError, ErrorKind};

/// How one core reaches the database. Every core builds its own pool from the same `Config`.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub host: String,
    pub port: u16,
    /// A unix socket path; when set, `host` and `port` are not used.
    pub socket: Option<String>,
    pub user: String,
    pub password: Option<String>,
    /// The schema the service exposes; `tables()` is empty without one.
    pub database: Option<String>,
    /// Connections per core.
    pub pool_size: usize,
    /// Prepared statements kept per connection (the driver's LRU, keyed by SQL text).
    pub stmt_cache_size: usize,
    /// Zero: no limit.
    pub statement_timeout: Duration,
    pub connect_timeout: Duration,
    /// Adds `STRICT_ALL_TABLES` to the session's `sql_mode`, so a bad value is refused with an
    /// error instead of being stored as `0` or truncated with a warning.
    pub strict_mode: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: "127.0.0.1".into(),
            port: 3306,
            socket: None,
            user: "root".into(),
            password: None,
            database: None,
            pool_size: 4,
            stmt_cache_size: 64,
            statement_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            strict_mode: true,
        }
    }
}

impl Config {
    /// Parses `mysql://user:password@host:port/database?pool_size=8&statement_timeout_ms=5000`.
    /// `mariadb://` is accepted too. Other query parameters: `socket`, `connect_timeout_ms`,
    /// `stmt_cache_size`, `strict_mode=false`.
    pub fn from_url(url: &str) -> Result<Config, DbError> {
        // The URL holds the password: errors never repeat it.
        let invalid = |what: &str| {
            DbError::new(
                ErrorKind::InvalidInput,
                format!("Invalid MySQL URL: {what}."),
            )
        };
        let parsed = url::Url::parse(url).map_err(|_| invalid("not a URL"))?;
        if !matches!(parsed.scheme(), "mysql" | "mariadb") {
            return Err(invalid("the scheme must be mysql:// or mariadb://"));
        }
        let decode = |s: &str| percent_decode_str(s).decode_utf8().map(|c| c.into_owned());
        let mut config = Config::default();
        if let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) {
            config.host = host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned();
        }
        if let Some(port) = parsed.port() {
            config.port = port;
        }
        if !parsed.username().is_empty() {
            config.user =
                decode(parsed.username()).map_err(|_| invalid("the user name is not UTF-8"))?;
        }
        if let Some(password) = parsed.password() {
            config.password =
                Some(decode(password).map_err(|_| invalid("the password is not UTF-8"))?);
        }
        let db = parsed.path().trim_start_matches('/');
        if !db.is_empty() {
            config.database =
                Some(decode(db).map_err(|_| invalid("the database name is not UTF-8"))?);
        }
        for (key, value) in parsed.query_pairs() {
            let number = |what: &str| value.parse::<u64>().map_err(|_| invalid(what));
            match key.as_ref() {
                "socket" => config.socket = Some(value.clone().into_owned()),
                "pool_size" => {
                    config.pool_size = number("pool_size must be a number")?.max(1) as usize
                }
                "stmt_cache_size" => {
                    config.stmt_cache_size = number("stmt_cache_size must be a number")? as usize
                }
                "statement_timeout_ms" => {
                    config.statement_timeout =
                        Duration::from_millis(number("statement_timeout_ms must be a number")?)
                }
                "connect_timeout_ms" => {
                    config.connect_timeout =
                        Duration::from_millis(number("connect_timeout_ms must be a number")?)
                }
                "strict_mode" => {
                    config.strict_mode = !matches!(value.as_ref(), "false" | "0" | "off")
                }
                _ => return Err(invalid(&format!("unknown parameter `{key}`"))),
            }
        }
        Ok(config)
    }

    /// The driver's options. TCP keepalive finds connections a vanished server left half-open;
    /// `prefer_socket` is off because it would silently switch transports after connecting.
    pub(crate) fn opts(&self) -> Opts {
        let builder = OptsBuilder::default()
            .ip_or_hostname(self.host.clone())
            .tcp_port(self.port)
            .socket(self.socket.clone())
            .prefer_socket(false)
            .user(Some(self.user.clone()))
            .pass(self.password.clone())
            .db_name(self.database.clone())
            .stmt_cache_size(self.stmt_cache_size)
            // An UPDATE reports the rows it matched, as PostgreSQL and SQLite do, not only
            // those whose values changed: "updated 0 rows" must mean "not found".
            .client_found_rows(true)
            .tcp_nodelay(true)
            .tcp_keepalive(Some(Duration::from_secs(60)));
        Opts::from(builder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_url() {
        let c = Config::from_url(
            "mysql://app:p%40ss@db.local:3307/shop?pool_size=8&statement_timeout_ms=1500",
        )
        .unwrap();
        assert_eq!(c.host, "db.local");
        assert_eq!(c.port, 3307);
        assert_eq!(c.user, "app");
        assert_eq!(c.password.as_deref(), Some("p@ss"));
        assert_eq!(c.database.as_deref(), Some("shop"));
        assert_eq!(c.pool_size, 8);
        assert_eq!(c.statement_timeout, Duration::from_millis(1500));
    }

    #[test]
    fn defaults_and_errors() {
        let c = Config::from_url("mysql://root@127.0.0.1/test").unwrap();
        assert_eq!((c.port, c.password, c.pool_size), (3306, None, 4));
        let err = Config::from_url("postgres://u:secret@h/db").unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(!err.message.contains("secret"));
        assert!(Config::from_url("mysql://u:secret@h/db?bogus=1").is_err());
    }
}
