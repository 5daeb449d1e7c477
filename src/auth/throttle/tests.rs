use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

const S: Duration = Duration::from_secs(1);

fn fail(t: &mut Throttle, key: &ThrottleKey, now: Instant, times: u32) {
    for _ in 0..times {
        t.failure_at(key.clone(), now);
    }
}

#[test]
fn delay_grows_after_the_free_failures_and_caps() {
    let mut t = Throttle::new(Policy::default());
    let key = ThrottleKey::account("ada@example.com");
    let now = Instant::now();
    fail(&mut t, &key, now, 3);
    assert_eq!(t.check_at(&key, now), None, "three free failures");
    let expected = [1, 2, 4, 8, 16, 32, 60, 60, 60];
    for secs in expected {
        t.failure_at(key.clone(), now);
        assert_eq!(t.check_at(&key, now), Some(secs * S));
    }
    fail(&mut t, &key, now, 100);
    assert_eq!(
        t.check_at(&key, now),
        Some(60 * S),
        "no overflow past the cap"
    );
}

#[test]
fn the_wait_runs_down_from_the_last_failure() {
    let mut t = Throttle::new(Policy::default());
    let key = ThrottleKey::client(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    let now = Instant::now();
    fail(&mut t, &key, now, 5); // 2 s
    assert_eq!(t.check_at(&key, now + S / 2), Some(S + S / 2));
    assert_eq!(t.check_at(&key, now + 2 * S), None);
}

#[test]
fn success_and_a_quiet_window_reset() {
    let mut t = Throttle::new(Policy::default());
    let key = ThrottleKey::account("ada@example.com");
    let now = Instant::now();
    fail(&mut t, &key, now, 10);
    assert!(t.check_at(&key, now).is_some());
    t.success(&key);
    assert_eq!(t.check_at(&key, now), None);
    assert!(t.is_empty());

    fail(&mut t, &key, now, 10);
    let later = now + Duration::from_secs(15 * 60);
    assert_eq!(t.check_at(&key, later), None);
    t.failure_at(key.clone(), later);
    assert_eq!(
        t.check_at(&key, later),
        None,
        "counting starts over after the window"
    );
}

#[test]
fn keys_are_independent_and_normalized() {
    let mut t = Throttle::new(Policy::default());
    let now = Instant::now();
    fail(&mut t, &ThrottleKey::account(" Ada@Example.COM "), now, 4);
    assert!(t
        .check_at(&ThrottleKey::account("ada@example.com"), now)
        .is_some());
    assert_eq!(
        t.check_at(&ThrottleKey::account("bob@example.com"), now),
        None
    );

    let a: Ipv6Addr = "2001:db8:1:2:aaaa::1".parse().unwrap();
    let b: Ipv6Addr = "2001:db8:1:2:bbbb::9".parse().unwrap();
    assert_eq!(
        ThrottleKey::client(a.into()),
        ThrottleKey::client(b.into()),
        "same /64"
    );
    let other: Ipv6Addr = "2001:db8:1:3::1".parse().unwrap();
    assert_ne!(
        ThrottleKey::client(a.into()),
        ThrottleKey::client(other.into())
    );
    let mapped: Ipv6Addr = "::ffff:192.0.2.1".parse().unwrap();
    let v4 = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    assert_eq!(ThrottleKey::client(mapped.into()), ThrottleKey::client(v4));
}

#[test]
fn the_map_stays_bounded_and_drops_the_oldest() {
    let policy = Policy {
        capacity: 64,
        ..Policy::default()
    };
    let mut t = Throttle::new(policy);
    let start = Instant::now();
    let victim = ThrottleKey::account("victim@example.com");
    for i in 0..10_000u32 {
        let now = start + Duration::from_millis(u64::from(i));
        if i == 9_990 {
            fail(&mut t, &victim, now, 5);
        }
        t.failure_at(ThrottleKey::client(IpAddr::V4(i.into())), now);
        assert!(t.len() <= 64);
    }
    assert!(
        t.check_at(&victim, start + Duration::from_secs(10))
            .is_some(),
        "recent kept"
    );
    let first = ThrottleKey::client(IpAddr::V4(0u32.into()));
    assert!(!t.records.contains_key(&first), "oldest dropped");
}

#[test]
fn expired_records_go_first_when_full() {
    let policy = Policy {
        capacity: 4,
        ..Policy::default()
    };
    let mut t = Throttle::new(policy);
    let now = Instant::now();
    for i in 0..4u32 {
        t.failure_at(ThrottleKey::client(IpAddr::V4(i.into())), now);
    }
    let later = now + Duration::from_secs(16 * 60);
    t.failure_at(ThrottleKey::account("new@example.com"), later);
    assert_eq!(t.len(), 1);
}

#[test]
fn core_throttle_wraps_one_core_state() {
    let t = CoreThrottle::new(Policy::default());
    let key = ThrottleKey::account("ada@example.com");
    for _ in 0..4 {
        t.failure(key.clone());
    }
    let wait = t.check(&key).unwrap();
    assert!(wait <= S && wait > S / 2, "{wait:?}");
    t.success(&key);
    assert_eq!(t.check(&key), None);
    assert!(t.is_empty());
}
