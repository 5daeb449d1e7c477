//! Session token verification and the role check, the auth cost of every authenticated
//! request (the target for both together is 5 µs on one core). HS256 is the default;
//! ES256 is the asymmetric option to compare with. Signing is measured too, as it is paid once
//! per login or refresh, and so is a password check at the OWASP cost, for a known user and for
//! an unknown one (the dummy verification), which should take the same time.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use percore::auth::access::{
    verb, AccessSnapshot, App, Decision, FilterOp, Requestor, Role, RoleServiceAccess, ServerFilter,
};
use percore::auth::jwt::{Claims, KeySet};
use percore::auth::keys::{KeyAlg, SigningKey};
use percore::auth::password::Passwords;
use percore::http::Method;

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

/// 50 roles of 20 rows each, spread over five services at every precedence level, some with
/// server-side filters: a large deployment's worth, so the lookup is not flattered by a tiny
/// table.
/// The rules of 50 roles and 1000 apps, and one of the apps' keys.
fn access_snapshot() -> (AccessSnapshot, String) {
    const ROLES: i64 = 50;
    let roles = (1..=ROLES)
        .map(|id| Role {
            id,
            name: format!("role{id}"),
            is_active: true,
        })
        .collect();
    let mut rows = Vec::new();
    for role_id in 1..=ROLES {
        let mut row = |service: Option<String>, component: &str, verb_mask, owned: bool| {
            let filters = if owned {
                vec![
                    ServerFilter {
                        name: "owner_id".into(),
                        operator: "=".into(),
                        value: "{user.id}".into(),
                    },
                    ServerFilter {
                        name: "status".into(),
                        operator: "!=".into(),
                        value: "archived".into(),
                    },
                ]
            } else {
                vec![]
            };
            rows.push(RoleServiceAccess {
                role_id,
                service,
                component: component.into(),
                verb_mask,
                requestor_mask: 3,
                filters,
                filter_op: FilterOp::And,
            });
        };
        row(None, "", verb::GET, false);
        for s in 0..5 {
            let svc = || {
                Some(if s == 0 {
                    "db".to_string()
                } else {
                    format!("db{s}")
                })
            };
            row(svc(), "*", verb::GET, false);
            row(svc(), "_table/*", verb::GET | verb::POST, s == 0);
            row(svc(), &format!("_table/t{s}"), verb::ALL, s % 2 == 0);
        }
        for (component, mask) in [("_schema/*", verb::GET), ("_table/contact", verb::ALL)] {
            row(
                Some("db".into()),
                component,
                mask,
                component == "_table/contact",
            );
        }
        for t in 0..2 {
            row(
                Some("db".into()),
                &format!("_table/item{t}"),
                verb::GET,
                true,
            );
        }
    }
    // 1000 apps, as a platform serving many client apps would hold.
    let apps: Vec<App> = (1..=1000)
        .map(|id| App {
            id,
            name: format!("app{id}"),
            api_key: percore::auth::api_key::generate(),
            role_id: Some(id % ROLES + 1),
            is_active: true,
        })
        .collect();
    let key = apps[499].api_key.clone();
    (
        AccessSnapshot::compile(roles, rows, apps).expect("bench rules compile"),
        key,
    )
}

fn verify_and_check(c: &mut Criterion) {
    let (snapshot, app_key) = access_snapshot();
    let keys = KeySet::generate_hs256();
    let token = keys.sign(&claims());
    let request = |token: &str, resource: &str| {
        let claims = keys.verify(token).expect("a valid token");
        let role_id = claims.role_id.expect("a role");
        match snapshot.check(role_id, "db", resource, Method::Get, Requestor::Api) {
            Decision::Allow { filter } => filter.is_some(),
            Decision::Deny(reason) => panic!("{reason}"),
        }
    };
    assert!(request(&token, "_table/contact/5"));
    let mut g = c.benchmark_group("verify + role check");
    g.bench_function("HS256, exact component with filters", |b| {
        b.iter(|| request(black_box(&token), black_box("_table/contact/5")))
    });
    g.bench_function("HS256, falls through to service *", |b| {
        b.iter(|| request(black_box(&token), black_box("_proc/report")))
    });
    // The API-key path (a mobile or IoT client with no session): key -> app -> role -> check.
    let app_key = app_key.as_str();
    g.bench_function("API key lookup + role check", |b| {
        b.iter(|| {
            let app = snapshot.app_by_key(black_box(app_key)).expect("an app");
            snapshot.check(
                app.role_id.expect("a role"),
                black_box("db"),
                black_box("_table/contact/5"),
                Method::Get,
                Requestor::Api,
            )
        })
    });
    g.bench_function("role check alone", |b| {
        b.iter(|| {
            snapshot.check(
                black_box(12),
                black_box("db"),
                black_box("_table/contact/5"),
                Method::Get,
                Requestor::Api,
            )
        })
    });
    g.finish();
}

criterion_group!(benches, verify, sign, password, verify_and_check);
criterion_main!(benches);
