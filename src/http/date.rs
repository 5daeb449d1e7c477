//! The `Date` header, formatted once per tick per core instead of once per response.

use std::cell::Cell;
use std::time::SystemTime;

/// `Sun, 06 Nov 1994 08:49:37 GMT` is always 29 bytes.
pub const DATE_LEN: usize = 29;

pub struct DateCache {
    value: Cell<[u8; DATE_LEN]>,
}

impl Default for DateCache {
    fn default() -> Self {
        let cache = DateCache {
            value: Cell::new([b' '; DATE_LEN]),
        };
        cache.refresh();
        cache
    }
}

impl DateCache {
    /// Re-formats the current time; the worker calls this from a timer several times a second.
    pub fn refresh(&self) {
        let text = httpdate::fmt_http_date(SystemTime::now());
        let mut value = [b' '; DATE_LEN];
        let n = text.len().min(DATE_LEN);
        value[..n].copy_from_slice(&text.as_bytes()[..n]);
        self.value.set(value);
    }

    pub fn get(&self) -> [u8; DATE_LEN] {
        self.value.get()
    }
}
