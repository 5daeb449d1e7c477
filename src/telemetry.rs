//! Logging with `tracing`, as text or JSON, to stderr through a background writer thread so a
//! slow terminal or disk never stalls a worker (stdout is kept for the lines scripts read, such
//! as the listening address).

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber. Keep the guard alive for the life of the process: dropping
/// it flushes the log.
pub fn init(log: &LogConfig) -> WorkerGuard {
    let (writer, guard) = tracing_appender::non_blocking(std::io::stderr());
    let filter = EnvFilter::try_new(&log.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let _ = match log.format {
        LogFormat::Text => builder.with_target(true).try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    guard
}
