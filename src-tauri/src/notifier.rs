//! Native notifications through notify-rust (freedesktop on Linux, Notification Center on
//! macOS, toasts on Windows).
//!
//! A notice that continues a burst replaces the notification already on screen instead of
//! stacking another (freedesktop; toasts and Notification Center have no replacement through
//! notify-rust, so there the next one stacks). Where the platform reports clicks (freedesktop;
//! Windows while the toast is on screen, not from the Action Center), clicking a notification
//! opens the popup at its site. Toasts go
//! out under the app's AppUserModelID ([`crate::desktop::APP_ID`]), registered at start.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::inbox::Inbox;
use crate::model::Command;
use crate::view::Tab;
use copresence_core::notify::Notice;

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

#[derive(Clone)]
pub struct Notifications {
    /// Where a click goes: it opens the popup at the notice's site.
    inbox: Inbox,
    /// The platform's notification id for each burst on screen.
    shown: Arc<Mutex<HashMap<u64, u32>>>,
}

impl Notifications {
    pub fn new(inbox: Inbox) -> Self {
        Notifications {
            inbox,
            shown: Arc::default(),
        }
    }

    /// Show (or update) a notification, off the caller's thread: the platform call blocks.
    pub fn show(&self, notice: Notice) {
        let this = self.clone();
        std::thread::spawn(move || this.show_blocking(notice));
    }

    fn show_blocking(&self, notice: Notice) {
        let previous = self
            .shown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&notice.burst)
            .copied();
        let mut notification = notify_rust::Notification::new();
        notification
            .appname(crate::desktop::DISPLAY_NAME)
            .summary(&notice.summary)
            .body(&body_text(&notice.body));
        #[cfg(windows)]
        notification.app_id(crate::desktop::APP_ID);
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            notification.action("default", "Open");
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
            self.shown
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(notice.burst, handle.id());
            if previous.is_none() {
                // Only the first notification of a burst waits for its click: updates keep the
                // same id, so this one wait covers them.
                handle.wait_for_action(move |action| {
                    if action == "default" {
                        open_site();
                    }
                });
            }
        }
        // A toast reports its click to the process that showed it while it is on screen; once
        // it moves to the Action Center (its timeout), the wait ends and a click does nothing.
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
