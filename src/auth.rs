//! Authentication primitives: session tokens, password hashes, login throttling and API keys.
//!
//! These are the self-contained building blocks; the system database, the session endpoints and
//! the per-request role check sit on top of them and own all I/O except the secret files.
//!
//! - [`jwt`]: session tokens (DreamFactory's `session_token`). A [`jwt::KeySet`] signs with one
//!   key and verifies with any of several, each named by a `kid`, so keys rotate by adding the
//!   new one and keeping the old for verification until its tokens expire. Each key verifies
//!   only its own algorithm: that pinning, not the header's `alg`, is what stops `alg: none` and
//!   HS/RS key confusion.
//! - [`keys`]: building keys (HS256 secrets, RS256/ES256 PEM files), key ids derived from the
//!   key itself (no bookkeeping on rotation) and the generated secret file, written 0600.
//! - [`password`]: argon2id hashes in PHC format, a dummy verification so an unknown user costs
//!   as much as a wrong password, and async wrappers that keep the ~20 ms of hashing off a core's
//!   event loop.
//! - [`throttle`]: growing delays after failed logins, per account and per client address, kept
//!   per core without locks and bounded in size.
//! - [`api_key`]: app API keys in DreamFactory's shape (64 hex chars) and their constant-time
//!   comparison.
//!
//! Each file has its own error type: their failures mean different things to the caller (a bad
//! token is a 401, a bad key file stops start-up, a malformed stored hash is a data problem).

pub mod access;
pub mod api_key;
pub mod authz;
pub mod jwt;
pub mod keys;
pub mod password;
pub mod throttle;

/// `N` bytes from the operating system's CSPRNG.
///
/// Panics if the OS has no randomness to give: every caller needs unguessable bytes (session
/// ids, secrets, API keys) and none has a safe fallback, so carrying on would be worse.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system's random number generator failed");
    buf
}

/// Lower-case hex, the encoding DreamFactory uses for API keys and we use for ids and secrets.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// Inverse of [`to_hex`], accepting either case; `None` on odd length or a non-hex digit.
pub(crate) fn from_hex(s: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let s = s.as_bytes();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.chunks_exact(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let bytes = [0x00, 0x7f, 0x80, 0xff, 0x12];
        assert_eq!(to_hex(&bytes), "007f80ff12");
        assert_eq!(from_hex("007F80ff12").unwrap(), bytes);
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("zz"), None);
    }

    #[test]
    fn random_bytes_differ() {
        assert_ne!(random_bytes::<16>(), random_bytes::<16>());
    }
}
