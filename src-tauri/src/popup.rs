//! The popup window: shown from the tray menu (Linux), toggled by a left click next to the tray
//! icon (macOS, Windows), hidden — never destroyed — when closed or, on macOS and Windows, when
//! it loses focus, like other tray popups.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use tauri::{
    AppHandle, Emitter, Manager, PhysicalPosition, Rect, WebviewWindow, Window, WindowEvent,
};

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

/// Left click on the tray icon (macOS, Windows): toggle the popup, placed next to the icon.
pub fn toggle_at(app: &AppHandle, icon: Rect) {
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
    if let Some(position) = position_near(app, &window, icon) {
        let _ = window.set_position(position);
    }
    show(app, Tab::Sites, None);
}

/// Below the icon when it sits at the top of the screen (macOS menu bar), above it otherwise
/// (Windows taskbar), kept inside the work area of the monitor that holds the icon — which
/// need not be the one the popup was last on, nor have its scale (per-monitor DPI).
fn position_near(
    app: &AppHandle,
    window: &WebviewWindow,
    icon: Rect,
) -> Option<PhysicalPosition<i32>> {
    // Both platforms that report clicks give the icon's rectangle in physical pixels; a
    // logical one would be read at the popup's current scale.
    let current_scale = window.scale_factor().unwrap_or(1.0);
    let icon_position = icon.position.to_physical::<i32>(current_scale);
    let icon_size = icon.size.to_physical::<i32>(current_scale);
    // Monitors' bounds are physical pixels at each one's own scale, as the icon's rectangle is
    // (a point lookup would take points on macOS).
    let holds_icon = |monitor: &tauri::Monitor| {
        let (origin, size) = (monitor.position(), monitor.size());
        (origin.x..origin.x + size.width as i32).contains(&icon_position.x)
            && (origin.y..origin.y + size.height as i32).contains(&icon_position.y)
    };
    let monitor = app
        .available_monitors()
        .ok()
        .and_then(|monitors| monitors.into_iter().find(holds_icon))
        .or_else(|| window.current_monitor().ok().flatten())?;
    // The popup keeps its logical size when it moves: its physical size is that monitor's.
    let size = window
        .outer_size()
        .ok()?
        .to_logical::<f64>(current_scale)
        .to_physical::<i32>(monitor.scale_factor());
    let area = monitor.work_area();
    let (width, height) = (size.width, size.height);
    let mut x = icon_position.x + icon_size.width / 2 - width / 2;
    let top_half = icon_position.y < area.position.y + area.size.height as i32 / 2;
    let mut y = if top_half {
        icon_position.y + icon_size.height
    } else {
        icon_position.y - height
    };
    x = x.clamp(
        area.position.x,
        (area.position.x + area.size.width as i32 - width).max(area.position.x),
    );
    y = y.clamp(
        area.position.y,
        (area.position.y + area.size.height as i32 - height).max(area.position.y),
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
            if window.is_visible().unwrap_or(false) {
                *HIDDEN_ON_BLUR.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
            }
            let _ = window.hide();
        }
        _ => {}
    }
}
