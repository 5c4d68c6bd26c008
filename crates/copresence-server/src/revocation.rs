//! Access taken away reaches every node within a few seconds, open event streams included.
//!
//! Revocations are written by the command line (`token revoke`, `import --prune`) straight into
//! the store, whose revocation log every node reads each [`POLL_INTERVAL`]. The log lives in the
//! database rather than on a Redis channel so that it needs nothing but the store that the
//! command writes to: the embedded node reads the same SQLite file, several nodes the same
//! PostgreSQL, and a revocation made while Redis is away is not lost. On news, a node forgets
//! every answer it held in memory (so no cache outlives a revocation), ends the sessions of
//! users who are no longer members of a site, and tells its open streams whose access changed;
//! each of those checks its own credential and sites again and ends itself if they no longer
//! hold.

use std::sync::Arc;
use std::time::Duration;

use copresence_core::UserId;
use tokio::sync::broadcast;

use crate::presence::Presence;
use crate::store::{Store, Who};

/// How often the revocation log is read.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Batches of news a stream may fall behind before it simply checks itself again.
const QUEUE: usize = 16;

/// The users whose access changed, as one batch of news.
pub type Revoked = Arc<[UserId]>;

/// Where open streams hear about revocations.
pub struct Revocations {
    news: broadcast::Sender<Revoked>,
}

impl Revocations {
    /// Start reading the log from its current end; the reader stops with the last handle.
    pub fn start(store: Store, presence: Arc<dyn Presence>) -> Arc<Revocations> {
        let revocations = Arc::new(Revocations {
            news: broadcast::channel(QUEUE).0,
        });
        let weak = Arc::downgrade(&revocations);
        tokio::spawn(async move {
            let mut seen = loop {
                match store.last_revocation().await {
                    Ok(last) => break last,
                    Err(error) => {
                        tracing::warn!(%error, "cannot read the revocation log yet");
                        tokio::time::sleep(POLL_INTERVAL).await;
                    }
                }
            };
            let mut tick = tokio::time::interval(POLL_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(revocations) = weak.upgrade() else {
                    break;
                };
                let (users, last) = match store.revocations_after(seen).await {
                    Ok(news) => news,
                    Err(error) => {
                        tracing::debug!(%error, "cannot read the revocation log");
                        continue;
                    }
                };
                seen = last;
                if users.is_empty() {
                    continue;
                }
                tracing::info!(users = users.len(), "access was taken away");
                store.forget_cached();
                end_sessions_of_non_members(&store, presence.as_ref(), &users).await;
                // Nobody listening is not an error: no stream is open.
                let _ = revocations.news.send(users.into());
            }
        });
        revocations
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Revoked> {
        self.news.subscribe()
    }
}

/// A user removed from a site leaves it now, rather than after their session's TTL: their
/// heartbeats are refused from here on anyway.
async fn end_sessions_of_non_members(store: &Store, presence: &dyn Presence, users: &[UserId]) {
    let sites = match store.all_sites().await {
        Ok(sites) => sites,
        Err(error) => {
            tracing::warn!(%error, "cannot end the sessions of removed members yet");
            return;
        }
    };
    for site in sites {
        let Ok(roster) = presence.roster(&site.info.id).await else {
            continue;
        };
        for &user in users {
            let Some(member) = roster.member(user) else {
                continue;
            };
            // Known here only by their card: a member by a directory group, whose groups only
            // their token carries, counts as gone and is let back in by their next heartbeat.
            let who = Who {
                id: user,
                email: &member.user.email,
                groups: &[],
            };
            match store.member_site(who, &site.info.id).await {
                Ok(None) => {}
                // Still a member, or unknown for now: their sessions stay.
                Ok(Some(_)) | Err(_) => continue,
            }
            for session in &member.sessions {
                let ended = presence.end_session(&site.info.id, user, &session.id).await;
                if let Err(error) = ended {
                    tracing::warn!(%error, "cannot end a removed member's session");
                }
            }
        }
    }
}
