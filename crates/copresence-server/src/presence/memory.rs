//! Live presence in this process: the embedded default.
//!
//! One mutex guards the rosters, the session clocks and the replay log, and every event is
//! numbered and sent while it is held, so the order subscribers see is the order the rosters
//! changed in. Nothing awaits while the lock is held.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use async_trait::async_trait;
use copresence_core::roster::{Roster, SessionPut};
use copresence_core::{Event, LeaveReason, Page, SaveRecord, SessionInfo, UserCard, UserId};
use tokio::sync::broadcast;

use super::{
    sse_frame, Attachment, Feed, FeedStart, Presence, PresenceConfig, PresenceError, Published,
    SessionCap,
};
use crate::clock::now_ms;

/// How often expired sessions are looked for.
const REAP_INTERVAL: Duration = Duration::from_millis(250);
/// Events a subscriber may fall behind before it is sent a fresh snapshot instead.
const SUBSCRIBER_QUEUE: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SessionKey {
    site: String,
    user: UserId,
    session: String,
}

impl SessionKey {
    fn new(site: &str, user: UserId, session: &str) -> Self {
        SessionKey {
            site: site.to_owned(),
            user,
            session: session.to_owned(),
        }
    }
}

#[derive(Default)]
struct State {
    rosters: HashMap<String, Roster>,
    /// When each open session expires, unless a stream holds it.
    deadlines: HashMap<SessionKey, i64>,
    /// How many open event streams hold each session.
    attachments: HashMap<SessionKey, usize>,
    /// How many sessions each user has open, all sites together.
    sessions_of: HashMap<UserId, usize>,
    log: VecDeque<Arc<Published>>,
    /// The encoded size of the events in `log`.
    log_bytes: usize,
    seq: u64,
}

impl State {
    /// Set a session's deadline, counting it for its user when it is new.
    fn hold(&mut self, key: SessionKey, deadline: i64) {
        let user = key.user;
        if self.deadlines.insert(key, deadline).is_none() {
            *self.sessions_of.entry(user).or_default() += 1;
        }
    }

    /// Forget a session's deadline and its place in its user's count.
    fn forget(&mut self, key: &SessionKey) {
        if self.deadlines.remove(key).is_some() {
            if let Some(n) = self.sessions_of.get_mut(&key.user) {
                *n -= 1;
                if *n == 0 {
                    self.sessions_of.remove(&key.user);
                }
            }
        }
    }
}

struct Shared {
    state: Mutex<State>,
    live: broadcast::Sender<Arc<Published>>,
    /// Distinguishes this process's event ids from a previous run's: a resume across a restart
    /// gets a snapshot, never a wrong replay.
    epoch: String,
    config: PresenceConfig,
}

pub struct MemoryPresence {
    shared: Arc<Shared>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a way later
        // calls can't handle, so carry on with the data rather than poison every request.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn publish(&self, state: &mut State, event: Event) {
        state.seq += 1;
        let site = event.site().unwrap_or_default().to_owned();
        let data = serde_json::to_string(&event).expect("events always serialise");
        let id = format!("{}-{}", self.epoch, state.seq);
        let published = Arc::new(Published {
            frame: sse_frame(&id, event.name(), &data),
            id,
            order: (state.seq, 0),
            site,
            event,
            data,
        });
        // Held by count and by bytes; the newest event always stays.
        state.log_bytes += published.frame.len();
        state.log.push_back(published.clone());
        while state.log.len() > self.config.replay_capacity.max(1)
            || (state.log_bytes > self.config.replay_bytes && state.log.len() > 1)
        {
            if let Some(oldest) = state.log.pop_front() {
                state.log_bytes -= oldest.frame.len();
            }
        }
        // No receivers is not an error: nobody is watching.
        let _ = self.live.send(published);
    }

    fn cursor(&self, state: &State) -> String {
        format!("{}-{}", self.epoch, state.seq)
    }

    fn reap(&self, now: i64) {
        let mut state = self.lock();
        let expired: Vec<SessionKey> = state
            .deadlines
            .iter()
            .filter(|(key, deadline)| {
                let held = state.attachments.contains_key(*key);
                self.config.lifetime().expired(**deadline, now, held)
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in expired {
            state.forget(&key);
            let event = state.rosters.get_mut(&key.site).and_then(|roster| {
                roster.end_session(&key.site, key.user, &key.session, LeaveReason::Expired, now)
            });
            if let Some(event) = event {
                self.publish(&mut state, event);
            }
        }
    }

    fn release(&self, key: SessionKey) {
        let mut state = self.lock();
        let remaining = match state.attachments.get_mut(&key) {
            Some(count) => {
                *count -= 1;
                *count
            }
            None => return,
        };
        if remaining == 0 {
            state.attachments.remove(&key);
            let now = now_ms();
            if let Some(deadline) = state.deadlines.get_mut(&key) {
                *deadline = self.config.lifetime().after_release(now);
            }
        }
    }
}

impl MemoryPresence {
    /// Start live presence; its expiry task runs until the last handle is dropped.
    pub fn start(config: PresenceConfig) -> Arc<MemoryPresence> {
        let (live, _) = broadcast::channel(SUBSCRIBER_QUEUE);
        let mut epoch = [0u8; 6];
        getrandom::fill(&mut epoch).expect("the operating system's random source is unavailable");
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            live,
            epoch: epoch.iter().map(|b| format!("{b:02x}")).collect(),
            config,
        });
        let weak: Weak<Shared> = Arc::downgrade(&shared);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(REAP_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(shared) = weak.upgrade() else { break };
                shared.reap(now_ms());
            }
        });
        Arc::new(MemoryPresence { shared })
    }

    /// The events after `last_event_id` for `sites`, or `None` when they are no longer all held.
    fn replay(
        &self,
        state: &State,
        sites: &[String],
        last_event_id: &str,
    ) -> Option<Vec<Arc<Published>>> {
        let (epoch, seq) = last_event_id.rsplit_once('-')?;
        let seq: u64 = seq.parse().ok()?;
        if epoch != self.shared.epoch || seq > state.seq {
            return None;
        }
        let oldest_held = state.seq + 1 - state.log.len() as u64;
        if seq + 1 < oldest_held {
            return None;
        }
        let skip = (seq + 1 - oldest_held) as usize;
        Some(
            state
                .log
                .iter()
                .skip(skip)
                .filter(|p| sites.iter().any(|s| *s == p.site))
                .cloned()
                .collect(),
        )
    }
}

#[async_trait]
impl Presence for MemoryPresence {
    async fn put_session(
        &self,
        site: &str,
        user: &UserCard,
        session: &str,
        put: SessionPut<'_>,
    ) -> Result<SessionInfo, PresenceError> {
        let now = now_ms();
        let shared = &self.shared;
        let mut state = shared.lock();
        let key = SessionKey::new(site, user.id, session);
        let per_user = shared.config.max_sessions_per_user;
        if !state.deadlines.contains_key(&key)
            && state.sessions_of.get(&user.id).copied().unwrap_or(0) >= per_user
        {
            return Err(PresenceError::TooManySessions(SessionCap::User(per_user)));
        }
        let per_site = shared.config.max_sessions_per_site;
        let roster = state.rosters.entry(site.to_owned()).or_default();
        if !roster.admits(user.id, session, per_site) {
            return Err(PresenceError::TooManySessions(SessionCap::Site(per_site)));
        }
        let event = roster.put_session(site, user, session, put, now);
        let info = roster
            .session(user.id, session)
            .cloned()
            .ok_or_else(|| PresenceError::Unavailable("session vanished while stored".into()))?;
        let deadline = shared.config.lifetime().held_until(now);
        state.hold(key, deadline);
        if let Some(event) = event {
            shared.publish(&mut state, event);
        }
        Ok(info)
    }

    async fn end_session(
        &self,
        site: &str,
        user: UserId,
        session: &str,
    ) -> Result<bool, PresenceError> {
        let shared = &self.shared;
        let mut state = shared.lock();
        state.forget(&SessionKey::new(site, user, session));
        let event = state.rosters.get_mut(site).and_then(|roster| {
            roster.end_session(site, user, session, LeaveReason::Left, now_ms())
        });
        let ended = event.is_some();
        if let Some(event) = event {
            shared.publish(&mut state, event);
        }
        Ok(ended)
    }

    async fn publish_saved(&self, site: &str, save: SaveRecord) -> Result<(), PresenceError> {
        let mut state = self.shared.lock();
        let event = Event::Saved {
            site: site.to_owned(),
            save,
        };
        self.shared.publish(&mut state, event);
        Ok(())
    }

    async fn publish_pages(
        &self,
        site: &str,
        added: Vec<Page>,
        at: i64,
    ) -> Result<(), PresenceError> {
        let mut state = self.shared.lock();
        let event = Event::Pages {
            site: site.to_owned(),
            added,
            at,
        };
        self.shared.publish(&mut state, event);
        Ok(())
    }

    async fn roster(&self, site: &str) -> Result<Roster, PresenceError> {
        Ok(self
            .shared
            .lock()
            .rosters
            .get(site)
            .cloned()
            .unwrap_or_default())
    }

    async fn subscribe(
        &self,
        sites: &[String],
        last_event_id: Option<&str>,
    ) -> Result<Feed, PresenceError> {
        let state = self.shared.lock();
        let live = self.shared.live.subscribe();
        let replay = last_event_id.and_then(|id| self.replay(&state, sites, id));
        let start = match replay {
            Some(events) => FeedStart::Replay(events),
            None => FeedStart::Snapshot {
                rosters: sites
                    .iter()
                    .map(|site| {
                        let roster = state.rosters.get(site).cloned().unwrap_or_default();
                        (site.clone(), roster)
                    })
                    .collect(),
                cursor: self.shared.cursor(&state),
            },
        };
        // The lock makes the start and the live feed meet exactly.
        Ok(Feed {
            start,
            live,
            after: None,
        })
    }

    fn attach(&self, site: &str, user: UserId, session: &str) -> Attachment {
        let key = SessionKey::new(site, user, session);
        *self
            .shared
            .lock()
            .attachments
            .entry(key.clone())
            .or_default() += 1;
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

    fn config() -> PresenceConfig {
        PresenceConfig {
            session_ttl: Duration::from_secs(45),
            reconnect_grace: Duration::from_secs(5),
            replay_capacity: 4,
            replay_bytes: 1 << 20,
            max_sessions_per_site: 3,
            max_sessions_per_user: 4,
        }
    }

    fn ann() -> UserCard {
        copresence_core::fixtures::card(1, "Ann")
    }

    fn sites() -> Vec<String> {
        vec!["s".to_owned()]
    }

    #[tokio::test]
    async fn resume_replays_missed_events_or_falls_back_to_snapshot() {
        let presence = MemoryPresence::start(config());
        let first = presence.subscribe(&sites(), None).await.unwrap();
        let FeedStart::Snapshot { cursor, .. } = first.start else {
            panic!("a first subscription starts from a snapshot")
        };
        presence
            .put_session("s", &ann(), "t", SessionPut::new("/", "cli"))
            .await
            .unwrap();
        presence
            .put_session("s", &ann(), "t", SessionPut::new("/a", "cli"))
            .await
            .unwrap();
        let resumed = presence.subscribe(&sites(), Some(&cursor)).await.unwrap();
        match resumed.start {
            FeedStart::Replay(events) => {
                let names: Vec<&str> = events.iter().map(|p| p.event.name()).collect();
                assert_eq!(names, ["join", "move"]);
            }
            FeedStart::Snapshot { .. } => panic!("the events are still held"),
        }
        for page in ["/b", "/c", "/d", "/e"] {
            presence
                .put_session("s", &ann(), "t", SessionPut::new(page, "cli"))
                .await
                .unwrap();
        }
        let too_late = presence.subscribe(&sites(), Some(&cursor)).await.unwrap();
        assert!(matches!(too_late.start, FeedStart::Snapshot { .. }));
        let other_epoch = presence.subscribe(&sites(), Some("ffff-1")).await.unwrap();
        assert!(matches!(other_epoch.start, FeedStart::Snapshot { .. }));
        let garbage = presence
            .subscribe(&sites(), Some("not an id"))
            .await
            .unwrap();
        assert!(matches!(garbage.start, FeedStart::Snapshot { .. }));
    }

    #[tokio::test]
    async fn sessions_past_a_cap_are_refused_and_open_ones_kept() {
        let presence = MemoryPresence::start(config());
        for tab in ["a", "b", "c"] {
            presence
                .put_session("s", &ann(), tab, SessionPut::new("/", "cli"))
                .await
                .unwrap();
        }
        let past_site = presence
            .put_session("s", &ann(), "d", SessionPut::new("/", "cli"))
            .await;
        assert!(matches!(
            past_site,
            Err(PresenceError::TooManySessions(SessionCap::Site(3)))
        ));
        presence
            .put_session("s", &ann(), "c", SessionPut::new("/moved", "cli"))
            .await
            .expect("an open session still moves");
        presence
            .put_session("t", &ann(), "a", SessionPut::new("/", "cli"))
            .await
            .unwrap();
        let past_user = presence
            .put_session("u", &ann(), "a", SessionPut::new("/", "cli"))
            .await;
        assert!(matches!(
            past_user,
            Err(PresenceError::TooManySessions(SessionCap::User(4)))
        ));
        assert_eq!(presence.roster("s").await.unwrap().session_count(), 3);
        presence.end_session("s", 1, "a").await.unwrap();
        presence
            .put_session("u", &ann(), "a", SessionPut::new("/", "cli"))
            .await
            .expect("a closed session frees its place");
    }

    #[tokio::test]
    async fn the_replay_log_is_bounded_by_bytes() {
        let mut config = config();
        config.replay_capacity = 1000;
        config.replay_bytes = 2_000;
        let presence = MemoryPresence::start(config);
        for i in 0..100 {
            let page = format!("/{}", "p".repeat(i));
            presence
                .put_session("s", &ann(), "t", SessionPut::new(&page, "cli"))
                .await
                .unwrap();
        }
        let state = presence.shared.lock();
        assert!(state.log_bytes <= 2_000, "{} bytes held", state.log_bytes);
        assert_eq!(
            state.log_bytes,
            state.log.iter().map(|p| p.frame.len()).sum::<usize>()
        );
        assert!(!state.log.is_empty());
    }

    #[tokio::test]
    async fn attached_session_outlives_its_ttl_and_leaves_after_the_grace() {
        let presence = MemoryPresence::start(config());
        presence
            .put_session("s", &ann(), "t", SessionPut::new("/", "cli"))
            .await
            .unwrap();
        let guard = presence.attach("s", 1, "t");
        let far = now_ms() + 60_000;
        presence.shared.reap(far);
        assert!(
            !presence.roster("s").await.unwrap().is_empty(),
            "held by its stream"
        );
        drop(guard);
        presence.shared.reap(now_ms() + 1_000);
        assert!(
            !presence.roster("s").await.unwrap().is_empty(),
            "inside the grace"
        );
        presence.shared.reap(now_ms() + 6_000);
        assert!(
            presence.roster("s").await.unwrap().is_empty(),
            "gone after the grace"
        );
    }

    #[tokio::test]
    async fn a_session_held_past_its_ttl_is_not_cut_short_when_its_stream_drops() {
        let presence = MemoryPresence::start(PresenceConfig {
            session_ttl: Duration::from_millis(200),
            ..config()
        });
        presence
            .put_session("s", &ann(), "t", SessionPut::new("/", "cli"))
            .await
            .unwrap();
        let guard = presence.attach("s", 1, "t");
        tokio::time::sleep(Duration::from_millis(400)).await;
        presence.shared.reap(now_ms());
        assert!(!presence.roster("s").await.unwrap().is_empty());
        drop(guard);
        presence.shared.reap(now_ms() + 100);
        assert!(
            !presence.roster("s").await.unwrap().is_empty(),
            "a stream that just dropped leaves its session a TTL (shorter than the grace here)"
        );
        presence.shared.reap(now_ms() + 1_000);
        assert!(presence.roster("s").await.unwrap().is_empty());
    }
}
