//! Exponential backoff with jitter, for reconnecting a subscription and retrying a heartbeat.
//!
//! The n-th delay (n from 0) is drawn uniformly from `[b/2, b]` where `b = min(start · 2ⁿ, cap)`
//! ("equal jitter"): clients that lost the server together do not all come back at the same
//! instant, and no delay is ever shorter than half the step it stands for.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// First step of the default backoff.
pub const DEFAULT_START: Duration = Duration::from_millis(250);
/// Largest step of the default backoff.
pub const DEFAULT_CAP: Duration = Duration::from_secs(10);

/// A backoff: call [`Backoff::next_delay`] after each failure, [`Backoff::reset`] after a success.
#[derive(Debug, Clone)]
pub struct Backoff {
    start: Duration,
    cap: Duration,
    attempt: u32,
    rng: u64,
}

impl Default for Backoff {
    /// Starts at 250 ms, doubles, caps at 10 s.
    fn default() -> Self {
        Backoff::new(DEFAULT_START, DEFAULT_CAP)
    }
}

impl Backoff {
    pub fn new(start: Duration, cap: Duration) -> Self {
        let seed = RandomState::new().build_hasher().finish();
        Backoff {
            start,
            cap: cap.max(start),
            attempt: 0,
            // xorshift must not start at zero.
            rng: seed | 1,
        }
    }

    /// How many delays were handed out since the last reset.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The step (before jitter) of the next delay.
    pub fn step(&self) -> Duration {
        step(self.start, self.cap, self.attempt)
    }

    /// The delay to wait before the next try; each call doubles the step up to the cap.
    pub fn next_delay(&mut self) -> Duration {
        let delay = jittered(self.step(), self.next_unit());
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    /// Back to the first step, after a success.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// A pseudo-random number in `[0, 1)` (xorshift64*: plenty for jitter).
    fn next_unit(&mut self) -> f64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (r >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `min(start · 2^attempt, cap)`, without overflow.
fn step(start: Duration, cap: Duration, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.min(31));
    start.saturating_mul(factor).min(cap)
}

/// A delay in `[step/2, step]`, `unit` in `[0, 1)` choosing where.
fn jittered(step: Duration, unit: f64) -> Duration {
    let half = step / 2;
    half + (step - half).mul_f64(unit.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_double_up_to_the_cap() {
        let ms = Duration::from_millis;
        let steps: Vec<Duration> = (0..8)
            .map(|n| step(ms(250), Duration::from_secs(10), n))
            .collect();
        assert_eq!(
            steps,
            vec![
                ms(250),
                ms(500),
                ms(1000),
                ms(2000),
                ms(4000),
                ms(8000),
                ms(10_000),
                ms(10_000)
            ]
        );
        assert_eq!(
            step(ms(250), Duration::from_secs(10), u32::MAX),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn jitter_stays_within_half_and_whole_step() {
        let step = Duration::from_millis(1000);
        assert_eq!(jittered(step, 0.0), Duration::from_millis(500));
        assert!(jittered(step, 0.999_999) <= step);
        assert_eq!(jittered(step, 7.0), step);
    }

    #[test]
    fn delays_grow_stay_bounded_and_reset() {
        let mut backoff = Backoff::default();
        let mut previous_step = Duration::ZERO;
        for _ in 0..20 {
            let step = backoff.step();
            assert!(step >= previous_step);
            let delay = backoff.next_delay();
            assert!(delay >= step / 2 && delay <= step, "{delay:?} for {step:?}");
            assert!(delay <= DEFAULT_CAP);
            previous_step = step;
        }
        assert_eq!(backoff.attempt(), 20);
        backoff.reset();
        assert_eq!(backoff.step(), DEFAULT_START);
        let first = backoff.next_delay();
        assert!(first >= DEFAULT_START / 2 && first <= DEFAULT_START);
    }

    #[test]
    fn jitter_actually_varies() {
        let mut backoff = Backoff::new(Duration::from_secs(8), Duration::from_secs(8));
        let delays: std::collections::HashSet<Duration> =
            (0..10).map(|_| backoff.next_delay()).collect();
        assert!(delays.len() > 1);
    }
}
