//! The caller's copy of every subscribed site, kept current from a [`Subscription`]'s updates.
//!
//! A snapshot replaces everything; a delta is applied to its site with [`SiteState::apply`];
//! connection changes leave the state as it is (a resumed stream replays what was missed, a
//! failed resume brings a new snapshot).
//!
//! [`Subscription`]: crate::Subscription

use std::collections::BTreeMap;

use copresence_core::{Event, SiteState};

use crate::subscription::Update;

/// Site id → the site's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveState {
    sites: BTreeMap<String, SiteState>,
}

impl LiveState {
    pub fn new() -> Self {
        LiveState::default()
    }

    /// Apply an update. Returns whether the state may have changed.
    pub fn apply(&mut self, update: &Update) -> bool {
        match update {
            Update::Snapshot(sites) => {
                self.replace(sites.iter().cloned());
                true
            }
            Update::Event(event) => self.apply_event(event),
            Update::Connected | Update::Disconnected { .. } | Update::Fatal(_) => false,
        }
    }

    /// Apply an event: a snapshot replaces everything, a delta goes to its site. Returns false
    /// for a delta about a site not held (it is ignored).
    pub fn apply_event(&mut self, event: &Event) -> bool {
        if let Event::Snapshot { sites } = event {
            self.replace(sites.iter().cloned());
            return true;
        }
        let Some(site) = event.site() else {
            return false;
        };
        match self.sites.get_mut(site) {
            Some(state) => {
                state.apply(event);
                true
            }
            None => {
                tracing::debug!(site, event = event.name(), "event for a site not held");
                false
            }
        }
    }

    /// Replace every site with these.
    pub fn replace(&mut self, sites: impl IntoIterator<Item = SiteState>) {
        self.sites = sites
            .into_iter()
            .map(|state| (state.site.id.clone(), state))
            .collect();
    }

    /// Forget everything.
    pub fn clear(&mut self) {
        self.sites.clear();
    }

    pub fn site(&self, id: &str) -> Option<&SiteState> {
        self.sites.get(id)
    }

    /// Every site, by id.
    pub fn sites(&self) -> impl Iterator<Item = &SiteState> {
        self.sites.values()
    }

    pub fn len(&self) -> usize {
        self.sites.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }

    /// The site's display name, or its id when the site is not held.
    pub fn site_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.site(id).map_or(id, |s| s.site.name.as_str())
    }

    /// What a page of a site is called ([`copresence_core::pages::title_of`]): its title, or
    /// its path when the site is not held, does not list the page or gave it no title.
    pub fn page_title<'a>(&'a self, site: &str, path: &'a str) -> &'a str {
        match self.site(site) {
            Some(state) => copresence_core::pages::title_of(&state.pages, path),
            None => path,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use copresence_core::roster::Roster;
    use copresence_core::{LeaveReason, Member, Page, SaveRecord, SessionInfo, SiteInfo, UserCard};

    fn ann() -> UserCard {
        UserCard {
            id: 1,
            name: "Ann Lee".into(),
            email: "ann@x.test".into(),
            teams: None,
        }
    }

    fn site(id: &str) -> SiteState {
        SiteState {
            site: SiteInfo {
                id: id.into(),
                name: format!("Site {id}"),
                url: format!("https://{id}.test"),
            },
            pages: vec![Page {
                path: "/products".into(),
                title: "Products".into(),
            }],
            version: 1,
            first_save: None,
            last_save: None,
            members: Roster::default(),
        }
    }

    fn join(site: &str) -> Event {
        Event::Join {
            site: site.into(),
            member: Member {
                user: ann(),
                sessions: vec![SessionInfo {
                    id: "t1".into(),
                    page: "/products".into(),
                    client: "studio".into(),
                    since: 1,
                    page_since: 1,
                }],
            },
            at: 1,
        }
    }

    #[test]
    fn snapshot_replaces_everything() {
        let mut live = LiveState::new();
        live.apply(&Update::Snapshot(vec![site("a"), site("b")]));
        assert_eq!(live.len(), 2);
        live.apply(&Update::Snapshot(vec![site("c")]));
        assert_eq!(
            live.sites().map(|s| s.site.id.as_str()).collect::<Vec<_>>(),
            ["c"]
        );
        assert_eq!(live.site_name("c"), "Site c");
        assert_eq!(live.site_name("zz"), "zz");
        assert_eq!(live.page_title("c", "/products"), "Products");
        assert_eq!(live.page_title("c", "/nope"), "/nope");
        assert_eq!(live.page_title("elsewhere", "/products"), "/products");
    }

    #[test]
    fn deltas_go_to_their_site() {
        let mut live = LiveState::new();
        live.apply(&Update::Snapshot(vec![site("a"), site("b")]));
        assert!(live.apply(&Update::Event(join("a"))));
        assert_eq!(live.site("a").unwrap().members.members().len(), 1);
        assert!(live.site("b").unwrap().members.is_empty());

        let save = Event::Saved {
            site: "b".into(),
            save: SaveRecord {
                version: 2,
                page: "/".into(),
                user: ann(),
                at: 2,
                forced: false,
            },
        };
        live.apply(&Update::Event(save));
        assert_eq!(live.site("b").unwrap().version, 2);

        let leave = Event::Leave {
            site: "a".into(),
            user: ann(),
            reason: LeaveReason::Expired,
            at: 3,
        };
        live.apply(&Update::Event(leave));
        assert!(live.site("a").unwrap().members.is_empty());
    }

    #[test]
    fn unknown_sites_and_status_updates_change_nothing() {
        let mut live = LiveState::new();
        live.apply(&Update::Snapshot(vec![site("a")]));
        let before = live.clone();
        assert!(!live.apply(&Update::Event(join("elsewhere"))));
        assert!(!live.apply(&Update::Connected));
        assert!(!live.apply(&Update::Disconnected {
            error: "gone".into(),
            retry_in: Duration::from_secs(1),
        }));
        assert_eq!(live, before);
    }
}
