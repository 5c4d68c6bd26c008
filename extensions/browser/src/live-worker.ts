/** The live part in the offscreen document's worker (Chromium): see offscreen.ts for why. */

import { Live } from "./live.js";
import type { FromLive, ToLive } from "./messages.js";

const send = (message: FromLive) => postMessage(message);
const live = new Live(
  (view) => send({ to: "worker", kind: "view", view }),
  (server, credential) => send({ to: "worker", kind: "renewed", server, credential }),
);

onmessage = (event: MessageEvent<ToLive>) => {
  const message = event.data;
  if (message.kind === "configure") live.configure(message.server, message.credential);
  if (message.kind === "tabs") live.tabs(message.tabs);
};
