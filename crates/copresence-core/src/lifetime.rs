//! How long a session lives, decided the same way wherever live presence is kept (in one
//! process, or shared by several nodes in Redis).
//!
//! A heartbeat — a join, a move, or the same page again — keeps a session for the TTL. An event
//! stream that carries the session holds it without heartbeats, as if it heartbeated all along.
//! When the last such stream drops, the session leaves after the reconnect grace (or the TTL, if
//! that is shorter), unless a stream carries it again first: a browser's automatic reconnect is
//! then invisible, and a closed tab is gone within seconds rather than after the TTL.

use std::time::Duration;

/// The TTL and the reconnect grace of sessions, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifetime {
    ttl_ms: i64,
    grace_ms: i64,
}

impl SessionLifetime {
    pub fn new(ttl: Duration, reconnect_grace: Duration) -> Self {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        SessionLifetime {
            ttl_ms: ms(ttl),
            grace_ms: ms(reconnect_grace),
        }
    }

    /// How often an editor heartbeats: three times per TTL, so two can be lost before the
    /// session expires.
    pub fn heartbeat_ms(&self) -> i64 {
        self.ttl_ms / 3
    }

    /// The deadline a heartbeat at `now` gives a session, or a stream that holds it at `now`.
    pub fn held_until(&self, now: i64) -> i64 {
        now.saturating_add(self.ttl_ms)
    }

    /// When the grace of a stream that dropped at `now` ends.
    pub fn grace_ends(&self, now: i64) -> i64 {
        now.saturating_add(self.grace_ms)
    }

    /// The deadline of a session whose last stream dropped at `now`: the grace, or the TTL if
    /// that is shorter. Whatever deadline it had before does not count: the stream held it as a
    /// heartbeat would have, up to `now` (where several nodes share sessions, they renew held
    /// deadlines to keep this true).
    pub fn after_release(&self, now: i64) -> i64 {
        self.held_until(now).min(self.grace_ends(now))
    }

    /// Whether a session with `deadline` leaves at `now`: never while a stream holds it.
    pub fn expired(&self, deadline: i64, now: i64, held: bool) -> bool {
        !held && deadline <= now
    }

    /// How often a node renews the deadlines of the sessions its streams hold (where it cannot
    /// simply exempt them, as when several nodes share them): within a heartbeat, and within
    /// half the grace so a stream still open on one node outweighs one that dropped on another;
    /// never more often than `floor_ms`.
    pub fn renew_every_ms(&self, floor_ms: i64) -> i64 {
        self.heartbeat_ms().min(self.grace_ms / 2).max(floor_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn lifetime() -> SessionLifetime {
        SessionLifetime::new(Duration::from_secs(45), Duration::from_secs(5))
    }

    #[test]
    fn a_heartbeat_keeps_a_session_for_the_ttl() {
        assert_eq!(lifetime().held_until(NOW), NOW + 45_000);
        assert_eq!(lifetime().heartbeat_ms(), 15_000);
        assert!(!lifetime().expired(NOW + 45_000, NOW + 44_999, false));
        assert!(lifetime().expired(NOW + 45_000, NOW + 45_000, false));
    }

    #[test]
    fn a_held_session_never_expires_and_a_released_one_leaves_after_the_grace() {
        let deadline = lifetime().held_until(NOW);
        assert!(!lifetime().expired(deadline, NOW + 3_600_000, true));
        // Released long after its heartbeat's deadline, it still gets the whole grace.
        let released = lifetime().after_release(NOW + 3_600_000);
        assert_eq!(released, NOW + 3_605_000);
        // A TTL shorter than the grace ends it sooner.
        let short_ttl = SessionLifetime::new(Duration::from_secs(2), Duration::from_secs(5));
        assert_eq!(short_ttl.after_release(NOW), NOW + 2_000);
    }

    #[test]
    fn held_sessions_are_renewed_within_half_the_grace() {
        assert_eq!(lifetime().renew_every_ms(250), 2_500);
        let short = SessionLifetime::new(Duration::from_millis(300), Duration::from_millis(200));
        assert_eq!(short.renew_every_ms(250), 250);
    }

    #[test]
    fn far_times_saturate() {
        let forever = SessionLifetime::new(Duration::MAX, Duration::MAX);
        assert_eq!(forever.held_until(NOW), i64::MAX);
        assert_eq!(forever.grace_ends(NOW), i64::MAX);
    }
}
