/**
 * Wiring of the popup: asks Rust for the view once, then redraws on every `view` event; follows
 * the tray's `show` requests; maps the `Actions` of the renderer onto Tauri commands. Holds the
 * popup's own presentational state (`UiState`) and nothing else.
 */

import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { errorMessage, initialUi, refresh, renderApp, revealSite, setPhotos, type Actions } from "./render";
import type { ShowRequest, View } from "./types";
import "./style.css";

const root = document.getElementById("app") as HTMLElement;
const ui = initialUi();

const actions: Actions = {
  openContact: (server, site, userId, kind) => invoke("open_contact", { server, site, userId, kind }),
  openSession: (server, site, userId, session) =>
    invoke("open_session", { server, site, userId, session }),
  setFollow: (server, site, follow) => invoke("set_follow", { server, site, follow }),
  updatePreferences: (preferences) => invoke("update_preferences", { preferences }),
  setAutostart: (enabled) => invoke("set_autostart", { enabled }),
  setToolbarAvatars: (count) => invoke("set_toolbar_avatars", { count }),
  setShortcut: (shortcut) => invoke("set_shortcut", { shortcut }),
  signIn: (server, token) => invoke("sign_in", { server, token }),
  signInWithAccount: (server) => invoke("sign_in_with_account", { server }),
  signOut: (server) => invoke("sign_out", { server }),
  pause: (until) => invoke("pause", { until }),
  resume: () => invoke("resume"),
};

let shown = false; // whether a view has been drawn
let revision = -1; // the newest view drawn
let reveal: string | null = null; // a site to scroll to once it is drawn
let unflash: ReturnType<typeof setTimeout> | undefined;

function render(view: View): void {
  if (view.revision < revision) return;
  revision = view.revision;
  renderApp(root, view, ui, actions);
  shown = true;
  if (reveal !== null && revealSite(root, reveal)) reveal = null;
}

function show(request: ShowRequest): void {
  ui.tab = request.tab;
  ui.pauseMenu = false;
  if (request.site !== null) {
    ui.highlight = request.site;
    reveal = request.site;
    clearTimeout(unflash);
    unflash = setTimeout(() => {
      ui.highlight = null;
      refresh(root);
    }, 1500);
  }
  refresh(root);
  if (reveal !== null && shown && revealSite(root, reveal)) reveal = null;
}

async function start(): Promise<void> {
  await listen<View>("view", (event) => render(event.payload));
  await listen<ShowRequest>("show", (event) => show(event.payload));
  await listen<Record<string, string>>("photos", (event) => {
    setPhotos(event.payload);
    if (shown) refresh(root);
  });
  try {
    setPhotos(await invoke<Record<string, string>>("photos"));
    const view = await invoke<View>("view");
    render(view);
  } catch (error) {
    if (!shown) {
      const p = document.createElement("p");
      p.className = "empty";
      p.textContent = `Could not load: ${errorMessage(error)}`;
      root.replaceChildren(p);
    }
  }
}

// Close the pause menu on a click elsewhere.
document.addEventListener("click", (event) => {
  if (ui.pauseMenu && !(event.target instanceof Element && event.target.closest(".pause"))) {
    ui.pauseMenu = false;
    refresh(root);
  }
});

// Keep "5 min ago" and "for 5 min" current.
setInterval(() => refresh(root), 30_000);

void start();
