//! Connection settings, from code or from a `postgres://` URL.

use std::time::Duration;

use percore_connector::{DbError, ErrorKind};

/// How one core reaches PostgreSQL. Each core opens its own connections with these settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Host name or IP address; a path starting with `/` names the directory of a Unix socket.
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub dbname: String,
    /// Schema the service sees (`search_path`); `None` keeps the server's default (`public`).
    pub schema: Option<String>,
    pub application_name: String,
    /// Pipelined connections per core for queries and writes; as many again may be opened for
    /// sessions and streams, which need a connection of their own.
    pub pool_size: usize,
    /// Server-side `statement_timeout`; zero disables it.
    pub statement_timeout: Duration,
    /// Bound on TCP connect, authentication and session setup together.
    pub connect_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: "127.0.0.1".into(),
            port: 5432,
            user: "postgres".into(),
            password: None,
            dbname: "postgres".into(),
            schema: None,
            application_name: "percore".into(),
            pool_size: 4,
            statement_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

impl Config {
    /// Parses `postgres://user:password@host:port/dbname?schema=s&pool_size=4`.
    ///
    /// Query parameters: `schema` (or `search_path`), `pool_size`, `connect_timeout` (seconds),
    /// `statement_timeout` (milliseconds), `application_name`, `host` (overrides the authority,
    /// e.g. a socket directory) and `sslmode` (only `disable`, `allow` and `prefer`: this build
    /// speaks no TLS). Messages never repeat the URL, which may hold a password.
    pub fn from_url(url: &str) -> Result<Config, DbError> {
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .ok_or_else(|| invalid("the URL must start with postgres:// or postgresql://"))?;
        let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = main.split_once('/').unwrap_or((main, ""));
        let mut config = Config::default();

        let hostport = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => {
                let (user, password) = userinfo
                    .split_once(':')
                    .map_or((userinfo, None), |(u, p)| (u, Some(p)));
                if !user.is_empty() {
                    config.user = decode(user)?;
                }
                config.password = password.map(decode).transpose()?;
                hostport
            }
            None => authority,
        };
        let (host, port) = if let Some(bracketed) = hostport.strip_prefix('[') {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| invalid("unclosed '[' in the host"))?;
            (host, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (hostport, None),
            }
        };
        if !host.is_empty() {
            config.host = decode(host)?;
        }
        if let Some(port) = port.filter(|p| !p.is_empty()) {
            config.port = port
                .parse()
                .map_err(|_| invalid("the port is not a number"))?;
        }
        if !path.is_empty() {
            config.dbname = decode(path)?;
        }

        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = decode(value)?;
            match key {
                "schema" | "search_path" | "currentSchema" => {
                    config.schema = Some(value).filter(|s| !s.is_empty())
                }
                "pool_size" => {
                    config.pool_size = value
                        .parse()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or_else(|| invalid("pool_size must be a positive integer"))?
                }
                "connect_timeout" => {
                    config.connect_timeout = Duration::from_secs(number(&value, key)?)
                }
                "statement_timeout" => {
                    config.statement_timeout = Duration::from_millis(number(&value, key)?)
                }
                "application_name" => config.application_name = value,
                "host" => config.host = value,
                "sslmode" => match value.as_str() {
                    "disable" | "allow" | "prefer" => {}
                    _ => {
                        return Err(invalid(
                            "TLS is not supported by this build; use sslmode=disable",
                        ))
                    }
                },
                _ => return Err(invalid(format!("unknown parameter '{key}'"))),
            }
        }
        Ok(config)
    }

    pub(crate) fn pg_config(&self) -> tokio_postgres::Config {
        let mut pg = tokio_postgres::Config::new();
        pg.host(&self.host)
            .port(self.port)
            .user(&self.user)
            .dbname(&self.dbname)
            .application_name(&self.application_name)
            .connect_timeout(self.connect_timeout);
        if let Some(password) = &self.password {
            pg.password(password);
        }
        pg
    }

    /// Sent once per connection. UTC makes `timestamptz` text round-trip: we print it without an
    /// offset and the server reads offset-less input in the session time zone.
    pub(crate) fn init_sql(&self) -> String {
        let mut sql = format!(
            "SET statement_timeout = {}; SET TIME ZONE 'UTC'",
            self.statement_timeout.as_millis()
        );
        if let Some(schema) = &self.schema {
            sql.push_str("; SET search_path TO ");
            crate::dialect::push_quoted(&mut sql, schema);
        }
        sql
    }
}

fn invalid(message: impl std::fmt::Display) -> DbError {
    DbError::new(
        ErrorKind::InvalidInput,
        format!("Invalid PostgreSQL URL: {message}."),
    )
}

fn number(value: &str, key: &str) -> Result<u64, DbError> {
    value
        .parse()
        .map_err(|_| invalid(format!("{key} must be a number")))
}

/// Percent-decoding, so passwords may hold `@`, `:` or `/`.
fn decode(s: &str) -> Result<String, DbError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            let byte = hex
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| invalid("bad percent-encoding"))?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| invalid("percent-encoding is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_url() {
        let c = Config::from_url("postgres://bob:p%40ss:w@db.example:6543/shop?schema=app&pool_size=2&statement_timeout=1500")
            .unwrap();
        assert_eq!(c.user, "bob");
        assert_eq!(c.password.as_deref(), Some("p@ss:w"));
        assert_eq!(c.host, "db.example");
        assert_eq!(c.port, 6543);
        assert_eq!(c.dbname, "shop");
        assert_eq!(c.schema.as_deref(), Some("app"));
        assert_eq!(c.pool_size, 2);
        assert_eq!(c.statement_timeout, Duration::from_millis(1500));
    }

    #[test]
    fn defaults_and_ipv6() {
        let c = Config::from_url("postgresql://[::1]/test").unwrap();
        assert_eq!(c.host, "::1");
        assert_eq!(c.port, 5432);
        assert_eq!(c.user, "postgres");
        assert!(c.password.is_none());
    }

    #[test]
    fn rejects_without_echoing_secrets() {
        let err = Config::from_url("postgres://u:secret@h/db?sslmode=require").unwrap_err();
        assert!(!err.message.contains("secret"));
        assert!(Config::from_url("mysql://x").is_err());
        assert!(Config::from_url("postgres://h:notaport/db").is_err());
    }
}
