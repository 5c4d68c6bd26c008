/** The live part in the offscreen document's worker (Chromium): see offscreen.ts for why. */

import { Live } from "./live.js";
import type { FromLive, ToLive } from "./messages.js";

const live = new Live((view) => {
  const message: FromLive = { to: "worker", kind: "view", view };
  postMessage(message);
});

onmessage = (event: MessageEvent<ToLive>) => {
  const message = event.data;
  if (message.kind === "configure") live.configure(message.server, message.token);
  if (message.kind === "tabs") live.tabs(message.tabs);
};
