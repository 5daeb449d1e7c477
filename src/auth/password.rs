//! Password hashing: argon2id in PHC string format (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`).
//!
//! The parameters travel in each hash, so raising them later only affects new hashes and old
//! ones still verify. A hash takes tens of milliseconds and 19 MiB on purpose; the async
//! wrappers run it on tokio's blocking pool so a core's event loop keeps serving other
//! connections, and a semaphore bounds how many run at once so a burst of logins cannot claim
//! gigabytes.

use std::sync::Arc;

use argon2::password_hash::{Error as PhcError, PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use super::{random_bytes, to_hex};

/// OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane.
pub const OWASP_M_KIB: u32 = 19_456;
pub const OWASP_T: u32 = 2;
pub const OWASP_P: u32 = 1;

/// Longer passwords are refused rather than hashed: argon2 would accept megabytes, and the
/// login endpoint should not be a way to make us hash them.
pub const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password is longer than {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    #[error("the stored password hash is not a valid argon2 PHC string: {0}")]
    BadHash(PhcError),
    #[error("argon2 failed: {0}")]
    Argon2(String),
    #[error("the hashing task did not complete")]
    Task,
}

/// The hasher, shared by every core (`Arc`): parameters, the dummy hash and the concurrency cap.
pub struct Passwords {
    argon2: Argon2<'static>,
    /// A real hash of a random password with the same parameters, verified against when the
    /// user does not exist, so that path costs what a wrong password costs.
    dummy: String,
    permits: Semaphore,
}

impl Passwords {
    /// OWASP parameters; at most `max_concurrent` hashes run at once (the core count is a good
    /// choice). Building one computes the dummy hash, a hash's cost: do it once at start-up and
    /// share the `Arc`.
    pub fn new(max_concurrent: usize) -> Self {
        Self::with_params(OWASP_M_KIB, OWASP_T, OWASP_P, max_concurrent)
            .expect("OWASP parameters are valid")
    }

    /// Other parameters (cheaper ones for tests, stronger ones for deployments that can pay).
    pub fn with_params(
        m_kib: u32,
        t: u32,
        p: u32,
        max_concurrent: usize,
    ) -> Result<Self, PasswordError> {
        let params =
            Params::new(m_kib, t, p, None).map_err(|e| PasswordError::Argon2(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut this = Self {
            argon2,
            dummy: String::new(),
            permits: Semaphore::new(max_concurrent.max(1)),
        };
        this.dummy = this.hash(&to_hex(&random_bytes::<16>()))?;
        Ok(this)
    }

    /// A new PHC string with a fresh 16-byte random salt.
    pub fn hash(&self, password: &str) -> Result<String, PasswordError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(PasswordError::TooLong);
        }
        let salt = random_bytes::<16>();
        self.argon2
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| PasswordError::Argon2(e.to_string()))
    }

    /// Whether `password` matches `phc`; an error only when `phc` itself is unusable.
    /// The comparison of the outputs inside argon2 is constant-time.
    pub fn verify(&self, password: &str, phc: &str) -> Result<bool, PasswordError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Ok(false);
        }
        match self.argon2.verify_password(password.as_bytes(), phc) {
            Ok(()) => Ok(true),
            Err(PhcError::PasswordInvalid) => Ok(false),
            Err(e) => Err(PasswordError::BadHash(e)),
        }
    }

    /// Spend what a real verification spends, and fail.
    pub fn dummy_verify(&self, password: &str) -> bool {
        let _ = self.verify(password, &self.dummy);
        false
    }

    /// The login check: `stored` is the user's hash, `None` when no such user exists. Unknown
    /// users and unusable hashes get a dummy verification and `false`, so callers answer all
    /// three failures the same way, at the same cost.
    pub fn check(&self, password: &str, stored: Option<&str>) -> bool {
        let Some(phc) = stored else {
            return self.dummy_verify(password);
        };
        match self.verify(password, phc) {
            Ok(ok) => ok,
            Err(e) => {
                tracing::error!(error = %e, "cannot verify a stored password hash");
                self.dummy_verify(password)
            }
        }
    }

    /// [`hash`](Self::hash) off the event loop.
    pub async fn hash_async(self: &Arc<Self>, password: String) -> Result<String, PasswordError> {
        self.blocking(move |this| this.hash(&password)).await?
    }

    /// [`check`](Self::check) off the event loop; a failed task counts as a failed check.
    pub async fn verify_async(self: &Arc<Self>, password: String, stored: Option<String>) -> bool {
        self.blocking(move |this| this.check(&password, stored.as_deref()))
            .await
            .unwrap_or(false)
    }

    async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Self) -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        // The permit is held until the hash is done, bounding memory to max_concurrent × m.
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| PasswordError::Task)?;
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || f(&this))
            .await
            .map_err(|_| PasswordError::Task)
    }

    #[cfg(test)]
    pub(crate) fn dummy_hash(&self) -> &str {
        &self.dummy
    }
}

#[cfg(test)]
mod tests;
