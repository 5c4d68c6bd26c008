//! `copresence-tray`: Copresence in the desktop tray.
//!
//! A thin shell over the client library: it owns the token, the network and all state; the
//! popup's webview (`ui/`) only renders what it is sent and calls [`commands`].
//!
//! Data flows one way. Every source of change — the subscription task ([`sync`]), the popup's
//! [`commands`], the [`tray`] icon and menu, a notification's click, the global shortcut, the
//! desktop's [`do_not_disturb`], a second launch — sends an input through the [`inbox`]; one
//! task ([`runtime`]) applies it to the [`model`], has the [`effects`] performed, and publishes
//! the [`view`] (and, apart, the photos) on a `watch` the tray and the popup render from. No
//! module imports one above it:
//!
//! - [`model`]: what the app knows, `apply(input) -> effects` — pure, tested without a desktop —
//!   across the [`account`]s it is signed in to (one per service);
//!   [`view`]: what the popup and the tray show, with the core's presence rules;
//!   [`error`]: the one error type, with codes the popup matches.
//! - [`runtime`] (the owning task), [`inbox`] (the way in), [`effects`] (the only code that
//!   touches the world: [`settings`] kept as JSON, [`secret`] in the keychain or a private
//!   file, [`notifier`] for native notifications, [`photo`] fetching profile photos, the
//!   opener, the start at login, [`popup`]).
//! - [`do_not_disturb`]: the desktop's own "do not disturb", followed and sent as an input.
//! - [`tray`]: icon states and the menu with typed actions, tested without a desktop;
//!   [`popup`]: the window; [`desktop`]: the app's identity to the desktop (the Windows
//!   AppUserModelID, the macOS bundle identifier), so notifications are shown as its own.

pub mod account;
pub mod commands;
pub mod desktop;
pub mod do_not_disturb;
pub mod effects;
pub mod error;
#[cfg(test)]
mod fixtures;
pub mod inbox;
pub mod model;
pub mod notifier;
pub mod opener;
pub mod photo;
pub mod popup;
pub mod runtime;
pub mod secret;
pub mod settings;
pub mod sync;
pub mod tray;
pub mod view;

use tauri::{Manager, RunEvent};
use tauri_plugin_autostart::MacosLauncher;

/// Start the app; returns when the user quits.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "copresence_tray=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    // Before any window: Windows ties a process's windows and toasts to the AppUserModelID
    // it has when they are made.
    desktop::prepare(&settings::config_dir());
    let app = tauri::Builder::default()
        // First, so a second launch only shows the running app's popup.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(inbox) = app.try_state::<inbox::Inbox>() {
                inbox.tell(model::Command::ShowPopup {
                    tab: view::Tab::Sites,
                    site: None,
                });
            }
        }))
        .plugin(tauri_plugin_autostart::init(
            MacosLauncher::LaunchAgent,
            None,
        ))
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_positioner::init())
        .plugin(
            tauri_plugin_global_shortcut::Builder::new()
                .with_handler(|app, _shortcut, event| {
                    // The app binds one shortcut only: the one that toggles the popup.
                    if event.state() == tauri_plugin_global_shortcut::ShortcutState::Pressed {
                        if let Some(inbox) = app.try_state::<inbox::Inbox>() {
                            inbox.tell(model::Command::TogglePopup);
                        }
                    }
                })
                .build(),
        )
        .invoke_handler(tauri::generate_handler![
            commands::view,
            commands::photos,
            commands::open_contact,
            commands::open_session,
            commands::set_follow,
            commands::update_preferences,
            commands::set_autostart,
            commands::set_toolbar_avatars,
            commands::set_shortcut,
            commands::sign_in,
            commands::sign_in_with_account,
            commands::sign_out,
            commands::pause,
            commands::resume,
            commands::hide_popup,
        ])
        .on_window_event(popup::on_window_event)
        .setup(|app| {
            #[cfg(target_os = "macos")]
            app.set_activation_policy(tauri::ActivationPolicy::Accessory);
            let config_dir = settings::config_dir();
            let settings = settings::load(&config_dir);
            let server = std::env::var("COPRESENCE_SERVER")
                .ok()
                .map(|s| s.trim().trim_end_matches('/').to_owned())
                .filter(|s| !s.is_empty());
            let model = model::Model::new(
                settings,
                server,
                effects::renew_autostart(app.handle()),
                std::env::var_os("COPRESENCE_TOKEN").is_some(),
            );
            let (inbox, messages) = inbox::Inbox::new();
            app.manage(inbox.clone());
            tray::create(app.handle())?;
            let open_popup = std::env::var_os("COPRESENCE_OPEN_POPUP").is_some();
            if open_popup {
                inbox.tell(model::Command::ShowPopup {
                    tab: view::Tab::Sites,
                    site: None,
                });
            }
            let (views, photos) = runtime::start(app.handle(), model, inbox, messages, config_dir);
            app.manage(views);
            app.manage(photos);
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(error) => {
            eprintln!("copresence-tray cannot start: {error}");
            std::process::exit(1);
        }
    };
    app.run(|_app, event| {
        // A tray app lives on with no window open; only Quit (an explicit exit code) ends it.
        if let RunEvent::ExitRequested { api, code, .. } = event {
            if code.is_none() {
                api.prevent_exit();
            }
        }
    });
}
