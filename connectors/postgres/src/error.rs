//! Driver errors classified into [`DbError`], with messages fit for API clients.

use std::error::Error as _;

use percore_connector::{DbError, ErrorKind};
use tokio_postgres::error::DbError as PgDbError;

/// What went wrong on one connection, and whether that connection can still be used.
pub(crate) struct Failure {
    pub error: DbError,
    /// The connection is broken (or in an unknown protocol state) and must not serve again.
    pub broken: bool,
    /// A cached statement no longer matches the table it reads: drop it and prepare again.
    pub stale_plan: bool,
}

pub(crate) fn classify(e: &tokio_postgres::Error) -> Failure {
    if let Some(db) = e.as_db_error() {
        return from_db(db);
    }
    let broken = Failure {
        error: DbError::unavailable("The database connection was lost."),
        broken: true,
        stale_plan: false,
    };
    if e.is_closed() || has_io_source(e) {
        return broken;
    }
    // The driver's error kinds are private; its Display prefixes are stable and name no SQL.
    let text = e.to_string();
    if text.starts_with("error serializing parameter") {
        let detail = e.source().map(|s| s.to_string()).unwrap_or_default();
        return plain(
            ErrorKind::InvalidInput,
            format!("A parameter could not be encoded: {detail}"),
        );
    }
    if text.starts_with("error connecting") || text.starts_with("timeout waiting") {
        return broken;
    }
    tracing::warn!(error = %e, "postgres driver error");
    Failure {
        error: DbError::new(ErrorKind::Internal, "The database driver failed."),
        // An unexpected message leaves the protocol state unknown.
        broken: text.starts_with("unexpected message") || text.starts_with("error parsing"),
        stale_plan: false,
    }
}

/// Errors raised while opening a connection: always `Unavailable`, without host names.
pub(crate) fn connect_error(e: &tokio_postgres::Error) -> DbError {
    if let Some(db) = e.as_db_error() {
        let reason = match db.code().code() {
            "28P01" | "28000" => "authentication failed",
            "3D000" => "the database does not exist",
            "53300" => "too many connections",
            "57P03" => "the server is starting up or shutting down",
            _ => "the server refused the connection",
        };
        return DbError::unavailable(format!("The database is unavailable: {reason}."));
    }
    let reason = io_source(e).map_or("cannot connect", |io| match io.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused",
        std::io::ErrorKind::TimedOut => "connect timed out",
        std::io::ErrorKind::NotFound => "no such host or socket",
        _ => "cannot connect",
    });
    DbError::unavailable(format!("The database is unavailable: {reason}."))
}

fn from_db(db: &PgDbError) -> Failure {
    let code = db.code().code();
    let message = db.message();
    let with_detail = || match db.detail() {
        Some(detail) => format!("{message} ({detail})"),
        None => message.to_owned(),
    };
    let kind = match code {
        "57014" => return plain_error(DbError::timeout()),
        "0A000" if message.contains("cached plan must not change result type") => {
            return Failure {
                error: DbError::new(
                    ErrorKind::Internal,
                    "The table changed while a statement was cached; retry.",
                ),
                broken: false,
                stale_plan: true,
            };
        }
        "42P01" | "42703" | "3F000" | "42704" => ErrorKind::NotFound,
        "42883" if message.starts_with("function") || message.starts_with("procedure") => {
            ErrorKind::NotFound
        }
        "42883" | "42804" | "42846" | "42P18" | "42725" | "25P02" | "25001" | "25P01" => {
            ErrorKind::InvalidInput
        }
        "57P01" | "57P02" | "57P03" => {
            return Failure {
                error: DbError::unavailable("The database is shutting down or restarting."),
                broken: true,
                stale_plan: false,
            };
        }
        "40001" | "40P01" | "53300" | "55P03" => ErrorKind::Unavailable,
        _ => match code.get(..2).unwrap_or_default() {
            "23" => ErrorKind::Constraint,
            "22" => ErrorKind::InvalidInput,
            "08" => {
                return Failure {
                    error: DbError::unavailable("The database connection failed."),
                    broken: true,
                    stale_plan: false,
                };
            }
            "53" | "28" => ErrorKind::Unavailable,
            _ => {
                // Syntax errors and the like come from SQL we built: a bug, not the client's
                // fault. Their text may quote the SQL, so it goes to the log only.
                tracing::warn!(code, message, "postgres error");
                return plain(
                    ErrorKind::Internal,
                    format!("The database reported an error (SQLSTATE {code})."),
                );
            }
        },
    };
    plain(kind, with_detail())
}

fn plain(kind: ErrorKind, message: String) -> Failure {
    plain_error(DbError::new(kind, message))
}

fn plain_error(error: DbError) -> Failure {
    Failure {
        error,
        broken: false,
        stale_plan: false,
    }
}

fn io_source(e: &tokio_postgres::Error) -> Option<&std::io::Error> {
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        source = s.source();
    }
    None
}

fn has_io_source(e: &tokio_postgres::Error) -> bool {
    io_source(e).is_some()
}
