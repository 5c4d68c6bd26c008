/**
 * The top of the popup: the header (the app, who you are, the tabs, the pause menu), then the
 * strips that say something about the whole app — notifications paused (by the app, or by the
 * desktop's Do Not Disturb), the connection when
 * it is not live, the failure of the last command.
 *
 * A strip is drawn only while it has something to say, so a connected, unpaused popup shows
 * the header alone.
 */

import type { Connection, PauseUntil, Tab } from "../types";
import { until } from "../time";
import { avatarFace } from "./avatar";
import type { Ctx } from "./context";
import { button, el } from "./dom";

export function header(ctx: Ctx): HTMLElement {
  const { view, ui } = ctx;
  const me = view.me
    ? el(
        "span",
        { class: "me-chip" },
        avatarFace(view.me, "span", false),
        el("span", { class: "me-name" }, view.me.name),
      )
    : null;
  const tab = (id: Tab, label: string): HTMLButtonElement =>
    button(
      {
        role: "tab",
        class: "tab",
        "aria-selected": String(ui.tab === id),
        "data-testid": `tab-${id}`,
        "data-focus": `tab:${id}`,
      },
      label,
      () => {
        ui.tab = id;
        ui.pauseMenu = false;
        ctx.redraw();
      },
    );
  return el(
    "header",
    { class: "header" },
    el("div", { class: "row" }, el("span", { class: "app" }, "Copresence"), me),
    el(
      "div",
      { class: "row" },
      el("nav", { class: "tabs", role: "tablist" }, tab("sites", "Sites"), tab("settings", "Settings")),
      view.paused_until === null ? pauseMenu(ctx) : null,
    ),
  );
}

function pauseMenu(ctx: Ctx): HTMLElement {
  const { ui } = ctx;
  const choose = (until: PauseUntil) => (): void => {
    ui.pauseMenu = false;
    ctx.redraw();
    ctx.run(ctx.actions.pause(until));
  };
  return el(
    "div",
    { class: "pause" },
    button(
      {
        class: "quiet",
        "aria-haspopup": "menu",
        "aria-expanded": String(ui.pauseMenu),
        "data-testid": "pause",
        "data-focus": "pause",
      },
      "Pause ▾",
      () => {
        ui.pauseMenu = !ui.pauseMenu;
        ctx.redraw();
      },
    ),
    ui.pauseMenu &&
      el(
        "div",
        { class: "menu", role: "menu" },
        button({ role: "menuitem", "data-testid": "pause-hour" }, "1 hour", choose("hour")),
        button({ role: "menuitem", "data-testid": "pause-tomorrow" }, "Until tomorrow", choose("tomorrow")),
      ),
  );
}

export function pausedStrip(ctx: Ctx): HTMLElement | null {
  const pausedUntil = ctx.view.paused_until;
  if (pausedUntil === null) return null;
  return el(
    "div",
    { class: "strip paused", "data-testid": "paused" },
    el("span", {}, `Notifications paused until ${until(pausedUntil, ctx.now)}`),
    button({ class: "quiet", "data-testid": "resume", "data-focus": "resume" }, "Resume", () =>
      ctx.run(ctx.actions.resume()),
    ),
  );
}

/** The desktop's own "do not disturb" silences the app too; it ends when the desktop's does. */
export function doNotDisturbStrip(ctx: Ctx): HTMLElement | null {
  if (!ctx.view.do_not_disturb) return null;
  return el(
    "div",
    { class: "strip paused", "data-testid": "do-not-disturb" },
    el("span", {}, "Do Not Disturb is on: notifications are silenced"),
  );
}

const BANNERS: Record<Exclude<Connection, "connected">, string> = {
  connecting: "Connecting…",
  offline: "Offline — retrying",
  signed_out: "Signed out — open Settings to sign in",
};

export function banner(ctx: Ctx): HTMLElement | null {
  const { connection, message } = ctx.view.status;
  if (connection === "connected") return null;
  return el(
    "div",
    {
      class: `strip banner ${connection}`,
      role: "status",
      "data-testid": "banner",
      "data-connection": connection,
    },
    el("strong", {}, BANNERS[connection]),
    message && el("span", { class: "detail" }, message),
  );
}

export function errorLine(ctx: Ctx): HTMLElement | null {
  if (ctx.ui.error === null) return null;
  return el(
    "div",
    { class: "strip error", role: "alert", "data-testid": "error" },
    el("span", {}, ctx.ui.error),
    button({ class: "quiet", "aria-label": "Dismiss" }, "×", () => {
      ctx.ui.error = null;
      ctx.redraw();
    }),
  );
}
