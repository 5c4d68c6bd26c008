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

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use async_trait::async_trait;
use copresence_core::lifetime::SessionLifetime;
use copresence_core::roster::Roster;
use copresence_core::{Event, LeaveReason, SaveRecord, SessionInfo, UserCard, UserId};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::{StreamId, StreamRangeReply, StreamReadReply};
use redis::{AsyncCommands, Script};
use tokio::sync::broadcast;

use super::{
    Attachment, EventOrder, Feed, FeedStart, Presence, PresenceConfig, PresenceError, Published,
    SessionCap,
};
use crate::clock::now_ms;

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
/// How long one `XREAD` waits for new entries.
const READ_BLOCK: Duration = Duration::from_millis(2_000);
/// Events a subscriber may fall behind before it is sent a fresh snapshot instead.
const SUBSCRIBER_QUEUE: usize = 1024;
/// Expired sessions read at a time, and batches per reaping pass.
const REAP_BATCH: usize = 256;
const REAP_MAX_BATCHES: usize = 16;
/// Compare-and-set attempts before a roster change gives up as unavailable.
const MAX_RETRIES: usize = 32;

/// Write a roster if nobody changed it since it was read, append its event, and set or drop
/// the session's deadline and its place in its user's set of sessions — all at once. Returns
/// the event's stream id, "" when there was no event, nil when the roster changed under us,
/// "full" when a new session would pass the user's cap (ARGV[10]; nothing is written), or
/// "skip" when the reaper asked (ARGV[9]) and the session's deadline is no longer past (a
/// heartbeat got there first) — claiming an expired session and publishing its leave are one
/// step, so no session is left half-reaped.
const CAS_ROSTER: &str = r#"
if ARGV[9] ~= '' then
  local deadline = redis.call('ZSCORE', KEYS[3], ARGV[6])
  if not deadline or tonumber(deadline) > tonumber(ARGV[9]) then return 'skip' end
end
local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if version ~= tonumber(ARGV[1]) then return false end
if ARGV[7] == 'set' and ARGV[10] ~= '' and redis.call('SISMEMBER', KEYS[4], ARGV[6]) == 0
   and redis.call('SCARD', KEYS[4]) >= tonumber(ARGV[10]) then
  return 'full'
end
redis.call('HSET', KEYS[1], 'version', version + 1, 'roster', ARGV[2])
local id = ''
if ARGV[4] ~= '' then
  id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'site', ARGV[5], 'data', ARGV[4])
end
if ARGV[7] == 'set' then
  redis.call('ZADD', KEYS[3], ARGV[8], ARGV[6])
  redis.call('SADD', KEYS[4], ARGV[6])
elseif ARGV[7] == 'drop' then
  redis.call('ZREM', KEYS[3], ARGV[6])
  redis.call('SREM', KEYS[4], ARGV[6])
end
return id
"#;

/// The stream's first entry id, its last written id, how many entries it has dropped, and its
/// entries from ARGV[1] on — in one atomic step (an absent stream has written nothing).
const EVENTS_SINCE: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return {'0-0', '0-0', 0, {}} end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local first, last_generated, length, added = '0-0', '0-0', 0, 0
for i = 1, #info, 2 do
  local key, value = info[i], info[i + 1]
  if key == 'first-entry' and value then first = value[1] end
  if key == 'last-generated-id' then last_generated = value end
  if key == 'length' then length = value end
  if key == 'entries-added' then added = value end
end
return {first, last_generated, added - length, redis.call('XRANGE', KEYS[1], ARGV[1], '+')}
"#;

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

/// `<ms>-<seq>` → `(ms, seq)`.
fn parse_entry_id(id: &str) -> Option<EventOrder> {
    let (ms, seq) = id.split_once('-')?;
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

/// Where a client's `Last-Event-ID` (`<epoch>-<ms>-<seq>`) falls in the stream of `epoch`, or
/// `None` when it is not an id of that epoch. Only the parsed numbers reach Redis, never the
/// client's text.
pub fn resume_position(epoch: &str, last_event_id: &str) -> Option<EventOrder> {
    let entry = last_event_id.strip_prefix(epoch)?.strip_prefix('-')?;
    parse_entry_id(entry)
}

/// What a roster change does to the session's deadline.
enum DeadlineChange {
    Set(i64),
    Drop,
    /// Nothing: the change was refused.
    Keep,
}

/// A session this node has served, kept so it can be put back if Redis loses its data.
#[derive(Clone)]
struct KnownSession {
    user: UserCard,
    page: String,
    client: String,
    last_seen: i64,
}

impl KnownSession {
    /// Whether the session is still open as far as this node knows: held by one of its
    /// streams, or heartbeated within the TTL.
    fn alive(&self, lifetime: SessionLifetime, held: bool, now: i64) -> bool {
        !lifetime.expired(lifetime.held_until(self.last_seen), now, held)
    }
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
    cas: Script,
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

    /// How often attached sessions are held up (the core's rule): a stream still open here
    /// outweighs one that dropped on another node.
    fn refresh_interval_ms(&self) -> i64 {
        self.config
            .lifetime()
            .renew_every_ms(REAP_INTERVAL.as_millis() as i64)
    }

    fn published(&self, epoch: &str, entry: &StreamId) -> Option<Published> {
        let order = parse_entry_id(&entry.id)?;
        let site: String = entry.get("site")?;
        let data: String = entry.get("data")?;
        let event: Event = serde_json::from_str(&data).ok()?;
        let id = format!("{epoch}-{}", entry.id);
        Some(Published {
            frame: super::sse_frame(&id, event.name(), &data),
            id,
            order,
            site,
            event,
            data,
        })
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

    /// Change a site's roster with `change` (the core rules), retrying when another node got
    /// there first. Returns what `change` returned on the attempt that was written.
    async fn update_roster<T>(
        &self,
        site: &str,
        user: UserId,
        member: &str,
        change: impl FnMut(&mut Roster) -> (Option<Event>, DeadlineChange, T),
    ) -> Result<T, PresenceError> {
        self.update_roster_if_expired(site, user, member, None, change)
            .await?
            .ok_or_else(|| PresenceError::Unavailable("a roster change was skipped".into()))
    }

    /// [`Shared::update_roster`]; with `expired_at`, only if the session's deadline is still
    /// at or before it when written (else `None`: a heartbeat kept it). A new session past the
    /// user's cap is refused with nothing written.
    async fn update_roster_if_expired<T>(
        &self,
        site: &str,
        user: UserId,
        member: &str,
        expired_at: Option<i64>,
        mut change: impl FnMut(&mut Roster) -> (Option<Event>, DeadlineChange, T),
    ) -> Result<Option<T>, PresenceError> {
        let per_user = self.config.max_sessions_per_user;
        for _ in 0..MAX_RETRIES {
            let (mut roster, version) = self.read_roster(site).await?;
            let (event, deadline, outcome) = change(&mut roster);
            let roster_json = serde_json::to_string(&roster).expect("rosters always serialise");
            let event_json = event
                .as_ref()
                .map(|e| serde_json::to_string(e).expect("events always serialise"))
                .unwrap_or_default();
            let (mode, score) = match deadline {
                DeadlineChange::Set(at) => ("set", at),
                DeadlineChange::Drop => ("drop", 0),
                DeadlineChange::Keep => return Ok(Some(outcome)),
            };
            let mut con = self.commands.clone();
            let written: Option<String> = self
                .cas
                .key(roster_key(site))
                .key(EVENTS)
                .key(DEADLINES)
                .key(sessions_of_key(user))
                .arg(version)
                .arg(roster_json)
                .arg(self.config.replay_capacity.max(1))
                .arg(event_json)
                .arg(site)
                .arg(member)
                .arg(mode)
                .arg(score)
                .arg(expired_at.map(|at| at.to_string()).unwrap_or_default())
                .arg(per_user)
                .invoke_async(&mut con)
                .await
                .map_err(unavailable)?;
            match written.as_deref() {
                Some("skip") => return Ok(None),
                Some("full") => {
                    return Err(PresenceError::TooManySessions(SessionCap::User(per_user)))
                }
                Some(_) => return Ok(Some(outcome)),
                None => {}
            }
        }
        Err(PresenceError::Unavailable(format!(
            "the roster of {site} kept changing"
        )))
    }

    async fn put(
        &self,
        site: &str,
        user: &UserCard,
        session: &str,
        page: &str,
        client: &str,
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
        let unchanged = probe
            .put_session(site, user, session, page, client, now)
            .is_none()
            && probe == roster;
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
                    let event = roster.put_session(site, user, session, page, client, now);
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
                page: page.to_owned(),
                client: client.to_owned(),
                last_seen: now,
            },
        );
        Ok(info)
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

    /// Make sure Redis holds our epoch; when it does not (it restarted empty), adopt the new
    /// one, put back the sessions this node knows, and end every open stream so subscribers
    /// take a fresh snapshot. Returns whether the epoch changed.
    async fn check_epoch(&self) -> Result<bool, PresenceError> {
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
            if let Err(error) = self
                .put(&site, &known.user, &session, &known.page, &known.client)
                .await
            {
                tracing::warn!(%error, site, session, "cannot put a session back");
            }
        }
        Ok(true)
    }

    /// Move an open session's deadline to `to`, only earlier (`LT`) or only later (`GT`), in
    /// the background: callers are synchronous (a stream attaching or dropping).
    fn move_deadline(&self, member: String, direction: &'static str, to: i64) {
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

    fn release(&self, key: SessionKey) {
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

/// A roster as stored (JSON), or an empty one for a site nobody has been on.
fn parse_roster(json: Option<String>) -> Result<Roster, PresenceError> {
    match json {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| PresenceError::Unavailable(format!("a stored roster: {e}"))),
        None => Ok(Roster::default()),
    }
}

fn new_epoch() -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).expect("the operating system's random source is unavailable");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Read the shared stream and fan it out to this node's subscribers, for as long as the
/// presence lives; reconnects by itself.
async fn read_stream(weak: Weak<Shared>, mut reader: ConnectionManager, start_after: String) {
    // An explicit position, never `$`: an event appended between this node's start and its
    // first read must still reach the subscribers whose snapshot came before it.
    let mut last = start_after;
    let mut last_epoch = weak.upgrade().map(|s| s.epoch()).unwrap_or_default();
    loop {
        let Some(shared) = weak.upgrade() else { return };
        let epoch = shared.epoch();
        if epoch != last_epoch {
            // A new epoch is a new stream: start from its beginning.
            last = "0".into();
            last_epoch = epoch.clone();
        }
        drop(shared);
        let reply: redis::RedisResult<Option<StreamReadReply>> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(512)
            .arg("BLOCK")
            .arg(READ_BLOCK.as_millis() as u64)
            .arg("STREAMS")
            .arg(EVENTS)
            .arg(&last)
            .query_async(&mut reader)
            .await;
        let Some(shared) = weak.upgrade() else { return };
        match reply {
            Ok(Some(reply)) => {
                // Entries read across an epoch change belong to neither feed for sure: drop
                // them, and read the new stream from its start.
                let Some(sender) = shared.sender_of(&last_epoch) else {
                    continue;
                };
                for entry in reply.keys.iter().flat_map(|k| &k.ids) {
                    last = entry.id.clone();
                    if let Some(published) = shared.published(&last_epoch, entry) {
                        let _ = sender.send(Arc::new(published));
                    }
                }
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%error, "cannot read the shared event stream; retrying");
                drop(shared);
                tokio::time::sleep(REAP_INTERVAL).await;
                if let Some(shared) = weak.upgrade() {
                    if let Err(error) = shared.check_epoch().await {
                        tracing::debug!(%error, "Redis still unavailable");
                    }
                }
                continue;
            }
        }
    }
}

/// Reap expired sessions, keep attached ones alive and watch the epoch.
async fn maintain(weak: Weak<Shared>) {
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
        tokio::spawn(read_stream(Arc::downgrade(&shared), reader, start_after));
        tokio::spawn(maintain(Arc::downgrade(&shared)));
        Ok(Arc::new(RedisPresence { shared }))
    }

    /// The entries after `last_event_id` for `sites` and the position they run to, or `None`
    /// when they are not all held.
    async fn replay(
        &self,
        sites: &[String],
        last_event_id: &str,
    ) -> Result<Option<(Vec<Arc<Published>>, EventOrder)>, PresenceError> {
        let epoch = self.shared.epoch();
        let Some(after) = resume_position(&epoch, last_event_id) else {
            return Ok(None);
        };
        let mut con = self.shared.commands.clone();
        // What the stream has dropped and what it has written, read in the same atomic step as
        // the entries after `after`: a trim by another node cannot fall in between.
        let (first, last_generated, dropped, missed): (String, String, u64, StreamRangeReply) =
            self.shared
                .since
                .key(EVENTS)
                .arg(format!("({}-{}", after.0, after.1))
                .invoke_async(&mut con)
                .await
                .map_err(unavailable)?;
        let (Some(first), Some(last_generated)) =
            (parse_entry_id(&first), parse_entry_id(&last_generated))
        else {
            return Ok(None);
        };
        // An id from the future of this stream is not one of ours; once entries have been
        // trimmed away, one from before the first entry kept cannot be resumed without loss.
        if after > last_generated || (dropped > 0 && after < first) {
            return Ok(None);
        }
        let through = missed
            .ids
            .last()
            .and_then(|e| parse_entry_id(&e.id))
            .unwrap_or(after);
        let events = missed
            .ids
            .iter()
            .filter_map(|e| self.shared.published(&epoch, e))
            .filter(|p| sites.contains(&p.site))
            .map(Arc::new)
            .collect();
        Ok(Some((events, through)))
    }
}

#[async_trait]
impl Presence for RedisPresence {
    async fn put_session(
        &self,
        site: &str,
        user: &UserCard,
        session: &str,
        page: &str,
        client: &str,
    ) -> Result<SessionInfo, PresenceError> {
        self.shared.put(site, user, session, page, client).await
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
        let event = Event::Saved {
            site: site.to_owned(),
            save,
        };
        let data = serde_json::to_string(&event).expect("events always serialise");
        let mut con = self.shared.commands.clone();
        let _: String = redis::cmd("XADD")
            .arg(EVENTS)
            .arg("MAXLEN")
            .arg("~")
            .arg(self.shared.config.replay_capacity.max(1))
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

    #[test]
    fn entry_ids_order_by_time_then_sequence() {
        assert_eq!(
            parse_entry_id("1700000000000-3"),
            Some((1_700_000_000_000, 3))
        );
        assert!(parse_entry_id("1-2") < parse_entry_id("1-10"));
        assert!(parse_entry_id("1-99") < parse_entry_id("2-0"));
        assert_eq!(parse_entry_id("x"), None);
    }
}
