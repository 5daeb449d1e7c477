//! Random ids for `{id}` templates. Drawn per request on the hot path, so
//! the generator is a per-connection `SmallRng`, never shared.

use rand::rngs::SmallRng;
use rand::Rng;
use rand_distr::{Distribution, Zipf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// How ids are drawn from `lo..=hi` (or from an explicit list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dist {
    /// Every id equally likely.
    Uniform,
    /// Zipf (s = 1): low ids are hot, the way real caches see traffic.
    Zipf,
    /// Each id once, in order, shared by all connections (for deletes).
    Seq,
}

/// Where the next id comes from.
#[derive(Debug, Clone)]
pub enum IdSource {
    Range { lo: u64, hi: u64, dist: Dist },
    List { ids: Arc<Vec<u64>>, dist: Dist },
}

/// A connection's private sampler over an [`IdSource`].
pub struct IdSampler {
    source: IdSource,
    zipf: Option<Zipf<f64>>,
    /// Shared cursor for `Dist::Seq`, so ids are not repeated across connections.
    cursor: Arc<AtomicU64>,
}

impl IdSource {
    /// Parses `1..100000` or `1..=100000` (both inclusive of the upper bound,
    /// as people mean it on a command line).
    pub fn parse_range(s: &str, dist: Dist) -> Option<IdSource> {
        let (a, b) = s.split_once("..")?;
        let b = b.strip_prefix('=').unwrap_or(b);
        let (lo, hi) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        (lo <= hi).then_some(IdSource::Range { lo, hi, dist })
    }

    fn len(&self) -> u64 {
        match self {
            IdSource::Range { lo, hi, .. } => hi - lo + 1,
            IdSource::List { ids, .. } => ids.len() as u64,
        }
    }

    fn dist(&self) -> Dist {
        match self {
            IdSource::Range { dist, .. } | IdSource::List { dist, .. } => *dist,
        }
    }

    fn at(&self, index: u64) -> u64 {
        match self {
            IdSource::Range { lo, .. } => lo + index,
            IdSource::List { ids, .. } => ids[index as usize],
        }
    }

    pub fn sampler(&self, cursor: Arc<AtomicU64>) -> IdSampler {
        let zipf = (self.dist() == Dist::Zipf)
            .then(|| Zipf::new(self.len().max(1) as f64, 1.0).expect("n >= 1 and s > 0"));
        IdSampler {
            source: self.clone(),
            zipf,
            cursor,
        }
    }
}

impl IdSampler {
    pub fn next(&mut self, rng: &mut SmallRng) -> u64 {
        let n = self.source.len().max(1);
        let index = match (&self.zipf, self.source.dist()) {
            (Some(z), _) => (z.sample(rng) as u64).clamp(1, n) - 1,
            (None, Dist::Seq) => self.cursor.fetch_add(1, Ordering::Relaxed) % n,
            (None, _) => rng.random_range(0..n),
        };
        self.source.at(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn range_and_dists_stay_in_bounds() {
        let mut rng = SmallRng::seed_from_u64(1);
        for dist in [Dist::Uniform, Dist::Zipf, Dist::Seq] {
            let src = IdSource::parse_range("5..9", dist).unwrap();
            let mut s = src.sampler(Arc::default());
            for _ in 0..1000 {
                let id = s.next(&mut rng);
                assert!((5..=9).contains(&id), "{dist:?} gave {id}");
            }
        }
    }

    #[test]
    fn seq_visits_each_once_in_order() {
        let src = IdSource::List {
            ids: Arc::new(vec![7, 3, 9]),
            dist: Dist::Seq,
        };
        let mut rng = SmallRng::seed_from_u64(1);
        let mut s = src.sampler(Arc::default());
        let got: Vec<u64> = (0..3).map(|_| s.next(&mut rng)).collect();
        assert_eq!(got, vec![7, 3, 9]);
    }
}
