use std::sync::Arc;

use super::*;

/// Cheap parameters: the rules under test do not depend on the cost, and debug-build argon2
/// at OWASP's cost takes seconds.
fn cheap() -> Passwords {
    Passwords::with_params(256, 1, 1, 2).unwrap()
}

#[test]
fn hashes_verify_and_are_salted() {
    let p = cheap();
    let a = p.hash("correct horse").unwrap();
    let b = p.hash("correct horse").unwrap();
    assert!(a.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{a}");
    assert_ne!(a, b, "a fresh salt per hash");
    assert!(p.verify("correct horse", &a).unwrap());
    assert!(!p.verify("correct horsE", &a).unwrap());
    assert!(p.check("correct horse", Some(&b)));
}

#[test]
fn owasp_parameters_are_the_default() {
    let p = Passwords::new(1);
    let h = p.hash("pw").unwrap();
    assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
    assert!(p.verify("pw", &h).unwrap());
}

#[test]
fn unknown_user_and_wrong_password_fail_alike() {
    let p = cheap();
    let stored = p.hash("right").unwrap();
    assert!(!p.check("wrong", Some(&stored)));
    assert!(!p.check("wrong", None));
    assert!(!p.check("right", None), "even the right password of nobody");
    // Same cost: the dummy is a real hash with the same parameters, so the unknown-user path
    // runs the same argon2 computation as the wrong-password path.
    let params = |h: &str| h.split('$').nth(3).unwrap().to_string();
    assert_eq!(params(p.dummy_hash()), params(&stored));
}

#[test]
fn a_corrupt_stored_hash_fails_like_a_wrong_password() {
    let p = cheap();
    assert!(matches!(
        p.verify("pw", "not a hash"),
        Err(PasswordError::BadHash(_))
    ));
    assert!(!p.check("pw", Some("not a hash")));
    // DreamFactory's own bcrypt hashes are not argon2: refused, not crashed on.
    assert!(!p.check(
        "pw",
        Some("$2y$10$abcdefghijklmnopqrstuu5Y7lXkIjCzu1nN7oAvKJ0Yf0Q3x7f6e")
    ));
}

#[test]
fn overlong_passwords_are_refused() {
    let p = cheap();
    let long = "x".repeat(MAX_PASSWORD_BYTES + 1);
    assert!(matches!(p.hash(&long), Err(PasswordError::TooLong)));
    let h = p.hash("x").unwrap();
    assert!(!p.verify(&long, &h).unwrap());
}

#[tokio::test]
async fn async_wrappers_run_off_the_event_loop() {
    let p = Arc::new(cheap());
    let h = p.hash_async("secret".into()).await.unwrap();
    assert!(p.verify_async("secret".into(), Some(h.clone())).await);
    assert!(!p.verify_async("nope".into(), Some(h)).await);
    assert!(!p.verify_async("secret".into(), None).await);
    // More concurrent checks than permits still all complete.
    let runs = (0..5).map(|_| {
        let p = Arc::clone(&p);
        tokio::spawn(async move { p.verify_async("a".into(), None).await })
    });
    for run in runs.collect::<Vec<_>>() {
        assert!(!run.await.unwrap());
    }
}
