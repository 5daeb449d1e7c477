//! Dates and times from their binary form (days or microseconds since 2000-01-01), printed as
//! `YYYY-MM-DD HH:MM:SS[.ffffff]`: fractional digits only when non-zero, trailing zeros trimmed.

use std::fmt::Write;

/// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const EPOCH_DAYS: i64 = 10_957;
const DAY_US: i64 = 86_400_000_000;

pub(super) fn date(days: i32) -> String {
    match days {
        i32::MAX => "infinity".into(),
        i32::MIN => "-infinity".into(),
        _ => {
            let mut out = String::with_capacity(10);
            push_date(&mut out, days as i64);
            out
        }
    }
}

pub(super) fn time(us: i64) -> String {
    let mut out = String::with_capacity(15);
    push_time(&mut out, us);
    out
}

/// `timetz`: the time, then the zone as seconds *west* of UTC.
pub(super) fn timetz(raw: &[u8]) -> Option<String> {
    let us = i64::from_be_bytes(raw.get(..8)?.try_into().ok()?);
    let west = i32::from_be_bytes(raw.get(8..12)?.try_into().ok()?);
    let mut out = time(us);
    let east = -west;
    let sign = if east < 0 { '-' } else { '+' };
    let east = east.unsigned_abs();
    let _ = write!(out, "{sign}{:02}:{:02}", east / 3600, east / 60 % 60);
    if east % 60 != 0 {
        let _ = write!(out, ":{:02}", east % 60);
    }
    Some(out)
}

/// `timestamp` and `timestamptz` alike: the session runs in UTC, so both print in UTC.
pub(super) fn timestamp(us: i64) -> String {
    match us {
        i64::MAX => "infinity".into(),
        i64::MIN => "-infinity".into(),
        _ => {
            let mut out = String::with_capacity(26);
            push_date(&mut out, us.div_euclid(DAY_US));
            out.push(' ');
            push_time(&mut out, us.rem_euclid(DAY_US));
            out
        }
    }
}

/// `interval` in PostgreSQL's default output style: `1 year 2 mons 3 days 04:05:06`.
pub(super) fn interval(raw: &[u8]) -> Option<String> {
    let us = i64::from_be_bytes(raw.get(..8)?.try_into().ok()?);
    let days = i32::from_be_bytes(raw.get(8..12)?.try_into().ok()?);
    let months = i32::from_be_bytes(raw.get(12..16)?.try_into().ok()?);
    let mut parts: Vec<String> = Vec::new();
    let mut unit = |n: i64, one: &str, many: &str| {
        if n != 0 {
            parts.push(format!("{n} {}", if n.abs() == 1 { one } else { many }));
        }
    };
    unit(months as i64 / 12, "year", "years");
    unit(months as i64 % 12, "mon", "mons");
    unit(days as i64, "day", "days");
    if us != 0 || parts.is_empty() {
        let mut t = String::new();
        if us < 0 {
            t.push('-');
        }
        let abs = us.unsigned_abs();
        let _ = write!(
            t,
            "{:02}:{:02}:{:02}",
            abs / 3_600_000_000,
            abs / 60_000_000 % 60,
            abs / 1_000_000 % 60
        );
        push_fraction(&mut t, (abs % 1_000_000) as u32);
        parts.push(t);
    }
    Some(parts.join(" "))
}

/// Civil date from days since 2000-01-01 (Howard Hinnant's `civil_from_days`); years before 1
/// print as PostgreSQL does, `0044-03-15 BC`.
fn push_date(out: &mut String, days: i64) {
    let z = days + EPOCH_DAYS + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if (1..=9999).contains(&year) {
        // The common case without `fmt`: this runs for every date cell of every row.
        push_digits(out, year, 4);
        out.push('-');
        push_digits(out, month, 2);
        out.push('-');
        push_digits(out, day, 2);
    } else if year >= 1 {
        let _ = write!(out, "{year:04}-{month:02}-{day:02}");
    } else {
        let _ = write!(out, "{:04}-{month:02}-{day:02} BC", 1 - year);
    }
}

fn push_time(out: &mut String, us: i64) {
    let secs = us / 1_000_000;
    if (0..100 * 3600).contains(&secs) {
        push_digits(out, secs / 3600, 2);
        out.push(':');
        push_digits(out, secs / 60 % 60, 2);
        out.push(':');
        push_digits(out, secs % 60, 2);
    } else {
        let _ = write!(
            out,
            "{:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
    }
    push_fraction(out, (us % 1_000_000) as u32);
}

/// `n` (0 <= n < 10^width) zero-padded to `width` digits.
fn push_digits(out: &mut String, n: i64, width: u32) {
    let mut div = 10i64.pow(width - 1);
    while div > 0 {
        out.push(char::from(b'0' + (n / div % 10) as u8));
        div /= 10;
    }
}

fn push_fraction(out: &mut String, micros: u32) {
    if micros != 0 {
        let mut digits = String::with_capacity(6);
        push_digits(&mut digits, i64::from(micros), 6);
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_around_the_epoch() {
        assert_eq!(date(0), "2000-01-01");
        assert_eq!(date(-1), "1999-12-31");
        assert_eq!(date(59), "2000-02-29");
        assert_eq!(date(8766), "2024-01-01");
        assert_eq!(date(-730_485), "0001-01-01 BC");
    }

    #[test]
    fn timestamps_with_and_without_fractions() {
        let us = 8766 * DAY_US + (10 * 3600 + 5) * 1_000_000;
        assert_eq!(timestamp(us), "2024-01-01 10:00:05");
        assert_eq!(timestamp(us + 500_000), "2024-01-01 10:00:05.5");
        assert_eq!(timestamp(-1), "1999-12-31 23:59:59.999999");
        assert_eq!(time(0), "00:00:00");
    }

    #[test]
    fn intervals() {
        let raw = |us: i64, d: i32, m: i32| {
            [&us.to_be_bytes()[..], &d.to_be_bytes(), &m.to_be_bytes()].concat()
        };
        assert_eq!(interval(&raw(0, 0, 0)).unwrap(), "00:00:00");
        assert_eq!(
            interval(&raw(3_600_000_000, 3, 14)).unwrap(),
            "1 year 2 mons 3 days 01:00:00"
        );
        assert_eq!(
            interval(&raw(-1_500_000, 1, 0)).unwrap(),
            "1 day -00:00:01.5"
        );
    }
}
