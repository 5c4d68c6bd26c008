//! The user's settings, kept as JSON in the configuration directory so they survive a restart.
//!
//! A site is followed unless it was unfollowed: a new install — or a site added later — is
//! followed until the user says otherwise. The token is not here: see [`crate::secret`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use copresence_core::notify::{Preferences, QuietHours};
use copresence_core::toolbar::{TOOLBAR_AVATARS, TOOLBAR_AVATAR_CHOICES};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The one server of versions that had one account; read into [`Settings::accounts`].
    #[serde(skip_serializing_if = "String::is_empty")]
    pub server: String,
    /// The servers signed in to, in the order they were added: one account each.
    pub accounts: Vec<String>,
    /// Sites not followed, as `"<server> <site>"` (or a bare site id, from one-account versions:
    /// unfollowed on every server).
    pub unfollowed: BTreeSet<String>,
    pub notify_joins: bool,
    pub notify_saves: bool,
    pub quiet_hours_enabled: bool,
    /// Minutes after local midnight.
    pub quiet_start_minute: u16,
    pub quiet_end_minute: u16,
    pub paused_until: Option<i64>,
    /// Avatars in a site's toolbar before "+N" (one of [`TOOLBAR_AVATAR_CHOICES`]).
    pub toolbar_avatars: usize,
    /// The global shortcut that shows or hides the popup (`Alt+Shift+C`); none by default: a
    /// key combination taken from every other app must be asked for.
    pub shortcut: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server: String::new(),
            accounts: Vec::new(),
            unfollowed: BTreeSet::new(),
            notify_joins: true,
            notify_saves: true,
            quiet_hours_enabled: false,
            quiet_start_minute: 22 * 60,
            quiet_end_minute: 7 * 60,
            paused_until: None,
            toolbar_avatars: TOOLBAR_AVATARS,
            shortcut: None,
        }
    }
}

impl Settings {
    /// Whether `site` of `server` is followed.
    pub fn follows(&self, server: &str, site: &str) -> bool {
        !self.unfollowed.contains(&follow_key(server, site)) && !self.unfollowed.contains(site)
    }

    pub fn set_follow(&mut self, server: &str, site: &str, follow: bool) {
        // A bare id from a one-account version stood for this site too.
        self.unfollowed.remove(site);
        if follow {
            self.unfollowed.remove(&follow_key(server, site));
        } else {
            self.unfollowed.insert(follow_key(server, site));
        }
    }

    /// The servers of the accounts, with the one of a one-account version read in.
    pub fn account_servers(&self) -> Vec<String> {
        let mut servers = self.accounts.clone();
        if !self.server.is_empty() && !servers.contains(&self.server) {
            servers.insert(0, self.server.clone());
        }
        servers
    }

    /// The toolbar size, or the default when the file holds one that cannot be chosen.
    pub fn toolbar_avatars(&self) -> usize {
        if TOOLBAR_AVATAR_CHOICES.contains(&self.toolbar_avatars) {
            self.toolbar_avatars
        } else {
            TOOLBAR_AVATARS
        }
    }

    /// The notification rules' preferences, with whether the desktop's own "do not disturb" is on
    /// (which the desktop decides, not these settings).
    pub fn preferences(&self, do_not_disturb: bool) -> Preferences {
        Preferences {
            on_joins: self.notify_joins,
            on_saves: self.notify_saves,
            quiet_hours: self.quiet_hours_enabled.then_some(QuietHours {
                start_minute: self.quiet_start_minute,
                end_minute: self.quiet_end_minute,
            }),
            paused_until: self.paused_until,
            do_not_disturb,
        }
    }
}

fn follow_key(server: &str, site: &str) -> String {
    format!("{server} {site}")
}

/// "HH:MM" for minutes after midnight.
pub fn format_minute(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60 % 24, minute % 60)
}

/// Minutes after midnight from "HH:MM".
pub fn parse_minute(text: &str) -> Option<u16> {
    let (hours, minutes) = text.trim().split_once(':')?;
    let (hours, minutes): (u16, u16) = (hours.parse().ok()?, minutes.parse().ok()?);
    (hours < 24 && minutes < 60).then_some(hours * 60 + minutes)
}

/// Where the app keeps its files.
pub fn config_dir() -> PathBuf {
    dirs::config_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("copresence")
}

fn settings_path(dir: &Path) -> PathBuf {
    dir.join("tray-settings.json")
}

/// Read the settings; missing or unreadable settings give the defaults (and a log line), never
/// a failure to start.
pub fn load(dir: &Path) -> Settings {
    let path = settings_path(dir);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).unwrap_or_else(|error| {
            tracing::warn!(%error, path = %path.display(), "settings unreadable; using defaults");
            Settings::default()
        }),
        Err(_) => Settings::default(),
    }
}

/// Write the settings atomically (a crash mid-write leaves the old file).
pub fn save(dir: &Path, settings: &Settings) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let path = settings_path(dir);
    let temporary = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(settings).map_err(std::io::Error::other)?;
    std::fs::write(&temporary, text)?;
    std::fs::rename(&temporary, &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_toolbar_size_that_cannot_be_chosen_reads_as_three() {
        let settings: Settings = serde_json::from_str(r#"{"toolbar_avatars": 9}"#).unwrap();
        assert_eq!(settings.toolbar_avatars(), 3);
        let settings: Settings = serde_json::from_str(r#"{"toolbar_avatars": 4}"#).unwrap();
        assert_eq!(settings.toolbar_avatars(), 4);
    }

    #[test]
    fn new_sites_are_followed_until_unfollowed_on_their_own_server() {
        let mut settings = Settings::default();
        assert!(settings.follows("https://a.test", "anything"));
        settings.set_follow("https://a.test", "contoso", false);
        assert!(!settings.follows("https://a.test", "contoso"));
        assert!(
            settings.follows("https://b.test", "contoso"),
            "another server's contoso"
        );
        settings.set_follow("https://a.test", "contoso", true);
        assert!(settings.follows("https://a.test", "contoso"));
        // What a one-account version kept: unfollowed everywhere, until followed again.
        settings.unfollowed.insert("legacy".into());
        assert!(!settings.follows("https://b.test", "legacy"));
        settings.set_follow("https://b.test", "legacy", true);
        assert!(settings.follows("https://b.test", "legacy"));
    }

    #[test]
    fn the_server_of_a_one_account_version_is_the_first_account() {
        let settings: Settings =
            serde_json::from_str(r#"{"server": "https://a.test", "accounts": ["https://b.test"]}"#)
                .unwrap();
        assert_eq!(
            settings.account_servers(),
            ["https://a.test", "https://b.test"]
        );
    }

    #[test]
    fn settings_survive_a_round_trip_and_tolerate_missing_fields() {
        let dir = std::env::temp_dir().join(format!("copresence-settings-{}", std::process::id()));
        let settings = Settings {
            server: "http://h.test".into(),
            quiet_hours_enabled: true,
            unfollowed: ["x".to_owned()].into(),
            ..Settings::default()
        };
        save(&dir, &settings).unwrap();
        assert_eq!(load(&dir), settings);
        std::fs::write(settings_path(&dir), r#"{"server": "http://other.test"}"#).unwrap();
        let partial = load(&dir);
        assert_eq!(partial.server, "http://other.test");
        assert!(partial.notify_joins);
        std::fs::write(settings_path(&dir), "not json").unwrap();
        assert_eq!(load(&dir), Settings::default());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn quiet_hour_times_parse_and_format() {
        assert_eq!(parse_minute("07:05"), Some(425));
        assert_eq!(parse_minute("24:00"), None);
        assert_eq!(parse_minute("ab"), None);
        assert_eq!(format_minute(425), "07:05");
    }
}
