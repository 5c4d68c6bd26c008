//! The baseline the tray app's idle memory and CPU are measured against (`make bench-tray`):
//! a Tauri tray app built the same way — same Tauri, same features, same profile — with a tray
//! icon, a small menu and one hidden webview window on a one-line page, and nothing else: no
//! network, no state, no notifications. What `copresence-tray` costs above this is ours.

use std::borrow::Cow;

use tauri::menu::{MenuBuilder, MenuItemBuilder};
use tauri::tray::TrayIconBuilder;
use tauri::utils::assets::{AssetKey, AssetsIter, CspHash};
use tauri::{RunEvent, Runtime, WebviewUrl, WebviewWindowBuilder};

/// The whole frontend: one line, served for every path through Tauri's own protocol, as the
/// real popup's bundle is.
const PAGE: &[u8] = b"<!doctype html><title>bare</title><p>bare</p>";

struct OnePage;

impl<R: Runtime> tauri::Assets<R> for OnePage {
    fn get(&self, _key: &AssetKey) -> Option<Cow<'_, [u8]>> {
        Some(Cow::Borrowed(PAGE))
    }

    fn iter(&self) -> Box<AssetsIter<'_>> {
        Box::new(std::iter::once((
            Cow::Borrowed("/index.html"),
            Cow::Borrowed(PAGE),
        )))
    }

    fn csp_hashes(&self, _html_path: &AssetKey) -> Box<dyn Iterator<Item = CspHash<'_>> + '_> {
        Box::new(std::iter::empty())
    }
}

fn main() {
    let mut context = tauri::generate_context!();
    // The popup window of copresence-tray's configuration is not part of the baseline.
    context.config_mut().app.windows.clear();
    context.set_assets(Box::new(OnePage));
    let app = tauri::Builder::default()
        .setup(|app| {
            let quit = MenuItemBuilder::with_id("quit", "Quit").build(app)?;
            let menu = MenuBuilder::new(app).item(&quit).build()?;
            TrayIconBuilder::with_id("bare")
                .icon(tauri::image::Image::from_bytes(include_bytes!(
                    "../../icons/tray-idle.png"
                ))?)
                .menu(&menu)
                .on_menu_event(|app, _| app.exit(0))
                .build(app)?;
            let page = WebviewUrl::App("index.html".into());
            WebviewWindowBuilder::new(app, "page", page)
                .visible(false)
                .build()?;
            Ok(())
        })
        .build(context)
        .expect("the bare tray app starts");
    app.run(|_app, event| {
        if let RunEvent::ExitRequested { api, code, .. } = event {
            if code.is_none() {
                api.prevent_exit();
            }
        }
    });
}
