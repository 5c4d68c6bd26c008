//! Everything the app knows, and how each subscription update changes it. Pure: no Tauri, no
//! I/O, so the rules for what the user sees and hears are tested without a desktop.

use copresence_client::{LiveState, Update};
use copresence_core::notify::{Moment, Notice, Notifier};
use copresence_core::UserCard;

use crate::settings::{format_minute, Settings};
use crate::view::{site_views, Connection, FollowChoice, SettingsView, Status, TokenStorage, View};

pub struct Model {
    pub settings: Settings,
    /// The server in use: `COPRESENCE_SERVER` when set, else the settings'.
    pub server: String,
    pub token_storage: TokenStorage,
    pub storage_warning: Option<String>,
    pub me: Option<UserCard>,
    pub live: LiveState,
    pub connection: Connection,
    pub message: Option<String>,
    pub autostart: bool,
    /// Counts changes, for [`View::revision`].
    pub revision: u64,
    notifier: Option<Notifier>,
}

impl Model {
    pub fn new(settings: Settings, server: String) -> Model {
        Model {
            settings,
            server,
            token_storage: TokenStorage::None,
            storage_warning: None,
            me: None,
            live: LiveState::new(),
            connection: Connection::SignedOut,
            message: None,
            autostart: false,
            revision: 0,
            notifier: None,
        }
    }

    /// The token was accepted: this is who we are.
    pub fn signed_in(&mut self, me: UserCard) {
        if self.me.as_ref().map(|m| m.id) != Some(me.id) {
            self.notifier = Some(Notifier::new(me.id));
            self.live.clear();
        }
        self.me = Some(me);
    }

    /// No usable token: forget who we were and what we saw.
    pub fn signed_out(&mut self, message: Option<String>) {
        self.me = None;
        self.notifier = None;
        self.live.clear();
        self.connection = Connection::SignedOut;
        self.message = message;
    }

    pub fn offline(&mut self, message: String) {
        self.connection = Connection::Offline;
        self.message = Some(message);
    }

    /// Apply one subscription update; returns what to announce.
    pub fn apply(&mut self, update: &Update, at: Moment) -> Vec<Notice> {
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
                let followed = self.settings.follows(site_id);
                let preferences = self.settings.preferences();
                return notifier
                    .notice(event, site, followed, &preferences, at)
                    .into_iter()
                    .collect();
            }
            Update::Disconnected { error, .. } => self.offline(error.clone()),
            Update::Fatal(error) if error.is_unauthorized() => self.signed_out(Some(
                "The server refused your token: sign in again in Settings.".into(),
            )),
            Update::Fatal(error) => self.offline(error.to_string()),
        }
        Vec::new()
    }

    /// Whether notifications are paused at `now`.
    pub fn paused_until(&self, now: i64) -> Option<i64> {
        self.settings.paused_until.filter(|until| *until > now)
    }

    pub fn view(&self, now: i64) -> View {
        let me = self.me.as_ref().map(|m| m.id);
        let sites = site_views(&self.live, me, |site| self.settings.follows(site));
        let me_person = self.me.as_ref().map(crate::view::me_person);
        let mut follow: Vec<FollowChoice> = self
            .live
            .sites()
            .map(|s| FollowChoice {
                id: s.site.id.clone(),
                name: s.site.name.clone(),
                followed: self.settings.follows(&s.site.id),
            })
            .collect();
        follow.sort_by(|a, b| a.name.cmp(&b.name));
        View {
            revision: self.revision,
            status: Status {
                connection: self.connection,
                message: self.message.clone(),
            },
            me: me_person,
            sites,
            paused_until: self.paused_until(now),
            settings: SettingsView {
                server: self.server.clone(),
                signed_in_as: self
                    .me
                    .as_ref()
                    .map(|m| format!("{} <{}>", m.name, m.email)),
                token_storage: self.token_storage.clone(),
                storage_warning: self.storage_warning.clone(),
                server_warning: copresence_client::cleartext_warning(&self.server),
                notify_joins: self.settings.notify_joins,
                notify_saves: self.settings.notify_saves,
                quiet_hours_enabled: self.settings.quiet_hours_enabled,
                quiet_start: format_minute(self.settings.quiet_start_minute),
                quiet_end: format_minute(self.settings.quiet_end_minute),
                autostart: self.autostart,
                sites: follow,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{at, card, join, model, site, NOW};
    use copresence_core::Member;

    #[test]
    fn joins_on_followed_sites_are_announced_and_unfollowed_ones_are_not() {
        let mut model = model();
        model.settings.unfollowed.insert("b".into());
        assert_eq!(model.apply(&join("a", 2, "Ann"), at()).len(), 1);
        assert!(model.apply(&join("b", 3, "Bo"), at()).is_empty());
        let view = model.view(NOW);
        assert_eq!(view.sites.len(), 1, "only followed sites are shown");
        assert_eq!(
            view.settings.sites.len(),
            2,
            "but every site can be followed"
        );
    }

    #[test]
    fn a_snapshot_after_a_reconnect_announces_no_one() {
        let mut model = model();
        let mut with_ann = site("a");
        with_ann.members = vec![Member {
            user: card(2, "Ann"),
            sessions: vec![],
        }]
        .into_iter()
        .collect();
        model.apply(
            &Update::Disconnected {
                error: "gone".into(),
                retry_in: std::time::Duration::from_secs(1),
            },
            at(),
        );
        assert_eq!(model.view(NOW).status.connection, Connection::Offline);
        assert!(model
            .apply(&Update::Snapshot(vec![with_ann, site("b")]), at())
            .is_empty());
        assert_eq!(model.view(NOW).status.connection, Connection::Connected);
    }

    #[test]
    fn a_refused_token_signs_out_and_forgets_the_roster() {
        let mut model = model();
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
        model.apply(&Update::Fatal(refused), at());
        let view = model.view(NOW);
        assert_eq!(view.status.connection, Connection::SignedOut);
        assert!(view.sites.is_empty());
        assert!(view.me.is_none());
    }

    #[test]
    fn a_pause_in_the_past_is_no_pause() {
        let mut model = model();
        model.settings.paused_until = Some(NOW - 1);
        assert_eq!(model.view(NOW).paused_until, None);
        model.settings.paused_until = Some(NOW + 1);
        assert_eq!(model.view(NOW).paused_until, Some(NOW + 1));
        assert!(model.apply(&join("a", 2, "Ann"), at()).is_empty());
    }
}
