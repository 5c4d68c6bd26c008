/**
 * The background on Firefox: an event page, which hosts the live part itself (Firefox has no
 * offscreen documents). Its open event streams are what keeps the page from being suspended.
 */

import { keepRenewed, runBackground, show } from "./background.js";
import { Live } from "./live.js";

const live = new Live(
  (view) => void show(view),
  (server, credential) => void keepRenewed(server, credential),
);

runBackground({
  async send(message) {
    if (message.kind === "configure") live.configure(message.server, message.credential);
    if (message.kind === "tabs") live.tabs(message.tabs);
  },
});
