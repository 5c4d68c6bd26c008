//! Native notifications through notify-rust (freedesktop on Linux, Notification Center on
//! macOS, toasts on Windows).
//!
//! A notice that continues a burst replaces the notification already on screen instead of
//! stacking another. Where the platform reports clicks (freedesktop), clicking a notification
//! opens the popup at its site.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use copresence_core::notify::Notice;
use tauri::AppHandle;

use crate::popup;

#[derive(Clone)]
pub struct Notifications {
    app: AppHandle,
    /// The platform's notification id for each burst on screen.
    shown: Arc<Mutex<HashMap<u64, u32>>>,
}

impl Notifications {
    pub fn new(app: AppHandle) -> Self {
        Notifications {
            app,
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
            .appname("Copresence")
            .summary(&notice.summary)
            .body(&notice.body);
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
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            self.shown
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(notice.burst, handle.id());
            if previous.is_none() {
                // Only the first notification of a burst waits for its click: updates keep the
                // same id, so this one wait covers them.
                let app = self.app.clone();
                let site = notice.site.clone();
                handle.wait_for_action(move |action| {
                    if action == "default" {
                        popup::show(&app, popup::Tab::Sites, Some(site));
                    }
                });
            }
        }
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        {
            let _ = (handle, previous, &self.app, popup::Tab::Sites);
        }
    }
}
