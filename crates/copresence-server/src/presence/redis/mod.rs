//! Live presence shared by several nodes through Redis.
//!
//! Every node reads and writes the same three things:
//!
//! - `copresence:roster:<site>`: a hash of the site's roster (JSON) and a version number. A node
//!   changes a roster by reading it, applying the core rules ([`Roster::put_session`],
//!   [`Roster::end_session`]) and writing it back with a compare-and-set script that also
//!   appends the derived event — so the presence rules stay in `copresence-core`, and two nodes
//!   racing on one site simply retry.
//! - `copresence:events`: a Redis stream, the one ordered feed of every event of every site.
//!   Its entry ids are the event ids (`<epoch>-<ms>-<seq>`), so a client that reconnects to
//!   *another* node resumes from its `Last-Event-ID` with nothing lost or repeated. Each node
//!   reads the stream once (`XREAD BLOCK`) and fans it out to its own subscribers.
//! - `copresence:deadlines`: a sorted set of session expiry times. Any node may reap an expired
//!   session; a claim script makes sure only one publishes its leave. A node refreshes the
//!   deadlines of the sessions attached to its open streams, so when a node dies its sessions
//!   leave within the TTL.
//!
//! `copresence:epoch` tells whether Redis kept its data: when it comes back empty (restarted
//! without persistence) the nodes notice a new epoch, put back the sessions they know of, and
//! end every open stream so each subscriber reconnects to a fresh snapshot.
//!
//! The roster compare-and-set and the stream's replay are Lua scripts (`script`); `stream`
//! reads the feed, `reaper` ends the sessions whose deadline passed and holds up those this
//! node's streams hold, and `epoch` notices when Redis lost its data and puts back what this
//! node knows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use copresence_core::roster::{Roster, SessionPut};
use copresence_core::{Event, LeaveReason, Page, SaveRecord, SessionInfo, UserCard, UserId};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::StreamRangeReply;
use redis::Script;
use tokio::sync::broadcast;

use super::{
    Attachment, Feed, FeedStart, Presence, PresenceConfig, PresenceError, Published, SessionCap,
};
use crate::clock::now_ms;

mod epoch;
mod reaper;
mod script;
mod stream;

pub use stream::resume_position;

use epoch::KnownSession;
use script::{DeadlineChange, CAS_ROSTER, EVENTS_SINCE};
use stream::{parse_entry_id, READ_BLOCK};

const EVENTS: &str = "copresence:events";
const DEADLINES: &str = "copresence:deadlines";
const EPOCH: &str = "copresence:epoch";

fn roster_key(site: &str) -> String {
    format!("copresence:roster:{site}")
}

/// The set of a user's open sessions on every site (as [`deadline_member`] names them): what
/// the per-user session cap counts. Redis deletes it with its last member.
fn sessions_of_key(user: UserId) -> String {
    format!("copresence:sessions_of:{user}")
}

/// How often expired sessions are looked for, and the stream is checked when quiet.
const REAP_INTERVAL: Duration = Duration::from_millis(250);
/// Events a subscriber may fall behind before it is sent a fresh snapshot instead.
const SUBSCRIBER_QUEUE: usize = 1024;

fn unavailable(error: impl std::fmt::Display) -> PresenceError {
    PresenceError::Unavailable(error.to_string())
}

/// A session as the deadlines set names it: site, user and session id, which no site id or
/// session id can contain (they are validated to a safe alphabet).
fn deadline_member(site: &str, user: UserId, session: &str) -> String {
    format!("{site}\n{user}\n{session}")
}

fn parse_deadline_member(member: &str) -> Option<(String, UserId, String)> {
    let mut parts = member.splitn(3, '\n');
    let site = parts.next()?.to_owned();
    let user = parts.next()?.parse().ok()?;
    let session = parts.next()?.to_owned();
    Some((site, user, session))
}

type SessionKey = (String, UserId, String);

#[derive(Default)]
struct Local {
    known: HashMap<SessionKey, KnownSession>,
    /// How many of this node's open streams hold each session.
    attachments: HashMap<SessionKey, usize>,
}

struct FeedState {
    epoch: String,
    live: broadcast::Sender<Arc<Published>>,
}

struct Shared {
    commands: ConnectionManager,
    /// The epoch and the sender of its events, changed together.
    feed: Mutex<FeedState>,
    local: Mutex<Local>,
    config: PresenceConfig,
    /// [`CAS_ROSTER`], which Redis runs by its hash once it has seen it.
    cas: Script,
    /// [`EVENTS_SINCE`], likewise.
    since: Script,
}

pub struct RedisPresence {
    shared: Arc<Shared>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn epoch(&self) -> String {
        lock(&self.feed).epoch.clone()
    }

    fn sender(&self) -> broadcast::Sender<Arc<Published>> {
        lock(&self.feed).live.clone()
    }

    /// The sender of `epoch`'s events, or `None` once the epoch has changed.
    fn sender_of(&self, epoch: &str) -> Option<broadcast::Sender<Arc<Published>>> {
        let feed = lock(&self.feed);
        (feed.epoch == epoch).then(|| feed.live.clone())
    }

    /// Read a site's roster and its version.
    async fn read_roster(&self, site: &str) -> Result<(Roster, i64), PresenceError> {
        let mut con = self.commands.clone();
        let (version, json): (Option<i64>, Option<String>) = redis::cmd("HMGET")
            .arg(roster_key(site))
            .arg("version")
            .arg("roster")
            .query_async(&mut con)
            .await
            .map_err(unavailable)?;
        Ok((parse_roster(json)?, version.unwrap_or(0)))
    }

    async fn put(
        &self,
        site: &str,
        user: &UserCard,
        session: &str,
        put: SessionPut<'_>,
    ) -> Result<SessionInfo, PresenceError> {
        let member = deadline_member(site, user.id, session);
        let now = now_ms();
        let deadline = self.config.lifetime().held_until(now);
        // A heartbeat that changes nothing (by the core's own rule: the roster comes out the
        // same) only pushes the deadline back, with no roster write — if the deadline is still
        // there: a session just reaped takes the full path and joins again.
        let (roster, _) = self.read_roster(site).await?;
        let per_site = self.config.max_sessions_per_site;
        let too_many = || PresenceError::TooManySessions(SessionCap::Site(per_site));
        if !roster.admits(user.id, session, per_site) {
            return Err(too_many());
        }
        let mut probe = roster.clone();
        let unchanged =
            probe.put_session(site, user, session, put, now).is_none() && probe == roster;
        let held = if unchanged {
            let mut con = self.commands.clone();
            let updated: i64 = redis::cmd("ZADD")
                .arg(DEADLINES)
                .arg("XX")
                .arg("CH")
                .arg(deadline)
                .arg(&member)
                .query_async(&mut con)
                .await
                .map_err(unavailable)?;
            if updated == 1 {
                roster.session(user.id, session).cloned()
            } else {
                None
            }
        } else {
            None
        };
        let info = match held {
            Some(info) => info,
            None => {
                // Checked again on the roster that is written: another node may have opened a
                // session of this user's since.
                self.update_roster(site, user.id, &member, |roster| {
                    if !roster.admits(user.id, session, per_site) {
                        return (None, DeadlineChange::Keep, Err(too_many()));
                    }
                    let event = roster.put_session(site, user, session, put, now);
                    let info = roster.session(user.id, session).cloned().ok_or_else(|| {
                        PresenceError::Unavailable("session vanished while stored".into())
                    });
                    (event, DeadlineChange::Set(deadline), info)
                })
                .await??
            }
        };
        lock(&self.local).known.insert(
            (site.to_owned(), user.id, session.to_owned()),
            KnownSession {
                user: user.clone(),
                page: put.page.to_owned(),
                client: put.client.to_owned(),
                url: put.url.map(str::to_owned),
                last_seen: now,
            },
        );
        Ok(info)
    }

    /// Append an event that changes no roster (a save, added pages) to the shared feed.
    async fn append(&self, site: &str, event: &Event) -> Result<(), PresenceError> {
        let data = serde_json::to_string(event).expect("events always serialise");
        let mut con = self.commands.clone();
        let _: String = redis::cmd("XADD")
            .arg(EVENTS)
            .arg("MAXLEN")
            .arg("~")
            .arg(self.config.replay_capacity.max(1))
            .arg("*")
            .arg("site")
            .arg(site)
            .arg("data")
            .arg(data)
            .query_async(&mut con)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Close a session at once, as its owner asked.
    async fn end(&self, site: &str, user: UserId, session: &str) -> Result<bool, PresenceError> {
        lock(&self.local)
            .known
            .remove(&(site.to_owned(), user, session.to_owned()));
        let member = deadline_member(site, user, session);
        self.update_roster(site, user, &member, |roster| {
            let event = roster.end_session(site, user, session, LeaveReason::Left, now_ms());
            let ended = event.is_some();
            (event, DeadlineChange::Drop, ended)
        })
        .await
    }
}

/// A roster as stored (JSON), or an empty one for a site nobody has been on.
fn parse_roster(json: Option<String>) -> Result<Roster, PresenceError> {
    match json {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| PresenceError::Unavailable(format!("a stored roster: {e}"))),
        None => Ok(Roster::default()),
    }
}

impl RedisPresence {
    /// Connect to Redis at `url` and start reading the shared feed.
    pub async fn connect(
        url: &str,
        config: PresenceConfig,
    ) -> Result<Arc<RedisPresence>, PresenceError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let commands_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_max_delay(Duration::from_secs(1));
        let commands = ConnectionManager::new_with_config(client.clone(), commands_config.clone())
            .await
            .map_err(unavailable)?;
        // The reader blocks on XREAD, so it has a connection of its own that waits longer.
        let reader = ConnectionManager::new_with_config(
            client,
            commands_config.set_response_timeout(Some(READ_BLOCK + Duration::from_secs(2))),
        )
        .await
        .map_err(unavailable)?;
        let (live, _) = broadcast::channel(SUBSCRIBER_QUEUE);
        let shared = Arc::new(Shared {
            commands,
            feed: Mutex::new(FeedState {
                epoch: String::new(),
                live,
            }),
            local: Mutex::new(Local::default()),
            config,
            cas: Script::new(CAS_ROSTER),
            since: Script::new(EVENTS_SINCE),
        });
        shared.check_epoch().await?;
        let mut con = shared.commands.clone();
        let newest: StreamRangeReply = redis::cmd("XREVRANGE")
            .arg(EVENTS)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut con)
            .await
            .map_err(unavailable)?;
        let start_after = newest
            .ids
            .first()
            .map(|e| e.id.clone())
            .unwrap_or_else(|| "0-0".into());
        tokio::spawn(stream::read_stream(
            Arc::downgrade(&shared),
            reader,
            start_after,
        ));
        tokio::spawn(reaper::maintain(Arc::downgrade(&shared)));
        Ok(Arc::new(RedisPresence { shared }))
    }
}

#[async_trait]
impl Presence for RedisPresence {
    async fn put_session(
        &self,
        site: &str,
        user: &UserCard,
        session: &str,
        put: SessionPut<'_>,
    ) -> Result<SessionInfo, PresenceError> {
        self.shared.put(site, user, session, put).await
    }

    async fn end_session(
        &self,
        site: &str,
        user: UserId,
        session: &str,
    ) -> Result<bool, PresenceError> {
        self.shared.end(site, user, session).await
    }

    async fn publish_saved(&self, site: &str, save: SaveRecord) -> Result<(), PresenceError> {
        self.shared
            .append(
                site,
                &Event::Saved {
                    site: site.to_owned(),
                    save,
                },
            )
            .await
    }

    async fn publish_pages(
        &self,
        site: &str,
        added: Vec<Page>,
        at: i64,
    ) -> Result<(), PresenceError> {
        self.shared
            .append(
                site,
                &Event::Pages {
                    site: site.to_owned(),
                    added,
                    at,
                },
            )
            .await
    }

    async fn roster(&self, site: &str) -> Result<Roster, PresenceError> {
        Ok(self.shared.read_roster(site).await?.0)
    }

    async fn subscribe(
        &self,
        sites: &[String],
        last_event_id: Option<&str>,
    ) -> Result<Feed, PresenceError> {
        // Listen first, then read: anything published in between arrives live and is skipped
        // as already seen.
        let live = self.shared.sender().subscribe();
        if let Some(id) = last_event_id {
            if let Some((events, through)) = self.replay(sites, id).await? {
                return Ok(Feed {
                    start: FeedStart::Replay(events),
                    live,
                    after: Some(through),
                });
            }
        }
        // The rosters and the stream's last id, read in one transaction.
        let mut pipe = redis::pipe();
        pipe.atomic();
        for site in sites {
            pipe.cmd("HGET").arg(roster_key(site)).arg("roster");
        }
        pipe.cmd("XREVRANGE")
            .arg(EVENTS)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1);
        let mut con = self.shared.commands.clone();
        let mut values: Vec<redis::Value> =
            pipe.query_async(&mut con).await.map_err(unavailable)?;
        let newest: StreamRangeReply = match values.pop() {
            Some(value) => redis::from_redis_value(value).map_err(unavailable)?,
            None => StreamRangeReply::default(),
        };
        let mut rosters = Vec::with_capacity(sites.len());
        for (site, value) in sites.iter().zip(values) {
            let json: Option<String> = redis::from_redis_value(value).map_err(unavailable)?;
            rosters.push((site.clone(), parse_roster(json)?));
        }
        let newest_id = newest
            .ids
            .first()
            .map(|e| e.id.clone())
            .unwrap_or_else(|| "0-0".into());
        let after = parse_entry_id(&newest_id);
        Ok(Feed {
            start: FeedStart::Snapshot {
                rosters,
                cursor: format!("{}-{newest_id}", self.shared.epoch()),
            },
            live,
            after,
        })
    }

    fn attach(&self, site: &str, user: UserId, session: &str) -> Attachment {
        let key = (site.to_owned(), user, session.to_owned());
        *lock(&self.shared.local)
            .attachments
            .entry(key.clone())
            .or_default() += 1;
        // A stream that comes back on this node after dropping on another must cancel the
        // grace that node started, now rather than at the next refresh.
        let deadline = self.shared.config.lifetime().held_until(now_ms());
        self.shared
            .move_deadline(deadline_member(site, user, session), "GT", deadline);
        let weak = Arc::downgrade(&self.shared);
        Attachment::new(move || {
            if let Some(shared) = weak.upgrade() {
                shared.release(key);
            }
        })
    }

    fn config(&self) -> PresenceConfig {
        self.shared.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_members_round_trip() {
        let member = deadline_member("contoso", 42, "tab-1");
        assert_eq!(
            parse_deadline_member(&member),
            Some(("contoso".into(), 42, "tab-1".into()))
        );
        assert_eq!(parse_deadline_member("nonsense"), None);
    }
}
