//! Performing what the model asks for: the one place the app touches the world — the settings
//! file, the keychain, the subscription task, the notifier, the system's opener, the start at
//! login, the global shortcut, the popup window, profile photos. Each [`Effect`] either is done here and now, or starts work whose
//! result comes back later as an [`Input`] through the [`Inbox`] (a sign-in check waits on the
//! network, a token on the keychain, a photo on its server; the owning task waits on none).

use std::collections::HashMap;
use std::path::PathBuf;

use copresence_client::signin::{self, KeptSignIn, SignIn};
use copresence_client::Client;
use tauri::AppHandle;
use tauri_plugin_autostart::ManagerExt;
use tauri_plugin_global_shortcut::{GlobalShortcutExt, Shortcut};
use tauri_plugin_opener::OpenerExt;

use crate::error::{ErrorCode, TrayError};
use crate::inbox::Inbox;
use crate::model::{Effect, Input};
use crate::notifier::Notifications;
use crate::opener;
use crate::photo::PhotoFetcher;
use crate::secret::{Credential, Loaded};
use crate::{popup, secret, settings, sync};

pub struct Effects {
    app: AppHandle,
    inbox: Inbox,
    config_dir: PathBuf,
    notifications: Notifications,
    photos: PhotoFetcher,
    /// Each account's subscription task, by server.
    subscriptions: HashMap<String, tauri::async_runtime::JoinHandle<()>>,
}

impl Effects {
    pub fn new(app: AppHandle, inbox: Inbox, config_dir: PathBuf) -> Effects {
        Effects {
            notifications: Notifications::new(inbox.clone(), app.clone()),
            photos: PhotoFetcher::new(),
            app,
            inbox,
            config_dir,
            subscriptions: HashMap::new(),
        }
    }

    /// Do `effect`. What it learns comes back as an input to apply next; a failure is for the
    /// command that asked for it. [`Effect::Reply`] is not an effect on the world: the owning
    /// task answers it.
    pub async fn perform(&mut self, effect: Effect) -> Result<Option<Input>, TrayError> {
        match effect {
            Effect::LoadToken { server } => {
                // The keychain may take its time (a locked keyring asks for its password): the
                // owning task goes on, and the token arrives as an input.
                let (inbox, dir) = (self.inbox.clone(), self.config_dir.clone());
                tauri::async_runtime::spawn_blocking(move || {
                    let loaded = secret::load(&dir, &server);
                    inbox.send(Input::TokenLoaded { server, loaded });
                });
            }
            Effect::Subscribe {
                subscription,
                server,
                credential,
            } => {
                self.unsubscribe(&server);
                let task = tauri::async_runtime::spawn(sync::run(
                    self.inbox.clone(),
                    subscription,
                    self.config_dir.clone(),
                    server.clone(),
                    credential,
                ));
                self.subscriptions.insert(server, task);
            }
            Effect::SignInWithAccount { reply, server } => {
                let (inbox, dir, app) = (
                    self.inbox.clone(),
                    self.config_dir.clone(),
                    self.app.clone(),
                );
                tauri::async_runtime::spawn(async move {
                    let outcome = sign_in_with_account(app, dir, &server).await;
                    inbox.send(Input::SignInChecked {
                        reply,
                        server,
                        outcome,
                    });
                });
            }
            Effect::Unsubscribe { server } => self.unsubscribe(&server),
            Effect::CheckSignIn {
                reply,
                server,
                token,
            } => {
                let (inbox, dir) = (self.inbox.clone(), self.config_dir.clone());
                tauri::async_runtime::spawn(async move {
                    let outcome = check_and_keep(dir, &server, token).await;
                    inbox.send(Input::SignInChecked {
                        reply,
                        server,
                        outcome,
                    });
                });
            }
            Effect::ClearToken { server } => {
                let dir = self.config_dir.clone();
                tauri::async_runtime::spawn(async move {
                    let kept = {
                        let (dir, server) = (dir.clone(), server.clone());
                        tokio::task::spawn_blocking(move || {
                            let kept = secret::load(&dir, &server);
                            secret::clear(&dir, &server);
                            kept
                        })
                        .await
                    };
                    // A sign-in's refresh token is revoked where the provider offers it: signed
                    // out means signed out there too.
                    if let Ok(Loaded {
                        credential: Some(Credential::SignIn(sign_in)),
                        ..
                    }) = kept
                    {
                        revoke(*sign_in).await;
                    }
                });
            }
            Effect::SaveSettings(settings) => settings::save(&self.config_dir, &settings)
                .map_err(|e| TrayError::new(ErrorCode::SettingsNotSaved, e.to_string()))?,
            Effect::SetAutostart(enabled) => {
                let launcher = self.app.autolaunch();
                let changed = if enabled {
                    launcher.enable()
                } else {
                    launcher.disable()
                };
                let now = launcher.is_enabled().unwrap_or(enabled && changed.is_ok());
                changed.map_err(|e| TrayError::new(ErrorCode::AutostartFailed, e.to_string()))?;
                return Ok(Some(Input::AutostartIs(now)));
            }
            Effect::Notify(announcement) => self.notifications.show(announcement),
            Effect::FetchPhoto { address } => {
                let (inbox, photos) = (self.inbox.clone(), self.photos.clone());
                tauri::async_runtime::spawn(async move {
                    let photo = photos.fetch(&address).await;
                    inbox.send(Input::PhotoFetched { address, photo });
                });
            }
            Effect::Open(link) => opener::open(&self.app, &link)?,
            Effect::ShowPopup { tab, site } => popup::show(&self.app, tab, site),
            Effect::HidePopup => popup::hide(&self.app),
            Effect::TogglePopup => popup::toggle(&self.app),
            Effect::BindShortcut { reply, from, to } => {
                let outcome = bind_shortcut(&self.app, from.as_deref(), to.as_deref());
                return Ok(Some(Input::ShortcutBound {
                    reply,
                    shortcut: to,
                    outcome,
                }));
            }
            Effect::Quit => self.app.exit(0),
            Effect::Reply(..) => {}
        }
        Ok(None)
    }

    fn unsubscribe(&mut self, server: &str) {
        if let Some(task) = self.subscriptions.remove(server) {
            task.abort();
        }
    }
}

/// Whether the start at login is on; renewed when it is: the entry (the registry's Run key on
/// Windows, a launch agent on macOS, an autostart file on Linux) names this executable, which
/// may have moved since — an unzipped folder, a newer version beside the old.
pub fn renew_autostart(app: &AppHandle) -> bool {
    let launcher = app.autolaunch();
    let enabled = launcher.is_enabled().unwrap_or(false);
    if enabled {
        if let Err(error) = launcher.enable() {
            tracing::warn!(%error, "cannot renew the start at login");
        }
    }
    enabled
}

/// Make `to` the global shortcut instead of `from`. `to` is taken first, so a shortcut that
/// cannot be had (another app holds it, or it names no keys) leaves `from` working.
fn bind_shortcut(app: &AppHandle, from: Option<&str>, to: Option<&str>) -> Result<(), TrayError> {
    let shortcuts = app.global_shortcut();
    let from = from.and_then(|text| text.parse::<Shortcut>().ok());
    if let Some(text) = to {
        let to = text.parse::<Shortcut>().map_err(|error| {
            TrayError::new(
                ErrorCode::ShortcutUnavailable,
                format!("“{text}” is not a shortcut ({error}); write it like Alt+Shift+C"),
            )
        })?;
        if from == Some(to) {
            return Ok(());
        }
        shortcuts.register(to).map_err(|error| {
            TrayError::new(
                ErrorCode::ShortcutUnavailable,
                format!("{text} cannot be used: {error}"),
            )
        })?;
    }
    if let Some(from) = from {
        if let Err(error) = shortcuts.unregister(from) {
            tracing::warn!(%error, "cannot release the previous shortcut");
        }
    }
    Ok(())
}

/// Sign in to `server` with the organisation's account: the provider's page in the system
/// browser, the answer on a loopback port; kept only once the server knows who it is.
async fn sign_in_with_account(app: AppHandle, dir: PathBuf, server: &str) -> Result<(), TrayError> {
    let info = signin::auth_info(server).await?;
    let signin = SignIn::new(&info)?;
    // Only ever an https page (or one on this machine): `start_browser` checked it.
    let login = signin.start_browser().await?;
    app.opener()
        .open_url(login.url().as_str(), None::<&str>)
        .map_err(|e| {
            TrayError::new(
                ErrorCode::OpenFailed,
                format!("cannot open the browser: {e}"),
            )
        })?;
    let tokens = login.finish().await?;
    Client::new(server, &tokens.bearer)?.me().await?;
    let credential = Credential::SignIn(Box::new(KeptSignIn {
        server: server.to_owned(),
        provider: signin.provider().clone(),
        tokens,
    }));
    keep(dir, server, credential).await
}

/// Keep `credential` for `server` (the keychain may block).
async fn keep(dir: PathBuf, server: &str, credential: Credential) -> Result<(), TrayError> {
    let server = server.to_owned();
    tokio::task::spawn_blocking(move || secret::store(&dir, &server, &credential))
        .await
        .map_err(|e| TrayError::new(ErrorCode::TokenNotSaved, e.to_string()))?
        .map(|_| ())
        .map_err(|e| TrayError::new(ErrorCode::TokenNotSaved, e.to_string()))
}

/// Have the provider forget a sign-in (RFC 7009), where it can.
async fn revoke(sign_in: KeptSignIn) {
    let Some(refresh_token) = sign_in.tokens.refresh_token.clone() else {
        return;
    };
    match SignIn::with_provider(sign_in.provider) {
        Ok(signin) => {
            if let Err(error) = signin.revoke(&refresh_token).await {
                tracing::info!(%error, "the provider could not be told of the sign-out");
            }
        }
        Err(error) => tracing::info!(%error, "the provider could not be told of the sign-out"),
    }
}

/// Ask the server who `token` is; keep it only if the server knows it.
async fn check_and_keep(dir: PathBuf, server: &str, token: String) -> Result<(), TrayError> {
    Client::new(server, &token)?.me().await?;
    keep(dir, server, Credential::Token(token)).await
}
