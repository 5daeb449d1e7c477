//! The `percore` command: `serve`, `config` and `doctor`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use percore::config::{Config, CoreSpec, LogFormat};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "percore",
    version,
    about = "Thread-per-core REST API server (DreamFactory v2 API)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server: one pinned worker per core.
    Serve(ConfigArgs),
    /// Print the effective configuration (file < environment < flags) with secrets masked.
    Config(ConfigArgs),
    /// Check this host for what a high-load deployment needs, and say what to change.
    Doctor,
    /// Manage system admins.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a system admin (migrating the system database first if needed).
    Create {
        #[arg(long, env = "PERCORE_ADMIN_EMAIL")]
        email: String,
        /// At least 8 characters. Prefer the environment variable: flags show in `ps`.
        #[arg(long, env = "PERCORE_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

/// Flags that override the file and the environment. Only flags actually given are
/// serialised, so an absent flag never overrides a lower layer.
#[derive(Args, Serialize)]
struct ConfigArgs {
    /// TOML configuration file.
    #[arg(long, env = "PERCORE_CONFIG")]
    #[serde(skip)]
    config: Option<PathBuf>,
    /// Address to listen on, ADDR:PORT (port 0 picks a free port).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<String>,
    /// Directory for the server's data.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
    /// Cores to serve on: `all`, a count (`4`) or CPU ids (`0,2-3`; one CPU as `3,`).
    #[arg(long, value_parser = CoreSpec::parse)]
    #[serde(skip_serializing_if = "Option::is_none")]
    cores: Option<CoreSpec>,
    /// System database URL (`sqlite:PATH`, `postgres://...`, `mysql://...`), shared by the
    /// instances of one deployment; default SQLite in the data directory.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    system_db: Option<String>,
    /// Listen backlog per core.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    backlog: Option<u32>,
    /// Drain deadline on SIGTERM/SIGINT, e.g. `10s`.
    #[arg(long, value_parser = humantime::parse_duration)]
    #[serde(skip_serializing_if = "Option::is_none", with = "opt_duration")]
    shutdown_timeout: Option<Duration>,
    #[command(flatten)]
    #[serde(skip_serializing_if = "LogArgs::is_empty")]
    log: LogArgs,
}

#[derive(Args, Serialize, Default)]
struct LogArgs {
    /// Log format.
    #[arg(long = "log-format", value_enum)]
    #[serde(skip_serializing_if = "Option::is_none", rename = "format")]
    format: Option<LogFormatArg>,
    /// Log filter, e.g. `info` or `percore=debug`.
    #[arg(long = "log-level")]
    #[serde(skip_serializing_if = "Option::is_none", rename = "level")]
    level: Option<String>,
    /// Log one line per request (written off the request path).
    #[arg(long = "access-log")]
    #[serde(skip_serializing_if = "Option::is_none", rename = "access_log")]
    access_log: Option<bool>,
}

impl LogArgs {
    fn is_empty(&self) -> bool {
        self.format.is_none() && self.level.is_none() && self.access_log.is_none()
    }
}

#[derive(Clone, Copy, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
enum LogFormatArg {
    Text,
    Json,
}

impl From<LogFormatArg> for LogFormat {
    fn from(f: LogFormatArg) -> Self {
        match f {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        }
    }
}

mod opt_duration {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        humantime_serde::serialize(d, s)
    }
}

fn load(args: &ConfigArgs) -> Result<Config, ExitCode> {
    Config::load(args.config.as_deref(), args).map_err(|e| {
        eprintln!("percore: {e}");
        ExitCode::from(2)
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let config = match load(&args) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let _log = percore::telemetry::init(&config.log);
            for var in Config::unknown_env() {
                tracing::warn!(%var, "environment variable sets no configuration key (a typo?)");
            }
            let passwords = std::sync::Arc::new(percore::auth::password::Passwords::new(2));
            let boot = match percore::system::bootstrap(&config, &passwords) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("percore: {e}");
                    return ExitCode::from(1);
                }
            };
            let signals = match percore::runtime::Signals::install() {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("percore: cannot install signal handlers: {e}");
                    return ExitCode::from(1);
                }
            };
            match percore::runtime::start(config, boot, passwords) {
                Ok(server) => {
                    println!("percore listening on {}", server.local_addr);
                    server.run_until_signal(signals);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("percore: {e}");
                    match e {
                        percore::runtime::StartError::Config(_) => ExitCode::from(2),
                        _ => ExitCode::from(1),
                    }
                }
            }
        }
        Command::Config(args) => match load(&args) {
            Ok(config) => {
                print!("{}", percore::config::masked_toml(&config));
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Command::Admin {
            command:
                AdminCommand::Create {
                    email,
                    password,
                    config,
                },
        } => {
            let config = match load(&config) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let passwords = percore::auth::password::Passwords::new(1);
            let created = percore::system::open(&config)
                .map_err(percore::system::BootError::from)
                .and_then(|db| {
                    percore::system::block_on(async {
                        percore::system::migrations::migrate(&db).await?;
                        percore::system::create_admin(&db, &passwords, &email, &password).await
                    })?
                });
            match created {
                Ok(id) => {
                    println!("created system admin {email} (id {id})");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("percore: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Doctor => {
            let findings = percore::doctor::check_host();
            print!("{}", percore::doctor::render(&findings));
            // Scripts can gate a deployment on it: 1 when any check fails outright.
            let failed = findings
                .iter()
                .any(|f| f.level == percore::doctor::Level::Fail);
            if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}
