//! How often one user may ask for what costs the node: session changes (join, heartbeat, move,
//! leave), saves and tickets.
//!
//! Each is a keyed GCRA limiter (the `governor` crate) per user, whichever credential they came
//! with (token or ticket). The defaults sit far above what an editor sends — a heartbeat per
//! session every 15 s, a move per page change, a save per keystroke burst at most — and far
//! below what a script in a loop can.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use copresence_core::{ErrorCode, UserId};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::ApiError;

/// `N/PERIOD`: at most N requests per PERIOD, in bursts of up to N (`600/min`, `10/s`, `50/10s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub requests: NonZeroU32,
    pub per: Duration,
}

impl Rate {
    fn quota(self) -> Quota {
        let interval = self.per / self.requests.get();
        Quota::with_period(interval.max(Duration::from_nanos(1)))
            .expect("the interval is not zero")
            .allow_burst(self.requests)
    }
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(text: &str) -> Result<Rate, String> {
        let bad = || format!("{text:?} is not a rate: write N/PERIOD, such as 600/min or 10/s");
        let (count, period) = text.split_once('/').ok_or_else(bad)?;
        let requests = count.trim().parse::<NonZeroU32>().map_err(|_| bad())?;
        let period = period.trim();
        // "min" means "1min": a bare unit is one of it.
        let per = if period.starts_with(|c: char| c.is_ascii_digit()) {
            humantime::parse_duration(period)
        } else {
            humantime::parse_duration(&format!("1{period}"))
        }
        .map_err(|_| bad())?;
        if per.is_zero() {
            return Err(bad());
        }
        Ok(Rate { requests, per })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            self.requests,
            humantime::format_duration(self.per)
        )
    }
}

/// What a request costs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `PUT` or `DELETE …/sessions/…`.
    Session,
    /// `POST …/saves`.
    Save,
    /// `POST /v1/tickets`.
    Ticket,
}

/// The rates a node enforces.
#[derive(Debug, Clone, Copy)]
pub struct Rates {
    pub sessions: Rate,
    pub saves: Rate,
    pub tickets: Rate,
}

struct Limiter {
    rate: Rate,
    limiter: DefaultKeyedRateLimiter<UserId>,
}

impl Limiter {
    fn new(rate: Rate) -> Limiter {
        Limiter {
            rate,
            limiter: DefaultKeyedRateLimiter::keyed(rate.quota()),
        }
    }
}

/// Every user's standing against every rate.
pub struct RateLimits {
    sessions: Limiter,
    saves: Limiter,
    tickets: Limiter,
}

impl RateLimits {
    pub fn new(rates: Rates) -> Arc<RateLimits> {
        let limits = Arc::new(RateLimits {
            sessions: Limiter::new(rates.sessions),
            saves: Limiter::new(rates.saves),
            tickets: Limiter::new(rates.tickets),
        });
        // Forget users whose allowance is whole again, so the state is as large as the
        // number of recently busy users, not of every user ever seen.
        let weak = Arc::downgrade(&limits);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let Some(limits) = weak.upgrade() else { break };
                for limiter in [&limits.sessions, &limits.saves, &limits.tickets] {
                    limiter.limiter.retain_recent();
                    limiter.limiter.shrink_to_fit();
                }
            }
        });
        limits
    }

    /// Count one `action` by `user`, or refuse it with 429 and when to try again.
    pub fn check(&self, action: Action, user: UserId) -> Result<(), ApiError> {
        let (limiter, what) = match action {
            Action::Session => (&self.sessions, "session changes"),
            Action::Save => (&self.saves, "saves"),
            Action::Ticket => (&self.tickets, "tickets"),
        };
        limiter.limiter.check_key(&user).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::too_many(
                ErrorCode::TooManyRequests,
                format!(
                    "too many {what}: at most {} for each user; try again in {} s",
                    limiter.rate,
                    wait.as_secs().max(1)
                ),
                wait.as_secs_f64().ceil() as u64,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_with_or_without_a_count_of_units() {
        let rate: Rate = "600/min".parse().unwrap();
        assert_eq!(rate.requests.get(), 600);
        assert_eq!(rate.per, Duration::from_secs(60));
        let rate: Rate = "50/10s".parse().unwrap();
        assert_eq!(rate.per, Duration::from_secs(10));
        for bad in ["", "10", "0/s", "x/s", "10/", "10/0s", "10/fortnightly"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn a_burst_past_the_rate_is_refused_per_user_with_a_retry_after() {
        let rate = |text: &str| text.parse::<Rate>().unwrap();
        let limits = RateLimits::new(Rates {
            sessions: rate("3/min"),
            saves: rate("1/min"),
            tickets: rate("1/min"),
        });
        for _ in 0..3 {
            limits.check(Action::Session, 1).unwrap();
        }
        let refused = limits.check(Action::Session, 1).unwrap_err();
        assert_eq!(refused.status.as_u16(), 429);
        assert_eq!(refused.detail.code, ErrorCode::TooManyRequests);
        assert!(refused.retry_after.is_some_and(|s| (1..=20).contains(&s)));
        limits
            .check(Action::Session, 2)
            .expect("another user is not held back");
        limits.check(Action::Save, 1).expect("saves count apart");
    }
}
