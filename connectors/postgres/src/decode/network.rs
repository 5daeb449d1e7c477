//! The remaining fixed binary formats: uuid, money and inet/cidr.

use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

pub(super) fn uuid(b: &[u8; 16]) -> String {
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// `money` is an integer count of cents (for the usual two-decimal locales); printed without a
/// currency symbol so clients can parse it.
pub(super) fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// family (2 = IPv4, 3 = IPv6), prefix bits, is-cidr flag, address length, address bytes.
pub(super) fn inet(raw: &[u8]) -> Option<String> {
    let (&[family, bits, is_cidr, len], addr) = raw.split_first_chunk::<4>()?;
    let (text, max) = match (family, len, addr.len()) {
        (2, 4, 4) => (
            Ipv4Addr::from(<[u8; 4]>::try_from(addr).ok()?).to_string(),
            32,
        ),
        (3, 16, 16) => (
            Ipv6Addr::from(<[u8; 16]>::try_from(addr).ok()?).to_string(),
            128,
        ),
        _ => return None,
    };
    Some(if is_cidr != 0 || bits != max {
        format!("{text}/{bits}")
    } else {
        text
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let id: [u8; 16] = core::array::from_fn(|i| i as u8);
        assert_eq!(uuid(&id), "00010203-0405-0607-0809-0a0b0c0d0e0f");
        assert_eq!(money(-1234), "-12.34");
        assert_eq!(inet(&[2, 32, 0, 4, 10, 0, 0, 1]).unwrap(), "10.0.0.1");
        assert_eq!(inet(&[2, 8, 1, 4, 10, 0, 0, 0]).unwrap(), "10.0.0.0/8");
    }
}
