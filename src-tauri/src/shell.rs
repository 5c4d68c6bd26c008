//! The running app: the [`Model`] behind a lock, and what follows each change of it — the popup
//! re-rendered, the tray redrawn, notifications shown. Commands and the subscription task call
//! in here; nothing else touches the model.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::Timelike;
use copresence_client::{Client, Update};
use copresence_core::links;
use copresence_core::notify::{next_local_midnight, Moment};
use copresence_core::UserCard;
use tauri::{AppHandle, Emitter};
use tauri_plugin_autostart::ManagerExt;
use tauri_plugin_opener::OpenerExt;

use crate::commands::CommandError;
use crate::model::Model;
use crate::notifier::Notifications;
use crate::settings::{self, Settings};
use crate::view::{Connection, TokenStorage};
use crate::{popup, secret, sync, tray};

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn moment() -> Moment {
    let local = chrono::Local::now();
    Moment {
        now: now_ms(),
        local_minute: (local.hour() * 60 + local.minute()) as u16,
    }
}

pub struct Shell {
    app: AppHandle,
    config_dir: PathBuf,
    model: Mutex<Model>,
    subscription: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
    notifications: Notifications,
}

impl Shell {
    pub fn new(app: AppHandle) -> Arc<Shell> {
        let config_dir = settings::config_dir();
        let settings = settings::load(&config_dir);
        let server = std::env::var("COPRESENCE_SERVER")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| settings.server.clone());
        let mut model = Model::new(settings, server);
        model.autostart = app.autolaunch().is_enabled().unwrap_or(false);
        if model.autostart {
            // Written again at every start: the entry (the registry's Run key on Windows, a
            // launch agent on macOS, an autostart file on Linux) names this executable, which
            // may have moved since — an unzipped folder, a newer version beside the old.
            if let Err(error) = app.autolaunch().enable() {
                tracing::warn!(%error, "cannot renew the start at login");
            }
        }
        Arc::new(Shell {
            notifications: Notifications::new(app.clone()),
            app,
            config_dir,
            model: Mutex::new(model),
            subscription: Mutex::new(None),
        })
    }

    fn model(&self) -> MutexGuard<'_, Model> {
        self.model.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Re-render the popup and redraw the tray from the model as it is now.
    pub fn publish(&self) {
        let view = {
            let mut model = self.model();
            model.revision += 1;
            model.view(now_ms())
        };
        tray::update(&self.app, &view);
        if let Err(error) = self.app.emit("view", &view) {
            tracing::warn!(%error, "cannot update the popup");
        }
    }

    pub fn view(&self) -> crate::view::View {
        self.model().view(now_ms())
    }

    /// (Re)start the subscription with the current server and token.
    pub fn connect(self: &Arc<Self>) {
        let (server, loaded) = {
            let model = self.model();
            let server = model.server.clone();
            (server.clone(), secret::load(&self.config_dir, &server))
        };
        {
            let mut model = self.model();
            model.token_storage = loaded.storage.clone();
            model.storage_warning = loaded.warning.clone();
        }
        let mut running = self.subscription.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(task) = running.take() {
            task.abort();
        }
        match (server.is_empty(), loaded.token) {
            (false, Some(token)) => {
                self.model().connection = Connection::Connecting;
                *running = Some(tauri::async_runtime::spawn(sync::run(
                    self.clone(),
                    server,
                    token,
                )));
            }
            _ => self.model().signed_out(Some(
                "Not signed in: enter your server and token in Settings.".into(),
            )),
        }
        drop(running);
        self.publish();
    }

    pub fn on_signed_in(&self, me: UserCard) {
        self.model().signed_in(me);
        self.publish();
    }

    pub fn on_signed_out(&self, message: String) {
        self.model().signed_out(Some(message));
        self.publish();
    }

    pub fn on_offline(&self, message: String) {
        self.model().offline(message);
        self.publish();
    }

    pub fn on_update(&self, update: Update) {
        let notices = self.model().apply(&update, moment());
        self.publish();
        for notice in notices {
            self.notifications.show(notice);
        }
    }

    fn change_settings(&self, change: impl FnOnce(&mut Settings)) -> Result<(), CommandError> {
        let settings = {
            let mut model = self.model();
            change(&mut model.settings);
            model.settings.clone()
        };
        self.publish();
        settings::save(&self.config_dir, &settings)
            .map_err(|e| CommandError::new("settings_not_saved", e.to_string()))
    }

    pub fn set_follow(&self, site: &str, follow: bool) -> Result<(), CommandError> {
        self.change_settings(|s| {
            if follow {
                s.unfollowed.remove(site);
            } else {
                s.unfollowed.insert(site.to_owned());
            }
        })
    }

    pub fn update_preferences(
        &self,
        preferences: crate::commands::Preferences,
    ) -> Result<(), CommandError> {
        let start = settings::parse_minute(&preferences.quiet_start);
        let end = settings::parse_minute(&preferences.quiet_end);
        let (Some(start), Some(end)) = (start, end) else {
            return Err(CommandError::new(
                "invalid_time",
                "quiet hours need times as HH:MM",
            ));
        };
        self.change_settings(|s| {
            s.notify_joins = preferences.notify_joins;
            s.notify_saves = preferences.notify_saves;
            s.quiet_hours_enabled = preferences.quiet_hours_enabled;
            s.quiet_start_minute = start;
            s.quiet_end_minute = end;
        })
    }

    /// Pause notifications for an hour, or until the start of tomorrow.
    pub fn pause(&self, until_tomorrow: bool) -> Result<(), CommandError> {
        let now = now_ms();
        let until = if until_tomorrow {
            let offset = chrono::Local::now().offset().local_minus_utc() / 60;
            next_local_midnight(now, offset)
        } else {
            now + 3_600_000
        };
        self.change_settings(|s| s.paused_until = Some(until))
    }

    pub fn resume(&self) -> Result<(), CommandError> {
        self.change_settings(|s| s.paused_until = None)
    }

    pub fn set_autostart(&self, enabled: bool) -> Result<(), CommandError> {
        let launcher = self.app.autolaunch();
        let result = if enabled {
            launcher.enable()
        } else {
            launcher.disable()
        };
        result.map_err(|e| CommandError::new("autostart_failed", e.to_string()))?;
        self.model().autostart = launcher.is_enabled().unwrap_or(enabled);
        self.publish();
        Ok(())
    }

    /// Check the token against the server, keep it, and reconnect with it.
    pub async fn sign_in(
        self: &Arc<Self>,
        server: String,
        token: String,
    ) -> Result<(), CommandError> {
        let server = server.trim().trim_end_matches('/').to_owned();
        let token = token.trim().to_owned();
        let client = Client::new(&server, &token).map_err(CommandError::from)?;
        client.me().await.map_err(CommandError::from)?;
        let loaded = secret::store(&self.config_dir, &server, &token)
            .map_err(|e| CommandError::new("token_not_saved", e.to_string()))?;
        {
            let mut model = self.model();
            model.server = server.clone();
            model.token_storage = loaded.storage;
            model.storage_warning = loaded.warning;
        }
        self.change_settings(|s| s.server = server)?;
        self.connect();
        Ok(())
    }

    pub fn sign_out(self: &Arc<Self>) {
        let server = self.model().server.clone();
        secret::clear(&self.config_dir, &server);
        if let Some(task) = self
            .subscription
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            task.abort();
        }
        {
            let mut model = self.model();
            model.signed_out(Some("Signed out.".into()));
            model.token_storage = if std::env::var_os("COPRESENCE_TOKEN").is_some() {
                TokenStorage::Environment
            } else {
                TokenStorage::None
            };
            model.storage_warning = None;
        }
        self.publish();
    }

    /// Open an e-mail or a Teams chat with someone on a site, from what this app knows of them:
    /// the webview names the person, never the address or the link.
    pub fn open_contact(
        &self,
        site: &str,
        user: i64,
        kind: ContactKind,
    ) -> Result<(), CommandError> {
        let link = {
            let model = self.model();
            let member = model
                .live
                .site(site)
                .and_then(|s| s.members.member(user))
                .ok_or_else(|| {
                    CommandError::new("unknown_user", "this person is no longer on the site")
                })?;
            match kind {
                ContactKind::Email => links::mailto(&member.user.email, None, None),
                ContactKind::Teams => links::teams_chat(member.user.teams.as_deref(), None),
            }
            .map_err(CommandError::from)?
        };
        open_link(&self.app, &link)
    }

    pub fn show_popup(&self, tab: popup::Tab, site: Option<String>) {
        popup::show(&self.app, tab, site);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    Email,
    Teams,
}

/// Hand a contact link to the operating system — only the two kinds this app builds.
fn open_link(app: &AppHandle, link: &str) -> Result<(), CommandError> {
    let allowed = link.starts_with("mailto:") || link.starts_with(links::TEAMS_CHAT_PREFIX);
    if !allowed {
        return Err(CommandError::new(
            "open_failed",
            "refusing to open this kind of link",
        ));
    }
    app.opener()
        .open_url(link, None::<&str>)
        .map_err(|e| CommandError::new("open_failed", format!("could not open the link: {e}")))
}
