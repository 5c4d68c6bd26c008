//! Everything the app knows, and what each input changes and asks to be done.
//!
//! [`Model::apply`] takes one [`Input`] — a subscription update, a command from the popup or the
//! tray menu, the result of an earlier effect, a deadline passing — and returns the
//! [`Effect`]s it calls for: save the settings, show a notification, open a link, answer the
//! command. It is pure (no Tauri, no I/O, no clock of its own: the time comes with each input),
//! so every rule of what the user sees, hears and keeps is tested by feeding inputs and reading
//! effects and the [`View`]. One task owns the model and performs the effects
//! ([`crate::runtime`]); nothing else changes it.

use std::collections::HashSet;

use copresence_core::notify::{next_local_midnight, Moment};
use copresence_core::photo::check_photo_url;
use copresence_core::toolbar::TOOLBAR_AVATAR_CHOICES;
use serde::Deserialize;

use crate::account::{Account, NO_TOKEN};
pub use crate::account::{Announcement, ContactKind, FeedEvent, EXPIRED_SIGN_IN, REFUSED_TOKEN};
use crate::error::{ErrorCode, TrayError};
use crate::opener::Link;
use crate::secret::{Credential, Loaded};
use crate::settings::{format_minute, parse_minute, Settings};
use crate::view::{
    me_person, site_views, AccountView, Connection, FollowChoice, PhotoData, Photos, SettingsView,
    Status, Tab, TokenStorage, View, Viewer,
};

/// How long "pause for an hour" pauses.
const PAUSE_HOUR_MS: i64 = 3_600_000;

/// The time an input happens at: what the notification rules and "until tomorrow" need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    pub moment: Moment,
    /// The local time zone's offset from UTC, in minutes.
    pub utc_offset_minutes: i32,
}

/// Names a command awaiting its answer ([`Effect::Reply`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReplyId(pub u64);

/// Notification preferences as the settings form sends them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Preferences {
    pub notify_joins: bool,
    pub notify_saves: bool,
    pub quiet_hours_enabled: bool,
    pub quiet_start: String,
    pub quiet_end: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseUntil {
    Hour,
    Tomorrow,
}

/// What the user asked for, from the popup or the tray menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    SetFollow {
        server: String,
        site: String,
        follow: bool,
    },
    UpdatePreferences(Preferences),
    Pause(PauseUntil),
    Resume,
    SetAutostart(bool),
    /// How many avatars a site's toolbar shows before "+N".
    SetToolbarAvatars(usize),
    /// The global shortcut that toggles the popup, or none.
    SetShortcut(Option<String>),
    /// Check the token against the server, keep it, and connect with it.
    SignIn {
        server: String,
        token: String,
    },
    /// Sign in to the server with the organisation's account (in the browser), keep the
    /// sign-in, and connect with it.
    SignInWithAccount {
        server: String,
    },
    /// Sign out of the account on this server (and forget it).
    SignOut {
        server: String,
    },
    /// An e-mail or a Teams chat with someone on a site: the popup names the person, never the
    /// address or the link.
    OpenContact {
        server: String,
        site: String,
        user: i64,
        kind: ContactKind,
    },
    /// Open where someone is: their session `session` on a site, at the address the core's
    /// rule gives for it from the roster now. The popup names the session, never the address.
    OpenSession {
        server: String,
        site: String,
        user: i64,
        session: String,
    },
    ShowPopup {
        tab: Tab,
        site: Option<String>,
    },
    HidePopup,
    /// Show the popup if hidden, hide it if shown (the global shortcut).
    TogglePopup,
    Quit,
}

#[derive(Debug)]
pub enum Input {
    /// The app started: read each account's credential.
    Start,
    /// The credential kept for `server` (or none).
    TokenLoaded {
        server: String,
        loaded: Loaded,
    },
    /// From the subscription started by [`Effect::Subscribe`] with this number (which names its
    /// account); a report from one stopped since is ignored.
    Feed {
        subscription: u64,
        event: FeedEvent,
    },
    Command(ReplyId, Command),
    /// The answer to [`Effect::CheckSignIn`]: the token was accepted and kept, or why not.
    SignInChecked {
        reply: ReplyId,
        server: String,
        outcome: Result<(), TrayError>,
    },
    /// Whether the app now starts at login, after [`Effect::SetAutostart`].
    AutostartIs(bool),
    /// The answer to [`Effect::BindShortcut`]: `shortcut` now toggles the popup, or why not.
    ShortcutBound {
        reply: Option<ReplyId>,
        shortcut: Option<String>,
        outcome: Result<(), TrayError>,
    },
    /// Whether the desktop's own "do not disturb" is on ([`crate::do_not_disturb`]).
    DoNotDisturb(bool),
    /// The answer to [`Effect::FetchPhoto`]: the photo as a `data:` URL, or none (not found,
    /// not a picture, too large: the initials stay, and the address is not tried again while
    /// the app runs).
    PhotoFetched {
        address: String,
        photo: Option<String>,
    },
    /// [`Model::next_deadline`] has passed.
    Tick,
}

/// What the model asks the [`crate::effects`] to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Read the token kept for `server`; answered with [`Input::TokenLoaded`].
    LoadToken {
        server: String,
    },
    /// Stop any subscription and start this one, numbered `subscription`.
    Subscribe {
        subscription: u64,
        server: String,
        credential: Credential,
    },
    /// Stop the subscription of the account on `server`.
    Unsubscribe {
        server: String,
    },
    /// Sign in to `server` with the organisation's account, in the browser, and keep the
    /// sign-in; answered with [`Input::SignInChecked`].
    SignInWithAccount {
        reply: ReplyId,
        server: String,
    },
    /// Ask the server who `token` is and keep it; answered with [`Input::SignInChecked`].
    CheckSignIn {
        reply: ReplyId,
        server: String,
        token: String,
    },
    ClearToken {
        server: String,
    },
    SaveSettings(Settings),
    /// Start at login or not; answered with [`Input::AutostartIs`].
    SetAutostart(bool),
    /// Make `to` the global shortcut instead of `from`; answered with [`Input::ShortcutBound`].
    /// `from` stays bound when `to` cannot be.
    BindShortcut {
        reply: Option<ReplyId>,
        from: Option<String>,
        to: Option<String>,
    },
    /// Show a notice, with its actions where the daemon offers them.
    Notify(Announcement),
    /// Fetch the profile photo at `address` (checked by the core's rule); answered with
    /// [`Input::PhotoFetched`].
    FetchPhoto {
        address: String,
    },
    /// Hand an address built by the core's rules to the operating system.
    Open(Link),
    ShowPopup {
        tab: Tab,
        site: Option<String>,
    },
    HidePopup,
    TogglePopup,
    Quit,
    /// Answer the command `ReplyId`. Every command gets exactly one; an effect before it that
    /// fails turns an `Ok` into that failure.
    Reply(ReplyId, Result<(), TrayError>),
}

pub struct Model {
    settings: Settings,
    /// `COPRESENCE_SERVER`, when set: an account that is there without being kept.
    environment_server: Option<String>,
    /// Whether `COPRESENCE_TOKEN` gives that account's token (it is never kept or cleared).
    token_from_environment: bool,
    /// In the order they were added (the environment's first).
    accounts: Vec<Account>,
    autostart: bool,
    /// The desktop's "do not disturb": silences notifications like a pause.
    do_not_disturb: bool,
    /// Why the kept shortcut could not be bound at start (another app holds it).
    shortcut_problem: Option<String>,
    /// The shortcut actually bound now, which may differ from the kept one after a failure.
    bound_shortcut: Option<String>,
    /// Profile photos fetched, by address, and every address looked at once (fetched, failed,
    /// on its way, or not one to fetch): each is considered once while the app runs.
    photos: Photos,
    photos_asked: HashSet<String>,
    /// The last subscription number given out, to any account.
    subscriptions: u64,
}

impl Model {
    /// `environment_server`: `COPRESENCE_SERVER`, an account besides the kept ones.
    pub fn new(
        settings: Settings,
        environment_server: Option<String>,
        autostart: bool,
        token_from_environment: bool,
    ) -> Model {
        let mut servers: Vec<String> = environment_server.iter().cloned().collect();
        for server in settings.account_servers() {
            if !servers.contains(&server) {
                servers.push(server);
            }
        }
        Model {
            settings,
            environment_server,
            token_from_environment,
            accounts: servers.into_iter().map(Account::new).collect(),
            autostart,
            do_not_disturb: false,
            shortcut_problem: None,
            bound_shortcut: None,
            photos: Photos::default(),
            photos_asked: HashSet::new(),
            subscriptions: 0,
        }
    }

    fn account_mut(&mut self, server: &str) -> Option<&mut Account> {
        self.accounts.iter_mut().find(|a| a.server == server)
    }

    fn account(&self, server: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.server == server)
    }

    /// Open the link an account of `server` builds from its roster (never one the popup
    /// names), and answer the popup: done, or why not.
    fn open_link(
        &self,
        reply: ReplyId,
        server: &str,
        build: impl FnOnce(&Account) -> Result<Link, TrayError>,
    ) -> Vec<Effect> {
        let link = match self.account(server) {
            Some(account) => build(account),
            None => Err(TrayError::new(
                ErrorCode::UnknownUser,
                "you are no longer signed in there",
            )),
        };
        match link {
            Ok(link) => vec![Effect::Open(link), Effect::Reply(reply, Ok(()))],
            Err(error) => vec![Effect::Reply(reply, Err(error))],
        }
    }

    fn next_subscription(&mut self) -> u64 {
        self.subscriptions += 1;
        self.subscriptions
    }

    pub fn apply(&mut self, input: Input, now: Now) -> Vec<Effect> {
        match input {
            Input::Start => {
                let mut effects: Vec<Effect> = self
                    .accounts
                    .iter()
                    .map(|a| Effect::LoadToken {
                        server: a.server.clone(),
                    })
                    .collect();
                if let Some(shortcut) = &self.settings.shortcut {
                    effects.push(Effect::BindShortcut {
                        reply: None,
                        from: None,
                        to: Some(shortcut.clone()),
                    });
                }
                effects
            }
            Input::TokenLoaded { server, loaded } => self.token_loaded(server, loaded),
            Input::Feed {
                subscription,
                event,
            } => self.feed(subscription, event, now.moment),
            Input::Command(reply, command) => self.command(reply, command, now),
            Input::SignInChecked {
                reply,
                server,
                outcome,
            } => match outcome {
                Ok(()) => {
                    let mut effects = Vec::new();
                    match self.account_mut(&server) {
                        Some(account) => {
                            // Nothing from its old feed counts any more, even what arrives
                            // before the new one starts.
                            account.subscription = 0;
                            effects.push(Effect::Unsubscribe {
                                server: server.clone(),
                            });
                        }
                        None => self.accounts.push(Account::new(server.clone())),
                    }
                    if !self.settings.accounts.contains(&server) {
                        self.settings.accounts.push(server.clone());
                    }
                    effects.extend([
                        Effect::SaveSettings(self.settings.clone()),
                        Effect::LoadToken { server },
                        Effect::Reply(reply, Ok(())),
                    ]);
                    effects
                }
                Err(error) => vec![Effect::Reply(reply, Err(error))],
            },
            Input::AutostartIs(enabled) => {
                self.autostart = enabled;
                Vec::new()
            }
            Input::ShortcutBound {
                reply,
                shortcut,
                outcome,
            } => self.shortcut_bound(reply, shortcut, outcome),
            Input::DoNotDisturb(on) => {
                self.do_not_disturb = on;
                Vec::new()
            }
            Input::PhotoFetched { address, photo } => {
                if let Some(photo) = photo {
                    self.photos.insert(address, photo);
                }
                Vec::new()
            }
            Input::Tick => match self.settings.paused_until {
                Some(until) if until <= now.moment.now => {
                    self.settings.paused_until = None;
                    vec![Effect::SaveSettings(self.settings.clone())]
                }
                _ => Vec::new(),
            },
        }
    }

    /// When the model next needs an [`Input::Tick`] (ms since the epoch): the end of a pause,
    /// so the tray stops saying "paused" without waiting for anything else to happen.
    pub fn next_deadline(&self) -> Option<i64> {
        self.settings.paused_until
    }

    fn shortcut_bound(
        &mut self,
        reply: Option<ReplyId>,
        shortcut: Option<String>,
        outcome: Result<(), TrayError>,
    ) -> Vec<Effect> {
        if outcome.is_ok() {
            self.bound_shortcut = shortcut.clone();
        }
        let Some(reply) = reply else {
            // Bound at start: a failure is shown in the settings, and the choice is kept for
            // the next start (the app holding the keys may be gone by then).
            self.shortcut_problem = outcome.err().map(|e| e.message);
            return Vec::new();
        };
        match outcome {
            Ok(()) => {
                self.shortcut_problem = None;
                self.settings.shortcut = shortcut;
                vec![
                    Effect::SaveSettings(self.settings.clone()),
                    Effect::Reply(reply, Ok(())),
                ]
            }
            Err(error) => vec![Effect::Reply(reply, Err(error))],
        }
    }

    fn token_loaded(&mut self, server: String, loaded: Loaded) -> Vec<Effect> {
        let subscription = self.next_subscription();
        let Some(account) = self.account_mut(&server) else {
            // Read for an account since signed out of.
            return Vec::new();
        };
        match account.credential_loaded(loaded, subscription) {
            Some(credential) => vec![Effect::Subscribe {
                subscription,
                server,
                credential,
            }],
            None => vec![Effect::Unsubscribe { server }],
        }
    }

    fn feed(&mut self, subscription: u64, event: FeedEvent, at: Moment) -> Vec<Effect> {
        let preferences = self.settings.preferences(self.do_not_disturb);
        let settings = &self.settings;
        let Some(account) = self
            .accounts
            .iter_mut()
            .find(|a| a.subscription == subscription && subscription != 0)
        else {
            // From a subscription stopped since.
            return Vec::new();
        };
        let server = account.server.clone();
        let notices = account.feed(
            event,
            at,
            |site| settings.follows(&server, site),
            &preferences,
        );
        let mut effects: Vec<Effect> = notices.into_iter().map(Effect::Notify).collect();
        effects.extend(self.photos_to_fetch());
        effects
    }

    /// The photos of the people now known (you, and everyone on a site) not yet asked for.
    fn photos_to_fetch(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        for user in self.accounts.iter().flat_map(Account::people) {
            let Some(address) = user.photo.as_deref() else {
                continue;
            };
            // Each address is looked at once, taken or not: this runs on every event.
            if self.photos_asked.insert(address.to_owned()) && check_photo_url(address).is_ok() {
                effects.push(Effect::FetchPhoto {
                    address: address.to_owned(),
                });
            }
        }
        effects
    }

    fn command(&mut self, reply: ReplyId, command: Command, now: Now) -> Vec<Effect> {
        let answered = |mut effects: Vec<Effect>| {
            effects.push(Effect::Reply(reply, Ok(())));
            effects
        };
        match command {
            Command::SetFollow {
                server,
                site,
                follow,
            } => {
                self.settings.set_follow(&server, &site, follow);
                answered(vec![Effect::SaveSettings(self.settings.clone())])
            }
            Command::UpdatePreferences(preferences) => {
                let start = parse_minute(&preferences.quiet_start);
                let end = parse_minute(&preferences.quiet_end);
                let (Some(start), Some(end)) = (start, end) else {
                    let error =
                        TrayError::new(ErrorCode::InvalidTime, "quiet hours need times as HH:MM");
                    return vec![Effect::Reply(reply, Err(error))];
                };
                let settings = &mut self.settings;
                settings.notify_joins = preferences.notify_joins;
                settings.notify_saves = preferences.notify_saves;
                settings.quiet_hours_enabled = preferences.quiet_hours_enabled;
                settings.quiet_start_minute = start;
                settings.quiet_end_minute = end;
                answered(vec![Effect::SaveSettings(self.settings.clone())])
            }
            Command::Pause(until) => {
                let at = now.moment.now;
                self.settings.paused_until = Some(match until {
                    PauseUntil::Hour => at + PAUSE_HOUR_MS,
                    PauseUntil::Tomorrow => next_local_midnight(at, now.utc_offset_minutes),
                });
                answered(vec![Effect::SaveSettings(self.settings.clone())])
            }
            Command::Resume => {
                self.settings.paused_until = None;
                answered(vec![Effect::SaveSettings(self.settings.clone())])
            }
            Command::SetAutostart(enabled) => answered(vec![Effect::SetAutostart(enabled)]),
            Command::SetToolbarAvatars(count) if TOOLBAR_AVATAR_CHOICES.contains(&count) => {
                self.settings.toolbar_avatars = count;
                answered(vec![Effect::SaveSettings(self.settings.clone())])
            }
            Command::SetToolbarAvatars(count) => {
                let error = TrayError::new(
                    ErrorCode::InvalidToolbarSize,
                    format!("a toolbar shows 3 or 4 avatars, not {count}"),
                );
                vec![Effect::Reply(reply, Err(error))]
            }
            Command::SetShortcut(shortcut) => {
                let to = shortcut
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty());
                vec![Effect::BindShortcut {
                    reply: Some(reply),
                    from: self.bound_shortcut.clone(),
                    to,
                }]
            }
            Command::SignInWithAccount { server } => vec![Effect::SignInWithAccount {
                reply,
                server: server.trim().trim_end_matches('/').to_owned(),
            }],
            Command::SignIn { server, token } => vec![Effect::CheckSignIn {
                reply,
                server: server.trim().trim_end_matches('/').to_owned(),
                token: token.trim().to_owned(),
            }],
            Command::SignOut { server } => self.sign_out(reply, server),
            Command::OpenContact {
                server,
                site,
                user,
                kind,
            } => self.open_link(reply, &server, |account| {
                account.contact_link(&site, user, kind)
            }),
            Command::OpenSession {
                server,
                site,
                user,
                session,
            } => self.open_link(reply, &server, |account| {
                account.open_link(&site, user, &session)
            }),
            Command::ShowPopup { tab, site } => answered(vec![Effect::ShowPopup { tab, site }]),
            Command::HidePopup => answered(vec![Effect::HidePopup]),
            Command::TogglePopup => answered(vec![Effect::TogglePopup]),
            Command::Quit => answered(vec![Effect::Quit]),
        }
    }

    /// Sign out of the account on `server`: its feed stops, its credential is forgotten, and
    /// it leaves the list — except the environment's, which stays, signed out.
    fn sign_out(&mut self, reply: ReplyId, server: String) -> Vec<Effect> {
        let from_environment = self.environment_server.as_deref() == Some(server.as_str());
        self.settings.accounts.retain(|s| *s != server);
        if self.settings.server == server {
            self.settings.server.clear();
        }
        if from_environment {
            let token_from_environment = self.token_from_environment;
            if let Some(account) = self.account_mut(&server) {
                account.subscription = 0;
                account.signed_out(Some("Signed out.".into()));
                account.token_storage = if token_from_environment {
                    TokenStorage::Environment
                } else {
                    TokenStorage::None
                };
                account.storage_warning = None;
                account.signed_in_with = None;
            }
        } else {
            self.accounts.retain(|a| a.server != server);
        }
        vec![
            Effect::Unsubscribe {
                server: server.clone(),
            },
            Effect::ClearToken { server },
            Effect::SaveSettings(self.settings.clone()),
            Effect::Reply(reply, Ok(())),
        ]
    }

    /// The photos fetched so far, which the popup gets apart from the views.
    pub fn photos(&self) -> &PhotoData {
        self.photos.data()
    }

    /// Whether notifications are paused at `now`.
    fn paused_until(&self, now: i64) -> Option<i64> {
        self.settings.paused_until.filter(|until| *until > now)
    }

    /// What the popup and the tray show at `now`. Its `revision` is left at 0: whoever publishes
    /// views numbers them.
    pub fn view(&self, now: i64) -> View {
        let avatars = self.settings.toolbar_avatars();
        let several = self.accounts.len() > 1;
        let mut sites = Vec::new();
        let mut follow = Vec::new();
        let mut accounts = Vec::new();
        for account in &self.accounts {
            let viewer = Viewer {
                me: account.me.as_ref().map(|m| m.id),
                photos: &self.photos,
            };
            let label = account.label();
            for mut site in site_views(&account.live, viewer, avatars, |site| {
                self.settings.follows(&account.server, site)
            }) {
                site.account = account.server.clone();
                site.account_label = several.then(|| label.clone());
                sites.push(site);
            }
            let mut choices: Vec<FollowChoice> = account
                .live
                .sites()
                .map(|s| FollowChoice {
                    account: account.server.clone(),
                    id: s.site.id.clone(),
                    name: s.site.name.clone(),
                    followed: self.settings.follows(&account.server, &s.site.id),
                })
                .collect();
            choices.sort_by(|a, b| a.name.cmp(&b.name));
            follow.extend(choices);
            accounts.push(AccountView {
                server: account.server.clone(),
                label,
                connection: account.connection,
                message: account.message.clone(),
                signed_in_as: account
                    .me
                    .as_ref()
                    .map(|m| format!("{} <{}>", m.name, m.email)),
                signed_in_with: account.signed_in_with.clone(),
                token_storage: account.token_storage.clone(),
                storage_warning: account.storage_warning.clone(),
                server_warning: copresence_client::cleartext_warning(&account.server),
            });
        }
        let me = self
            .accounts
            .iter()
            .find_map(|a| a.me.as_ref())
            .map(|me| me_person(me, &self.photos));
        View {
            revision: 0,
            status: self.status(several),
            me,
            sites,
            paused_until: self.paused_until(now),
            do_not_disturb: self.do_not_disturb,
            accounts,
            settings: SettingsView {
                server: self
                    .environment_server
                    .clone()
                    .or_else(|| self.accounts.first().map(|a| a.server.clone()))
                    .unwrap_or_default(),
                notify_joins: self.settings.notify_joins,
                notify_saves: self.settings.notify_saves,
                quiet_hours_enabled: self.settings.quiet_hours_enabled,
                quiet_start: format_minute(self.settings.quiet_start_minute),
                quiet_end: format_minute(self.settings.quiet_end_minute),
                autostart: self.autostart,
                toolbar_avatars: avatars,
                toolbar_avatar_choices: TOOLBAR_AVATAR_CHOICES.to_vec(),
                shortcut: self.settings.shortcut.clone(),
                shortcut_problem: self.shortcut_problem.clone(),
                sites: follow,
            },
        }
    }

    /// The connection as the tray shows it, across accounts: signed out when none is signed
    /// in; else offline (or connecting) when any is; else connected. Its message is the first
    /// account's that has one, named when there are several.
    fn status(&self, several: bool) -> Status {
        let signed_in: Vec<&Account> = self
            .accounts
            .iter()
            .filter(|a| a.connection != Connection::SignedOut)
            .collect();
        let connection = if signed_in.is_empty() {
            Connection::SignedOut
        } else if signed_in
            .iter()
            .any(|a| a.connection == Connection::Offline)
        {
            Connection::Offline
        } else if signed_in
            .iter()
            .any(|a| a.connection == Connection::Connecting)
        {
            Connection::Connecting
        } else {
            Connection::Connected
        };
        let message = match self.accounts.iter().find(|a| a.message.is_some()) {
            Some(account) if several => account
                .message
                .as_ref()
                .map(|m| format!("{}: {m}", account.label())),
            Some(account) => account.message.clone(),
            None if self.accounts.is_empty() => Some(NO_TOKEN.into()),
            None => None,
        };
        Status {
            connection,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{
        card, card_with_teams, feed, join, model, now, reply_of, signed_in_model, site, site_with,
        token, NOW,
    };
    use copresence_client::Update;
    use copresence_core::{Member, UserCard};

    fn saved(effects: &[Effect]) -> Option<&Settings> {
        effects.iter().find_map(|e| match e {
            Effect::SaveSettings(settings) => Some(settings),
            _ => None,
        })
    }

    fn ask(model: &mut Model, command: Command) -> Vec<Effect> {
        model.apply(Input::Command(ReplyId(7), command), now())
    }

    #[test]
    fn at_start_the_kept_token_is_read_and_a_subscription_started_with_it() {
        let mut model = model();
        assert_eq!(
            model.apply(Input::Start, now()),
            vec![Effect::LoadToken {
                server: "http://h.test".into()
            }]
        );
        let effects = model.apply(token("http://h.test", Some("t0k")), now());
        assert_eq!(
            effects,
            vec![Effect::Subscribe {
                subscription: 1,
                server: "http://h.test".into(),
                credential: Credential::Token("t0k".into())
            }]
        );
        let view = model.view(NOW);
        assert_eq!(view.status.connection, Connection::Connecting);
        assert_eq!(view.accounts[0].token_storage, TokenStorage::Keychain);
    }

    #[test]
    fn without_a_token_the_app_says_how_to_sign_in() {
        let mut model = model();
        let effects = model.apply(token("http://h.test", None), now());
        assert_eq!(
            effects,
            vec![Effect::Unsubscribe {
                server: "http://h.test".into()
            }]
        );
        let view = model.view(NOW);
        assert_eq!(view.status.connection, Connection::SignedOut);
        assert_eq!(view.status.message.as_deref(), Some(NO_TOKEN));
    }

    #[test]
    fn a_stopped_subscription_changes_nothing() {
        let mut model = signed_in_model();
        assert!(ask(
            &mut model,
            Command::SignOut {
                server: "http://h.test".into()
            }
        )
        .contains(&Effect::Unsubscribe {
            server: "http://h.test".into()
        }));
        // A join the stopped task had already sent.
        assert!(model.apply(feed(join("a", 2, "Ann")), now()).is_empty());
        let late = Input::Feed {
            subscription: 1,
            event: FeedEvent::SignedIn(card(1, "Me")),
        };
        model.apply(late, now());
        let view = model.view(NOW);
        assert!(view.me.is_none() && view.sites.is_empty());
        assert_eq!(view.status.message.as_deref(), Some("Signed out."));
    }

    #[test]
    fn joins_on_followed_sites_are_announced_and_unfollowed_ones_are_not() {
        let mut model = signed_in_model();
        let effects = ask(
            &mut model,
            Command::SetFollow {
                server: "http://h.test".into(),
                site: "b".into(),
                follow: false,
            },
        );
        assert!(saved(&effects).is_some_and(|s| !s.follows("http://h.test", "b")));
        assert_eq!(reply_of(&effects), Some(Ok(())));
        let announced = model.apply(feed(join("a", 2, "Ann")), now());
        assert!(matches!(&announced[..], [Effect::Notify(n)] if n.notice.site == "a"));
        assert!(model.apply(feed(join("b", 3, "Bo")), now()).is_empty());
        let view = model.view(NOW);
        assert_eq!(view.sites.len(), 1, "only followed sites are shown");
        assert_eq!(view.settings.sites.len(), 2, "every site can be followed");
    }

    #[test]
    fn a_snapshot_after_a_reconnect_announces_no_one() {
        let mut model = signed_in_model();
        let with_ann = site_with(
            "a",
            vec![Member {
                user: card(2, "Ann"),
                sessions: vec![],
            }],
        );
        model.apply(
            feed(Update::Disconnected {
                error: "gone".into(),
                retry_in: std::time::Duration::from_secs(1),
            }),
            now(),
        );
        assert_eq!(model.view(NOW).status.connection, Connection::Offline);
        assert!(model
            .apply(feed(Update::Snapshot(vec![with_ann, site("b")])), now())
            .is_empty());
        assert_eq!(model.view(NOW).status.connection, Connection::Connected);
    }

    #[test]
    fn a_page_an_editor_adds_shows_in_place_in_the_tree_without_a_reconnect() {
        let mut model = signed_in_model();
        let on_new_page = Update::Event(copresence_core::Event::Join {
            site: "a".into(),
            member: copresence_core::fixtures::member(2, "Ann", "/blog/new"),
            at: NOW,
        });
        model.apply(feed(on_new_page), now());
        let rows = |model: &Model| -> Vec<(String, String, usize, Vec<String>)> {
            model.view(NOW).sites[0]
                .pages
                .iter()
                .map(|row| {
                    let here = row.here.iter().map(|p| p.name.clone()).collect();
                    (row.path.clone(), row.title.clone(), row.depth, here)
                })
                .collect()
        };
        assert_eq!(
            rows(&model),
            [("/".into(), "Home".into(), 0, vec!["Ann".into()])],
            "on a page the tree does not have yet: shown on the nearest one above"
        );

        let added = Update::Event(copresence_core::Event::Pages {
            site: "a".into(),
            added: vec![copresence_core::Page {
                path: "/blog/new".into(),
                title: "New post".into(),
            }],
            at: NOW,
        });
        let effects = model.apply(feed(added), now());
        assert!(effects.is_empty(), "a new page is not a notification");
        assert_eq!(
            rows(&model),
            [
                ("/".into(), "Home".into(), 0, vec![]),
                ("/blog/new".into(), "New post".into(), 1, vec!["Ann".into()]),
            ],
            "the page in place, with Ann on it"
        );
        let ann = &model.view(NOW).sites[0].toolbar[0];
        assert_eq!(ann.page_title, "New post");
        assert_eq!(model.view(NOW).status.connection, Connection::Connected);
    }

    #[test]
    fn a_refused_token_signs_out_and_forgets_the_roster() {
        let mut model = signed_in_model();
        let refused = copresence_client::Error::Api {
            status: 401,
            code: copresence_core::ErrorCode::Unauthorized,
            message: "no".into(),
            detail: Box::new(copresence_core::ErrorDetail {
                code: copresence_core::ErrorCode::Unauthorized,
                message: "no".into(),
                current_version: None,
                last_save: None,
            }),
            retry_after: None,
        };
        model.apply(feed(Update::Fatal(refused)), now());
        let view = model.view(NOW);
        assert_eq!(view.status.connection, Connection::SignedOut);
        assert_eq!(view.status.message.as_deref(), Some(REFUSED_TOKEN));
        assert!(view.sites.is_empty());
        assert!(view.me.is_none());
    }

    #[test]
    fn a_pause_silences_joins_and_ends_at_its_deadline() {
        let mut model = signed_in_model();
        let effects = ask(&mut model, Command::Pause(PauseUntil::Hour));
        let until = NOW + PAUSE_HOUR_MS;
        assert_eq!(saved(&effects).and_then(|s| s.paused_until), Some(until));
        assert_eq!(model.view(NOW).paused_until, Some(until));
        assert_eq!(model.next_deadline(), Some(until));
        assert!(model.apply(feed(join("a", 2, "Ann")), now()).is_empty());

        // A tick before the end changes nothing; at the end the pause is over and forgotten.
        assert!(model.apply(Input::Tick, now()).is_empty());
        let mut later = now();
        later.moment.now = until;
        let effects = model.apply(Input::Tick, later);
        assert_eq!(saved(&effects).map(|s| s.paused_until), Some(None));
        assert_eq!(model.next_deadline(), None);
        assert_eq!(model.view(until).paused_until, None);
    }

    #[test]
    fn pause_until_tomorrow_ends_at_the_next_local_midnight() {
        let mut model = signed_in_model();
        let mut in_paris = now();
        in_paris.utc_offset_minutes = 60;
        ask(&mut model, Command::Pause(PauseUntil::Tomorrow));
        let utc_midnight = model.next_deadline().unwrap();
        model.apply(
            Input::Command(ReplyId(8), Command::Pause(PauseUntil::Tomorrow)),
            in_paris,
        );
        let paris_midnight = model.next_deadline().unwrap();
        assert_eq!(utc_midnight % 86_400_000, 0);
        assert_eq!(utc_midnight - paris_midnight, 3_600_000);
        let effects = ask(&mut model, Command::Resume);
        assert_eq!(saved(&effects).map(|s| s.paused_until), Some(None));
        assert_eq!(model.view(NOW).paused_until, None);
    }

    #[test]
    fn quiet_hours_need_times_and_a_refusal_keeps_the_settings() {
        let mut model = signed_in_model();
        let mut preferences = Preferences {
            notify_joins: false,
            notify_saves: true,
            quiet_hours_enabled: true,
            quiet_start: "25:00".into(),
            quiet_end: "07:00".into(),
        };
        let effects = ask(&mut model, Command::UpdatePreferences(preferences.clone()));
        assert_eq!(effects.len(), 1, "{effects:?}");
        assert_eq!(
            reply_of(&effects).and_then(Result::err).map(|e| e.code),
            Some(ErrorCode::InvalidTime)
        );
        assert!(model.view(NOW).settings.notify_joins);

        preferences.quiet_start = "21:30".into();
        let effects = ask(&mut model, Command::UpdatePreferences(preferences));
        assert_eq!(
            saved(&effects).map(|s| s.quiet_start_minute),
            Some(21 * 60 + 30)
        );
        let view = model.view(NOW);
        assert!(!view.settings.notify_joins);
        assert_eq!(view.settings.quiet_start, "21:30");
        assert!(model.apply(feed(join("a", 2, "Ann")), now()).is_empty());
    }

    #[test]
    fn sign_in_keeps_the_server_only_once_the_token_is_accepted() {
        let mut model = signed_in_model();
        let effects = ask(
            &mut model,
            Command::SignIn {
                server: " https://other.test/ ".into(),
                token: " secret\n".into(),
            },
        );
        assert_eq!(
            effects,
            vec![Effect::CheckSignIn {
                reply: ReplyId(7),
                server: "https://other.test".into(),
                token: "secret".into()
            }]
        );
        let refused = TrayError::new(ErrorCode::Unauthorized, "no");
        let effects = model.apply(
            Input::SignInChecked {
                reply: ReplyId(7),
                server: "https://other.test".into(),
                outcome: Err(refused.clone()),
            },
            now(),
        );
        assert_eq!(effects, vec![Effect::Reply(ReplyId(7), Err(refused))]);
        assert_eq!(model.view(NOW).settings.server, "http://h.test");

        let effects = model.apply(
            Input::SignInChecked {
                reply: ReplyId(7),
                server: "https://other.test".into(),
                outcome: Ok(()),
            },
            now(),
        );
        assert_eq!(
            saved(&effects).map(|s| s.accounts.clone()),
            Some(vec!["https://other.test".to_owned()]),
            "kept as a second account"
        );
        assert!(effects.contains(&Effect::LoadToken {
            server: "https://other.test".into()
        }));
        assert_eq!(reply_of(&effects), Some(Ok(())));
        let servers: Vec<String> = model
            .view(NOW)
            .accounts
            .into_iter()
            .map(|a| a.server)
            .collect();
        assert_eq!(servers, ["http://h.test", "https://other.test"]);
    }

    #[test]
    fn sign_out_stops_the_feed_forgets_the_token_and_the_roster() {
        let mut model = signed_in_model();
        model.apply(feed(join("a", 2, "Ann")), now());
        let effects = ask(
            &mut model,
            Command::SignOut {
                server: "http://h.test".into(),
            },
        );
        assert_eq!(
            effects[..2],
            [
                Effect::Unsubscribe {
                    server: "http://h.test".into()
                },
                Effect::ClearToken {
                    server: "http://h.test".into()
                },
            ]
        );
        assert_eq!(reply_of(&effects), Some(Ok(())));
        let view = model.view(NOW);
        assert_eq!(view.status.connection, Connection::SignedOut);
        assert_eq!(view.accounts[0].token_storage, TokenStorage::None);
        assert!(view.sites.is_empty());
    }

    #[test]
    fn contact_links_are_built_from_what_the_app_knows_of_the_person() {
        let mut model = signed_in_model();
        let ann = card_with_teams(2, "Ann", "ann@x.test");
        let bo = card(3, "Bo");
        let on_home = |user: UserCard| Member {
            user,
            sessions: vec![crate::fixtures::session("s", "/")],
        };
        model.apply(
            feed(Update::Snapshot(vec![site_with(
                "a",
                vec![on_home(ann), on_home(bo)],
            )])),
            now(),
        );
        let open = |model: &mut Model, user, kind| {
            ask(
                model,
                Command::OpenContact {
                    server: "http://h.test".into(),
                    site: "a".into(),
                    user,
                    kind,
                },
            )
        };
        let effects = open(&mut model, 2, ContactKind::Teams);
        assert!(
            matches!(&effects[0], Effect::Open(link) if link.as_str() == format!("{}ann@x.test", copresence_core::links::TEAMS_CHAT_PREFIX)),
            "{effects:?}"
        );
        let effects = open(&mut model, 3, ContactKind::Email);
        assert!(
            matches!(&effects[0], Effect::Open(link) if link.as_str() == "mailto:3@x.test"),
            "{effects:?}"
        );
        let code = |effects: Vec<Effect>| reply_of(&effects).and_then(Result::err).map(|e| e.code);
        assert_eq!(
            code(open(&mut model, 3, ContactKind::Teams)),
            Some(ErrorCode::NoTeamsAccount)
        );
        assert_eq!(
            code(open(&mut model, 9, ContactKind::Email)),
            Some(ErrorCode::UnknownUser)
        );
    }

    /// Contoso on https://contoso.example, whose studio's pages are
    /// `https://studio.example/edit/<page>`; Ann (with Teams) in the studio on Pricing, Bo on
    /// Home with an address the site's editors do not map (a publisher chose it freely).
    fn contoso_with_a_studio() -> Input {
        let mut contoso = site("a");
        contoso.site.url = "https://contoso.example".into();
        contoso.site.editors = vec![copresence_core::editors::Editor {
            name: "Studio".into(),
            pattern: "https://studio.example/edit/:page*".into(),
            site: None,
            pages: None,
        }];
        let in_studio = |user: UserCard, page: &str, url: &str| {
            let mut session = crate::fixtures::session("s1", page);
            session.url = Some(url.into());
            Member {
                user,
                sessions: vec![session],
            }
        };
        contoso.members = vec![
            in_studio(
                card_with_teams(2, "Ann", "ann@x.test"),
                "/pricing",
                "https://studio.example/edit/pricing",
            ),
            in_studio(card(3, "Bo"), "/", "https://evil.example/edit/"),
        ]
        .into_iter()
        .collect();
        feed(Update::Snapshot(vec![contoso, site("b")]))
    }

    fn open_session(model: &mut Model, site: &str, user: i64, session: &str) -> Vec<Effect> {
        ask(
            model,
            Command::OpenSession {
                server: "http://h.test".into(),
                site: site.into(),
                user,
                session: session.into(),
            },
        )
    }

    fn opened(effects: &[Effect]) -> Option<&str> {
        effects.iter().find_map(|e| match e {
            Effect::Open(link) => Some(link.as_str()),
            _ => None,
        })
    }

    #[test]
    fn open_goes_to_the_studio_when_the_sites_editors_map_the_address_else_to_the_site() {
        let mut model = signed_in_model();
        model.apply(contoso_with_a_studio(), now());
        let view = model.view(NOW);
        let person = |id: i64| {
            view.sites[0]
                .toolbar
                .iter()
                .find(|p| p.user_id == id)
                .cloned()
                .unwrap()
        };
        let (ann, bo) = (person(2), person(3));
        assert_eq!(ann.session.as_deref(), Some("s1"));
        assert_eq!(
            ann.open_address.as_deref(),
            Some("https://studio.example/edit/pricing")
        );
        assert_eq!(
            bo.open_address.as_deref(),
            Some("https://contoso.example/"),
            "an address the editors do not map is never offered: the page on the site instead"
        );

        // Opened by the session's name, at the address the rule gives from the roster.
        let effects = open_session(&mut model, "a", 2, "s1");
        assert_eq!(
            opened(&effects),
            Some("https://studio.example/edit/pricing")
        );
        assert_eq!(reply_of(&effects), Some(Ok(())));
        let effects = open_session(&mut model, "a", 3, "s1");
        assert_eq!(opened(&effects), Some("https://contoso.example/"));

        let code = |effects: Vec<Effect>| reply_of(&effects).and_then(Result::err).map(|e| e.code);
        assert_eq!(
            code(open_session(&mut model, "a", 2, "gone")),
            Some(ErrorCode::UnknownUser)
        );
        assert_eq!(
            code(open_session(&mut model, "a", 9, "s1")),
            Some(ErrorCode::UnknownUser)
        );
        // A site with no address of its own and no editors: nowhere to open.
        model.apply(feed(join("b", 4, "Cy")), now());
        let cy = model.view(NOW).sites[1].toolbar[0].clone();
        assert_eq!((cy.session.as_deref(), cy.open_address), (Some("t"), None));
        assert_eq!(
            code(open_session(&mut model, "b", 4, "t")),
            Some(ErrorCode::NoAddress)
        );
    }

    #[test]
    fn a_join_is_announced_with_open_where_they_are_and_their_teams_chat() {
        let mut model = signed_in_model();
        model.apply(contoso_with_a_studio(), now());
        let mut dee = crate::fixtures::member(5, "Dee", "/pricing");
        dee.user.teams = Some("dee@x.test".into());
        dee.sessions[0].url = Some("https://studio.example/edit/pricing".into());
        let effects = model.apply(
            feed(Update::Event(copresence_core::Event::Join {
                site: "a".into(),
                member: dee,
                at: NOW,
            })),
            now(),
        );
        let [Effect::Notify(announced)] = &effects[..] else {
            panic!("one notice: {effects:?}")
        };
        assert_eq!(
            announced.open.as_ref().map(Link::as_str),
            Some("https://studio.example/edit/pricing")
        );
        assert_eq!(
            announced.teams.as_ref().map(Link::as_str),
            Some("https://teams.microsoft.com/l/chat/0/0?users=dee@x.test")
        );
        // Someone with no Teams account, on a site with no address: no actions to offer.
        let effects = model.apply(feed(join("b", 6, "Eve")), now());
        let [Effect::Notify(announced)] = &effects[..] else {
            panic!("one notice: {effects:?}")
        };
        assert_eq!((&announced.open, &announced.teams), (&None, &None));
    }

    #[test]
    fn a_save_is_announced_with_open_on_the_saved_page() {
        let mut model = signed_in_model();
        model.apply(contoso_with_a_studio(), now());
        let saved_by = |user: UserCard, page: &str| {
            feed(Update::Event(copresence_core::Event::Saved {
                site: "a".into(),
                save: copresence_core::SaveRecord {
                    version: 2,
                    page: page.into(),
                    user,
                    at: NOW,
                    forced: false,
                },
            }))
        };
        let open_of = |effects: &[Effect]| match effects {
            [Effect::Notify(announced)] => announced.open.as_ref().map(|l| l.as_str().to_owned()),
            _ => panic!("one notice: {effects:?}"),
        };
        // Ann saves the page she has open in the studio: Open goes back there.
        let ann = card_with_teams(2, "Ann", "ann@x.test");
        let effects = model.apply(saved_by(ann, "/pricing"), now());
        assert_eq!(
            open_of(&effects).as_deref(),
            Some("https://studio.example/edit/pricing")
        );
        // Someone no longer on the site saved: the saved page on the site.
        let effects = model.apply(saved_by(card(7, "Gil"), "/faq"), now());
        assert_eq!(
            open_of(&effects).as_deref(),
            Some("https://contoso.example/faq")
        );
    }

    #[test]
    fn every_command_is_answered_once() {
        let commands = vec![
            Command::SetFollow {
                server: "http://h.test".into(),
                site: "a".into(),
                follow: true,
            },
            Command::UpdatePreferences(Preferences {
                notify_joins: true,
                notify_saves: true,
                quiet_hours_enabled: false,
                quiet_start: "x".into(),
                quiet_end: "y".into(),
            }),
            Command::Pause(PauseUntil::Hour),
            Command::Resume,
            Command::SetAutostart(true),
            Command::SetToolbarAvatars(4),
            Command::SetToolbarAvatars(9),
            Command::SignOut {
                server: "http://h.test".into(),
            },
            Command::OpenContact {
                server: "http://h.test".into(),
                site: "a".into(),
                user: 2,
                kind: ContactKind::Email,
            },
            Command::ShowPopup {
                tab: Tab::Settings,
                site: None,
            },
            Command::HidePopup,
            Command::TogglePopup,
            Command::Quit,
        ];
        for command in commands {
            let effects = ask(&mut signed_in_model(), command.clone());
            let replies = effects
                .iter()
                .filter(|e| matches!(e, Effect::Reply(ReplyId(7), _)))
                .count();
            assert_eq!(replies, 1, "{command:?} → {effects:?}");
            assert!(
                matches!(effects.last(), Some(Effect::Reply(..))),
                "the answer comes after the effects it depends on: {effects:?}"
            );
        }
    }

    #[test]
    fn the_autostart_shown_is_the_one_the_system_reports() {
        let mut model = signed_in_model();
        let effects = ask(&mut model, Command::SetAutostart(true));
        assert_eq!(effects[0], Effect::SetAutostart(true));
        assert!(!model.view(NOW).settings.autostart);
        model.apply(Input::AutostartIs(true), now());
        assert!(model.view(NOW).settings.autostart);
    }

    #[test]
    fn the_toolbar_shows_three_or_four_avatars_as_chosen() {
        let mut model = signed_in_model();
        let crowd: Vec<_> = (2..=7)
            .map(|id| crate::fixtures::member(id, &format!("P{id}"), "/"))
            .collect();
        model.apply(feed(Update::Snapshot(vec![site_with("a", crowd)])), now());
        let bar = |model: &Model| {
            let view = model.view(NOW);
            (view.sites[0].toolbar.len(), view.sites[0].overflow.len())
        };
        assert_eq!(
            bar(&model),
            (3, 3),
            "three by default, as in the design studio"
        );
        let effects = ask(&mut model, Command::SetToolbarAvatars(4));
        assert_eq!(saved(&effects).map(|s| s.toolbar_avatars), Some(4));
        assert_eq!(bar(&model), (4, 2));
        let effects = ask(&mut model, Command::SetToolbarAvatars(9));
        assert_eq!(
            reply_of(&effects).and_then(Result::err).map(|e| e.code),
            Some(ErrorCode::InvalidToolbarSize)
        );
        assert_eq!(bar(&model), (4, 2));
        assert_eq!(model.view(NOW).settings.toolbar_avatar_choices, [3, 4]);
    }

    #[test]
    fn the_desktops_do_not_disturb_silences_like_a_pause_while_it_lasts() {
        let mut model = signed_in_model();
        model.apply(Input::DoNotDisturb(true), now());
        assert!(model.view(NOW).do_not_disturb);
        assert!(model.apply(feed(join("a", 2, "Ann")), now()).is_empty());
        assert_eq!(
            model.view(NOW).sites[0].toolbar.len(),
            1,
            "but Ann is shown"
        );
        model.apply(Input::DoNotDisturb(false), now());
        assert!(!model.view(NOW).do_not_disturb);
        let announced = model.apply(feed(join("b", 3, "Bo")), now());
        assert!(matches!(&announced[..], [Effect::Notify(_)]));
    }

    #[test]
    fn a_shortcut_is_kept_once_bound_and_rebound_at_start() {
        let mut model = signed_in_model();
        let effects = ask(
            &mut model,
            Command::SetShortcut(Some(" Alt+Shift+C ".into())),
        );
        assert_eq!(
            effects,
            vec![Effect::BindShortcut {
                reply: Some(ReplyId(7)),
                from: None,
                to: Some("Alt+Shift+C".into())
            }]
        );
        let taken = TrayError::new(ErrorCode::ShortcutUnavailable, "taken");
        let bound = |outcome| Input::ShortcutBound {
            reply: Some(ReplyId(7)),
            shortcut: Some("Alt+Shift+C".into()),
            outcome,
        };
        let effects = model.apply(bound(Err(taken.clone())), now());
        assert_eq!(effects, vec![Effect::Reply(ReplyId(7), Err(taken))]);
        assert_eq!(model.view(NOW).settings.shortcut, None);

        let effects = model.apply(bound(Ok(())), now());
        let kept = saved(&effects).cloned().expect("the settings are saved");
        assert_eq!(kept.shortcut.as_deref(), Some("Alt+Shift+C"));
        assert_eq!(
            model.view(NOW).settings.shortcut.as_deref(),
            Some("Alt+Shift+C")
        );
        // Turned off: the old one is released.
        let effects = ask(&mut model, Command::SetShortcut(Some("  ".into())));
        assert_eq!(
            effects,
            vec![Effect::BindShortcut {
                reply: Some(ReplyId(7)),
                from: Some("Alt+Shift+C".into()),
                to: None
            }]
        );

        // The next start binds the kept one; a failure then is shown, and the choice kept.
        let mut restarted = Model::new(kept, Some("http://h.test".into()), false, false);
        let effects = restarted.apply(Input::Start, now());
        assert!(effects.contains(&Effect::BindShortcut {
            reply: None,
            from: None,
            to: Some("Alt+Shift+C".into())
        }));
        restarted.apply(
            Input::ShortcutBound {
                reply: None,
                shortcut: Some("Alt+Shift+C".into()),
                outcome: Err(TrayError::new(ErrorCode::ShortcutUnavailable, "taken")),
            },
            now(),
        );
        let view = restarted.view(NOW);
        assert_eq!(view.settings.shortcut_problem.as_deref(), Some("taken"));
        assert_eq!(view.settings.shortcut.as_deref(), Some("Alt+Shift+C"));
        // Chosen again, it is bound for real: nothing holds it yet.
        let effects = restarted.apply(
            Input::Command(ReplyId(9), Command::SetShortcut(Some("Alt+Shift+C".into()))),
            now(),
        );
        assert_eq!(
            effects,
            vec![Effect::BindShortcut {
                reply: Some(ReplyId(9)),
                from: None,
                to: Some("Alt+Shift+C".into())
            }]
        );
    }

    #[test]
    fn each_photo_is_fetched_once_and_shown_as_data_once_it_arrives() {
        let mut model = signed_in_model();
        let mut ann = card(2, "Ann");
        ann.photo = Some("https://photos.x.test/ann.png".into());
        let mut bo = card(3, "Bo");
        bo.photo = Some("http://photos.x.test/bo.png".into());
        let on_home = |user: UserCard| Member {
            user,
            sessions: vec![crate::fixtures::session("s", "/")],
        };
        let effects = model.apply(
            feed(Update::Snapshot(vec![
                site_with("a", vec![on_home(ann.clone()), on_home(bo)]),
                site_with("b", vec![on_home(ann)]),
            ])),
            now(),
        );
        let fetches: Vec<_> = effects
            .iter()
            .filter(|e| matches!(e, Effect::FetchPhoto { .. }))
            .collect();
        assert_eq!(
            fetches,
            [&Effect::FetchPhoto {
                address: "https://photos.x.test/ann.png".into()
            }],
            "once for Ann on two sites, never over plain http from elsewhere"
        );
        let ann_on_a = |model: &Model| model.view(NOW).sites[0].toolbar[0].clone();
        assert_eq!(ann_on_a(&model).photo, None, "initials until it arrives");
        model.apply(
            Input::PhotoFetched {
                address: "https://photos.x.test/ann.png".into(),
                photo: Some("data:image/png;base64,iVBO".into()),
            },
            now(),
        );
        let key = ann_on_a(&model).photo.expect("Ann's photo, by its key");
        assert_eq!(
            model.photos().get(&key).map(String::as_str),
            Some("data:image/png;base64,iVBO"),
            "the data goes once, apart from the views"
        );
        let again = model.apply(feed(join("b", 4, "Cy")), now());
        assert!(!again.iter().any(|e| matches!(e, Effect::FetchPhoto { .. })));
    }

    #[test]
    fn your_own_photo_is_fetched_once_signed_in_and_a_failed_one_is_not_tried_again() {
        let mut model = model();
        model.apply(Input::Start, now());
        model.apply(token("http://h.test", Some("t0k")), now());
        let mut me = card(1, "Me");
        me.photo = Some("http://127.0.0.1:9/me.png".into());
        let effects = model.apply(
            Input::Feed {
                subscription: 1,
                event: FeedEvent::SignedIn(me),
            },
            now(),
        );
        assert_eq!(
            effects,
            [Effect::FetchPhoto {
                address: "http://127.0.0.1:9/me.png".into()
            }],
            "plain http to this machine is taken"
        );
        model.apply(
            Input::PhotoFetched {
                address: "http://127.0.0.1:9/me.png".into(),
                photo: None,
            },
            now(),
        );
        let effects = model.apply(feed(Update::Snapshot(vec![site("a")])), now());
        assert!(effects.is_empty(), "{effects:?}");
        assert_eq!(model.view(NOW).me.and_then(|me| me.photo), None);
    }

    #[test]
    fn sign_in_answers_in_two_steps_and_a_failed_save_of_the_settings_is_for_the_caller() {
        let mut model = signed_in_model();
        let effects = ask(
            &mut model,
            Command::SignIn {
                server: "http://h.test".into(),
                token: "t".into(),
            },
        );
        assert_eq!(reply_of(&effects), None, "not before the token is checked");
        let effects = model.apply(
            Input::SignInChecked {
                reply: ReplyId(7),
                server: "http://h.test".into(),
                outcome: Ok(()),
            },
            now(),
        );
        assert_eq!(
            effects[0],
            Effect::Unsubscribe {
                server: "http://h.test".into()
            },
            "signed in again to the same service: its old feed stops"
        );
        assert!(matches!(
            effects.last(),
            Some(Effect::Reply(ReplyId(7), Ok(())))
        ));
        // A report from the old server's feed, already on its way, changes nothing.
        assert!(model.apply(feed(join("a", 2, "Ann")), now()).is_empty());
    }

    #[test]
    fn an_organisation_sign_in_is_kept_and_its_end_says_to_sign_in_again() {
        let mut model = model();
        let effects = ask(
            &mut model,
            Command::SignInWithAccount {
                server: "https://h.test/ ".into(),
            },
        );
        assert_eq!(
            effects,
            vec![Effect::SignInWithAccount {
                reply: ReplyId(7),
                server: "https://h.test".into()
            }],
            "answered once the browser comes back"
        );
        let sign_in = copresence_client::signin::KeptSignIn {
            server: "http://h.test".into(),
            provider: copresence_core::SignInProvider {
                issuer: "https://login.contoso.test".into(),
                client_id: Some("copresence".into()),
                scopes: vec!["openid".into()],
                audience: "api://copresence".into(),
                endpoints: Default::default(),
            },
            tokens: copresence_client::signin::Tokens {
                bearer: "eyJ.x.y".into(),
                refresh_token: Some("r".into()),
                expires_at: NOW + 60_000,
            },
        };
        let credential = Credential::SignIn(Box::new(sign_in));
        let effects = model.apply(
            Input::TokenLoaded {
                server: "http://h.test".into(),
                loaded: Loaded {
                    credential: Some(credential.clone()),
                    storage: TokenStorage::Keychain,
                    warning: None,
                },
            },
            now(),
        );
        assert!(
            matches!(&effects[..], [Effect::Subscribe { credential: c, .. }] if *c == credential)
        );
        assert_eq!(
            model.view(NOW).accounts[0].signed_in_with.as_deref(),
            Some("https://login.contoso.test")
        );
        let ended = copresence_client::Error::SignedOut("refused".into());
        model.apply(feed(Update::Fatal(ended)), now());
        let view = model.view(NOW);
        assert_eq!(view.status.connection, Connection::SignedOut);
        assert_eq!(view.status.message.as_deref(), Some(EXPIRED_SIGN_IN));
    }

    #[test]
    fn several_accounts_each_show_their_sites_and_announce_and_sign_out_apart() {
        let mut model = signed_in_model();
        // A second service, signed in to with a token.
        ask(
            &mut model,
            Command::SignIn {
                server: "https://b.test".into(),
                token: "tb".into(),
            },
        );
        model.apply(
            Input::SignInChecked {
                reply: ReplyId(7),
                server: "https://b.test".into(),
                outcome: Ok(()),
            },
            now(),
        );
        let effects = model.apply(token("https://b.test", Some("tb")), now());
        let Some(Effect::Subscribe { subscription, .. }) = effects.first().cloned() else {
            panic!("b subscribes: {effects:?}")
        };
        assert_ne!(subscription, 1, "numbers are not shared between accounts");
        let from_b = |event| Input::Feed {
            subscription,
            event,
        };
        model.apply(from_b(FeedEvent::SignedIn(card(5, "Me at B"))), now());
        model.apply(
            from_b(FeedEvent::Update(Update::Snapshot(vec![
                site("a"),
                site("x"),
            ]))),
            now(),
        );

        let view = model.view(NOW);
        let sites: Vec<(String, String)> = view
            .sites
            .iter()
            .map(|s| (s.account.clone(), s.id.clone()))
            .collect();
        assert_eq!(
            sites,
            [
                ("http://h.test".to_owned(), "a".to_owned()),
                ("http://h.test".to_owned(), "b".to_owned()),
                ("https://b.test".to_owned(), "a".to_owned()),
                ("https://b.test".to_owned(), "x".to_owned()),
            ],
            "each account's sites, in turn; a site id may be on both"
        );
        assert_eq!(
            view.sites[2].account_label.as_deref(),
            Some("b.test — 5@x.test")
        );
        assert_eq!(view.status.connection, Connection::Connected);

        // Each account announces its own; unfollowing a on one service leaves the other's.
        let effects = model.apply(from_b(FeedEvent::Update(join("x", 6, "Xi"))), now());
        assert!(matches!(&effects[..], [Effect::Notify(n)] if n.notice.site == "x"));
        ask(
            &mut model,
            Command::SetFollow {
                server: "https://b.test".into(),
                site: "a".into(),
                follow: false,
            },
        );
        assert!(model
            .apply(from_b(FeedEvent::Update(join("a", 7, "Al"))), now())
            .is_empty());
        let effects = model.apply(feed(join("a", 8, "Ann")), now());
        assert!(
            matches!(&effects[..], [Effect::Notify(_)]),
            "h.test's a is still followed"
        );

        // Signed out of b: its sites go, h.test's stay, and so does the account from the
        // environment.
        let effects = ask(
            &mut model,
            Command::SignOut {
                server: "https://b.test".into(),
            },
        );
        assert!(effects.contains(&Effect::ClearToken {
            server: "https://b.test".into()
        }));
        assert!(saved(&effects).is_some_and(|s| s.accounts.is_empty()));
        let view = model.view(NOW);
        assert_eq!(view.accounts.len(), 1);
        assert!(view.sites.iter().all(|s| s.account == "http://h.test"));
        assert!(view.sites.iter().all(|s| s.account_label.is_none()));
        assert!(model
            .apply(from_b(FeedEvent::Update(join("x", 9, "Yo"))), now())
            .is_empty());
    }
}
