//! A site's live state, and the presence rules that turn session changes into events.
//!
//! The model groups sessions under their user: a user *joins* with their first session, *leaves*
//! with their last, and every change in between (another tab, a page change, a tab closed) is a
//! *move* carrying the user's whole state. Nobody is announced twice for two tabs, and a page
//! change is never a leave followed by a join.
//!
//! The server calls [`Roster::put_session`] and [`Roster::end_session`] to derive the events it
//! publishes; clients call [`SiteState::apply`] with the events they receive (saves and added
//! pages included). Both sides hold the
//! same [`Roster`], so a client's view is the server's view, delayed by the network.
//!
//! The TypeScript client (`packages/client/src/roster.ts`) applies events by these rules too; the
//! golden files in `protocol/golden/roster/` hold both to the same results, so a change here
//! starts there.

use serde::{Deserialize, Serialize};

use crate::protocol::{
    Event, LeaveReason, Member, Page, SaveRecord, SessionInfo, SiteInfo, UserCard, UserId,
};

/// What a session `PUT` says of where the session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPut<'a> {
    pub page: &'a str,
    pub client: &'a str,
    /// The web editor tab's address, already held to the site's editors by the caller; `None`
    /// clears the one the session had.
    pub url: Option<&'a str>,
}

impl<'a> SessionPut<'a> {
    /// On `page` from `client`, with no editor address.
    pub fn new(page: &'a str, client: &'a str) -> Self {
        SessionPut {
            page,
            client,
            url: None,
        }
    }
}

/// Who is on a site: members sorted by user id, each with their sessions sorted by session id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Roster {
    members: Vec<Member>,
}

impl Roster {
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    pub fn member(&self, user: UserId) -> Option<&Member> {
        self.index_of(user).ok().map(|i| &self.members[i])
    }

    /// One of a user's sessions, by id.
    pub fn session(&self, user: UserId, session: &str) -> Option<&SessionInfo> {
        self.member(user)?.sessions.iter().find(|s| s.id == session)
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// How many sessions are open on the site, all users together.
    pub fn session_count(&self) -> usize {
        self.members.iter().map(|m| m.sessions.len()).sum()
    }

    /// Whether `user` may put `session` here with at most `per_site` sessions on the site: an
    /// open session always may (heartbeat, move); a new one only below the cap. Refusing the
    /// new session, rather than closing an old one, means nobody already present is dropped.
    pub fn admits(&self, user: UserId, session: &str, per_site: usize) -> bool {
        match self.member(user) {
            None => per_site > 0,
            Some(member) => {
                member.sessions.len() < per_site || member.sessions.iter().any(|s| s.id == session)
            }
        }
    }

    fn index_of(&self, user: UserId) -> Result<usize, usize> {
        self.members.binary_search_by_key(&user, |m| m.user.id)
    }

    /// Join, heartbeat or move a session. Returns the event to publish, or `None` when nothing a
    /// watcher can see changed (a heartbeat).
    ///
    /// A change of client or of editor address alone is a move whose `from` and `to` are the
    /// same page: every client applies a move by taking its `member`, so it shows the new
    /// address, and one that reads `from` and `to` sees nobody change page.
    pub fn put_session(
        &mut self,
        site: &str,
        user: &UserCard,
        session: &str,
        put: SessionPut<'_>,
        now: i64,
    ) -> Option<Event> {
        let SessionPut { page, client, url } = put;
        let new_session = || SessionInfo {
            id: session.to_owned(),
            page: page.to_owned(),
            client: client.to_owned(),
            since: now,
            page_since: now,
            url: url.map(str::to_owned),
        };
        let index = match self.index_of(user.id) {
            Err(at) => {
                let member = Member {
                    user: user.clone(),
                    sessions: vec![new_session()],
                };
                self.members.insert(at, member.clone());
                return Some(Event::Join {
                    site: site.to_owned(),
                    member,
                    at: now,
                });
            }
            Ok(index) => index,
        };
        let member = &mut self.members[index];
        let card_changed = member.user != *user;
        member.user = user.clone();
        let from = match member
            .sessions
            .binary_search_by(|s| s.id.as_str().cmp(session))
        {
            Err(at) => {
                member.sessions.insert(at, new_session());
                None
            }
            Ok(at) => {
                let existing = &mut member.sessions[at];
                if existing.page == page
                    && existing.client == client
                    && existing.url.as_deref() == url
                    && !card_changed
                {
                    return None;
                }
                let from = existing.page.clone();
                if existing.page != page {
                    existing.page = page.to_owned();
                    existing.page_since = now;
                }
                existing.client = client.to_owned();
                existing.url = url.map(str::to_owned);
                Some(from)
            }
        };
        Some(Event::Move {
            site: site.to_owned(),
            member: member.clone(),
            session: session.to_owned(),
            from,
            to: Some(page.to_owned()),
            at: now,
        })
    }

    /// End a session. Returns the event to publish: a leave when it was the user's last session,
    /// a move with `to: null` otherwise, nothing when no such session is open.
    pub fn end_session(
        &mut self,
        site: &str,
        user: UserId,
        session: &str,
        reason: LeaveReason,
        now: i64,
    ) -> Option<Event> {
        let index = self.index_of(user).ok()?;
        let member = &mut self.members[index];
        let at = member
            .sessions
            .binary_search_by(|s| s.id.as_str().cmp(session))
            .ok()?;
        let ended = member.sessions.remove(at);
        if member.sessions.is_empty() {
            let member = self.members.remove(index);
            return Some(Event::Leave {
                site: site.to_owned(),
                user: member.user,
                reason,
                at: now,
            });
        }
        Some(Event::Move {
            site: site.to_owned(),
            member: member.clone(),
            session: session.to_owned(),
            from: Some(ended.page),
            to: None,
            at: now,
        })
    }

    /// Apply a received join, move or leave. Other events leave the roster as it is.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::Join { member, .. } | Event::Move { member, .. } => {
                match self.index_of(member.user.id) {
                    Ok(i) => self.members[i] = member.clone(),
                    Err(i) => self.members.insert(i, member.clone()),
                }
            }
            Event::Leave { user, .. } => {
                if let Ok(i) = self.index_of(user.id) {
                    self.members.remove(i);
                }
            }
            Event::Snapshot { .. } | Event::Saved { .. } | Event::Pages { .. } => {}
        }
    }
}

impl FromIterator<Member> for Roster {
    fn from_iter<T: IntoIterator<Item = Member>>(iter: T) -> Self {
        let mut members: Vec<Member> = iter.into_iter().collect();
        members.sort_by_key(|m| m.user.id);
        members.dedup_by_key(|m| m.user.id);
        for member in &mut members {
            member.sessions.sort_by(|a, b| a.id.cmp(&b.id));
        }
        Roster { members }
    }
}

/// Everything a client shows about one site: what a `snapshot` carries, kept current by
/// [`SiteState::apply`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteState {
    pub site: SiteInfo,
    pub pages: Vec<Page>,
    pub version: i64,
    /// The first save in the site's history.
    pub first_save: Option<SaveRecord>,
    /// The most recent save.
    pub last_save: Option<SaveRecord>,
    pub members: Roster,
}

impl SiteState {
    /// Apply an event about this site. A `saved` older than what the state already holds is
    /// ignored, so a save seen both in a snapshot and in the stream counts once; a `pages` adds
    /// the pages the state does not list yet ([`crate::pages::add_page`]).
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::Pages { added, .. } => {
                for page in added {
                    crate::pages::add_page(&mut self.pages, page);
                }
            }
            Event::Saved { save, .. } => {
                if save.version > self.version {
                    self.version = save.version;
                    if self.first_save.is_none() {
                        self.first_save = Some(save.clone());
                    }
                    self.last_save = Some(save.clone());
                }
            }
            other => self.members.apply(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{card, save, site};

    #[test]
    fn first_session_joins_and_heartbeats_are_silent() {
        let mut roster = Roster::default();
        let ann = card(1, "Ann");
        let join = roster.put_session("s", &ann, "t1", SessionPut::new("/", "studio"), 10);
        assert!(matches!(join, Some(Event::Join { ref member, .. }) if member.sessions.len() == 1));
        assert_eq!(
            roster.put_session("s", &ann, "t1", SessionPut::new("/", "studio"), 20),
            None
        );
        assert_eq!(roster.member(1).unwrap().sessions[0].since, 10);
    }

    #[test]
    fn a_new_session_past_the_cap_is_refused_but_open_ones_go_on() {
        let mut roster = Roster::default();
        let ann = card(1, "Ann");
        assert!(roster.admits(1, "t1", 2));
        roster.put_session("s", &ann, "t1", SessionPut::new("/", "studio"), 10);
        roster.put_session("s", &ann, "t2", SessionPut::new("/", "studio"), 11);
        assert!(!roster.admits(1, "t3", 2), "a third tab is past the cap");
        assert!(
            roster.admits(1, "t2", 2),
            "an open tab heartbeats and moves"
        );
        assert!(roster.admits(2, "b1", 2), "the cap is per user");
    }

    #[test]
    fn page_change_is_a_move_never_leave_and_join() {
        let mut roster = Roster::default();
        let ann = card(1, "Ann");
        roster.put_session("s", &ann, "t1", SessionPut::new("/", "studio"), 10);
        match roster.put_session("s", &ann, "t1", SessionPut::new("/pricing", "studio"), 20) {
            Some(Event::Move {
                from, to, member, ..
            }) => {
                assert_eq!(from.as_deref(), Some("/"));
                assert_eq!(to.as_deref(), Some("/pricing"));
                assert_eq!(member.sessions[0].page_since, 20);
                assert_eq!(member.sessions[0].since, 10);
            }
            other => panic!("expected a move, got {other:?}"),
        }
    }

    #[test]
    fn second_tab_is_a_move_and_only_the_last_tab_leaves() {
        let mut roster = Roster::default();
        let ann = card(1, "Ann");
        roster.put_session("s", &ann, "t1", SessionPut::new("/", "studio"), 10);
        let second = roster.put_session("s", &ann, "t2", SessionPut::new("/a", "vscode-web"), 11);
        assert!(matches!(second, Some(Event::Move { from: None, .. })));
        let close = roster.end_session("s", 1, "t1", LeaveReason::Left, 12);
        assert!(matches!(close, Some(Event::Move { to: None, .. })));
        let leave = roster.end_session("s", 1, "t2", LeaveReason::Expired, 13);
        assert!(matches!(
            leave,
            Some(Event::Leave {
                reason: LeaveReason::Expired,
                ..
            })
        ));
        assert!(roster.is_empty());
        assert_eq!(
            roster.end_session("s", 1, "t2", LeaveReason::Left, 14),
            None
        );
    }

    #[test]
    fn applying_derived_events_reproduces_the_roster() {
        let mut server = Roster::default();
        let mut client = Roster::default();
        let (ann, bo) = (card(1, "Ann"), card(2, "Bo"));
        let events = [
            server.put_session("s", &bo, "b", SessionPut::new("/", "cli"), 1),
            server.put_session("s", &ann, "a1", SessionPut::new("/", "studio"), 2),
            server.put_session("s", &ann, "a2", SessionPut::new("/x", "studio"), 3),
            server.put_session("s", &ann, "a1", SessionPut::new("/y", "studio"), 4),
            server.end_session("s", 2, "b", LeaveReason::Left, 5),
            server.end_session("s", 1, "a2", LeaveReason::Left, 6),
        ];
        for event in events.iter().flatten() {
            client.apply(event);
        }
        assert_eq!(client, server);
        assert_eq!(client.session_count(), 1);
    }

    #[test]
    fn added_pages_join_the_tree_and_leave_the_roster_alone() {
        let mut state = site("s");
        let ann = card(1, "Ann");
        state
            .members
            .put_session("s", &ann, "t", SessionPut::new("/blog/new", "studio"), 1);
        let before = state.members.clone();
        let added = Event::Pages {
            site: "s".into(),
            added: vec![Page {
                path: "/blog/new".into(),
                title: "New post".into(),
            }],
            at: 2,
        };
        state.apply(&added);
        state.apply(&added);
        let paths: Vec<&str> = state.pages.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["/", "/blog/new"]);
        assert_eq!(state.members, before);
        assert_eq!(
            crate::pages::title_of(&state.pages, "/blog/new"),
            "New post"
        );
    }

    #[test]
    fn saves_count_once_and_remember_first_and_last() {
        let mut state = site("s");
        let saved = |version, name| Event::Saved {
            site: "s".into(),
            save: save(version, "/", card(version, name)),
        };
        state.apply(&saved(1, "Ann"));
        state.apply(&saved(2, "Bo"));
        state.apply(&saved(2, "Bo"));
        state.apply(&saved(1, "Ann"));
        assert_eq!(state.version, 2);
        assert_eq!(state.first_save.as_ref().unwrap().user.name, "Ann");
        assert_eq!(state.last_save.as_ref().unwrap().user.name, "Bo");
    }
}
