//! The popup window: shown from the tray menu (Linux), toggled by a left click next to the tray
//! icon (macOS, Windows), hidden — never destroyed — when closed or, on macOS and Windows, when
//! it loses focus, like other tray popups.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, WebviewWindow, Window, WindowEvent};
use tauri_plugin_positioner::{Position, WindowExt};

use crate::view::Tab;

pub const LABEL: &str = "popup";

#[derive(Debug, Clone, Serialize)]
struct ShowEvent {
    tab: Tab,
    site: Option<String>,
}

fn window(app: &AppHandle) -> Option<WebviewWindow> {
    app.get_webview_window(LABEL)
}

/// Show the popup on `tab`, scrolled to `site` when given.
pub fn show(app: &AppHandle, tab: Tab, site: Option<String>) {
    let Some(window) = window(app) else { return };
    let _ = window.show();
    let _ = window.unminimize();
    let _ = window.set_focus();
    let _ = window.emit("show", ShowEvent { tab, site });
}

pub fn hide(app: &AppHandle) {
    if let Some(window) = window(app) {
        let _ = window.hide();
    }
}

/// When the popup last hid because it lost focus. A click on the tray icon takes the focus
/// from the popup before the click arrives: without this, the click meant to close an open
/// popup would hide it on the focus change and then show it again.
static HIDDEN_ON_BLUR: Mutex<Option<Instant>> = Mutex::new(None);

/// How soon after a hide on focus loss a click on the icon is that same click.
const SAME_CLICK: Duration = Duration::from_millis(400);

/// Left click on the tray icon (macOS, Windows), or the global shortcut: hide the popup if it
/// is shown, else show it next to the tray icon.
pub fn toggle(app: &AppHandle) {
    let Some(window) = window(app) else { return };
    let just_hidden = HIDDEN_ON_BLUR
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .is_some_and(|at| at.elapsed() < SAME_CLICK);
    if window.is_visible().unwrap_or(false) || just_hidden {
        let _ = window.hide();
        return;
    }
    place_near_tray(&window);
    show(app, Tab::Sites, None);
}

/// Next to the tray icon, inside the screen that holds it: above a taskbar at the bottom
/// (Windows), below a menu bar at the top (macOS). Where the platform reports no tray clicks
/// (Linux) the icon's place is unknown, and the popup stays where the window manager puts it.
fn place_near_tray(window: &WebviewWindow) {
    if let Err(error) = window
        .as_ref()
        .window()
        .move_window_constrained(Position::TrayCenter)
    {
        tracing::debug!(%error, "the popup is not placed by the tray icon");
    }
}

/// Closing the popup hides it; on macOS and Windows losing focus does too.
pub fn on_window_event(window: &Window, event: &WindowEvent) {
    if window.label() != LABEL {
        return;
    }
    match event {
        WindowEvent::CloseRequested { api, .. } => {
            api.prevent_close();
            let _ = window.hide();
        }
        #[cfg(any(target_os = "macos", target_os = "windows"))]
        WindowEvent::Focused(false) => {
            if window.is_visible().unwrap_or(false) {
                *HIDDEN_ON_BLUR.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
            }
            let _ = window.hide();
        }
        _ => {}
    }
}
