//! percore's own state in the **system database**: users (admins are users with
//! `is_sys_admin`), roles and revoked sessions. Embedded SQLite in the data directory by default,
//! or PostgreSQL / MySQL by URL (`system_db`), which instances of one deployment share.
//!
//! [`bootstrap`] runs once at start on the main thread: it migrates the schema
//! ([`migrations`]), creates the first system admin, and loads the JWT signing key. Each core
//! then opens its own connections to the same database ([`AnyDb`], lazily).

pub mod migrations;
pub mod revocations;
pub mod rows;
pub mod services;
pub mod state;
pub mod users;

use std::sync::Arc;

use thiserror::Error;

use crate::auth::jwt::KeySet;
use crate::auth::keys::{load_or_create_secret, SigningKey};
use crate::auth::password::Passwords;
use crate::config::Config;
use crate::services::AnyDb;

#[derive(Debug, Error)]
pub enum BootError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("system database: {0}")]
    Db(#[from] percore_connector::DbError),
    #[error(transparent)]
    Migration(#[from] migrations::MigrationError),
    #[error("JWT signing key: {0}")]
    Key(String),
    #[error("{0}")]
    Admin(String),
    #[error("system database contents: {0}")]
    State(String),
    #[error("cannot start the bootstrap runtime: {0}")]
    Runtime(std::io::Error),
}

/// The system database's URL: the configured one, or SQLite in the data directory.
pub fn url(config: &Config) -> String {
    config
        .system_db
        .clone()
        .unwrap_or_else(|| format!("sqlite:{}", config.data_dir.join("system.sqlite").display()))
}

pub fn open(config: &Config) -> Result<AnyDb, percore_connector::DbError> {
    AnyDb::open_url(&url(config), &config.data_dir)
}

/// What start-up hands to the workers.
pub struct Boot {
    pub keys: Arc<KeySet>,
    /// What the system API stored: services, roles, apps, CORS entries, scripts, ...
    pub state: state::Loaded,
    /// Sessions logged out before this start (on any instance), still in force.
    pub revoked: std::collections::HashSet<String>,
}

/// Runs `f` on a short-lived single-core runtime (the connectors need a `LocalSet`).
pub fn block_on<F: std::future::Future>(f: F) -> Result<F::Output, BootError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BootError::Runtime)?;
    Ok(tokio::task::LocalSet::new().block_on(&rt, f))
}

/// First-start work: data directory, schema, first admin, signing key.
pub fn bootstrap(config: &Config, passwords: &Passwords) -> Result<Boot, BootError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| BootError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let db = open(config)?;
    let revoked = block_on(async {
        // Instances sharing a system database may start together: a migration or first admin
        // that fails because another instance got there first is retried once, and then finds
        // the work done.
        if let Err(first) = migrations::migrate(&db).await {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            migrations::migrate(&db).await.map_err(|_| first)?;
        }
        if users::count_admins(&db).await? == 0 {
            if let Err(e) = create_first_admin(&db, passwords).await {
                if users::count_admins(&db).await? == 0 {
                    return Err(e);
                }
            }
        }
        let loaded = state::load(&db, config).await.map_err(BootError::State)?;
        Ok::<_, BootError>((revocations::active(&db).await?, loaded))
    })??;
    let (revoked, state) = revoked;
    Ok(Boot {
        keys: Arc::new(signing_keys(config)?),
        revoked,
        state,
    })
}

/// From `PERCORE_ADMIN_EMAIL` / `PERCORE_ADMIN_PASSWORD`, or a generated password printed once.
async fn create_first_admin(db: &AnyDb, passwords: &Passwords) -> Result<(), BootError> {
    let email = std::env::var("PERCORE_ADMIN_EMAIL").unwrap_or_else(|_| "admin@localhost".into());
    let (password, generated) = match std::env::var("PERCORE_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (crate::auth::api_key::generate()[..24].to_string(), true),
    };
    create_admin(db, passwords, &email, &password).await?;
    if generated {
        eprintln!("percore: created the system admin {email} with password {password}");
        eprintln!("percore: this password is shown once; change it after logging in");
    } else {
        tracing::info!(%email, "created the system admin");
    }
    Ok(())
}

/// `percore admin create` and first start: a system admin with an argon2id password hash.
pub async fn create_admin(
    db: &AnyDb,
    passwords: &Passwords,
    email: &str,
    password: &str,
) -> Result<i64, BootError> {
    if !email.contains('@') || email.len() > 255 {
        return Err(BootError::Admin(format!(
            "`{email}` is not an email address"
        )));
    }
    if password.chars().count() < 8 {
        return Err(BootError::Admin(
            "the admin password must have at least 8 characters".into(),
        ));
    }
    let hash = passwords
        .hash(password)
        .map_err(|e| BootError::Admin(e.to_string()))?;
    let user = users::NewUser {
        email,
        password_hash: &hash,
        first_name: "System",
        last_name: "Admin",
        name: None,
        is_sys_admin: true,
        role_id: None,
    };
    users::create(db, &user).await.map_err(|e| match e.kind {
        percore_connector::ErrorKind::Constraint => {
            BootError::Admin(format!("a user {email} exists already"))
        }
        _ => BootError::Db(e),
    })
}

/// Polls the system database every `every` for what other instances changed (revoked sessions,
/// and the change counter the system API bumps) until `stop` says the server is going away. Runs on its own thread: the
/// workers never wait on it.
pub fn watch(
    shared: Arc<crate::runtime::Shared>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    every: std::time::Duration,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("percore-system-watch".into())
        .spawn(move || {
            let Ok(db) = open(&shared.snapshot.load().config) else {
                return;
            };
            let _ = block_on(async {
                let mut seen = state::version(&db).await.ok();
                loop {
                    tokio::select! {
                        _ = stop.wait_for(|s| *s) => return,
                        _ = tokio::time::sleep(every) => {}
                    }
                    match revocations::active(&db).await {
                        Ok(set) => shared.revoked.merge(set),
                        Err(e) => tracing::warn!(error = %e, "cannot read revoked sessions"),
                    }
                    let now = state::version(&db).await.ok();
                    if now.is_some() && now != seen {
                        seen = now;
                        if let Err(e) = state::publish(&db, &shared).await {
                            tracing::warn!(error = %e, "cannot reload the system database");
                        }
                    }
                }
            });
        })
}

/// The configured secret, or one generated on first start and kept (0600) in the data dir.
fn signing_keys(config: &Config) -> Result<KeySet, BootError> {
    let secret = match &config.auth.jwt_secret {
        Some(s) => s.as_bytes().to_vec(),
        None => load_or_create_secret(&config.data_dir.join("jwt.secret"))
            .map_err(|e| BootError::Key(e.to_string()))?,
    };
    let key = SigningKey::hs256(&secret).map_err(|e| BootError::Key(e.to_string()))?;
    Ok(KeySet::new(key))
}
