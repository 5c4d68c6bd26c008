//! When sessions leave: reaping those whose deadline has passed, and holding up those this
//! node's streams hold.
//!
//! Every open session has a deadline in `copresence:deadlines`. A heartbeat pushes it back, and
//! so does this node, every so often, for each session one of its open streams holds: when a
//! node dies its sessions are no longer held and leave within the TTL. When the last stream
//! here that holds a session drops, its deadline comes forward to the end of the reconnect
//! grace. Any node may reap an expired session; the compare-and-set that publishes its leave
//! first checks that its deadline is still past, so only one node does, and a heartbeat that
//! lands first keeps it.

use std::sync::Weak;

use copresence_core::LeaveReason;
use redis::AsyncCommands;

use super::script::DeadlineChange;
use super::{
    deadline_member, lock, parse_deadline_member, unavailable, Local, SessionKey, Shared,
    DEADLINES, REAP_INTERVAL,
};
use crate::clock::now_ms;
use crate::presence::PresenceError;

/// Expired sessions read at a time, and batches per reaping pass.
const REAP_BATCH: usize = 256;
const REAP_MAX_BATCHES: usize = 16;

/// Reap expired sessions, keep attached ones alive and watch the epoch.
pub(super) async fn maintain(weak: Weak<Shared>) {
    let mut tick = tokio::time::interval(REAP_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_refresh = 0;
    loop {
        tick.tick().await;
        let Some(shared) = weak.upgrade() else { return };
        let now = now_ms();
        let result = async {
            shared.check_epoch().await?;
            if now - last_refresh >= shared.refresh_interval_ms() {
                shared.refresh_attached().await?;
                last_refresh = now;
                // Forget sessions nobody has heartbeated for a TTL: they are gone.
                let lifetime = shared.config.lifetime();
                let mut local = lock(&shared.local);
                let Local { known, attachments } = &mut *local;
                known.retain(|key, s| s.alive(lifetime, attachments.contains_key(key), now));
            }
            shared.reap(now).await
        }
        .await;
        if let Err(error) = result {
            tracing::debug!(%error, "presence upkeep skipped");
        }
    }
}

impl Shared {
    /// How often attached sessions are held up (the core's rule): a stream still open here
    /// outweighs one that dropped on another node.
    fn refresh_interval_ms(&self) -> i64 {
        self.config
            .lifetime()
            .renew_every_ms(REAP_INTERVAL.as_millis() as i64)
    }

    /// Leave every session whose deadline has passed, on whichever node notices first: the
    /// check that it is still expired, its leave and the removal of its deadline are one
    /// compare-and-set, so two nodes never both publish it and a heartbeat that lands first wins.
    async fn reap(&self, now: i64) -> Result<(), PresenceError> {
        let mut con = self.commands.clone();
        // Batch after batch while they come full: a dead node's sessions all go within a tick
        // or two, not a batch per tick.
        for _ in 0..REAP_MAX_BATCHES {
            let expired: Vec<String> = redis::cmd("ZRANGEBYSCORE")
                .arg(DEADLINES)
                .arg("-inf")
                .arg(now)
                .arg("LIMIT")
                .arg(0)
                .arg(REAP_BATCH)
                .query_async(&mut con)
                .await
                .map_err(unavailable)?;
            let full = expired.len() == REAP_BATCH;
            for member in expired {
                let Some((site, user, session)) = parse_deadline_member(&member) else {
                    let _: () = con.zrem(DEADLINES, &member).await.map_err(unavailable)?;
                    continue;
                };
                lock(&self.local)
                    .known
                    .remove(&(site.clone(), user, session.clone()));
                self.update_roster_if_expired(&site, user, &member, Some(now), |roster| {
                    let event =
                        roster.end_session(&site, user, &session, LeaveReason::Expired, now);
                    (event, DeadlineChange::Drop, ())
                })
                .await?;
            }
            if !full {
                break;
            }
        }
        Ok(())
    }

    /// Push back the deadlines of the sessions this node's open streams hold: if this node
    /// dies, they stop being pushed back and the sessions leave within the TTL.
    async fn refresh_attached(&self) -> Result<(), PresenceError> {
        let held: Vec<String> = lock(&self.local)
            .attachments
            .keys()
            .map(|(site, user, session)| deadline_member(site, *user, session))
            .collect();
        if held.is_empty() {
            return Ok(());
        }
        let deadline = self.config.lifetime().held_until(now_ms());
        let mut con = self.commands.clone();
        // XX: only sessions still open; one that has left is not brought back by its stream.
        let mut pipe = redis::pipe();
        for member in &held {
            pipe.cmd("ZADD")
                .arg(DEADLINES)
                .arg("XX")
                .arg("GT")
                .arg(deadline)
                .arg(member)
                .ignore();
        }
        let _: () = pipe.query_async(&mut con).await.map_err(unavailable)?;
        Ok(())
    }

    /// Move an open session's deadline to `to`, only earlier (`LT`) or only later (`GT`), in
    /// the background: callers are synchronous (a stream attaching or dropping).
    pub(super) fn move_deadline(&self, member: String, direction: &'static str, to: i64) {
        let mut con = self.commands.clone();
        tokio::spawn(async move {
            let result: redis::RedisResult<()> = redis::cmd("ZADD")
                .arg(DEADLINES)
                .arg("XX")
                .arg(direction)
                .arg(to)
                .arg(member)
                .query_async(&mut con)
                .await;
            if let Err(error) = result {
                tracing::warn!(%error, "cannot move a session's deadline");
            }
        });
    }

    pub(super) fn release(&self, key: SessionKey) {
        let mut local = lock(&self.local);
        let remaining = match local.attachments.get_mut(&key) {
            Some(count) => {
                *count -= 1;
                *count
            }
            None => return,
        };
        if remaining > 0 {
            return;
        }
        local.attachments.remove(&key);
        drop(local);
        // The session leaves after the grace unless a stream (on any node) holds it again.
        let grace_ends = self.config.lifetime().grace_ends(now_ms());
        self.move_deadline(deadline_member(&key.0, key.1, &key.2), "LT", grace_ends);
    }
}
