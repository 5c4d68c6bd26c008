//! What the tray's unit tests are built from: users, sites, updates, inputs and a signed-in
//! model, made one way for every test module.

use copresence_client::Update;
use copresence_core::notify::Moment;
use copresence_core::{Event, Member, Page, SessionInfo, SiteInfo, SiteState, UserCard};

use crate::error::TrayError;
use crate::model::{Effect, FeedEvent, Input, Model, Now};
use crate::secret::Loaded;
use crate::settings::Settings;
use crate::view::TokenStorage;

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

pub fn now() -> Now {
    Now {
        moment: Moment {
            now: NOW,
            local_minute: 600,
        },
        utc_offset_minutes: 0,
    }
}

/// A model for `http://h.test`, started, with no token read yet.
pub fn model() -> Model {
    Model::new(Settings::default(), "http://h.test".into(), false, false)
}

/// The token read for `server`, as the keychain gives it.
pub fn token(server: &str, token: Option<&str>) -> Input {
    Input::TokenLoaded {
        server: server.into(),
        loaded: Loaded {
            token: token.map(str::to_owned),
            storage: if token.is_some() {
                TokenStorage::Keychain
            } else {
                TokenStorage::None
            },
            warning: None,
        },
    }
}

/// An update from the first subscription, which [`signed_in_model`] starts.
pub fn feed(update: Update) -> Input {
    Input::Feed {
        subscription: 1,
        event: FeedEvent::Update(update),
    }
}

/// Signed in as user 1, "Me", with the empty sites `a` and `b`.
pub fn signed_in_model() -> Model {
    let mut model = model();
    model.apply(Input::Start, now());
    model.apply(token("http://h.test", Some("t0k")), now());
    model.apply(
        Input::Feed {
            subscription: 1,
            event: FeedEvent::SignedIn(card(1, "Me")),
        },
        now(),
    );
    model.apply(feed(Update::Snapshot(vec![site("a"), site("b")])), now());
    model
}

/// The answer a command got, if any.
pub fn reply_of(effects: &[Effect]) -> Option<Result<(), TrayError>> {
    effects.iter().find_map(|e| match e {
        Effect::Reply(_, verdict) => Some(verdict.clone()),
        _ => None,
    })
}
