//! The token rules, attack cases first.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use super::*;
use crate::auth::keys::{KeyAlg, SigningKey};

const RSA_PRIVATE: &[u8] = include_bytes!("../testdata/rsa_private.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("../testdata/rsa_public.pem");
const EC_PRIVATE: &[u8] = include_bytes!("../testdata/ec_private.pem");
const EC_PUBLIC: &[u8] = include_bytes!("../testdata/ec_public.pem");

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

fn claims() -> Claims {
    Claims::new(7, "ada@example.com", false, Some(3), HOUR, DAY)
}

fn rsa_keys() -> KeySet {
    KeySet::new(SigningKey::from_pem(KeyAlg::RS256, RSA_PRIVATE, RSA_PUBLIC).unwrap())
}

fn ec_keys() -> KeySet {
    KeySet::new(SigningKey::from_pem(KeyAlg::ES256, EC_PRIVATE, EC_PUBLIC).unwrap())
}

fn invalid(detail: Invalid) -> Result<Claims, TokenError> {
    Err(TokenError::Invalid(detail))
}

fn now() -> u64 {
    unix_now()
}

#[test]
fn round_trips_with_each_algorithm() {
    for keys in [KeySet::generate_hs256(), rsa_keys(), ec_keys()] {
        let c = claims();
        assert_eq!(keys.verify(&keys.sign(&c)), Ok(c.clone()));
    }
}

#[test]
fn claims_carry_the_session() {
    let c = claims();
    assert_eq!((c.sub.as_str(), c.user_id, c.role_id), ("7", 7, Some(3)));
    assert_eq!(c.iss, "percore");
    assert_eq!(c.jti.len(), 32, "128 bits in hex");
    assert_ne!(c.jti, claims().jti);
    assert_eq!((c.exp - c.iat, c.rfx - c.iat), (3600, 86_400));
}

#[test]
fn alg_none_is_refused() {
    let keys = KeySet::generate_hs256();
    let payload = keys.sign(&claims()).split('.').nth(1).unwrap().to_string();
    // {"alg":"none","typ":"JWT"}, with and without the empty signature part.
    let header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        assert!(
            matches!(keys.verify(&token), Err(TokenError::Invalid(_))),
            "{token}"
        );
        assert!(matches!(
            keys.verify_for_refresh(&token),
            Err(TokenError::Invalid(_))
        ));
    }
}

#[test]
fn hs256_signed_with_the_rsa_public_key_is_refused() {
    let keys = rsa_keys();
    let forged_key = EncodingKey::from_secret(RSA_PUBLIC);
    let mut with_kid = Header::new(Algorithm::HS256);
    with_kid.kid = Some(keys.signing_kid().to_string());
    let without_kid = Header::new(Algorithm::HS256);
    for header in [with_kid, without_kid] {
        let forged = jsonwebtoken::encode(&header, &claims(), &forged_key).unwrap();
        assert_eq!(keys.verify(&forged), invalid(Invalid::Algorithm));
        assert_eq!(
            keys.verify_for_refresh(&forged),
            invalid(Invalid::Algorithm)
        );
    }
}

#[test]
fn a_token_of_another_algorithm_under_a_known_kid_is_refused() {
    // Correctly signed with RS256, but labelled with the ES256 key's id.
    let keys = ec_keys();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(keys.signing_kid().to_string());
    let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap();
    let relabelled = jsonwebtoken::encode(&header, &claims(), &rsa).unwrap();
    assert_eq!(keys.verify(&relabelled), invalid(Invalid::Algorithm));
}

#[test]
fn a_tampered_payload_is_refused() {
    let keys = KeySet::generate_hs256();
    let token = keys.sign(&claims());
    let mut admin = claims();
    admin.is_sys_admin = true;
    // The payload of a token the attacker signed with a key of their own, spliced between our
    // header and our signature.
    let theirs = KeySet::generate_hs256().sign(&admin);
    let parts: Vec<&str> = token.split('.').collect();
    let evil_payload = theirs.split('.').nth(1).unwrap();
    let spliced = format!("{}.{}.{}", parts[0], evil_payload, parts[2]);
    assert_eq!(keys.verify(&spliced), invalid(Invalid::Signature));
    assert_eq!(
        keys.verify_for_refresh(&spliced),
        invalid(Invalid::Signature)
    );
    // A changed signature fails the same way.
    let mut sig = parts[2].to_string();
    sig.replace_range(0..1, if sig.starts_with('A') { "B" } else { "A" });
    let resigned = format!("{}.{}.{}", parts[0], parts[1], sig);
    assert_eq!(keys.verify(&resigned), invalid(Invalid::Signature));
}

/// `header` (JSON) glued to the payload and signature of `token`.
fn with_header(token: &str, header: &str) -> String {
    let (_, rest) = token.split_once('.').unwrap();
    format!("{}.{rest}", B64.encode(header))
}

#[test]
fn alg_none_with_our_kid_and_duplicated_algs_are_refused() {
    let keys = KeySet::generate_hs256();
    let token = keys.sign(&claims());
    let kid = keys.signing_kid();
    for header in [
        format!(r#"{{"alg":"none","kid":"{kid}"}}"#),
        format!(r#"{{"alg":"HS256","alg":"none","kid":"{kid}"}}"#),
        format!(r#"{{"alg":"none","alg":"HS256","kid":"{kid}"}}"#),
        format!(r#"{{"kid":"{kid}"}}"#),
    ] {
        let forged = with_header(&token, &header);
        assert_eq!(
            keys.verify(&forged),
            invalid(Invalid::Malformed),
            "{header}"
        );
    }
    // Re-encoding the same header fields in another order keeps the fields but not the
    // signature.
    let reordered = with_header(
        &token,
        &format!(r#"{{"kid":"{kid}","typ":"JWT","alg":"HS256"}}"#),
    );
    assert_eq!(keys.verify(&reordered), invalid(Invalid::Signature));
}

#[test]
fn signed_claims_of_the_wrong_shape_are_refused() {
    #[derive(serde::Serialize)]
    struct Partial {
        sub: &'static str,
        exp: u64,
        iss: &'static str,
    }
    let secret = crate::auth::keys::generate_secret();
    let keys = KeySet::new(SigningKey::hs256(&secret).unwrap());
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(keys.signing_kid().to_string());
    let partial = Partial {
        sub: "7",
        exp: now() + 60,
        iss: ISSUER,
    };
    let token =
        jsonwebtoken::encode(&header, &partial, &EncodingKey::from_secret(&secret)).unwrap();
    assert_eq!(keys.verify(&token), invalid(Invalid::Claims));
}

#[test]
fn garbage_is_malformed() {
    let keys = KeySet::generate_hs256();
    let good = keys.sign(&claims());
    let long = format!("{good}{}", "A".repeat(MAX_TOKEN_LEN));
    let four = format!("{good}.x");
    let padded = format!("{good}=");
    for token in [
        "",
        "abc",
        "a.b.c",
        "..",
        "eyJ9.eyJ9.eyJ9",
        &long,
        &four,
        &padded,
    ] {
        assert!(
            matches!(keys.verify(token), Err(TokenError::Invalid(_))),
            "{token:?}"
        );
    }
}

#[test]
fn expired_tokens_are_refused_after_the_leeway() {
    let keys = KeySet::generate_hs256();
    let mut c = claims();
    c.exp = now() - 2;
    let token = keys.sign(&c);
    assert_eq!(
        keys.verify(&token),
        Ok(c.clone()),
        "inside the default 5 s leeway"
    );
    let strict = KeySet::generate_hs256().with_leeway(Duration::ZERO);
    assert_eq!(strict.verify(&strict.sign(&c)), Err(TokenError::Expired));
    c.exp = now() - 60;
    assert_eq!(keys.verify(&keys.sign(&c)), Err(TokenError::Expired));
}

#[test]
fn unknown_and_missing_kids() {
    let old = SigningKey::generate_hs256();
    let keys = KeySet::generate_hs256();
    let stranger = KeySet::new(old.clone()).sign(&claims());
    assert_eq!(keys.verify(&stranger), invalid(Invalid::KeyId));

    // Rotation: the old key verifies, the new one signs.
    let rotated = KeySet::generate_hs256().with_verify_key(old.public.clone());
    assert!(rotated.verify(&stranger).is_ok());

    // Without a kid a lone key is unambiguous, two keys are not.
    let secret = crate::auth::keys::generate_secret();
    let lone = KeySet::new(SigningKey::hs256(&secret).unwrap());
    let no_kid = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &EncodingKey::from_secret(&secret),
    )
    .unwrap();
    assert!(lone.verify(&no_kid).is_ok());
    let two = lone.with_verify_key(old.public);
    assert_eq!(two.verify(&no_kid), invalid(Invalid::KeyId));
}

#[test]
fn another_issuer_is_refused() {
    let keys = KeySet::generate_hs256();
    let mut c = claims();
    c.iss = "dreamfactory".into();
    assert_eq!(keys.verify(&keys.sign(&c)), invalid(Invalid::Claims));
}

#[test]
fn refresh_accepts_expired_tokens_inside_the_window_only() {
    let keys = KeySet::generate_hs256();
    let mut c = claims();
    c.exp = now() - 3600;
    c.rfx = now() + 3600;
    let token = keys.sign(&c);
    assert_eq!(keys.verify(&token), Err(TokenError::Expired));
    assert_eq!(keys.verify_for_refresh(&token), Ok(c.clone()));

    c.rfx = now() - 1;
    assert_eq!(
        keys.verify_for_refresh(&keys.sign(&c)),
        Err(TokenError::Expired)
    );

    // A live token refreshes too.
    let live = claims();
    assert!(keys.verify_for_refresh(&keys.sign(&live)).is_ok());
}

#[test]
fn refreshed_claims_keep_the_window() {
    let c = claims();
    let r = c.refreshed(HOUR);
    assert_ne!(r.jti, c.jti);
    assert_eq!((r.rfx, r.user_id, &r.email), (c.rfx, c.user_id, &c.email));
    let near_end = Claims {
        rfx: now() + 10,
        ..c
    };
    assert_eq!(
        near_end.refreshed(HOUR).exp,
        near_end.rfx,
        "no token outlives the window"
    );
}
