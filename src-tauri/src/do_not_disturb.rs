//! The desktop's own "do not disturb", which silences the app's notifications as its Pause does.
//!
//! Windows' Focus and macOS' Focus hold notifications back themselves. A freedesktop
//! notification server may not, or may queue them and show them all when it is turned off —
//! a burst of stale joins. So on freedesktop desktops the app asks, and stays quiet itself
//! while any of these says so:
//!
//! - the notification server's `Inhibited` property (the specification's, where the server has
//!   it — KDE Plasma's does);
//! - dunst's own `paused` (`dunstctl set-paused true`), which has no `Inhibited`;
//! - on GNOME, "show banners" turned off (`org.gnome.desktop.notifications show-banners`),
//!   which GNOME keeps in its settings, not on the notification server.
//!
//! The server's properties are read every 2 s: neither server reliably signals a change, and
//! one property read over the session bus is nothing. GNOME's setting is followed with
//! `gsettings monitor`, which reports each change as it happens, and is passed on at once.

#[cfg(all(unix, not(target_os = "macos")))]
pub use freedesktop::watch;

/// Elsewhere the operating system holds notifications back itself.
#[cfg(not(all(unix, not(target_os = "macos"))))]
pub async fn watch(_inbox: crate::inbox::Inbox) {}

/// Whether `gsettings get`/`monitor` output for `show-banners` says banners are off.
pub fn banners_off(line: &str) -> Option<bool> {
    let value = line.rsplit(':').next().unwrap_or(line).trim();
    match value {
        "false" => Some(true),
        "true" => Some(false),
        _ => None,
    }
}

#[cfg(all(unix, not(target_os = "macos")))]
mod freedesktop {
    use std::process::Stdio;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::io::{AsyncBufReadExt, BufReader};
    use tokio::process::Command;
    use tokio::sync::Notify;
    use zbus::OwnedVariant;

    use super::banners_off;
    use crate::inbox::Inbox;
    use crate::model::Input;

    /// How often the notification server is asked.
    const POLL: Duration = Duration::from_secs(2);
    /// How long one question to it may take: a server that hangs is taken to say "no".
    const ASK_TIMEOUT: Duration = Duration::from_secs(1);

    const SERVER: &str = "org.freedesktop.Notifications";
    const PATH: &str = "/org/freedesktop/Notifications";
    const GNOME_SCHEMA: &str = "org.gnome.desktop.notifications";
    const GNOME_KEY: &str = "show-banners";

    /// Report the desktop's "do not disturb" to the model whenever it changes, for as long as
    /// the app runs.
    pub async fn watch(inbox: Inbox) {
        let banners_off = Arc::new(AtomicBool::new(false));
        let changed = Arc::new(Notify::new());
        if on_gnome() {
            tokio::spawn(follow_gnome(banners_off.clone(), changed.clone()));
        }
        let mut reported = false;
        let mut bus = None;
        loop {
            if bus.is_none() {
                bus = zbus::Connection::session().await.ok();
            }
            let server_quiet = match &bus {
                Some(bus) => {
                    property(bus, SERVER, "Inhibited").await
                        || property(bus, "org.dunstproject.cmd0", "paused").await
                }
                None => false,
            };
            let quiet = server_quiet || banners_off.load(Ordering::Relaxed);
            if quiet != reported {
                reported = quiet;
                inbox.send(Input::DoNotDisturb(quiet));
            }
            // The next poll, or GNOME's setting changing, whichever comes first.
            let _ = tokio::time::timeout(POLL, changed.notified()).await;
        }
    }

    /// A boolean property of the notification server; false when it has no such property (or
    /// no server runs).
    async fn property(bus: &zbus::Connection, interface: &str, name: &str) -> bool {
        let which = (interface, name);
        let ask = bus.call_method(
            Some(SERVER),
            PATH,
            Some("org.freedesktop.DBus.Properties"),
            "Get",
            &which,
        );
        let Ok(Ok(reply)) = tokio::time::timeout(ASK_TIMEOUT, ask).await else {
            return false;
        };
        reply
            .body()
            .deserialize::<OwnedVariant>()
            .ok()
            .and_then(|value| bool::try_from(value).ok())
            .unwrap_or(false)
    }

    fn on_gnome() -> bool {
        std::env::var("XDG_CURRENT_DESKTOP")
            .is_ok_and(|desktops| desktops.split(':').any(|d| d.eq_ignore_ascii_case("GNOME")))
    }

    /// Keep `off` equal to GNOME's "show banners" turned off: read it, then follow each change.
    async fn follow_gnome(off: Arc<AtomicBool>, changed: Arc<Notify>) {
        let read = Command::new("gsettings")
            .args(["get", GNOME_SCHEMA, GNOME_KEY])
            .stderr(Stdio::null())
            .output()
            .await;
        if let Ok(output) = read {
            if let Some(value) = banners_off(&String::from_utf8_lossy(&output.stdout)) {
                off.store(value, Ordering::Relaxed);
            }
        }
        let monitor = Command::new("gsettings")
            .args(["monitor", GNOME_SCHEMA, GNOME_KEY])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn();
        let Ok(mut monitor) = monitor else {
            tracing::info!("gsettings is not available: GNOME's banners setting is not followed");
            return;
        };
        let Some(stdout) = monitor.stdout.take() else {
            return;
        };
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(value) = banners_off(&line) {
                off.store(value, Ordering::Relaxed);
                changed.notify_one();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsettings_output_is_read_as_banners_on_or_off() {
        assert_eq!(banners_off("false\n"), Some(true));
        assert_eq!(banners_off("true"), Some(false));
        assert_eq!(banners_off("show-banners: false"), Some(true));
        assert_eq!(banners_off("show-banners: true\n"), Some(false));
        assert_eq!(banners_off("No such schema"), None);
    }
}
