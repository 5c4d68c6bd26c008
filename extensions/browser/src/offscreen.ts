/**
 * The offscreen document (Chromium). It starts a dedicated worker that runs the live part and
 * relays messages between it and the service worker (offscreen documents have no extension API
 * besides runtime messaging).
 *
 * Why this detour: the live part keeps event streams open, and an MV3 service worker is
 * stopped after seconds without extension events, which would close them and make the maker
 * leave. An offscreen document lives until the extension closes it, and so do its workers;
 * `WORKERS` is the reason it is created for.
 */

import type { ToLive } from "./messages.js";

const worker = new Worker("live-worker.js", { type: "module" });
worker.onmessage = (event: MessageEvent) => {
  // The service worker wakes for it; if it is being replaced just now, the next change sends it again.
  chrome.runtime.sendMessage(event.data).catch(() => undefined);
};

chrome.runtime.onMessage.addListener((message: ToLive, sender) => {
  if (sender.id !== chrome.runtime.id || message?.to !== "live") return;
  worker.postMessage(message);
});

// The settings and tabs, which the service worker may have sent before this document was there.
chrome.runtime.sendMessage({ to: "worker", kind: "hello" }).catch(() => undefined);
