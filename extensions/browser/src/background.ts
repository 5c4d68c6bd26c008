/**
 * The background: it sees the tabs and the settings, tells the live part (see live.ts) about
 * them, and shows what the live part publishes: the badge of each studio tab, and the view the
 * popup reads from session storage.
 *
 * It keeps nothing in memory that matters: an MV3 service worker is stopped when idle and
 * started again for the next event, so each event reads the tabs and settings afresh and sends
 * them whole; the live part ignores what has not changed.
 */

import { identity, type Credential } from "./credential.js";
import type { FromLive, LiveView, Settings, TabSeen, ToLive } from "./messages.js";
import { VIEW_KEY } from "./messages.js";

/** How the background reaches the live part. */
export interface LiveChannel {
  send(message: ToLive): Promise<void>;
}

/** Tell the live part the settings and the tabs as they are now. */
async function sync(channel: LiveChannel): Promise<void> {
  const settings = (await chrome.storage.local.get(["server", "credential"])) as Settings;
  await channel.send({ to: "live", kind: "configure", server: settings.server, credential: settings.credential });
  const tabs: TabSeen[] = [];
  const focused = await chrome.windows.getLastFocused().catch(() => undefined);
  for (const tab of await chrome.tabs.query({})) {
    // Only the addresses of sites the extension was allowed on are visible at all.
    if (tab.id !== undefined && tab.url) tabs.push({ id: tab.id, url: tab.url, lastAccessed: lastLooked(tab, focused?.id) });
  }
  await channel.send({ to: "live", kind: "tabs", tabs });
}

/** When the maker last looked at a tab: the active tab of the window focused last is now. */
function lastLooked(tab: chrome.tabs.Tab, focusedWindow: number | undefined): number {
  if (tab.active && tab.windowId === focusedWindow) return Date.now();
  return tab.lastAccessed ?? 0;
}


/** Keep the live view for the popup, and badge each studio tab with how many others are there. */
export async function show(view: LiveView): Promise<void> {
  await chrome.storage.session.set({ [VIEW_KEY]: view });
  const counts = new Map<number, number>();
  for (const site of view.sites) {
    const others = site.members.filter((m) => m.user.email !== view.me).length;
    for (const tab of site.tabs) counts.set(tab, others);
  }
  for (const tab of await chrome.tabs.query({})) {
    if (tab.id === undefined) continue;
    const count = counts.get(tab.id);
    await chrome.action.setBadgeText({ tabId: tab.id, text: count ? String(count) : "" }).catch(() => undefined);
    if (count !== undefined) {
      await chrome.action
        .setTitle({ tabId: tab.id, title: count === 1 ? "Copresence: 1 other person here" : `Copresence: ${count} others here` })
        .catch(() => undefined);
    }
  }
}

/** Keep a renewed credential, unless the maker signed out or moved to another service meanwhile. */
export async function keepRenewed(server: string, credential: Credential): Promise<void> {
  const settings = (await chrome.storage.local.get(["server", "credential"])) as Settings;
  if (settings.server === server && identity(settings.credential) === identity(credential)) {
    await chrome.storage.local.set({ credential });
  }
}

/**
 * Listen to everything that changes what the live part should know. Called at once when the
 * background starts: a service worker's listeners must be there before its first event.
 */
export function runBackground(channel: LiveChannel): void {
  let pending: ReturnType<typeof setTimeout> | undefined;
  // Several events come together (a navigation fires a few): sync once after them.
  const soon = () => {
    clearTimeout(pending);
    pending = setTimeout(() => void sync(channel), 50);
  };
  chrome.runtime.onMessage.addListener((message: FromLive, sender) => {
    if (sender.id !== chrome.runtime.id || message?.to !== "worker") return;
    if (message.kind === "view") void show(message.view);
    if (message.kind === "renewed") void keepRenewed(message.server, message.credential);
    if (message.kind === "hello") soon();
  });

  chrome.tabs.onUpdated.addListener((_id, change) => {
    // Single-page studios change the address without loading: `url` comes with that too.
    if (change.url !== undefined || change.status === "complete") soon();
  });
  chrome.tabs.onActivated.addListener(soon);
  chrome.tabs.onRemoved.addListener(soon);
  chrome.tabs.onReplaced.addListener(soon);
  chrome.windows.onFocusChanged.addListener(soon);
  chrome.storage.onChanged.addListener((_changes, area) => {
    if (area === "local") soon();
  });
  chrome.permissions.onAdded.addListener(soon);
  chrome.permissions.onRemoved.addListener(soon);
  chrome.runtime.onStartup.addListener(soon);
  chrome.runtime.onInstalled.addListener(soon);
  soon();
}
