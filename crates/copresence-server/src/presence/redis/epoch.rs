//! Whether Redis kept its data, and putting back what it lost.
//!
//! Live presence lives only in Redis, which may come back empty (restarted without
//! persistence). The first node to find `copresence:epoch` missing sets a new one, and every
//! node that then finds an epoch other than its own knows that the rosters, the deadlines and
//! the stream are gone. It starts a new feed, which ends every open stream so each subscriber
//! reconnects to a fresh snapshot, and puts back the sessions it has served that are still
//! alive: for that, each node keeps what it knows of them.

use copresence_core::lifetime::SessionLifetime;
use copresence_core::roster::SessionPut;
use copresence_core::UserCard;
use redis::AsyncCommands;
use tokio::sync::broadcast;

use super::{lock, unavailable, SessionKey, Shared, EPOCH, SUBSCRIBER_QUEUE};
use crate::clock::now_ms;
use crate::presence::PresenceError;

/// A session this node has served, kept so it can be put back if Redis loses its data.
#[derive(Clone)]
pub(super) struct KnownSession {
    pub(super) user: UserCard,
    pub(super) page: String,
    pub(super) client: String,
    /// The editor tab's address, as the session last put it.
    pub(super) url: Option<String>,
    pub(super) last_seen: i64,
}

impl KnownSession {
    /// The session's last put, to put it back with.
    pub(super) fn put(&self) -> SessionPut<'_> {
        SessionPut {
            page: &self.page,
            client: &self.client,
            url: self.url.as_deref(),
        }
    }

    /// Whether the session is still open as far as this node knows: held by one of its
    /// streams, or heartbeated within the TTL.
    pub(super) fn alive(&self, lifetime: SessionLifetime, held: bool, now: i64) -> bool {
        !lifetime.expired(lifetime.held_until(self.last_seen), now, held)
    }
}

fn new_epoch() -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).expect("the operating system's random source is unavailable");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Shared {
    /// Make sure Redis holds our epoch; when it does not (it restarted empty), adopt the new
    /// one, put back the sessions this node knows, and end every open stream so subscribers
    /// take a fresh snapshot. Returns whether the epoch changed.
    pub(super) async fn check_epoch(&self) -> Result<bool, PresenceError> {
        let mut con = self.commands.clone();
        let proposed = new_epoch();
        let _: bool = con.set_nx(EPOCH, &proposed).await.map_err(unavailable)?;
        let current: String = con.get(EPOCH).await.map_err(unavailable)?;
        let previous = {
            let mut feed = lock(&self.feed);
            if feed.epoch == current {
                return Ok(false);
            }
            let previous = std::mem::replace(&mut feed.epoch, current.clone());
            if !previous.is_empty() {
                // A new epoch, a new feed: dropping the old sender ends every open stream once
                // it has drained, and each subscriber reconnects to a fresh snapshot.
                feed.live = broadcast::channel(SUBSCRIBER_QUEUE).0;
            }
            previous
        };
        if previous.is_empty() {
            return Ok(false);
        }
        tracing::warn!(epoch = %current, "live presence was lost (Redis restarted empty); rebuilding");
        let now = now_ms();
        let lifetime = self.config.lifetime();
        let known: Vec<(SessionKey, KnownSession)> = {
            let local = lock(&self.local);
            local
                .known
                .iter()
                .filter(|(key, s)| s.alive(lifetime, local.attachments.contains_key(*key), now))
                .map(|(k, s)| (k.clone(), s.clone()))
                .collect()
        };
        // Put back, one by one, the sessions missing from the new rosters (another node may
        // have put a session back already, with fresher news); a failure is logged, not fatal.
        for ((site, user, session), known) in known {
            let present = match self.read_roster(&site).await {
                Ok((roster, _)) => roster.session(user, &session).is_some(),
                Err(error) => {
                    tracing::warn!(%error, "cannot put sessions back yet");
                    break;
                }
            };
            if present {
                continue;
            }
            if let Err(error) = self.put(&site, &known.user, &session, known.put()).await {
                tracing::warn!(%error, site, session, "cannot put a session back");
            }
        }
        Ok(true)
    }
}
