//! The crate's error type: every fallible path funnels into [`Error`] so the
//! binary can print one line and exit non-zero.

use std::path::PathBuf;

/// Everything that can stop a command before or after the load run itself.
/// Failures of individual requests are not errors: they are counted in
/// [`crate::engine::ErrorCounts`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid URL {url:?}: {reason}")]
    Url { url: String, reason: &'static str },
    #[error("invalid argument: {0}")]
    Arg(String),
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
    #[error("HTTP: {0}")]
    Http(String),
    #[error("login failed: {0}")]
    Login(String),
    #[error("database: {0}")]
    Db(String),
    #[error("server process: {0}")]
    Server(String),
    #[error("chart: {0}")]
    Chart(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Attaches the offending path to an I/O error, which `std` leaves out.
    pub fn file(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::File { path, source }
    }
}

/// Reads a whole file, naming it in the error.
pub fn read_file(path: impl Into<PathBuf>) -> Result<Vec<u8>> {
    let path = path.into();
    std::fs::read(&path).map_err(Error::file(path))
}

/// Writes a whole file, naming it in the error.
pub fn write_file(path: impl Into<PathBuf>, data: impl AsRef<[u8]>) -> Result<()> {
    let path = path.into();
    std::fs::write(&path, data).map_err(Error::file(path))
}
