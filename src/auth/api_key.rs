//! App API keys: 32 random bytes as 64 lower-case hex characters, DreamFactory's format, so
//! keys moved over from a DreamFactory instance keep working.
//!
//! Comparing a presented key with a stored one must not stop at the first differing byte, or
//! response times would let a client find a key one character at a time; [`matches`] takes the
//! same time wherever the difference is. Looking keys up by the key itself in a hash map has a
//! similar, smaller leak, so an index should be keyed by [`fingerprint`] (whose bytes a client
//! cannot steer) and the hit confirmed with [`matches`].

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{random_bytes, to_hex};

/// Length of a key in characters.
pub const KEY_LEN: usize = 64;

/// A new API key.
pub fn generate() -> String {
    to_hex(&random_bytes::<32>())
}

/// Whether `presented` equals `stored`, in time independent of where they differ. Lengths
/// are not secret (every key has 64 characters), so a length mismatch may return early.
pub fn matches(presented: &str, stored: &str) -> bool {
    presented.as_bytes().ct_eq(stored.as_bytes()).into()
}

/// A cheap shape check before any lookup: 64 hex digits.
pub fn is_well_formed(key: &str) -> bool {
    key.len() == KEY_LEN && key.bytes().all(|b| b.is_ascii_hexdigit())
}

/// SHA-256 of the key, the lookup key for an index of apps by API key.
pub fn fingerprint(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_dreamfactorys_shape_and_differ() {
        let a = generate();
        assert_eq!(a.len(), 64);
        assert!(is_well_formed(&a));
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_ne!(a, generate());
    }

    #[test]
    fn matching_is_exact() {
        let k = generate();
        assert!(matches(&k, &k.clone()));
        let mut last_differs = k.clone();
        let flipped = if k.ends_with('0') { "1" } else { "0" };
        last_differs.replace_range(63.., flipped);
        assert!(!matches(&last_differs, &k));
        assert!(!matches(&k[..63], &k));
        assert!(!matches("", &k));
        assert!(!matches(&k.to_uppercase(), &k) || k.bytes().all(|b| b.is_ascii_digit()));
    }

    #[test]
    fn shape_check_refuses_other_strings() {
        assert!(!is_well_formed("short"));
        assert!(!is_well_formed(&"g".repeat(64)));
        assert!(
            is_well_formed(&"A".repeat(64)),
            "DreamFactory keys may be upper-case"
        );
    }

    #[test]
    fn fingerprints_are_stable_and_distinct() {
        let k = generate();
        assert_eq!(fingerprint(&k), fingerprint(&k.clone()));
        assert_ne!(fingerprint(&k), fingerprint(&generate()));
    }
}
