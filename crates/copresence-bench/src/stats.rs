//! Latency summaries: nearest-rank percentiles over every sample, in milliseconds.
//!
//! Every sample is kept and sorted rather than bucketed: a run has at most a few million, and
//! exact tails are what the targets are about.

use serde::Serialize;

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Summary {
    pub samples: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Summary {
    /// Summarise durations given in nanoseconds.
    pub fn of_nanos(mut samples: Vec<u64>) -> Summary {
        if samples.is_empty() {
            return Summary::default();
        }
        samples.sort_unstable();
        let ms = |ns: u64| ns as f64 / 1e6;
        Summary {
            samples: samples.len(),
            p50_ms: ms(percentile(&samples, 50.0)),
            p99_ms: ms(percentile(&samples, 99.0)),
            max_ms: ms(samples[samples.len() - 1]),
        }
    }
}

/// The nearest-rank percentile of sorted, non-empty samples.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `ours / floor`, or `None` when the floor is zero (nothing to compare with).
pub fn ratio(ours: f64, floor: f64) -> Option<f64> {
    (floor > 0.0).then(|| ours / floor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s = Summary::of_nanos((1..=100).map(|i| i * 1_000_000).collect());
        assert_eq!((s.p50_ms, s.p99_ms, s.max_ms), (50.0, 99.0, 100.0));
        let one = Summary::of_nanos(vec![2_000_000]);
        assert_eq!((one.p50_ms, one.p99_ms), (2.0, 2.0));
        assert_eq!(Summary::of_nanos(Vec::new()).samples, 0);
    }
}
