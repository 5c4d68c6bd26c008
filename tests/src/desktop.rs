//! A headless desktop for the tray app: Xvfb, a private D-Bus session bus, the dunst
//! notification daemon (whose context menu picks an action through a `dmenu` stand-in), a
//! `dbus-monitor` recording every freedesktop `Notify` call, and the real `copresence-tray`
//! driven over WebDriver (tauri-driver + WebKitWebDriver).
//!
//! `make test` installs all of these (Debian packages, `cargo install tauri-driver`).

use crate::{free_port, wait_until};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

fn require(tool: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|path| path.is_file())
    });
    let cargo_bin = dirs_cargo_bin().join(tool);
    found
        .or_else(|| cargo_bin.is_file().then_some(cargo_bin))
        .unwrap_or_else(|| {
            panic!("{tool} is needed for the desktop tests: run `make test`, which installs it")
        })
}

fn dirs_cargo_bin() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default()
        .join("bin")
}

/// One freedesktop `Notify` call as recorded on the bus.
#[derive(Debug, Clone, PartialEq)]
pub struct Notify {
    /// Seconds since the epoch, as dbus-monitor stamps it.
    pub time: f64,
    pub app: String,
    pub replaces_id: u32,
    pub summary: String,
    pub body: String,
    /// The actions offered, as (key, label) pairs, in order.
    pub actions: Vec<(String, String)>,
}

/// Parse `dbus-monitor` output into the `Notify` calls it recorded.
pub fn parse_notify_calls(log: &str) -> Vec<Notify> {
    let mut calls = Vec::new();
    for block in log.split("method call time=").skip(1) {
        let mut lines = block.lines();
        let header = lines.next().unwrap_or_default();
        if !header.contains("member=Notify") {
            continue;
        }
        let time = header
            .split_whitespace()
            .next()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0.0);
        let mut strings = Vec::new();
        let mut replaces_id = 0;
        // After the four strings (app, icon, summary, body), the actions: an array of strings.
        let mut in_actions = false;
        for line in lines {
            let line = line.trim();
            if strings.len() >= 4 && line.starts_with("array [") {
                in_actions = true;
            } else if in_actions && line == "]" {
                break;
            } else if let Some(value) = line.strip_prefix("string \"") {
                strings.push(value.strip_suffix('"').unwrap_or(value).to_owned());
            } else if let Some(value) = line.strip_prefix("uint32 ") {
                if strings.len() == 1 {
                    replaces_id = value.parse().unwrap_or(0);
                }
            }
        }
        if strings.len() >= 4 {
            let actions = strings[4..]
                .chunks(2)
                .filter_map(|pair| match pair {
                    [key, label] => Some((key.clone(), label.clone())),
                    _ => None,
                })
                .collect();
            calls.push(Notify {
                time,
                app: strings[0].clone(),
                replaces_id,
                summary: strings[2].clone(),
                body: strings[3].clone(),
                actions,
            });
        }
    }
    calls
}

/// A headless desktop session; everything in it is stopped when it is dropped.
pub struct Desktop {
    pub display: String,
    pub bus: String,
    pub dir: tempfile::TempDir,
    children: Vec<Child>,
}

impl Desktop {
    pub fn start() -> Desktop {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut desktop = Desktop {
            display: String::new(),
            bus: String::new(),
            dir,
            children: Vec::new(),
        };
        // A display number nobody holds.
        let number = (90..400)
            .find(|n| {
                !Path::new(&format!("/tmp/.X{n}-lock")).exists()
                    && !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            })
            .expect("a free X display number");
        desktop.display = format!(":{number}");
        let xvfb = Command::new(require("Xvfb"))
            .args([
                &desktop.display,
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts");
        desktop.children.push(xvfb);
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
        wait_until("Xvfb", Duration::from_secs(10), || socket.exists());

        // Services the bus starts (dconf, which keeps GNOME's settings) get the desktop's
        // own configuration directory, as every program in it does.
        let mut bus = Command::new(require("dbus-daemon"))
            .args(["--session", "--nofork", "--print-address=1"])
            .envs(desktop.environment())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon starts");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().expect("piped"))
            .read_line(&mut address)
            .expect("dbus-daemon prints its address");
        desktop.bus = address.trim().to_owned();
        desktop.children.push(bus);

        // dunst's context menu lists every action of the notifications on screen through
        // `dmenu`, and invokes the one it reads back: the stand-in picks the action whose key
        // the test wrote down ([`Desktop::choose_action`]).
        let menu = desktop.dir.path().join("dunst-menu");
        std::fs::write(
            &menu,
            format!(
                "#!/bin/sh\ngrep -m1 -F \",$(cat '{}')]\"\n",
                desktop.action_choice().display()
            ),
        )
        .expect("the dmenu stand-in");
        #[cfg(unix)]
        std::fs::set_permissions(&menu, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("the dmenu stand-in is executable");
        let config = desktop.dir.path().join("config").join("dunst");
        std::fs::create_dir_all(&config).expect("dunst's configuration directory");
        std::fs::write(
            config.join("dunstrc"),
            format!("[global]\n    dmenu = {}\n", menu.display()),
        )
        .expect("dunst's configuration");
        let dunst = desktop
            .command(require("dunst"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dunst starts");
        desktop.children.push(dunst);
        let bus_has = |name: &str| {
            desktop
                .command("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    &format!("string:{name}"),
                ])
                .output()
                .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("boolean true"))
        };
        wait_until("dunst", Duration::from_secs(10), || {
            bus_has("org.freedesktop.Notifications")
        });

        let log = std::fs::File::create(desktop.notify_log()).expect("the notify log");
        let monitor = desktop
            .command(require("dbus-monitor"))
            .args([
                "--session",
                "interface='org.freedesktop.Notifications',member='Notify'",
            ])
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-monitor starts");
        desktop.children.push(monitor);
        // dbus-monitor prints its own greeting once it is listening.
        wait_until("dbus-monitor", Duration::from_secs(10), || {
            std::fs::metadata(desktop.notify_log()).is_ok_and(|m| m.len() > 0)
        });
        desktop
    }

    fn notify_log(&self) -> PathBuf {
        self.dir.path().join("notify.log")
    }

    fn action_choice(&self) -> PathBuf {
        self.dir.path().join("dunst-choice")
    }

    /// Choose the action `key` of a notification on screen, as a person does from dunst's
    /// context menu: dunst invokes it (the `ActionInvoked` signal to the app that sent it).
    pub fn choose_action(&self, key: &str) {
        std::fs::write(self.action_choice(), key).expect("the action chosen");
        let status = self
            .command(require("dunstctl"))
            .arg("context")
            .status()
            .expect("dunstctl runs");
        assert!(status.success(), "dunstctl context failed");
    }

    /// What every program in this desktop session sees: its own configuration and cache
    /// directories (so GNOME's settings are the session's, not the machine's), and a GNOME
    /// session, whose "show banners" setting the tray app follows.
    fn environment(&self) -> [(&'static str, PathBuf); 3] {
        [
            ("XDG_CONFIG_HOME", self.dir.path().join("config")),
            ("XDG_CACHE_HOME", self.dir.path().join("cache")),
            ("XDG_CURRENT_DESKTOP", PathBuf::from("GNOME")),
        ]
    }

    /// Press keys on this desktop's keyboard, as `xdotool` names them (`alt+shift+c`).
    pub fn press(&self, keys: &str) {
        let status = self
            .command(require("xdotool"))
            .args(["key", keys])
            .status()
            .expect("xdotool runs");
        assert!(status.success(), "xdotool key {keys} failed");
    }

    /// Whether the tray app's popup window is on screen (mapped), by its title.
    pub fn popup_visible(&self) -> bool {
        self.command(require("xdotool"))
            .args(["search", "--onlyvisible", "--name", "^Copresence$"])
            .output()
            .is_ok_and(|out| out.status.success() && !out.stdout.is_empty())
    }

    pub fn wait_for_popup(&self, visible: bool, within: Duration) {
        let what = if visible {
            "the popup shown"
        } else {
            "the popup hidden"
        };
        wait_until(what, within, || self.popup_visible() == visible);
    }

    /// A command that runs inside this desktop session.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .env("NO_AT_BRIDGE", "1")
            .envs(self.environment());
        command
    }

    /// The unique names of every connection on the session bus.
    pub fn bus_names(&self) -> Vec<String> {
        let out = self
            .command("busctl")
            .args([
                "--user",
                "--json=short",
                "call",
                "org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus",
                "ListNames",
            ])
            .output();
        let names: serde_json::Value = out
            .ok()
            .and_then(|out| serde_json::from_slice(&out.stdout).ok())
            .unwrap_or_default();
        names["data"][0]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n.as_str())
            .filter(|n| n.starts_with(':'))
            .map(str::to_owned)
            .collect()
    }

    /// Every `Notify` call so far.
    pub fn notifications(&self) -> Vec<Notify> {
        parse_notify_calls(&std::fs::read_to_string(self.notify_log()).unwrap_or_default())
    }

    /// Wait for a `Notify` call whose summary contains `text`, among those after the first
    /// `skip` calls.
    pub fn wait_for_notification(&self, skip: usize, text: &str, within: Duration) -> Notify {
        let deadline = Instant::now() + within;
        loop {
            let calls = self.notifications();
            if let Some(found) = calls.iter().skip(skip).find(|n| n.summary.contains(text)) {
                return found.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no notification with {text:?} within {within:?}; got {calls:#?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Save a picture of the whole screen.
    pub fn screenshot(&self, path: &Path) {
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let status = self
            .command(require("import"))
            .args(["-window", "root"])
            .arg(path)
            .status()
            .expect("imagemagick's import runs");
        assert!(status.success(), "screenshot failed");
    }
}

/// The tray icon as the desktop sees it: the StatusNotifierItem and its `com.canonical.dbusmenu`
/// menu that libayatana-appindicator exports on the session bus. Reading them (and clicking
/// menu items with the menu's `Event` method) is what a Linux panel does with the tray.
pub struct Tray<'d> {
    desktop: &'d Desktop,
    owner: String,
}

/// One item of the tray menu.
#[derive(Debug, Clone, PartialEq)]
pub struct MenuItem {
    pub id: i64,
    pub label: String,
    pub enabled: bool,
    pub children: Vec<MenuItem>,
}

impl MenuItem {
    fn flatten<'a>(&'a self, into: &mut Vec<&'a MenuItem>) {
        for child in &self.children {
            into.push(child);
            child.flatten(into);
        }
    }
}

/// The object path tray-icon gives the item whose tray id is `copresence`.
const TRAY_ITEM_PATH: &str = "/org/ayatana/NotificationItem/tray_icon_tray_app_copresence";

impl<'d> Tray<'d> {
    /// Find the tray item on the bus, waiting for the app to export it.
    pub fn find(desktop: &'d Desktop, within: Duration) -> Tray<'d> {
        let deadline = Instant::now() + within;
        loop {
            for name in desktop.bus_names() {
                let tray = Tray {
                    desktop,
                    owner: name,
                };
                if tray.property("Id").is_some() {
                    return tray;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no tray icon on the session bus within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn busctl(&self, args: &[&str]) -> Option<serde_json::Value> {
        let out = self
            .desktop
            .command("busctl")
            .args(["--user", "--json=short", "--timeout=2"])
            .args(args)
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        if out.stdout.iter().all(u8::is_ascii_whitespace) {
            // A method with no reply arguments.
            return Some(serde_json::Value::Null);
        }
        serde_json::from_slice(&out.stdout).ok()
    }

    fn property(&self, name: &str) -> Option<serde_json::Value> {
        self.busctl(&[
            "get-property",
            &self.owner,
            TRAY_ITEM_PATH,
            "org.kde.StatusNotifierItem",
            name,
        ])
        .map(|v| v["data"].clone())
    }

    /// The label beside the icon (the number of people present), empty when there is none.
    pub fn label(&self) -> String {
        self.property("XAyatanaLabel")
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// Which of the app's icons (`icons/tray-<name>.png`) the tray shows now, by its pixels.
    pub fn icon(&self) -> Option<&'static str> {
        let path = self.property("IconName")?.as_str()?.to_owned();
        let shown = decode_png(&std::fs::read(path).ok()?)?;
        let icons = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../icons");
        ["idle", "active", "offline", "error"]
            .into_iter()
            .find(|name| {
                std::fs::read(icons.join(format!("tray-{name}.png")))
                    .ok()
                    .and_then(|bytes| decode_png(&bytes))
                    .is_some_and(|pixels| pixels == shown)
            })
    }

    /// The menu as the panel would draw it.
    pub fn menu(&self) -> MenuItem {
        let layout = self
            .busctl(&[
                "call",
                &self.owner,
                &format!("{TRAY_ITEM_PATH}/Menu"),
                "com.canonical.dbusmenu",
                "GetLayout",
                "iias",
                "0",
                "--",
                "-1",
                "2",
                "label",
                "enabled",
            ])
            .expect("the tray menu's layout");
        parse_menu(&layout["data"][1]).expect("a dbusmenu layout")
    }

    /// Every label in the menu, depth first.
    pub fn menu_labels(&self) -> Vec<String> {
        let menu = self.menu();
        let mut items = Vec::new();
        menu.flatten(&mut items);
        items.iter().map(|i| i.label.clone()).collect()
    }

    /// Click the menu item labelled `label`, as a panel does.
    pub fn click(&self, label: &str) {
        // The app rebuilds its menu when what it shows changes, which renumbers the items: a
        // click can miss by a hair, as it could for a person; look again and retry.
        for _ in 0..5 {
            let menu = self.menu();
            let mut items = Vec::new();
            menu.flatten(&mut items);
            let item = items
                .iter()
                .find(|i| i.label == label)
                .unwrap_or_else(|| panic!("no {label:?} in the tray menu: {menu:#?}"));
            let clicked = self.busctl(&[
                "call",
                &self.owner,
                &format!("{TRAY_ITEM_PATH}/Menu"),
                "com.canonical.dbusmenu",
                "Event",
                "isvu",
                &item.id.to_string(),
                "clicked",
                "i",
                "0",
                "0",
            ]);
            if clicked.is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the tray menu did not take a click on {label:?}");
    }

    /// Wait until `ready` holds for the tray, or fail saying what it showed.
    pub fn wait_until(&self, what: &str, within: Duration, ready: impl Fn(&Tray) -> bool) {
        let deadline = Instant::now() + within;
        while !ready(self) {
            assert!(
                Instant::now() < deadline,
                "the tray never showed {what} within {within:?}: icon {:?}, label {:?}, menu {:#?}",
                self.icon(),
                self.label(),
                self.menu_labels()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn decode_png(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .ok()?;
    let mut pixels = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut pixels).ok()?;
    pixels.truncate(info.buffer_size());
    Some(pixels)
}

/// One `(ia{sv}av)` node of a dbusmenu layout, as `busctl --json` prints it.
fn parse_menu(node: &serde_json::Value) -> Option<MenuItem> {
    let id = node[0].as_i64()?;
    let props = &node[1];
    let children = node[2]
        .as_array()?
        .iter()
        .filter_map(|child| parse_menu(&child["data"]))
        .collect();
    Some(MenuItem {
        id,
        label: props["label"]["data"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        enabled: props["enabled"]["data"].as_bool().unwrap_or(true),
        children,
    })
}

impl Drop for Desktop {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The real tray app, started by tauri-driver inside a [`Desktop`] and driven over WebDriver.
pub struct TrayApp {
    pub webdriver: fantoccini::Client,
    driver: Child,
    /// Where the `xdg-open` stand-in records every URL handed to the operating system.
    pub opened_log: PathBuf,
}

impl TrayApp {
    /// Launch `copresence-tray` signed in with `token` on `server`, its popup open.
    pub async fn launch(desktop: &Desktop, server: &str, token: &str) -> TrayApp {
        TrayApp::start(desktop, server, Some(token)).await
    }

    /// Launch `copresence-tray` on `server` with no token: to sign in from its Settings.
    pub async fn launch_signed_out(desktop: &Desktop, server: &str) -> TrayApp {
        TrayApp::start(desktop, server, None).await
    }

    async fn start(desktop: &Desktop, server: &str, token: Option<&str>) -> TrayApp {
        let bin_dir = desktop.dir.path().join("bin");
        std::fs::create_dir_all(&bin_dir).unwrap();
        let opened_log = desktop.dir.path().join("opened.log");
        let stand_in = bin_dir.join("xdg-open");
        std::fs::write(
            &stand_in,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n",
                opened_log.display()
            ),
        )
        .unwrap();
        #[cfg(unix)]
        std::fs::set_permissions(
            &stand_in,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let (port, native_port) = (free_port(), free_port());
        let mut driver = desktop.command(require("tauri-driver"));
        driver
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("PATH", path)
            .env("COPRESENCE_SERVER", server)
            .env_remove("COPRESENCE_TOKEN")
            .env("COPRESENCE_OPEN_POPUP", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(token) = token {
            driver.env("COPRESENCE_TOKEN", token);
        }
        let driver = driver.spawn().expect("tauri-driver starts");
        wait_until("tauri-driver", Duration::from_secs(15), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        let capabilities = json!({
            "browserName": "wry",
            "tauri:options": { "application": crate::bin("copresence-tray") },
        });
        let capabilities = capabilities.as_object().cloned().unwrap();
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let webdriver = fantoccini::ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session with the tray app");
        TrayApp {
            webdriver,
            driver,
            opened_log,
        }
    }

    /// The URLs handed to the operating system so far.
    pub fn opened(&self) -> Vec<String> {
        std::fs::read_to_string(&self.opened_log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Click the element matching a CSS selector, once it is there. The popup redraws parts of
    /// itself as presence changes: an element found just before a redraw is gone by the click,
    /// so the click is tried again on the element that replaced it.
    pub async fn click(&self, css: &str, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let element = self.wait_for(css, within).await;
            match element.click().await {
                Ok(()) => return,
                Err(error) if Instant::now() < deadline => {
                    eprintln!("clicking {css} again: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("cannot click {css}: {error}"),
            }
        }
    }

    /// Wait for an element matching a CSS selector. Looked up again on any error until the
    /// time is up: the driver reports a stale element when the popup redraws the one it was
    /// about to hand back.
    pub async fn wait_for(&self, css: &str, within: Duration) -> fantoccini::elements::Element {
        let deadline = Instant::now() + within;
        loop {
            match self.webdriver.find(fantoccini::Locator::Css(css)).await {
                Ok(element) => return element,
                Err(error) if Instant::now() < deadline => {
                    if !error.is_no_such_element() {
                        eprintln!("looking for {css} again: {error}");
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("no {css} within {within:?}: {error}"),
            }
        }
    }

    /// Wait until no element matches a CSS selector.
    pub async fn wait_gone(&self, css: &str, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let found = self
                .webdriver
                .find_all(fantoccini::Locator::Css(css))
                .await
                .map(|all| all.len())
                .unwrap_or(0);
            if found == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{css} still there after {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn quit(mut self) {
        let _ = self.webdriver.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for TrayApp {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

/// A web server on loopback with one profile photo (a small PNG) at `/photo.png`, counting
/// how often it is asked for.
pub struct PhotoServer {
    pub url: String,
    requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl PhotoServer {
    pub async fn start() -> PhotoServer {
        let requests = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = requests.clone();
        let photo = tiny_png();
        let app = axum::Router::new().route(
            "/photo.png",
            axum::routing::get(move || {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let photo = photo.clone();
                async move { ([("content-type", "image/png")], photo) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let address = listener.local_addr().expect("a bound address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        PhotoServer {
            url: format!("http://{address}/photo.png"),
            requests,
        }
    }

    pub fn requests(&self) -> usize {
        self.requests.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A 4×4 orange PNG.
fn tiny_png() -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, 4, 4);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("a PNG header");
    writer
        .write_image_data(&[0xff, 0x88, 0x00].repeat(16))
        .expect("PNG data");
    writer.finish().expect("a whole PNG");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dbusmenu_layout_is_parsed_from_busctl_json() {
        let layout: serde_json::Value = serde_json::from_str(
            r#"{"type":"u(ia{sv}av)","data":[22,[0,{"label":{"type":"s","data":"Label Empty"}},[
              {"type":"(ia{sv}av)","data":[388,{"label":{"type":"s","data":"1 person on your sites"},"enabled":{"type":"b","data":false}},[]]},
              {"type":"(ia{sv}av)","data":[389,{"enabled":{"type":"b","data":true}},[]]},
              {"type":"(ia{sv}av)","data":[402,{"label":{"type":"s","data":"Pause notifications"}},[
                {"type":"(ia{sv}av)","data":[403,{"label":{"type":"s","data":"For 1 hour"}},[]]}]]}]]]}"#,
        )
        .unwrap();
        let menu = parse_menu(&layout["data"][1]).unwrap();
        let mut items = Vec::new();
        menu.flatten(&mut items);
        let labels: Vec<_> = items
            .iter()
            .map(|i| (i.id, i.label.as_str(), i.enabled))
            .collect();
        assert_eq!(
            labels,
            [
                (388, "1 person on your sites", false),
                (389, "", true),
                (402, "Pause notifications", true),
                (403, "For 1 hour", true),
            ]
        );
    }

    #[test]
    fn notify_calls_are_parsed_from_dbus_monitor_output() {
        let log = r#"signal time=1.0 sender=org.freedesktop.DBus -> destination=:1.2 serial=2 path=/org/freedesktop/DBus; interface=org.freedesktop.DBus; member=NameAcquired
   string ":1.2"
method call time=1795426000.250000 sender=:1.5 -> destination=org.freedesktop.Notifications serial=7 path=/org/freedesktop/Notifications; interface=org.freedesktop.Notifications; member=Notify
   string "Copresence"
   uint32 4
   string ""
   string "Zoë <b>Quinn</b> joined Contoso Portal"
   string "on Pricing"
   array [
      string "default"
      string "Open"
      string "teams"
      string "Chat in Teams"
   ]
   array [
      dict entry(
         string "urgency"
         variant             byte 1
      )
   ]
   int32 -1
"#;
        let calls = parse_notify_calls(log);
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].summary, "Zoë <b>Quinn</b> joined Contoso Portal");
        assert_eq!(calls[0].body, "on Pricing");
        assert_eq!(calls[0].replaces_id, 4);
        assert_eq!(
            calls[0].actions,
            [
                ("default".into(), "Open".into()),
                ("teams".into(), "Chat in Teams".into())
            ]
        );
        assert!((calls[0].time - 1_795_426_000.25).abs() < 1e-6);
    }
}
