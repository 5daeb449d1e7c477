//! PostgreSQL's binary `numeric`: base-10000 digits with a weight, sign and display scale.
//! Decoded to exact decimal text, so no precision is lost on the way to JSON.

const NEG: u16 = 0x4000;
const NAN: u16 = 0xC000;
const PINF: u16 = 0xD000;
const NINF: u16 = 0xF000;

pub(super) fn to_string(raw: &[u8]) -> Option<String> {
    let header = |i: usize| {
        raw.get(i * 2..i * 2 + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    let ndigits = header(0)? as usize;
    let weight = header(1)? as i16 as i64;
    let sign = header(2)?;
    let dscale = header(3)? as usize;
    let digits = (0..ndigits)
        .map(|i| header(4 + i))
        .collect::<Option<Vec<u16>>>()?;
    match sign {
        NAN => return Some("NaN".into()),
        PINF => return Some("Infinity".into()),
        NINF => return Some("-Infinity".into()),
        _ => {}
    }
    let digit = |i: i64| {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i))
            .copied()
            .unwrap_or(0)
    };

    let mut out = String::with_capacity(ndigits * 4 + dscale + 3);
    if sign == NEG {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        for i in 0..=weight {
            if i == 0 {
                out.push_str(&digit(i).to_string());
            } else {
                out.push_str(&format!("{:04}", digit(i)));
            }
        }
    }
    if dscale > 0 {
        out.push('.');
        let start = out.len();
        let mut i = weight + 1;
        while out.len() - start < dscale {
            out.push_str(&format!("{:04}", digit(i)));
            i += 1;
        }
        out.truncate(start + dscale);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut v = Vec::new();
        for h in [digits.len() as u16, weight as u16, sign, dscale] {
            v.extend_from_slice(&h.to_be_bytes());
        }
        for d in digits {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v
    }

    #[test]
    fn decodes_like_postgres_prints() {
        assert_eq!(to_string(&raw(0, 0, 2, &[12, 3400])).unwrap(), "12.34");
        assert_eq!(to_string(&raw(1, NEG, 0, &[1, 0])).unwrap(), "-10000");
        assert_eq!(to_string(&raw(-2, 0, 6, &[1200])).unwrap(), "0.000012");
        assert_eq!(to_string(&raw(0, 0, 0, &[])).unwrap(), "0");
        assert_eq!(to_string(&raw(0, 0, 3, &[])).unwrap(), "0.000");
        assert_eq!(to_string(&raw(2, 0, 0, &[1])).unwrap(), "100000000");
        assert_eq!(to_string(&raw(0, NAN, 0, &[])).unwrap(), "NaN");
    }
}
