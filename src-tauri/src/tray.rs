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

use crate::inbox::Inbox;
use crate::model::{Command, PauseUntil};
use crate::view::{Connection, Tab, View};

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

/// How many other people are on the followed sites (each person once: on one service, by id).
pub fn people_present(view: &View) -> usize {
    let mut ids: Vec<(&str, i64)> = view
        .sites
        .iter()
        .flat_map(|s| {
            s.toolbar
                .iter()
                .chain(&s.overflow)
                .map(|p| (s.account.as_str(), p.user_id))
        })
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

/// What a menu item does. Its menu id is written and read here only ([`MenuAction::id`],
/// [`MenuAction::from_id`]), so the menu and its handler cannot disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuAction {
    /// Open the popup.
    Open,
    /// Open the popup at a site.
    OpenSite(String),
    PauseForAnHour,
    PauseUntilTomorrow,
    Resume,
    Settings,
    Quit,
}

impl MenuAction {
    const SITE_PREFIX: &'static str = "site:";

    pub fn id(&self) -> String {
        match self {
            MenuAction::Open => "open".into(),
            MenuAction::OpenSite(site) => format!("{}{site}", Self::SITE_PREFIX),
            MenuAction::PauseForAnHour => "pause-hour".into(),
            MenuAction::PauseUntilTomorrow => "pause-tomorrow".into(),
            MenuAction::Resume => "resume".into(),
            MenuAction::Settings => "settings".into(),
            MenuAction::Quit => "quit".into(),
        }
    }

    /// What the model is told when the item is chosen.
    pub fn command(self) -> Command {
        let popup = |tab, site| Command::ShowPopup { tab, site };
        match self {
            MenuAction::Open => popup(Tab::Sites, None),
            MenuAction::OpenSite(site) => popup(Tab::Sites, Some(site)),
            MenuAction::Settings => popup(Tab::Settings, None),
            MenuAction::PauseForAnHour => Command::Pause(PauseUntil::Hour),
            MenuAction::PauseUntilTomorrow => Command::Pause(PauseUntil::Tomorrow),
            MenuAction::Resume => Command::Resume,
            MenuAction::Quit => Command::Quit,
        }
    }

    pub fn from_id(id: &str) -> Option<MenuAction> {
        Some(match id {
            "open" => MenuAction::Open,
            "pause-hour" => MenuAction::PauseForAnHour,
            "pause-tomorrow" => MenuAction::PauseUntilTomorrow,
            "resume" => MenuAction::Resume,
            "settings" => MenuAction::Settings,
            "quit" => MenuAction::Quit,
            other => MenuAction::OpenSite(other.strip_prefix(Self::SITE_PREFIX)?.to_owned()),
        })
    }
}

/// The menu, as labels and actions: what the tray shows, testable without a desktop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Info(String),
    Item { action: MenuAction, label: String },
    Separator,
    Submenu { label: String, items: Vec<Entry> },
}

pub fn entries(view: &View) -> Vec<Entry> {
    let mut entries = vec![Entry::Info(headline(view))];
    if view.paused_until.is_some() {
        entries.push(Entry::Info("Notifications paused".into()));
    }
    if view.do_not_disturb {
        entries.push(Entry::Info("Do Not Disturb is on".into()));
    }
    entries.push(Entry::Separator);
    let mut account = None;
    for site in &view.sites {
        // Signed in to several services: each one's sites under its name.
        if site.account_label.is_some() && account != Some(&site.account) {
            account = Some(&site.account);
            entries.push(Entry::Info(site.account_label.clone().unwrap_or_default()));
        }
        let people: Vec<_> = site.toolbar.iter().chain(&site.overflow).collect();
        entries.push(Entry::Item {
            action: MenuAction::OpenSite(site.id.clone()),
            label: match people.len() {
                0 => site.name.clone(),
                n => format!("{} ({n})", site.name),
            },
        });
        for person in people.iter().take(MENU_PEOPLE_PER_SITE) {
            entries.push(Entry::Item {
                action: MenuAction::OpenSite(site.id.clone()),
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
    let item = |action: MenuAction, label: &str| Entry::Item {
        action,
        label: label.into(),
    };
    entries.push(item(MenuAction::Open, "Open Copresence"));
    if view.paused_until.is_some() {
        entries.push(item(MenuAction::Resume, "Resume notifications"));
    } else {
        entries.push(Entry::Submenu {
            label: "Pause notifications".into(),
            items: vec![
                item(MenuAction::PauseForAnHour, "For 1 hour"),
                item(MenuAction::PauseUntilTomorrow, "Until tomorrow"),
            ],
        });
    }
    entries.push(item(MenuAction::Settings, "Settings…"));
    entries.push(Entry::Separator);
    entries.push(item(MenuAction::Quit, "Quit Copresence"));
    entries
}

fn build_menu(app: &AppHandle, entries: &[Entry]) -> tauri::Result<Menu<Wry>> {
    let mut menu = MenuBuilder::new(app);
    for entry in entries {
        menu = match entry {
            Entry::Info(label) => {
                menu.item(&MenuItemBuilder::new(label).enabled(false).build(app)?)
            }
            Entry::Item { action, label } => {
                menu.item(&MenuItemBuilder::with_id(action.id(), label).build(app)?)
            }
            Entry::Separator => menu.separator(),
            Entry::Submenu { label, items } => {
                let mut submenu = SubmenuBuilder::new(app, label);
                for entry in items {
                    if let Entry::Item { action, label } = entry {
                        submenu =
                            submenu.item(&MenuItemBuilder::with_id(action.id(), label).build(app)?);
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
            // The icon's place, for the positioner to put the popup next to it.
            tauri_plugin_positioner::on_tray_event(tray.app_handle(), &event);
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                tray.app_handle()
                    .state::<Inbox>()
                    .tell(Command::TogglePopup);
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
    if let Some(action) = MenuAction::from_id(event.id().as_ref()) {
        app.state::<Inbox>().tell(action.command());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{feed, member, now, signed_in_model, site, site_with, NOW};
    use crate::model::{Command, Input, PauseUntil, ReplyId};
    use copresence_client::Update;

    fn labels(entries: &[Entry]) -> Vec<String> {
        entries
            .iter()
            .flat_map(|entry| match entry {
                Entry::Info(label) | Entry::Item { label, .. } => vec![label.clone()],
                Entry::Separator => vec!["—".into()],
                Entry::Submenu { label, items } => {
                    let mut all = vec![format!("{label} ▸")];
                    all.extend(labels(items).into_iter().map(|l| format!("  {l}")));
                    all
                }
            })
            .collect()
    }

    #[test]
    fn every_action_reads_back_from_its_id() {
        for action in [
            MenuAction::Open,
            MenuAction::OpenSite("contoso".into()),
            MenuAction::PauseForAnHour,
            MenuAction::PauseUntilTomorrow,
            MenuAction::Resume,
            MenuAction::Settings,
            MenuAction::Quit,
        ] {
            assert_eq!(MenuAction::from_id(&action.id()), Some(action));
        }
        assert_eq!(MenuAction::from_id("something-else"), None);
    }

    #[test]
    fn the_menu_lists_who_is_where_then_the_actions() {
        let mut model = signed_in_model();
        let crowd: Vec<_> = (2..=9)
            .map(|id| member(id, &format!("P{id}"), "/"))
            .collect();
        model.apply(
            feed(Update::Snapshot(vec![site_with("a", crowd), site("b")])),
            now(),
        );
        let view = model.view(NOW);
        let entries = entries(&view);
        let shown = labels(&entries);
        assert_eq!(shown[0], "8 people on your sites");
        assert!(shown.contains(&"Site a (8)".to_owned()), "{shown:#?}");
        assert!(shown.contains(&"    P2 — Home".to_owned()), "{shown:#?}");
        assert!(shown.contains(&"    +2 more".to_owned()), "{shown:#?}");
        assert!(shown.contains(&"Site b".to_owned()), "{shown:#?}");
        assert!(shown.contains(&"  For 1 hour".to_owned()), "{shown:#?}");
        assert_eq!(shown.last().map(String::as_str), Some("Quit Copresence"));
        // A person's line opens the popup at their site.
        let person = entries.iter().find_map(|e| match e {
            Entry::Item { action, label } if label == "    P2 — Home" => Some(action.clone()),
            _ => None,
        });
        assert_eq!(person, Some(MenuAction::OpenSite("a".into())));
        assert_eq!(state_of(&view), TrayState::Active);
    }

    #[test]
    fn paused_the_menu_offers_resume_and_alone_the_icon_is_idle() {
        let mut model = signed_in_model();
        model.apply(
            Input::Command(ReplyId(1), Command::Pause(PauseUntil::Hour)),
            now(),
        );
        let view = model.view(NOW);
        let shown = labels(&entries(&view));
        assert_eq!(
            &shown[..2],
            ["Nobody else on your sites", "Notifications paused"]
        );
        assert!(shown.contains(&"Resume notifications".to_owned()));
        assert!(!shown.iter().any(|l| l.contains("For 1 hour")));
        assert_eq!(state_of(&view), TrayState::Idle);
    }

    #[test]
    fn the_headline_and_icon_follow_the_connection_and_count_each_person_once() {
        let mut model = signed_in_model();
        let ann = || member(2, "Ann", "/");
        model.apply(
            feed(Update::Snapshot(vec![
                site_with("a", vec![ann()]),
                site_with("b", vec![ann(), member(3, "Bo", "/")]),
            ])),
            now(),
        );
        let view = model.view(NOW);
        assert_eq!(people_present(&view), 2, "Ann on two sites is one person");
        assert_eq!(headline(&view), "2 people on your sites");
        model.apply(
            feed(Update::Disconnected {
                error: "gone".into(),
                retry_in: std::time::Duration::from_secs(1),
            }),
            now(),
        );
        let view = model.view(NOW);
        assert_eq!(headline(&view), "Offline — reconnecting…");
        assert_eq!(state_of(&view), TrayState::Offline);
        model.apply(Input::DoNotDisturb(true), now());
        let shown = labels(&entries(&model.view(NOW)));
        assert_eq!(shown[1], "Do Not Disturb is on");
        let signed_out = crate::fixtures::model().view(NOW);
        assert_eq!(state_of(&signed_out), TrayState::SignedOut);
        assert_eq!(
            headline(&signed_out),
            "Signed out — open Settings to sign in"
        );
    }
}
