//! Session tokens: claims, signing and verification.
//!
//! Verification picks the key by the header's `kid` and then requires the header's `alg` to be
//! that key's own algorithm; the header is never trusted to choose how it is checked. That one
//! rule refuses `alg: none`, HS/RS confusion (an HS256 token "signed" with the RSA public key as
//! the secret) and algorithm downgrades. Revocation (`jti` on the blacklist) is the caller's
//! check: it needs the system database, these primitives do not.
//!
//! Verification runs on every request, so it parses the header and the claims once each and
//! leaves only the signature to `jsonwebtoken::crypto::verify`: the crate's `decode` parses
//! the header three times and the claims twice (its own validation struct, then ours). The
//! checks of `decode` that apply to our tokens (`iss`, `exp` with leeway) are a few lines here.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use jsonwebtoken::{Algorithm, Header};
use serde::{Deserialize, Serialize};

use super::keys::{SigningKey, VerifyKey};
use super::{random_bytes, to_hex};

/// `iss` of every token percore signs; tokens of other issuers are refused.
pub const ISSUER: &str = "percore";

/// Default clock leeway for `exp`: enough for instances sharing a system DB with slightly
/// different clocks, short enough that a logged-out-by-expiry token dies promptly.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id as a string (JWT's subject is a string).
    pub sub: String,
    pub user_id: i64,
    pub email: String,
    pub is_sys_admin: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_id: Option<i64>,
    pub iat: u64,
    pub exp: u64,
    /// Random 128-bit id in hex: the handle for revoking this one token.
    pub jti: String,
    /// End of the refresh window (unix seconds): until then an expired token can be exchanged.
    pub rfx: u64,
    pub iss: String,
}

impl Claims {
    /// Claims for a new session starting now: valid for `ttl`, refreshable for `refresh_ttl`.
    pub fn new(
        user_id: i64,
        email: &str,
        is_sys_admin: bool,
        role_id: Option<i64>,
        ttl: Duration,
        refresh_ttl: Duration,
    ) -> Self {
        let now = unix_now();
        Self {
            sub: user_id.to_string(),
            user_id,
            email: email.to_string(),
            is_sys_admin,
            role_id,
            iat: now,
            exp: now.saturating_add(ttl.as_secs()),
            jti: new_jti(),
            rfx: now.saturating_add(refresh_ttl.as_secs()),
            iss: ISSUER.to_string(),
        }
    }

    /// The claims of the token that replaces this one on refresh: a new `jti` (so the old
    /// token can be revoked alone) and `exp`, but the same `rfx`. Keeping `rfx` bounds a
    /// session to the refresh window from its login; no chain of refreshes outlives it.
    pub fn refreshed(&self, ttl: Duration) -> Self {
        let now = unix_now();
        Self {
            iat: now,
            exp: now.saturating_add(ttl.as_secs()).min(self.rfx),
            jti: new_jti(),
            ..self.clone()
        }
    }
}

/// Why a token was refused. Both kinds are a 401 for DreamFactory; revoked (403) is decided by
/// the caller from `jti`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token expired")]
    Expired,
    #[error("invalid token: {0}")]
    Invalid(Invalid),
}

/// Detail of an invalid token, for logs and tests; clients see one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("malformed")]
    Malformed,
    #[error("algorithm not accepted for this key")]
    Algorithm,
    #[error("unknown or missing key id")]
    KeyId,
    #[error("bad signature")]
    Signature,
    #[error("claims missing, malformed or from another issuer")]
    Claims,
}

/// Tokens longer than this are refused unread; ours are about 400 bytes.
pub const MAX_TOKEN_LEN: usize = 4096;

/// The part of the header verification reads. serde refuses a duplicated field, so a header
/// cannot say one `alg` to us and another to some other parser.
#[derive(Deserialize)]
struct HeaderView<'a> {
    alg: Algorithm,
    #[serde(borrow)]
    kid: Option<Cow<'a, str>>,
}

/// The signing key and every key tokens may be verified with (the signing key first).
pub struct KeySet {
    signer: SigningKey,
    header: Header,
    verifiers: Vec<VerifyKey>,
    leeway: u64,
}

impl KeySet {
    pub fn new(signer: SigningKey) -> Self {
        let mut header = Header::new(signer.alg().jwt());
        header.kid = Some(signer.kid().to_string());
        let verifiers = vec![signer.public.clone()];
        Self {
            signer,
            header,
            verifiers,
            leeway: DEFAULT_LEEWAY.as_secs(),
        }
    }

    /// A key set with a fresh random HS256 secret (tokens die with the process).
    pub fn generate_hs256() -> Self {
        Self::new(SigningKey::generate_hs256())
    }

    /// Also accept tokens signed by `key` (e.g. the previous signing key, during rotation).
    pub fn with_verify_key(mut self, key: VerifyKey) -> Self {
        if !self.verifiers.iter().any(|v| v.kid == key.kid) {
            self.verifiers.push(key);
        }
        self
    }

    /// Clock leeway for `exp` (whole seconds).
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway.as_secs();
        self
    }

    pub fn signing_kid(&self) -> &str {
        self.signer.kid()
    }

    pub fn sign(&self, claims: &Claims) -> String {
        // Cannot fail: the key was checked when built (PEM keys by a probe signature) and the
        // claims are a plain struct that always serializes.
        jsonwebtoken::encode(&self.header, claims, &self.signer.key)
            .expect("signing with a validated key")
    }

    /// A token that is well-formed, correctly signed by a known key, from us, and not expired.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let claims = self.check(token)?;
        if claims.exp.saturating_add(self.leeway) < unix_now() {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// Like [`verify`](Self::verify) but accepts an expired token until its refresh window
    /// (`rfx`) ends: the check for PUT on a session.
    pub fn verify_for_refresh(&self, token: &str) -> Result<Claims, TokenError> {
        let claims = self.check(token)?;
        if unix_now() >= claims.rfx {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// Everything but expiry: shape, key, algorithm, signature, then the claims and issuer.
    fn check(&self, token: &str) -> Result<Claims, TokenError> {
        use TokenError::Invalid as Bad;
        if token.len() > MAX_TOKEN_LEN {
            return Err(Bad(Invalid::Malformed));
        }
        let mut parts = token.split('.');
        let (Some(header64), Some(payload64), Some(signature64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Bad(Invalid::Malformed));
        };
        let header_json = B64.decode(header64).map_err(|_| Bad(Invalid::Malformed))?;
        // An `alg` outside jsonwebtoken's list ("none" among them) fails to parse here.
        let header: HeaderView<'_> =
            serde_json::from_slice(&header_json).map_err(|_| Bad(Invalid::Malformed))?;
        let key = match header.kid.as_deref() {
            Some(kid) => self.verifiers.iter().find(|v| v.kid == kid),
            // No kid: only unambiguous with a single key (tokens from before rotation began).
            None if self.verifiers.len() == 1 => self.verifiers.first(),
            None => None,
        }
        .ok_or(Bad(Invalid::KeyId))?;
        if header.alg != key.alg.jwt() {
            return Err(Bad(Invalid::Algorithm));
        }
        let signed = &token.as_bytes()[..header64.len() + 1 + payload64.len()];
        match jsonwebtoken::crypto::verify(signature64, signed, &key.key, header.alg) {
            Ok(true) => {}
            Ok(false) => return Err(Bad(Invalid::Signature)),
            Err(_) => return Err(Bad(Invalid::Malformed)),
        }
        // Only now, with the signature good, is the payload worth parsing.
        let payload = B64.decode(payload64).map_err(|_| Bad(Invalid::Malformed))?;
        let claims: Claims = serde_json::from_slice(&payload).map_err(|_| Bad(Invalid::Claims))?;
        if claims.iss != ISSUER {
            return Err(Bad(Invalid::Claims));
        }
        Ok(claims)
    }
}

fn new_jti() -> String {
    to_hex(&random_bytes::<16>())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests;
