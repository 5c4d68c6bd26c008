//! What the tray's unit tests are built from: users, sites, events and a signed-in model, made
//! one way for every test module.

use copresence_client::Update;
use copresence_core::notify::Moment;
use copresence_core::{Event, Member, Page, SessionInfo, SiteInfo, SiteState, UserCard};

use crate::model::Model;
use crate::settings::Settings;

/// The tests' clock.
pub const NOW: i64 = 1_800_000_000_000;

/// A user with no Teams account.
pub fn card(id: i64, name: &str) -> UserCard {
    UserCard {
        id,
        name: name.into(),
        email: format!("{id}@x.test"),
        teams: None,
    }
}

/// `id`'s session `session` on `page`, since [`NOW`].
pub fn session(session: &str, page: &str) -> SessionInfo {
    SessionInfo {
        id: session.into(),
        page: page.into(),
        client: "studio".into(),
        since: NOW,
        page_since: NOW,
    }
}

/// A user on `page` of a site.
pub fn member(id: i64, name: &str, page: &str) -> Member {
    Member {
        user: card(id, name),
        sessions: vec![session("t", page)],
    }
}

/// An empty site "Site <id>" with a home page.
pub fn site(id: &str) -> SiteState {
    SiteState {
        site: SiteInfo {
            id: id.into(),
            name: format!("Site {id}"),
            url: String::new(),
        },
        pages: vec![Page {
            path: "/".into(),
            title: "Home".into(),
        }],
        version: 0,
        first_save: None,
        last_save: None,
        members: Default::default(),
    }
}

/// A site with these members on it.
pub fn site_with(id: &str, members: Vec<Member>) -> SiteState {
    let mut state = site(id);
    state.members = members.into_iter().collect();
    state
}

/// `name` joins `site` on its home page.
pub fn join(site: &str, id: i64, name: &str) -> Update {
    Update::Event(Event::Join {
        site: site.into(),
        member: member(id, name, "/"),
        at: NOW,
    })
}

pub fn at() -> Moment {
    Moment {
        now: NOW,
        local_minute: 600,
    }
}

/// Signed in as user 1, "Me", with the empty sites `a` and `b`.
pub fn model() -> Model {
    let mut model = Model::new(Settings::default(), "http://h.test".into());
    model.signed_in(card(1, "Me"));
    model.apply(&Update::Snapshot(vec![site("a"), site("b")]), at());
    model
}
