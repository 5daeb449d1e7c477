//! Token keys: HS256 secrets and RS256/ES256 PEM keys, their key ids, and the generated secret
//! file.
//!
//! A key id is the first 8 bytes of the SHA-256 of the public key material (the secret itself
//! for HS256), in hex. Every instance that loads the same key derives the same id, so rotation
//! needs no registry: add the new key as the signer, keep the old one as a verification key
//! until its tokens have expired, then drop it. Publishing a hash prefix of an HS256 secret
//! gives an attacker nothing a signed token does not already give (an offline guessing target).

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{from_hex, random_bytes, to_hex};

/// RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
pub const MIN_SECRET_LEN: usize = 32;

/// The signing algorithms percore accepts. Others (HS384, PS256, EdDSA, ...) are left out on
/// purpose: every extra algorithm is one more thing a verifier must refuse correctly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyAlg {
    HS256,
    RS256,
    ES256,
}

impl KeyAlg {
    pub(crate) fn jwt(self) -> Algorithm {
        match self {
            KeyAlg::HS256 => Algorithm::HS256,
            KeyAlg::RS256 => Algorithm::RS256,
            KeyAlg::ES256 => Algorithm::ES256,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: expected a hex-encoded secret of at least {MIN_SECRET_LEN} bytes", path.display())]
    SecretFile { path: PathBuf },
    #[error("an HS256 secret must be at least {MIN_SECRET_LEN} bytes, this one has {0}")]
    WeakSecret(usize),
    #[error("not a valid {alg:?} PEM key: {source}")]
    Pem {
        alg: KeyAlg,
        source: jsonwebtoken::errors::Error,
    },
    #[error("HS256 uses a secret, not PEM files")]
    NotPem,
    #[error("the private and public key do not form a pair")]
    Mismatch,
}

/// A key that verifies tokens: an HS256 secret or an RS256/ES256 public key.
#[derive(Clone)]
pub struct VerifyKey {
    pub(crate) kid: String,
    pub(crate) alg: KeyAlg,
    pub(crate) key: DecodingKey,
}

impl VerifyKey {
    pub fn hs256(secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(KeyError::WeakSecret(secret.len()));
        }
        let key = DecodingKey::from_secret(secret);
        Ok(Self {
            kid: key_id(secret),
            alg: KeyAlg::HS256,
            key,
        })
    }

    /// A public key in PEM (`BEGIN PUBLIC KEY`, or `BEGIN RSA PUBLIC KEY` for RS256).
    pub fn from_public_pem(alg: KeyAlg, pem: &[u8]) -> Result<Self, KeyError> {
        let key = match alg {
            KeyAlg::HS256 => return Err(KeyError::NotPem),
            KeyAlg::RS256 => DecodingKey::from_rsa_pem(pem),
            KeyAlg::ES256 => DecodingKey::from_ec_pem(pem),
        }
        .map_err(|source| KeyError::Pem { alg, source })?;
        // The decoded key bytes, not the PEM text: line endings or a PKCS#1 vs SPKI wrapper
        // must not change the id of the same key.
        Ok(Self {
            kid: key_id(key.as_bytes()),
            alg,
            key,
        })
    }

    pub fn from_public_pem_file(alg: KeyAlg, path: &Path) -> Result<Self, KeyError> {
        Self::from_public_pem(alg, &read(path)?)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> KeyAlg {
        self.alg
    }
}

/// The key new tokens are signed with, with its verifying half (which names it: the `kid`).
#[derive(Clone)]
pub struct SigningKey {
    pub(crate) key: EncodingKey,
    pub(crate) public: VerifyKey,
}

impl SigningKey {
    pub fn hs256(secret: &[u8]) -> Result<Self, KeyError> {
        let public = VerifyKey::hs256(secret)?;
        Ok(Self {
            key: EncodingKey::from_secret(secret),
            public,
        })
    }

    /// A fresh random HS256 key, for tests and for runs with nowhere to keep a secret.
    pub fn generate_hs256() -> Self {
        Self::hs256(&generate_secret()).expect("a generated secret has the minimum length")
    }

    /// A PKCS#8 private key (`BEGIN PRIVATE KEY`; PKCS#1 also works for RS256) and its public
    /// key. Both are needed: the public half names the key and verifies our own tokens, and
    /// deriving it from the private key would need the curve/RSA crates directly.
    pub fn from_pem(alg: KeyAlg, private_pem: &[u8], public_pem: &[u8]) -> Result<Self, KeyError> {
        let key = match alg {
            KeyAlg::HS256 => return Err(KeyError::NotPem),
            KeyAlg::RS256 => EncodingKey::from_rsa_pem(private_pem),
            KeyAlg::ES256 => EncodingKey::from_ec_pem(private_pem),
        }
        .map_err(|source| KeyError::Pem { alg, source })?;
        let signing = Self {
            key,
            public: VerifyKey::from_public_pem(alg, public_pem)?,
        };
        // Two files configured by hand can easily not match; find out now, not from every
        // login failing.
        let probe = b"percore key pair probe";
        let sig = jsonwebtoken::crypto::sign(probe, &signing.key, alg.jwt())
            .map_err(|source| KeyError::Pem { alg, source })?;
        match jsonwebtoken::crypto::verify(&sig, probe, &signing.public.key, alg.jwt()) {
            Ok(true) => Ok(signing),
            _ => Err(KeyError::Mismatch),
        }
    }

    pub fn from_pem_files(alg: KeyAlg, private: &Path, public: &Path) -> Result<Self, KeyError> {
        Self::from_pem(alg, &read(private)?, &read(public)?)
    }

    pub fn kid(&self) -> &str {
        &self.public.kid
    }

    pub fn alg(&self) -> KeyAlg {
        self.public.alg
    }
}

/// `kid` for key material: first 8 bytes of its SHA-256, hex.
pub fn key_id(material: &[u8]) -> String {
    to_hex(&Sha256::digest(material)[..8])
}

/// 32 random bytes: an HS256 secret as long as the hash, per RFC 7518.
pub fn generate_secret() -> [u8; 32] {
    random_bytes()
}

/// The HS256 secret kept at `path` (hex), created with mode 0600 on first start.
///
/// The new secret is written to a temporary file and hard-linked into place, so the file at
/// `path` is always complete and two instances starting at once on a shared data directory
/// cannot each keep their own secret: the link of the second fails and it reads the first's.
/// An existing file that is not a valid secret is an error rather than being replaced, which
/// would log everyone out.
pub fn load_or_create_secret(path: &Path) -> Result<Vec<u8>, KeyError> {
    let io_err = |path: &Path, source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    if !path.exists() {
        let secret = generate_secret();
        let tmp = path.with_extension(format!("tmp-{}", to_hex(&random_bytes::<4>())));
        let written = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .and_then(|mut file| {
                file.write_all(format!("{}\n", to_hex(&secret)).as_bytes())?;
                file.sync_all()
            });
        let linked = written.and_then(|()| fs::hard_link(&tmp, path));
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => return Ok(secret.to_vec()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_err(path, e)),
        }
    }
    let text = fs::read_to_string(path).map_err(|e| io_err(path, e))?;
    let secret = from_hex(text.trim())
        .filter(|s| s.len() >= MIN_SECRET_LEN)
        .ok_or_else(|| KeyError::SecretFile {
            path: path.to_path_buf(),
        })?;
    if let Ok(meta) = fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "the JWT secret file is readable by others");
        }
    }
    Ok(secret)
}

fn read(path: &Path) -> Result<Vec<u8>, KeyError> {
    fs::read(path).map_err(|source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests;
