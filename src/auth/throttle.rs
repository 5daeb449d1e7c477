//! Login failure throttling: a growing delay per account and per client address.
//!
//! After `free` failures (3) each further failure doubles the wait before the next attempt is
//! evaluated: 1 s, 2 s, 4 s, ... capped at 60 s. A key's record is forgotten after a quiet
//! `window` (15 min since its last failure) and cleared by a successful login. The delay is a
//! brake, not a lockout, so an attacker failing on purpose cannot lock a victim out for long.
//!
//! A login should clear the account's record on success but leave the client's: clearing the
//! client's too would let an attacker holding one valid account reset its address's delay by
//! logging in between guesses at other accounts.
//!
//! This is the per-core version: each core owns a [`CoreThrottle`] (a `RefCell` around a
//! `HashMap`, no locks or atomics on the login path). A client spread over several cores by
//! `SO_REUSEPORT` gets at most one set of free attempts per core, which still turns an online
//! guessing attack from thousands of tries a second into about one a minute per core. The
//! cross-core and cross-instance version keeps the same records in the system database.
//!
//! The map is bounded: when full it first drops expired records, then the oldest eighth, so
//! spraying addresses costs a scan per `capacity / 8` new keys rather than unbounded memory.
//! Pushing a real account's record out takes that many failed logins, each paying for argon2.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// What failures are counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    /// The login name, lower-cased: `Ada@x.com` and `ada@x.com` are the same account.
    Account(Box<str>),
    /// The client address; IPv6 by /64, which is what one subscriber usually holds.
    Client(IpAddr),
}

impl ThrottleKey {
    pub fn account(login: &str) -> Self {
        Self::Account(login.trim().to_lowercase().into())
    }

    pub fn client(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::Client(IpAddr::V4(v4)),
                None => Self::Client(IpAddr::V6((u128::from(v6) & !0u128 << 64).into())),
            },
            v4 => Self::Client(v4),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Policy {
    /// Failures allowed before any delay.
    pub free: u32,
    /// Delay after the first failure past `free`; doubles with each further one.
    pub base: Duration,
    pub max: Duration,
    /// A record with no failure for this long is forgotten.
    pub window: Duration,
    /// Records kept per core.
    pub capacity: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            free: 3,
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
            window: Duration::from_secs(15 * 60),
            capacity: 100_000,
        }
    }
}

impl Policy {
    /// Self-registration per client address: every attempt counts, ten are free, then the same
    /// doubling brake. Enough for a household or an office behind one address, and it turns a
    /// script creating accounts in bulk into about one a minute per core.
    pub fn registrations() -> Self {
        Self {
            free: 10,
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    last: Instant,
}

/// The throttle state of one core.
#[derive(Debug)]
pub struct Throttle {
    policy: Policy,
    records: HashMap<ThrottleKey, Record>,
}

impl Throttle {
    pub fn new(mut policy: Policy) -> Self {
        policy.capacity = policy.capacity.max(1);
        Self {
            policy,
            records: HashMap::new(),
        }
    }

    /// How long the client must still wait before an attempt on `key` is evaluated; `None`
    /// when it may go ahead.
    pub fn check_at(&self, key: &ThrottleKey, now: Instant) -> Option<Duration> {
        let r = self.records.get(key)?;
        let ready = r.last + self.delay(r.failures);
        (ready > now && !self.expired(r, now)).then(|| ready - now)
    }

    pub fn failure_at(&mut self, key: ThrottleKey, now: Instant) {
        if let Some(r) = self.records.get_mut(&key) {
            let expired = now.saturating_duration_since(r.last) >= self.policy.window;
            r.failures = if expired {
                1
            } else {
                r.failures.saturating_add(1)
            };
            r.last = now;
            return;
        }
        if self.records.len() >= self.policy.capacity {
            self.make_room(now);
        }
        self.records.insert(
            key,
            Record {
                failures: 1,
                last: now,
            },
        );
    }

    pub fn success(&mut self, key: &ThrottleKey) {
        self.records.remove(key);
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The wait after `failures` failures.
    fn delay(&self, failures: u32) -> Duration {
        let over = failures.saturating_sub(self.policy.free);
        if over == 0 {
            return Duration::ZERO;
        }
        // 2^(over-1) × base, saturating long before the shift could overflow.
        let factor = 1u32.checked_shl(over - 1).unwrap_or(u32::MAX);
        self.policy.base.saturating_mul(factor).min(self.policy.max)
    }

    fn expired(&self, r: &Record, now: Instant) -> bool {
        now.saturating_duration_since(r.last) >= self.policy.window
    }

    fn make_room(&mut self, now: Instant) {
        let window = self.policy.window;
        self.records
            .retain(|_, r| now.saturating_duration_since(r.last) < window);
        let target = self.policy.capacity - self.policy.capacity / 8 - 1;
        if self.records.len() <= target {
            return;
        }
        let mut lasts: Vec<Instant> = self.records.values().map(|r| r.last).collect();
        let drop = lasts.len() - target;
        let (_, cutoff, _) = lasts.select_nth_unstable(drop - 1);
        let cutoff = *cutoff;
        self.records.retain(|_, r| r.last > cutoff);
    }
}

/// A [`Throttle`] for a core's shared state (`&self` methods). The borrow never outlives a
/// call, so it cannot be held across an `.await`.
#[derive(Debug)]
pub struct CoreThrottle(RefCell<Throttle>);

impl CoreThrottle {
    pub fn new(policy: Policy) -> Self {
        Self(RefCell::new(Throttle::new(policy)))
    }

    pub fn check(&self, key: &ThrottleKey) -> Option<Duration> {
        self.0.borrow().check_at(key, Instant::now())
    }

    pub fn failure(&self, key: ThrottleKey) {
        self.0.borrow_mut().failure_at(key, Instant::now());
    }

    pub fn success(&self, key: &ThrottleKey) {
        self.0.borrow_mut().success(key);
    }

    pub fn len(&self) -> usize {
        self.0.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.borrow().is_empty()
    }
}

#[cfg(test)]
mod tests;
