//! The typed configuration of a SQLite service and its `sqlite:` URL form.

use std::path::PathBuf;
use std::time::Duration;

use percore_connector::{DbError, ErrorKind};

/// How one core talks to one SQLite database file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The database file; created (with its parent directories) on first use when missing.
    pub path: PathBuf,
    /// Read connections per core. Reads run in parallel with each other and with the core's
    /// single writer (WAL), so this bounds concurrent reads, streams included.
    pub read_connections: usize,
    /// How long a writer waits for the write lock held by another core's writer (SQLite's own
    /// busy handler) or by a session on this core, before failing with `Timeout`.
    pub busy_timeout: Duration,
    /// Longest a statement may run inside SQLite; enforced by the progress handler.
    pub statement_timeout: Duration,
    /// Longest opening a connection may take (a hung network filesystem, a locked WAL setup).
    pub connect_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: PathBuf::from("percore.sqlite"),
            read_connections: 2,
            busy_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

impl Config {
    /// Parses `sqlite://path`, `sqlite:path` or `sqlite:///absolute/path`, with optional
    /// `?read_connections=N&busy_timeout=..&statement_timeout=..&connect_timeout=..` where
    /// durations are milliseconds or carry an `ms`/`s` suffix.
    pub fn from_url(url: &str) -> Result<Config, DbError> {
        let rest = url
            .strip_prefix("sqlite:")
            .ok_or_else(|| invalid("A SQLite URL starts with `sqlite:`."))?;
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        if path.is_empty() {
            return Err(invalid("The SQLite URL names no database file."));
        }
        if path == ":memory:" {
            // Every pooled connection would see its own empty database.
            return Err(invalid(
                "In-memory SQLite databases cannot be pooled; name a file.",
            ));
        }
        let mut config = Config {
            path: PathBuf::from(path),
            ..Config::default()
        };
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "read_connections" => {
                    config.read_connections =
                        value.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                            invalid("read_connections must be a positive integer.")
                        })?
                }
                "busy_timeout" => config.busy_timeout = duration(key, value)?,
                "statement_timeout" => config.statement_timeout = duration(key, value)?,
                "connect_timeout" => config.connect_timeout = duration(key, value)?,
                _ => return Err(invalid(format!("Unknown SQLite URL option `{key}`."))),
            }
        }
        Ok(config)
    }
}

fn duration(key: &str, value: &str) -> Result<Duration, DbError> {
    let (digits, unit_ms) = if let Some(v) = value.strip_suffix("ms") {
        (v, 1)
    } else if let Some(v) = value.strip_suffix('s') {
        (v, 1000)
    } else {
        (value, 1)
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit_ms))
        .map(Duration::from_millis)
        .ok_or_else(|| {
            invalid(format!(
                "{key} must be milliseconds, or a number with `ms` or `s`."
            ))
        })
}

fn invalid(message: impl Into<String>) -> DbError {
    DbError::new(ErrorKind::InvalidInput, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_url_forms() {
        assert_eq!(
            Config::from_url("sqlite://data/app.db").unwrap().path,
            PathBuf::from("data/app.db")
        );
        assert_eq!(
            Config::from_url("sqlite:///var/db/app.db").unwrap().path,
            PathBuf::from("/var/db/app.db")
        );
        assert_eq!(
            Config::from_url("sqlite:app.db").unwrap().path,
            PathBuf::from("app.db")
        );
        let c = Config::from_url(
            "sqlite:app.db?read_connections=3&busy_timeout=2s&statement_timeout=250",
        )
        .unwrap();
        assert_eq!(c.read_connections, 3);
        assert_eq!(c.busy_timeout, Duration::from_secs(2));
        assert_eq!(c.statement_timeout, Duration::from_millis(250));
        assert_eq!(c.connect_timeout, Duration::from_secs(5));
    }

    #[test]
    fn rejects_bad_urls() {
        for url in [
            "postgres://x",
            "sqlite:",
            "sqlite://",
            "sqlite::memory:",
            "sqlite:a?read_connections=0",
            "sqlite:a?x=1",
            "sqlite:a?busy_timeout=soon",
        ] {
            assert_eq!(
                Config::from_url(url).unwrap_err().kind,
                ErrorKind::InvalidInput,
                "{url}"
            );
        }
    }
}
