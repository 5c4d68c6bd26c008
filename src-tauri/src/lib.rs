//! `copresence-tray`: Copresence in the desktop tray.
//!
//! A thin shell over the client library: it owns the token, the network and all state; the
//! popup's webview (`ui/`) only renders what it is sent and calls [`commands`].
//!
//! - [`sync`]: the subscription task (sign in, then follow the event stream).
//! - [`model`]: what the app knows and how each update changes it — pure, tested without a
//!   desktop; [`view`] turns it into what the popup shows, with the core's presence rules.
//! - [`shell`]: the model behind a lock, and the effects of each change: popup, tray,
//!   notifications.
//! - [`tray`] (icon states, and the menu with typed actions, tested without a desktop),
//!   [`popup`] (the window), [`notifier`] (native notifications), [`commands`] (what the popup
//!   may call).
//! - [`settings`] (kept as JSON) and [`secret`] (the token: keychain, or a private file).
//! - [`desktop`]: the app's identity to the desktop (the Windows AppUserModelID, the macOS
//!   bundle identifier), so notifications are shown as its own.

pub mod commands;
pub mod desktop;
#[cfg(test)]
mod fixtures;
pub mod model;
pub mod notifier;
pub mod popup;
pub mod secret;
pub mod settings;
pub mod shell;
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
            popup::show(app, popup::Tab::Sites, None);
        }))
        .plugin(tauri_plugin_autostart::init(
            MacosLauncher::LaunchAgent,
            None,
        ))
        .plugin(tauri_plugin_opener::init())
        .invoke_handler(tauri::generate_handler![
            commands::view,
            commands::open_contact,
            commands::set_follow,
            commands::update_preferences,
            commands::set_autostart,
            commands::sign_in,
            commands::sign_out,
            commands::pause,
            commands::resume,
            commands::hide_popup,
        ])
        .on_window_event(popup::on_window_event)
        .setup(|app| {
            #[cfg(target_os = "macos")]
            app.set_activation_policy(tauri::ActivationPolicy::Accessory);
            let shell = shell::Shell::new(app.handle().clone());
            app.manage(shell.clone());
            tray::create(app.handle())?;
            shell.connect();
            if std::env::var_os("COPRESENCE_OPEN_POPUP").is_some() {
                popup::show(app.handle(), popup::Tab::Sites, None);
            }
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
