//! Live presence: who has which session open where, their expiry, and the ordered event feed
//! every subscriber reads.
//!
//! [`Presence`] is the seam between one process and several: the embedded default keeps it in
//! memory ([`memory::MemoryPresence`]); a multi-node deployment puts the same operations on a
//! shared store. Nothing outside this module assumes the state lives in this process.

pub mod memory;
pub mod redis;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use copresence_core::lifetime::SessionLifetime;
use copresence_core::roster::{Roster, SessionPut};
use copresence_core::{Event, Page, SaveRecord, SessionInfo, UserCard, UserId};
use tokio::sync::broadcast;

/// Timing of presence.
#[derive(Debug, Clone, Copy)]
pub struct PresenceConfig {
    /// A session with no heartbeat for this long expires and its leave is published.
    pub session_ttl: Duration,
    /// A session whose attached event stream dropped leaves after this, unless a stream attaches
    /// again first: a reconnect inside it produces neither a leave nor a join.
    pub reconnect_grace: Duration,
    /// How many recent events are kept for `Last-Event-ID` replay.
    pub replay_capacity: usize,
    /// The most bytes of encoded events kept for replay: with events of every size, the count
    /// alone does not bound memory. The oldest go first.
    pub replay_bytes: usize,
    /// Sessions one user may have open on one site (tabs, windows, editors).
    pub max_sessions_per_site: usize,
    /// Sessions one user may have open on all sites together.
    pub max_sessions_per_user: usize,
}

impl PresenceConfig {
    /// Heartbeats are due three times per TTL: two can be lost before a session expires.
    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.lifetime().heartbeat_ms().max(0) as u64)
    }

    /// How long sessions live, by the core's rules.
    pub fn lifetime(&self) -> SessionLifetime {
        SessionLifetime::new(self.session_ttl, self.reconnect_grace)
    }
}

/// Where an event falls in the feed, comparable within one epoch: `(seq, 0)` in memory, the
/// stream entry id `(ms, seq)` in Redis.
pub type EventOrder = (u64, u64);

/// One event as published: encoded once, shared by every subscriber.
#[derive(Debug)]
pub struct Published {
    /// The SSE `id:`, `<epoch>-<position>`.
    pub id: String,
    pub order: EventOrder,
    pub site: String,
    pub event: Event,
    /// The event's JSON, the SSE `data:`.
    pub data: String,
    /// The whole SSE frame (`id:`, `event:`, `data:` and the blank line), encoded once when
    /// published: every subscriber's stream sends these same bytes.
    pub frame: Bytes,
}

/// One SSE frame: `id:`, `event:` and `data:` lines, then the blank line that ends it.
pub fn sse_frame(id: &str, event: &str, data: &str) -> Bytes {
    let mut frame = Vec::with_capacity(id.len() + event.len() + data.len() + 24);
    frame.extend_from_slice(b"id: ");
    frame.extend_from_slice(id.as_bytes());
    frame.extend_from_slice(b"\nevent: ");
    frame.extend_from_slice(event.as_bytes());
    frame.push(b'\n');
    // JSON has no raw line breaks; any other text gets one `data:` line per line.
    for line in data.split('\n') {
        frame.extend_from_slice(b"data: ");
        frame.extend_from_slice(line.trim_end_matches('\r').as_bytes());
        frame.push(b'\n');
    }
    frame.push(b'\n');
    Bytes::from(frame)
}

/// Where a new subscriber starts.
pub enum FeedStart {
    /// From a snapshot of these rosters, taken at `cursor` (the id to resume from later).
    Snapshot {
        rosters: Vec<(String, Roster)>,
        cursor: String,
    },
    /// From these missed events, replayed in order.
    Replay(Vec<Arc<Published>>),
}

/// A subscription: its start, then every later event on `live`, in order.
pub struct Feed {
    pub start: FeedStart,
    pub live: broadcast::Receiver<Arc<Published>>,
    /// Live events at or before this are already in the start (a shared store's feed is read
    /// apart from its snapshot) and are skipped.
    pub after: Option<EventOrder>,
}

#[derive(Debug, thiserror::Error)]
pub enum PresenceError {
    #[error("live presence is unavailable: {0}")]
    Unavailable(String),
    /// A new session past a cap; every open session is kept.
    #[error("{0}")]
    TooManySessions(SessionCap),
}

/// Which session cap a new session would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionCap {
    Site(usize),
    User(usize),
}

impl std::fmt::Display for SessionCap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionCap::Site(n) => write!(
                f,
                "you have {n} sessions open on this site, the most allowed: close one (DELETE it) or let it expire"
            ),
            SessionCap::User(n) => write!(
                f,
                "you have {n} sessions open on all sites together, the most allowed: close one (DELETE it) or let it expire"
            ),
        }
    }
}

/// Holds a session up while an event stream that carries it is open; dropping it starts the
/// session's reconnect grace.
pub struct Attachment(Option<Box<dyn FnOnce() + Send + Sync>>);

impl Attachment {
    pub fn new(on_release: impl FnOnce() + Send + Sync + 'static) -> Self {
        Attachment(Some(Box::new(on_release)))
    }

    pub fn none() -> Self {
        Attachment(None)
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        if let Some(release) = self.0.take() {
            release();
        }
    }
}

#[async_trait]
pub trait Presence: Send + Sync + 'static {
    /// Join, heartbeat or move a session; publishes whatever a watcher can see change.
    async fn put_session(
        &self,
        site: &str,
        user: &UserCard,
        session: &str,
        put: SessionPut<'_>,
    ) -> Result<SessionInfo, PresenceError>;

    /// Close a session at once. Returns whether it was open.
    async fn end_session(
        &self,
        site: &str,
        user: UserId,
        session: &str,
    ) -> Result<bool, PresenceError>;

    /// Publish a save that the durable store has accepted.
    async fn publish_saved(&self, site: &str, save: SaveRecord) -> Result<(), PresenceError>;

    /// Publish pages that the durable store has added to a site, at `at`.
    async fn publish_pages(
        &self,
        site: &str,
        added: Vec<Page>,
        at: i64,
    ) -> Result<(), PresenceError>;

    /// Who is on a site now.
    async fn roster(&self, site: &str) -> Result<Roster, PresenceError>;

    /// Subscribe to `sites`, resuming after `last_event_id` when the events since are still
    /// held, from a snapshot otherwise. The snapshot and the live feed are taken together: no
    /// event falls between them.
    async fn subscribe(
        &self,
        sites: &[String],
        last_event_id: Option<&str>,
    ) -> Result<Feed, PresenceError>;

    /// Keep `user`'s `session` on `site` alive while the returned guard lives.
    fn attach(&self, site: &str, user: UserId, session: &str) -> Attachment;

    fn config(&self) -> PresenceConfig;
}
