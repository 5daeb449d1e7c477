//! Session token verification, the part of every authenticated request's auth cost that is
//! known today (the role check joins it later; the target for both is 5 µs on one
//! core). HS256 is the default; ES256 is the asymmetric option to compare with. Signing is
//! measured too, as it is paid once per login or refresh, and so is a password check at the
//! OWASP cost, for a known user and for an unknown one (the dummy verification), which should
//! take the same time.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use percore::auth::jwt::{Claims, KeySet};
use percore::auth::keys::{KeyAlg, SigningKey};
use percore::auth::password::Passwords;

const EC_PRIVATE: &[u8] = include_bytes!("../../src/auth/testdata/ec_private.pem");
const EC_PUBLIC: &[u8] = include_bytes!("../../src/auth/testdata/ec_public.pem");

fn claims() -> Claims {
    let day = Duration::from_secs(86_400);
    Claims::new(
        4711,
        "grace.hopper@example.com",
        false,
        Some(12),
        day,
        14 * day,
    )
}

fn key_sets() -> [(&'static str, KeySet); 2] {
    let es256 = SigningKey::from_pem(KeyAlg::ES256, EC_PRIVATE, EC_PUBLIC).expect("test key");
    [
        ("HS256", KeySet::generate_hs256()),
        ("ES256", KeySet::new(es256)),
    ]
}

fn verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("JWT verification");
    for (name, keys) in key_sets() {
        let token = keys.sign(&claims());
        keys.verify(&token).expect("a valid token");
        g.bench_function(name, |b| b.iter(|| keys.verify(black_box(&token))));
    }
    g.finish();
}

fn sign(c: &mut Criterion) {
    let mut g = c.benchmark_group("JWT signing");
    let claims = claims();
    for (name, keys) in key_sets() {
        g.bench_function(name, |b| b.iter(|| keys.sign(black_box(&claims))));
    }
    g.finish();
}

fn password(c: &mut Criterion) {
    let passwords = Passwords::new(1);
    let stored = passwords
        .hash("correct horse battery staple")
        .expect("hash");
    let mut g = c.benchmark_group("password check (argon2id m=19456 t=2 p=1)");
    g.sample_size(10).measurement_time(Duration::from_secs(4));
    g.bench_function("known user, wrong password", |b| {
        b.iter(|| passwords.check(black_box("wrong"), Some(&stored)))
    });
    g.bench_function("unknown user", |b| {
        b.iter(|| passwords.check(black_box("wrong"), None))
    });
    g.finish();
}

criterion_group!(benches, verify, sign, password);
criterion_main!(benches);
