//! The popup window: shown from the tray menu (Linux), toggled by a left click next to the tray
//! icon (macOS, Windows), hidden — never destroyed — when closed or, on macOS and Windows, when
//! it loses focus, like other tray popups.

use serde::Serialize;
use tauri::{
    AppHandle, Emitter, Manager, PhysicalPosition, Rect, WebviewWindow, Window, WindowEvent,
};

pub const LABEL: &str = "popup";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tab {
    Sites,
    Settings,
}

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

/// Left click on the tray icon (macOS, Windows): toggle the popup, placed next to the icon.
pub fn toggle_at(app: &AppHandle, icon: Rect) {
    let Some(window) = window(app) else { return };
    if window.is_visible().unwrap_or(false) {
        let _ = window.hide();
        return;
    }
    if let Some(position) = position_near(&window, icon) {
        let _ = window.set_position(position);
    }
    show(app, Tab::Sites, None);
}

/// Below the icon when it sits at the top of the screen (macOS menu bar), above it otherwise
/// (Windows taskbar), kept inside the monitor.
fn position_near(window: &WebviewWindow, icon: Rect) -> Option<PhysicalPosition<i32>> {
    let monitor = window.current_monitor().ok().flatten()?;
    let scale = monitor.scale_factor();
    let size = window.outer_size().ok()?;
    let icon_position = icon.position.to_physical::<i32>(scale);
    let icon_size = icon.size.to_physical::<i32>(scale);
    let area = monitor.work_area();
    let (width, height) = (size.width as i32, size.height as i32);
    let mut x = icon_position.x + icon_size.width / 2 - width / 2;
    let top_half = icon_position.y < area.position.y + area.size.height as i32 / 2;
    let mut y = if top_half {
        icon_position.y + icon_size.height
    } else {
        icon_position.y - height
    };
    x = x.clamp(
        area.position.x,
        area.position.x + area.size.width as i32 - width,
    );
    y = y.clamp(
        area.position.y,
        area.position.y + area.size.height as i32 - height,
    );
    Some(PhysicalPosition::new(x, y))
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
            let _ = window.hide();
        }
        _ => {}
    }
}
