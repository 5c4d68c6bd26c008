//! Native notifications through notify-rust (freedesktop on Linux, Notification Center on
//! macOS, toasts on Windows).
//!
//! A notice that continues a burst replaces the notification already on screen instead of
//! stacking another (freedesktop; toasts and Notification Center have no replacement through
//! notify-rust, so there the next one stacks). Where the platform reports clicks (freedesktop;
//! Windows while the toast is on screen, not from the Action Center), clicking a notification
//! opens the popup at its site. On freedesktop, where the daemon has the `actions` capability,
//! a notification also carries Open (where the person is) and Chat in Teams (when they have
//! Teams); choosing one hands its address to the same opener as the popup's card. Toasts go
//! out under the app's AppUserModelID ([`crate::desktop::APP_ID`]), registered at start.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use tauri::AppHandle;

use crate::inbox::Inbox;
use crate::model::{Announcement, Command};
use crate::opener::Link;
use crate::view::Tab;

/// The freedesktop action keys, besides `default` (a click on the notification itself).
#[cfg(all(unix, not(target_os = "macos")))]
const OPEN_ACTION: &str = "open";
#[cfg(all(unix, not(target_os = "macos")))]
const TEAMS_ACTION: &str = "teams";

/// The body as the platform reads it. Freedesktop daemons that advertise `body-markup`
/// (dunst, GNOME, KDE) read the body as a small subset of HTML, so a name like
/// `R&D <b>Bo</b>` must be escaped to show as written; the summary is plain text by the spec.
/// Other platforms take plain text.
fn body_text(body: &str) -> String {
    if cfg!(all(unix, not(target_os = "macos"))) {
        escape_markup(body)
    } else {
        body.to_owned()
    }
}

fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A burst's notification on screen: its id, and where its actions go now (an update of the
/// burst changes them under the same id). Only freedesktop replaces notifications and reports
/// actions: elsewhere none is kept.
#[cfg_attr(not(all(unix, not(target_os = "macos"))), allow(dead_code))]
struct Shown {
    id: u32,
    open: Option<Link>,
    teams: Option<Link>,
}

#[derive(Clone)]
pub struct Notifications {
    /// Where a click goes: it opens the popup at the notice's site.
    inbox: Inbox,
    /// What an action opens through.
    app: AppHandle,
    /// Each burst on screen, by its number.
    shown: Arc<Mutex<HashMap<u64, Shown>>>,
    /// Whether the notification daemon shows actions, asked once.
    shows_actions: Arc<OnceLock<bool>>,
}

impl Notifications {
    pub fn new(inbox: Inbox, app: AppHandle) -> Self {
        Notifications {
            inbox,
            app,
            shown: Arc::default(),
            shows_actions: Arc::default(),
        }
    }

    /// Show (or update) a notification, off the caller's thread: the platform call blocks.
    pub fn show(&self, announcement: Announcement) {
        let this = self.clone();
        std::thread::spawn(move || this.show_blocking(announcement));
    }

    /// Whether the daemon advertises the freedesktop `actions` capability (dunst, GNOME and
    /// KDE do; some minimal daemons do not, and would show nothing for them).
    #[cfg(all(unix, not(target_os = "macos")))]
    fn shows_actions(&self) -> bool {
        *self.shows_actions.get_or_init(|| {
            notify_rust::get_capabilities()
                .is_ok_and(|capabilities| capabilities.iter().any(|c| c == "actions"))
        })
    }

    /// Open what the action `key` of the burst's notification on screen names.
    #[cfg(all(unix, not(target_os = "macos")))]
    fn act(&self, burst: u64, key: &str) {
        let link = {
            let shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
            let Some(shown) = shown.get(&burst) else {
                return;
            };
            match key {
                OPEN_ACTION => shown.open.clone(),
                TEAMS_ACTION => shown.teams.clone(),
                _ => None,
            }
        };
        if let Some(link) = link {
            if let Err(error) = crate::opener::open(&self.app, &link) {
                tracing::warn!(%error, "cannot open a notification's action");
            }
        }
    }

    fn show_blocking(&self, announcement: Announcement) {
        let Announcement {
            notice,
            open,
            teams,
        } = announcement;
        let previous = self
            .shown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&notice.burst)
            .map(|shown| shown.id);
        let mut notification = notify_rust::Notification::new();
        notification
            .appname(crate::desktop::DISPLAY_NAME)
            .summary(&notice.summary)
            .body(&body_text(&notice.body));
        #[cfg(windows)]
        notification.app_id(crate::desktop::APP_ID);
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            notification.action("default", "Show in Copresence");
            if self.shows_actions() {
                if open.is_some() {
                    notification.action(OPEN_ACTION, "Open");
                }
                if teams.is_some() {
                    notification.action(TEAMS_ACTION, "Chat in Teams");
                }
            }
            if let Some(id) = previous {
                notification.id(id);
            }
        }
        let handle = match notification.show() {
            Ok(handle) => handle,
            Err(error) => {
                tracing::warn!(%error, "cannot show a notification");
                return;
            }
        };
        let inbox = self.inbox.clone();
        let site = notice.site.clone();
        let open_site = move || {
            inbox.tell(Command::ShowPopup {
                tab: Tab::Sites,
                site: Some(site),
            })
        };
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            let burst = notice.burst;
            self.shown.lock().unwrap_or_else(|e| e.into_inner()).insert(
                burst,
                Shown {
                    id: handle.id(),
                    open,
                    teams,
                },
            );
            if previous.is_none() {
                // Only the first notification of a burst waits for its click: updates keep the
                // same id, so this one wait covers them, and reads their actions when it ends.
                let this = self.clone();
                handle.wait_for_action(move |action| match action {
                    "default" => open_site(),
                    OPEN_ACTION | TEAMS_ACTION => this.act(burst, action),
                    _ => {}
                });
            }
        }
        // A toast reports its click to the process that showed it while it is on screen; once
        // it moves to the Action Center (its timeout), the wait ends and a click does nothing.
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        let _ = (&self.app, &self.shows_actions, open, teams);
        #[cfg(windows)]
        {
            let _ = previous;
            let _ =
                handle.wait_for_response(move |response: &notify_rust::NotificationResponse| {
                    if *response == notify_rust::NotificationResponse::Default {
                        open_site();
                    }
                });
        }
        #[cfg(target_os = "macos")]
        {
            let _ = (handle, previous, open_site);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_names_is_escaped_to_show_as_written() {
        assert_eq!(
            escape_markup("R&D <b>Bo</b> and 'Ann' \"Lee\""),
            "R&amp;D &lt;b&gt;Bo&lt;/b&gt; and &apos;Ann&apos; &quot;Lee&quot;"
        );
        assert_eq!(escape_markup("on Pricing"), "on Pricing");
    }
}
