//! Which cores serve: all the process may use, a count, or an explicit list of CPU ids.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Repr", into = "String")]
pub enum CoreSpec {
    All,
    /// The first N CPUs of the process's affinity mask.
    Count(usize),
    /// These CPU ids, each of which must be in the affinity mask. A bare number is a count, so
    /// a single CPU is written as a list: `"3,"` or `"3-3"`.
    List(Vec<usize>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Repr {
    Number(usize),
    Text(String),
}

impl TryFrom<Repr> for CoreSpec {
    type Error = String;
    fn try_from(r: Repr) -> Result<Self, String> {
        match r {
            Repr::Number(n) => CoreSpec::parse(&n.to_string()),
            Repr::Text(s) => CoreSpec::parse(&s),
        }
    }
}

impl From<CoreSpec> for String {
    fn from(c: CoreSpec) -> String {
        c.to_string()
    }
}

impl CoreSpec {
    pub fn parse(s: &str) -> Result<CoreSpec, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("all") || s.is_empty() {
            return Ok(CoreSpec::All);
        }
        if let Ok(n) = s.parse::<usize>() {
            return if n == 0 {
                Err("a core count must be at least 1".into())
            } else {
                Ok(CoreSpec::Count(n))
            };
        }
        let mut ids = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (lo, hi) = part.split_once('-').unwrap_or((part, part));
            let bad = || format!("`{part}` is not a CPU id or range like 2-5");
            let lo: usize = lo.trim().parse().map_err(|_| bad())?;
            let hi: usize = hi.trim().parse().map_err(|_| bad())?;
            if lo > hi || hi > 4095 {
                return Err(bad());
            }
            ids.extend(lo..=hi);
        }
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Err("no CPU ids given".into());
        }
        Ok(CoreSpec::List(ids))
    }

    /// Resolves against the CPUs this process may run on (its affinity mask).
    pub fn resolve(&self, allowed: &[usize]) -> Result<Vec<usize>, ConfigError> {
        match self {
            CoreSpec::All => Ok(allowed.to_vec()),
            CoreSpec::Count(n) if *n <= allowed.len() => Ok(allowed[..*n].to_vec()),
            CoreSpec::Count(n) => Err(ConfigError::invalid(
                "cores",
                format!(
                    "{n} cores requested but this process may use {}",
                    allowed.len()
                ),
            )),
            CoreSpec::List(ids) => match ids.iter().find(|id| !allowed.contains(id)) {
                Some(id) => Err(ConfigError::invalid(
                    "cores",
                    format!("CPU {id} is not available to this process (allowed: {allowed:?})"),
                )),
                None => Ok(ids.clone()),
            },
        }
    }
}

impl fmt::Display for CoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoreSpec::All => f.write_str("all"),
            CoreSpec::Count(n) => write!(f, "{n}"),
            CoreSpec::List(ids) => {
                let list: Vec<String> = ids.iter().map(usize::to_string).collect();
                write!(f, "{},", list.join(","))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_counts_lists_and_ranges() {
        assert_eq!(CoreSpec::parse("all"), Ok(CoreSpec::All));
        assert_eq!(CoreSpec::parse("4"), Ok(CoreSpec::Count(4)));
        assert_eq!(CoreSpec::parse("0,2-3"), Ok(CoreSpec::List(vec![0, 2, 3])));
        assert_eq!(CoreSpec::parse("3,"), Ok(CoreSpec::List(vec![3])));
        assert!(CoreSpec::parse("0").is_err());
        assert!(CoreSpec::parse("3-1").is_err());
        assert!(CoreSpec::parse("x").is_err());
    }

    #[test]
    fn display_round_trips() {
        for s in ["all", "2", "0,2,3,"] {
            let spec = CoreSpec::parse(s).unwrap();
            assert_eq!(CoreSpec::parse(&spec.to_string()).unwrap(), spec);
        }
    }

    #[test]
    fn resolves_against_the_affinity_mask() {
        let allowed = [0, 1, 4];
        assert_eq!(CoreSpec::Count(2).resolve(&allowed).unwrap(), vec![0, 1]);
        assert!(CoreSpec::Count(4).resolve(&allowed).is_err());
        assert!(CoreSpec::List(vec![2]).resolve(&allowed).is_err());
    }
}
