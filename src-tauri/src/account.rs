//! One account: a service the app is signed in to, and what it knows from there — who you are,
//! the live state of your sites, the connection. The app holds one per service (a consultant
//! works for several organisations, each with its own service); the [`Model`](crate::model)
//! decides across them, each account for itself. Pure, like the model.

use copresence_client::{LiveState, Update};
use copresence_core::notify::{Moment, Notice, Notifier, Preferences};
use copresence_core::{Event, Member, SessionInfo, SiteState, UserCard};

use crate::error::{ErrorCode, TrayError};
use crate::opener::Link;
use crate::secret::{Credential, Loaded};
use crate::view::{Connection, TokenStorage};

/// What a signed-out account says until it has a credential.
pub const NO_TOKEN: &str = "Not signed in: sign in in Settings.";
pub const REFUSED_TOKEN: &str = "The server refused your token: sign in again in Settings.";
pub const EXPIRED_SIGN_IN: &str = "Your sign-in has ended: sign in again in Settings.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    Email,
    Teams,
}

/// What an account's subscription task reports ([`crate::sync`]).
#[derive(Debug)]
pub enum FeedEvent {
    /// The credential was accepted: this is who we are.
    SignedIn(UserCard),
    /// The credential is unusable.
    SignedOut(String),
    /// The server cannot be reached; the task retries.
    Offline(String),
    Update(Update),
}

pub struct Account {
    pub server: String,
    pub token_storage: TokenStorage,
    pub storage_warning: Option<String>,
    /// The issuer of the organisation account signed in with (none: a token).
    pub signed_in_with: Option<String>,
    pub me: Option<UserCard>,
    pub live: LiveState,
    pub connection: Connection,
    pub message: Option<String>,
    /// The number of its running subscription (or of the last one stopped); numbers are never
    /// reused across accounts, so a report names its account.
    pub subscription: u64,
    notifier: Option<Notifier>,
}

impl Account {
    pub fn new(server: String) -> Account {
        Account {
            server,
            token_storage: TokenStorage::None,
            storage_warning: None,
            signed_in_with: None,
            me: None,
            live: LiveState::new(),
            connection: Connection::SignedOut,
            message: None,
            subscription: 0,
            notifier: None,
        }
    }

    /// Its credential was read: the credential to subscribe with, if any.
    pub fn credential_loaded(&mut self, loaded: Loaded, subscription: u64) -> Option<Credential> {
        self.token_storage = loaded.storage;
        self.storage_warning = loaded.warning;
        self.subscription = subscription;
        self.signed_in_with = match &loaded.credential {
            Some(Credential::SignIn(sign_in)) => Some(sign_in.provider.issuer.clone()),
            _ => None,
        };
        match loaded.credential {
            Some(credential) if !self.server.is_empty() => {
                self.connection = Connection::Connecting;
                self.message = None;
                Some(credential)
            }
            _ => {
                self.signed_out(Some(NO_TOKEN.into()));
                None
            }
        }
    }

    fn signed_in(&mut self, me: UserCard) {
        if self.me.as_ref().map(|m| m.id) != Some(me.id) {
            self.notifier = Some(Notifier::new(me.id));
            self.live.clear();
        }
        self.me = Some(me);
    }

    /// Forget who we were and what we saw.
    pub fn signed_out(&mut self, message: Option<String>) {
        self.me = None;
        self.notifier = None;
        self.live.clear();
        self.connection = Connection::SignedOut;
        self.message = message;
    }

    fn offline(&mut self, message: String) {
        self.connection = Connection::Offline;
        self.message = Some(message);
    }

    /// Apply a report of its subscription; returns what to announce. `followed` and
    /// `preferences` are the user's (for this account's sites).
    pub fn feed(
        &mut self,
        event: FeedEvent,
        at: Moment,
        followed: impl Fn(&str) -> bool,
        preferences: &Preferences,
    ) -> Vec<Announcement> {
        match event {
            FeedEvent::SignedIn(me) => self.signed_in(me),
            FeedEvent::SignedOut(message) => self.signed_out(Some(message)),
            FeedEvent::Offline(message) => self.offline(message),
            FeedEvent::Update(update) => return self.update(&update, at, followed, preferences),
        }
        Vec::new()
    }

    fn update(
        &mut self,
        update: &Update,
        at: Moment,
        followed: impl Fn(&str) -> bool,
        preferences: &Preferences,
    ) -> Vec<Announcement> {
        match update {
            Update::Connected => {
                self.connection = Connection::Connected;
                self.message = None;
            }
            Update::Snapshot(_) => {
                self.live.apply(update);
                if let Some(notifier) = self.notifier.as_mut() {
                    for site in self.live.sites() {
                        notifier.observe(site, at.now);
                    }
                }
                self.connection = Connection::Connected;
                self.message = None;
            }
            Update::Event(event) => {
                self.live.apply(update);
                let Some(site_id) = event.site() else {
                    return Vec::new();
                };
                let (Some(site), Some(notifier)) =
                    (self.live.site(site_id), self.notifier.as_mut())
                else {
                    return Vec::new();
                };
                return notifier
                    .notice(event, site, followed(site_id), preferences, at)
                    .map(|notice| Announcement::of(notice, event, site))
                    .into_iter()
                    .collect();
            }
            Update::Disconnected { error, .. } => self.offline(error.clone()),
            Update::Fatal(error) if error.is_unauthorized() => {
                let message = if self.signed_in_with.is_some() {
                    EXPIRED_SIGN_IN
                } else {
                    REFUSED_TOKEN
                };
                self.signed_out(Some(message.into()))
            }
            Update::Fatal(error) => self.offline(error.to_string()),
        }
        Vec::new()
    }

    /// Someone on one of its sites, as it knows them now.
    fn member(&self, site: &str, user: i64) -> Result<&Member, TrayError> {
        self.live
            .site(site)
            .and_then(|s| s.members.member(user))
            .ok_or_else(|| {
                TrayError::new(
                    ErrorCode::UnknownUser,
                    "this person is no longer on the site",
                )
            })
    }

    /// An e-mail or Teams link to someone on one of its sites, from what it knows of them.
    pub fn contact_link(
        &self,
        site: &str,
        user: i64,
        kind: ContactKind,
    ) -> Result<Link, TrayError> {
        let member = self.member(site, user)?;
        match kind {
            ContactKind::Email => Link::email(&member.user),
            ContactKind::Teams => Link::teams(&member.user),
        }
    }

    /// Where "Open" on someone's card goes: their session `session` on one of its sites, as
    /// the roster holds it now.
    pub fn open_link(&self, site: &str, user: i64, session: &str) -> Result<Link, TrayError> {
        let member = self.member(site, user)?;
        let session = member
            .sessions
            .iter()
            .find(|s| s.id == session)
            .ok_or_else(|| {
                TrayError::new(ErrorCode::UnknownUser, "this person has left that page")
            })?;
        self.live
            .site(site)
            .and_then(|state| Link::open(&state.site, session))
            .ok_or_else(|| {
                TrayError::new(
                    ErrorCode::NoAddress,
                    "the site has no address to open this page at",
                )
            })
    }

    /// Everyone it knows: you, and everyone on its sites.
    pub fn people(&self) -> impl Iterator<Item = &UserCard> {
        self.me.iter().chain(
            self.live
                .sites()
                .flat_map(|site| site.members.members())
                .map(|member| &member.user),
        )
    }

    /// How it is named to people: the service's host, and who you are there once known.
    pub fn label(&self) -> String {
        let host = url::Url::parse(&self.server)
            .ok()
            .and_then(|url| {
                let host = url.host_str()?.to_owned();
                Some(match url.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                })
            })
            .unwrap_or_else(|| self.server.clone());
        match &self.me {
            Some(me) => format!("{host} — {}", me.email),
            None => host,
        }
    }
}

/// A notice, with where its actions go: Open (where the person is, by the core's rule) and
/// Chat in Teams (when they have Teams). Built when the notice is, from the roster then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub notice: Notice,
    pub open: Option<Link>,
    pub teams: Option<Link>,
}

impl Announcement {
    /// `notice`, announcing `event` on `site`: its actions are about whoever joined (their
    /// latest session) or saved (their session on the saved page; the saved page on the site
    /// once they have moved on or left, as the notice is about that page).
    fn of(notice: Notice, event: &Event, site: &SiteState) -> Announcement {
        let (user, session) = match event {
            Event::Join { member, .. } => (&member.user, member.latest_session().cloned()),
            Event::Saved { save, .. } => {
                let sessions = site
                    .members
                    .member(save.user.id)
                    .map(|m| m.sessions.as_slice())
                    .unwrap_or_default();
                let on_page = sessions
                    .iter()
                    .filter(|s| s.page == save.page)
                    .max_by_key(|s| (s.page_since, s.since));
                let left = || SessionInfo {
                    id: String::new(),
                    page: save.page.clone(),
                    client: String::new(),
                    since: save.at,
                    page_since: save.at,
                    url: None,
                };
                (&save.user, Some(on_page.cloned().unwrap_or_else(left)))
            }
            _ => {
                return Announcement {
                    notice,
                    open: None,
                    teams: None,
                }
            }
        };
        Announcement {
            open: session.and_then(|s| Link::open(&site.site, &s)),
            teams: Link::teams(user).ok(),
            notice,
        }
    }
}
