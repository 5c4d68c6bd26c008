//! What the tray's unit tests are built from: the core's users, sessions, members and sites
//! ([`copresence_core::fixtures`], re-exported here), and the tray's own updates, inputs and a
//! signed-in model, made one way for every test module.

use copresence_client::Update;
pub use copresence_core::fixtures::*;
use copresence_core::notify::Moment;
use copresence_core::Event;

use crate::error::TrayError;
use crate::model::{Effect, FeedEvent, Input, Model, Now};
use crate::secret::{Credential, Loaded};
use crate::settings::Settings;
use crate::view::TokenStorage;

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
    Model::new(
        Settings::default(),
        Some("http://h.test".into()),
        false,
        false,
    )
}

/// The token read for `server`, as the keychain gives it.
pub fn token(server: &str, token: Option<&str>) -> Input {
    Input::TokenLoaded {
        server: server.into(),
        loaded: Loaded {
            credential: token.map(|t| Credential::Token(t.to_owned())),
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
