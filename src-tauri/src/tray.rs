//! The tray icon and its menu.
//!
//! The icon tells the state at a glance — idle (nobody else on your followed sites), active
//! (someone is), offline, signed out — with the number of people beside it where the platform
//! shows a title. The menu lists each followed site with who is on it and where, then Open,
//! Pause notifications, Settings and Quit. On Linux the menu is the only way in (the tray
//! reports no clicks there); on macOS and Windows a left click toggles the popup.

use std::sync::Mutex;

use tauri::image::Image;
use tauri::menu::{Menu, MenuBuilder, MenuEvent, MenuItemBuilder, SubmenuBuilder};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};

use crate::popup::{self, Tab};
use crate::shell::Shell;
use crate::view::{Connection, View};

const TRAY_ID: &str = "copresence";
/// People listed under a site in the menu before "+N more".
const MENU_PEOPLE_PER_SITE: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayState {
    Idle,
    Active,
    Offline,
    SignedOut,
}

impl TrayState {
    fn icon(self) -> Image<'static> {
        let bytes: &'static [u8] = match self {
            TrayState::Idle => include_bytes!("../../icons/tray-idle.png"),
            TrayState::Active => include_bytes!("../../icons/tray-active.png"),
            TrayState::Offline => include_bytes!("../../icons/tray-offline.png"),
            TrayState::SignedOut => include_bytes!("../../icons/tray-error.png"),
        };
        Image::from_bytes(bytes).expect("the tray icons are valid PNGs")
    }
}

/// How many other people are on the followed sites (each person once).
pub fn people_present(view: &View) -> usize {
    let mut ids: Vec<i64> = view
        .sites
        .iter()
        .flat_map(|s| s.toolbar.iter().chain(&s.overflow))
        .map(|p| p.user_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}

pub fn state_of(view: &View) -> TrayState {
    match view.status.connection {
        Connection::SignedOut => TrayState::SignedOut,
        Connection::Offline | Connection::Connecting => TrayState::Offline,
        Connection::Connected if people_present(view) > 0 => TrayState::Active,
        Connection::Connected => TrayState::Idle,
    }
}

/// The first line of the menu and the tooltip.
pub fn headline(view: &View) -> String {
    match view.status.connection {
        Connection::SignedOut => "Signed out — open Settings to sign in".into(),
        Connection::Connecting => "Connecting…".into(),
        Connection::Offline => "Offline — reconnecting…".into(),
        Connection::Connected => match people_present(view) {
            0 => "Nobody else on your sites".into(),
            1 => "1 person on your sites".into(),
            n => format!("{n} people on your sites"),
        },
    }
}

/// The menu, as labels and ids: what the tray shows, testable without a desktop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Info(String),
    Item { id: String, label: String },
    Separator,
    Submenu { label: String, items: Vec<Entry> },
}

pub fn entries(view: &View) -> Vec<Entry> {
    let mut entries = vec![Entry::Info(headline(view))];
    if view.paused_until.is_some() {
        entries.push(Entry::Info("Notifications paused".into()));
    }
    entries.push(Entry::Separator);
    for site in &view.sites {
        let people: Vec<_> = site.toolbar.iter().chain(&site.overflow).collect();
        entries.push(Entry::Item {
            id: format!("site:{}", site.id),
            label: match people.len() {
                0 => site.name.clone(),
                n => format!("{} ({n})", site.name),
            },
        });
        for person in people.iter().take(MENU_PEOPLE_PER_SITE) {
            entries.push(Entry::Item {
                id: format!("site:{}", site.id),
                label: format!("    {} — {}", person.name, person.page_title),
            });
        }
        if people.len() > MENU_PEOPLE_PER_SITE {
            entries.push(Entry::Info(format!(
                "    +{} more",
                people.len() - MENU_PEOPLE_PER_SITE
            )));
        }
    }
    if !view.sites.is_empty() {
        entries.push(Entry::Separator);
    }
    let item = |id: &str, label: &str| Entry::Item {
        id: id.into(),
        label: label.into(),
    };
    entries.push(item("open", "Open Copresence"));
    if view.paused_until.is_some() {
        entries.push(item("resume", "Resume notifications"));
    } else {
        entries.push(Entry::Submenu {
            label: "Pause notifications".into(),
            items: vec![
                item("pause-hour", "For 1 hour"),
                item("pause-tomorrow", "Until tomorrow"),
            ],
        });
    }
    entries.push(item("settings", "Settings…"));
    entries.push(Entry::Separator);
    entries.push(item("quit", "Quit Copresence"));
    entries
}

fn build_menu(app: &AppHandle, entries: &[Entry]) -> tauri::Result<Menu<Wry>> {
    let mut menu = MenuBuilder::new(app);
    for entry in entries {
        menu = match entry {
            Entry::Info(label) => {
                menu.item(&MenuItemBuilder::new(label).enabled(false).build(app)?)
            }
            Entry::Item { id, label } => {
                menu.item(&MenuItemBuilder::with_id(id, label).build(app)?)
            }
            Entry::Separator => menu.separator(),
            Entry::Submenu { label, items } => {
                let mut submenu = SubmenuBuilder::new(app, label);
                for entry in items {
                    if let Entry::Item { id, label } = entry {
                        submenu = submenu.item(&MenuItemBuilder::with_id(id, label).build(app)?);
                    }
                }
                menu.item(&submenu.build()?)
            }
        };
    }
    menu.build()
}

/// What was last drawn, so an unchanged tray is not redrawn on every event.
#[derive(Default)]
pub struct Drawn(Mutex<Option<(TrayState, String, Vec<Entry>)>>);

pub fn create(app: &AppHandle) -> tauri::Result<TrayIcon> {
    app.manage(Drawn::default());
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(TrayState::Offline.icon())
        .tooltip(crate::desktop::DISPLAY_NAME)
        .show_menu_on_left_click(false)
        .on_menu_event(on_menu_event)
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                rect,
                ..
            } = event
            {
                popup::toggle_at(tray.app_handle(), rect);
            }
        })
        .build(app)
}

/// Redraw the tray for `view`.
pub fn update(app: &AppHandle, view: &View) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let state = state_of(view);
    let title = headline(view);
    let entries = entries(view);
    let drawn = app.state::<Drawn>();
    let mut last = drawn.0.lock().unwrap_or_else(|e| e.into_inner());
    let next = (state, title.clone(), entries.clone());
    if last.as_ref() == Some(&next) {
        return;
    }
    if last.as_ref().map(|l| l.0) != Some(state) {
        let _ = tray.set_icon(Some(state.icon()));
    }
    let _ = tray.set_tooltip(Some(format!("Copresence — {title}")));
    let count = people_present(view);
    let _ = tray.set_title((count > 0).then(|| count.to_string()));
    match build_menu(app, &entries) {
        Ok(menu) => {
            let _ = tray.set_menu(Some(menu));
        }
        Err(error) => tracing::warn!(%error, "cannot build the tray menu"),
    }
    *last = Some(next);
}

fn on_menu_event(app: &AppHandle, event: MenuEvent) {
    let shell = app.state::<std::sync::Arc<Shell>>();
    let id = event.id().as_ref();
    let result = match id {
        "open" => {
            shell.show_popup(Tab::Sites, None);
            Ok(())
        }
        "settings" => {
            shell.show_popup(Tab::Settings, None);
            Ok(())
        }
        "pause-hour" => shell.pause(false),
        "pause-tomorrow" => shell.pause(true),
        "resume" => shell.resume(),
        "quit" => {
            app.exit(0);
            Ok(())
        }
        other => {
            if let Some(site) = other.strip_prefix("site:") {
                shell.show_popup(Tab::Sites, Some(site.to_owned()));
            }
            Ok(())
        }
    };
    if let Err(error) = result {
        tracing::warn!(code = error.code, message = %error.message, "tray menu action failed");
    }
}
