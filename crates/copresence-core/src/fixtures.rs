//! Test fixtures: one way to make users, sessions, members, sites and saves for every crate's
//! tests, so a test says only what matters to it and a new field on a wire type is filled in
//! here, once, rather than in every test that builds one.
//!
//! It lives in the core because the types it builds are the core's and every crate's tests
//! already depend on the core. It is compiled for the core's own tests and, through the
//! `fixtures` feature, for the other crates' tests, which ask for it as a dev-dependency
//! (`copresence-core = { workspace = true, features = ["fixtures"] }`); the feature is off by
//! default, so no release build carries it.
//!
//! The values are fixed so tests can assert on them: everything happens at [`NOW`], a user's
//! e-mail is `<id>@x.test`, a session is in the `studio` client, and a site `<id>` is named
//! "Site <id>" with one page, "/" titled "Home". A test that needs something else changes the
//! field it cares about on what these return.

use crate::protocol::{Member, Page, SaveRecord, SessionInfo, SiteInfo, UserCard, UserId};
use crate::roster::SiteState;

/// The tests' clock, in milliseconds since the Unix epoch (January 2027).
pub const NOW: i64 = 1_800_000_000_000;

/// User `id`, called `name`, with the e-mail `<id>@x.test` (a valid address whatever the name,
/// and one per user) and no Teams account.
pub fn card(id: UserId, name: &str) -> UserCard {
    UserCard {
        id,
        name: name.into(),
        email: format!("{id}@x.test"),
        teams: None,
        photo: None,
    }
}

/// [`card`] with the Teams user principal name `teams`.
pub fn card_with_teams(id: UserId, name: &str, teams: &str) -> UserCard {
    let mut card = card(id, name);
    card.teams = Some(teams.into());
    card
}

/// Session `id` on `page` in the `studio` client, there since [`NOW`].
pub fn session(id: &str, page: &str) -> SessionInfo {
    SessionInfo {
        id: id.into(),
        page: page.into(),
        client: "studio".into(),
        since: NOW,
        page_since: NOW,
        url: None,
    }
}

/// User `id`, called `name`, on `page` of a site with one session, `t`.
pub fn member(id: UserId, name: &str, page: &str) -> Member {
    Member {
        user: card(id, name),
        sessions: vec![session("t", page)],
    }
}

/// A site `id` named "Site <id>", with no URL, a home page "/" titled "Home", no saves and
/// nobody on it.
pub fn site(id: &str) -> SiteState {
    SiteState {
        site: SiteInfo {
            id: id.into(),
            name: format!("Site {id}"),
            url: String::new(),
            editors: Vec::new(),
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

/// [`site`] with these members on it.
pub fn site_with(id: &str, members: Vec<Member>) -> SiteState {
    let mut state = site(id);
    state.members = members.into_iter().collect();
    state
}

/// `user`'s save of `page`, creating `version`, at [`NOW`], not forced.
pub fn save(version: i64, page: &str, user: UserCard) -> SaveRecord {
    SaveRecord {
        version,
        page: page.into(),
        user,
        at: NOW,
        forced: false,
    }
}
