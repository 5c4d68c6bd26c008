/**
 * The background on Chromium: a service worker, with the live part in an offscreen document's
 * worker (offscreen.ts says why), created on first need.
 */

import { runBackground, type LiveChannel } from "./background.js";

let creating: Promise<void> | undefined;

async function ensureOffscreen(): Promise<void> {
  const contexts = await chrome.runtime.getContexts({ contextTypes: [chrome.runtime.ContextType.OFFSCREEN_DOCUMENT] });
  if (contexts.length > 0) return;
  creating ??= chrome.offscreen
    .createDocument({
      url: "offscreen.html",
      reasons: [chrome.offscreen.Reason.WORKERS],
      justification: "A worker keeps the presence event streams open while the service worker sleeps.",
    })
    .finally(() => (creating = undefined));
  await creating;
}

const offscreen: LiveChannel = {
  async send(message) {
    await ensureOffscreen();
    await chrome.runtime.sendMessage(message).catch(() => undefined);
  },
};

runBackground(offscreen);
