//! What each desktop needs of the app before its first notification: to know who it is.
//!
//! - **Windows** shows a toast only for an AppUserModelID it knows. An installer registers one
//!   with its Start-menu shortcut (`System.AppUserModel.ID` = [`APP_ID`]); the zip that
//!   `make windows` builds has no installer, so the app registers [`APP_ID`] for the current user
//!   itself — `HKCU\Software\Classes\AppUserModelId\com.copresence.tray` with a display name and
//!   an icon, which needs no rights beyond the user's — and claims it for its process before
//!   any window exists, so its toasts and notification settings are all "Copresence".
//! - **macOS** attributes notifications to a bundle identifier: run from its bundle, the app
//!   names its own (from `tauri.conf.json`).
//! - **Freedesktop** needs nothing: each notification carries the app's name.
//!
//! None of this may stop the app: a failure is logged, and notifications fall back to what the
//! platform does without it.

use std::path::Path;

/// The app's identity everywhere: Tauri's `identifier`, the Windows AppUserModelID, the macOS
/// bundle identifier.
pub const APP_ID: &str = "com.copresence.tray";

/// The name notifications are shown under.
pub const DISPLAY_NAME: &str = "Copresence";

/// Make the app known to the desktop; `config_dir` is where it may keep files (the icon the
/// Windows notification settings show).
pub fn prepare(config_dir: &Path) {
    if let Err(error) = register(config_dir) {
        tracing::warn!(%error, "cannot register the app for notifications");
    }
}

#[cfg(windows)]
fn register(config_dir: &Path) -> Result<(), String> {
    use windows_sys::Win32::UI::Shell::SetCurrentProcessExplicitAppUserModelID;

    const ICON: &[u8] = include_bytes!("../../icons/icon.ico");
    std::fs::create_dir_all(config_dir).map_err(|e| e.to_string())?;
    let icon = config_dir.join("copresence.ico");
    if std::fs::read(&icon).ok().as_deref() != Some(ICON) {
        std::fs::write(&icon, ICON).map_err(|e| e.to_string())?;
    }
    let key = windows_registry::CURRENT_USER
        .create(format!(r"Software\Classes\AppUserModelId\{APP_ID}"))
        .map_err(|e| e.to_string())?;
    key.set_string("DisplayName", DISPLAY_NAME)
        .map_err(|e| e.to_string())?;
    key.set_string("IconUri", icon.to_string_lossy().as_ref())
        .map_err(|e| e.to_string())?;
    let id: Vec<u16> = APP_ID.encode_utf16().chain(Some(0)).collect();
    // SAFETY: `id` is a NUL-terminated UTF-16 string that outlives the call, which copies it.
    let result = unsafe { SetCurrentProcessExplicitAppUserModelID(id.as_ptr()) };
    if result < 0 {
        return Err(format!(
            "SetCurrentProcessExplicitAppUserModelID failed: {result:#x}"
        ));
    }
    Ok(())
}

/// Only from inside the app's bundle: outside one (a development build) the identifier is not
/// registered, and naming it would leave notifications attributed to the terminal instead.
#[cfg(target_os = "macos")]
fn register(_config_dir: &Path) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let in_bundle = exe.to_string_lossy().contains(".app/Contents/MacOS/");
    if !in_bundle {
        return Ok(());
    }
    notify_rust::set_application(APP_ID).map_err(|e| e.to_string())
}

#[cfg(not(any(windows, target_os = "macos")))]
fn register(_config_dir: &Path) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_identity_is_the_one_tauri_bundles() {
        let config: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        assert_eq!(config["identifier"], APP_ID);
        assert_eq!(config["productName"], DISPLAY_NAME);
    }
}
