//! Maps driver and server errors to [`DbError`] kinds with messages safe for clients.
//!
//! MySQL and MariaDB share most error codes; where they differ (statement timeout, check
//! constraints) both codes are listed.

use mysql_async::{Error, ServerError};
use percore_connector::{DbError, ErrorKind};

/// Classifies a driver error. The full error goes to the log; the client gets the server's own
/// message only for kinds where it describes the data (constraints, bad values, missing
/// tables), never for syntax errors, whose message quotes SQL text.
pub(crate) fn classify(err: &Error) -> DbError {
    match err {
        Error::Server(server) => classify_server(server),
        Error::Io(_) => {
            tracing::warn!(error = %err, "mysql connection failed");
            DbError::unavailable("The database connection failed.")
        }
        Error::Driver(mysql_async::DriverError::ConnectionClosed) => {
            DbError::unavailable("The database closed the connection.")
        }
        Error::Driver(mysql_async::DriverError::StmtParamsMismatch { required, supplied }) => {
            DbError::new(
                ErrorKind::InvalidInput,
                format!("The statement takes {required} parameters, {supplied} were given."),
            )
        }
        _ => {
            tracing::error!(error = %err, "mysql driver error");
            DbError::new(ErrorKind::Internal, "The database driver failed.")
        }
    }
}

/// Whether the connection is gone after this error: any driver or I/O error, and the server
/// errors sent just before it closes a connection (shutdown, killed, idle timeout).
pub(crate) fn connection_lost(err: &Error) -> bool {
    match err {
        Error::Server(server) => matches!(
            server.code,
            1053 | 1077 | 1152 | 1153 | 1184 | 1927 | 2006 | 2013 | 4031
        ),
        _ => true,
    }
}

fn classify_server(err: &ServerError) -> DbError {
    let kind = kind_of(err.code);
    let message = match kind {
        ErrorKind::Constraint | ErrorKind::InvalidInput | ErrorKind::NotFound => {
            err.message.clone()
        }
        ErrorKind::Timeout => return DbError::timeout(),
        ErrorKind::Unavailable => {
            // Access-denied and similar messages name the user and client host.
            tracing::warn!(code = err.code, message = %err.message, "mysql refused the connection");
            format!("The database is unavailable (error {}).", err.code)
        }
        ErrorKind::Internal => {
            tracing::error!(code = err.code, message = %err.message, "mysql statement failed");
            if err.code == 1064 {
                "The database rejected the statement's syntax.".to_owned()
            } else {
                format!("The database failed the statement (error {}).", err.code)
            }
        }
    };
    DbError::new(kind, message)
}

/// The kind for a server error code.
pub(crate) fn kind_of(code: u16) -> ErrorKind {
    match code {
        // Duplicate key, foreign key (parent/child, old and new codes), NOT NULL, missing
        // default, check constraint (MySQL 3819, MariaDB 4025).
        1022 | 1062 | 1169 | 1586 | 1216 | 1217 | 1451 | 1452 | 1048 | 1364 | 1423 | 3819
        | 4025 => ErrorKind::Constraint,
        // Incorrect value for the column type, out of range, truncated, too long, bad
        // date/time, bad JSON (MySQL 3140, 3141, 3146; MariaDB 4036-4038), invalid character
        // string, division by zero in strict mode.
        1138
        | 1264
        | 1265
        | 1292
        | 1300
        | 1366
        | 1367
        | 1406
        | 1411
        | 1690
        | 1365
        | 3140
        | 3141
        | 3146
        | 3156
        | 4036..=4038
        | 4078 => ErrorKind::InvalidInput,
        // Unknown table, column, database, view, function/procedure.
        1049 | 1051 | 1054 | 1109 | 1146 | 1305 | 1356 | 1630 => ErrorKind::NotFound,
        // Statement timeout (MariaDB max_statement_time, MySQL max_execution_time), a query
        // killed by our own timeout, lock wait timeout.
        1969 | 3024 | 1317 | 1205 => ErrorKind::Timeout,
        // Too many connections, access denied, server shutting down, connection killed,
        // deadlock (retry), read-only server.
        1040 | 1044 | 1045 | 1053 | 1077 | 1152 | 1153 | 1184 | 1213 | 1290 | 1927 | 2002
        | 2003 | 2006 | 2013 => ErrorKind::Unavailable,
        _ => ErrorKind::Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(code: u16, message: &str) -> Error {
        Error::Server(ServerError {
            code,
            message: message.into(),
            state: "HY000".into(),
        })
    }

    #[test]
    fn classifies_server_errors() {
        let dup = classify(&server(1062, "Duplicate entry '1' for key 'PRIMARY'"));
        assert_eq!(dup.kind, ErrorKind::Constraint);
        assert!(dup.message.contains("Duplicate entry"));
        assert_eq!(
            classify(&server(1969, "max_statement_time exceeded")).kind,
            ErrorKind::Timeout
        );
        assert_eq!(
            classify(&server(1146, "Table 'test.x' doesn't exist")).kind,
            ErrorKind::NotFound
        );
        assert_eq!(
            classify(&server(1366, "Incorrect integer value")).kind,
            ErrorKind::InvalidInput
        );
        let syntax = classify(&server(1064, "You have an error ... near 'SELECT secret'"));
        assert_eq!(syntax.kind, ErrorKind::Internal);
        assert!(!syntax.message.contains("secret"));
        let denied = classify(&server(1045, "Access denied for user 'root'@'10.0.0.1'"));
        assert_eq!(denied.kind, ErrorKind::Unavailable);
        assert!(!denied.message.contains("10.0.0.1"));
    }
}
