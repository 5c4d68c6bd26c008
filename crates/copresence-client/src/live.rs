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
    use copresence_core::fixtures::{card, member, save, NOW};
    use copresence_core::{fixtures, LeaveReason, Page};

    /// "Site <id>", with a Products page.
    fn site(id: &str) -> SiteState {
        let mut state = fixtures::site(id);
        state.pages.push(Page {
            path: "/products".into(),
            title: "Products".into(),
        });
        state
    }

    /// Ann (user 1) joins `site` on Products.
    fn join(site: &str) -> Event {
        Event::Join {
            site: site.into(),
            member: member(1, "Ann Lee", "/products"),
            at: NOW,
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
            save: save(2, "/", card(1, "Ann Lee")),
        };
        live.apply(&Update::Event(save));
        assert_eq!(live.site("b").unwrap().version, 2);

        let leave = Event::Leave {
            site: "a".into(),
            user: card(1, "Ann Lee"),
            reason: LeaveReason::Expired,
            at: NOW,
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
