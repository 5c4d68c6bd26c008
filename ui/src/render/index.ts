/**
 * The whole popup, built from a `View` (what Rust sends) and the `UiState` (what only the
 * popup cares about: collapsed rows, an expanded "+N", the open card, the tab): the top (header
 * and strips), the open tab, and the card over it, each drawn by its own part.
 *
 * Nothing here decides who is where: toolbar, overflow, roll-up and followed sites arrive
 * computed. The three regions are made once per root and redrawn in place, keeping focus and
 * scroll across a redraw, so a presence update never moves the user's place in the popup.
 */

import type { Tab, View } from "../types";
import { card } from "./card";
import { errorMessage, type Actions, type Ctx, type UiState } from "./context";
import { el } from "./dom";
import { banner, doNotDisturbStrip, errorLine, header, pausedStrip } from "./header";
import { settingsPanel } from "./settings";
import { sitesPanel } from "./sites";

export { errorMessage, initialUi, type Actions, type UiState } from "./context";
export { rowKey } from "./sites";
export { setPhotos } from "./avatar";

/** What `refresh` needs to draw a root again, kept per root. */
interface Mounted {
  view: View;
  ui: UiState;
  actions: Actions;
  now: number | undefined;
  tab: Tab | null;
  /** The popup's three regions, made once: redrawing one leaves the others in place. */
  parts: { top: HTMLElement; main: HTMLElement; overlay: HTMLElement };
  /** The settings panel and what it was built from: reused while that is unchanged, so a
   * presence update doesn't wipe what is being typed. */
  settings: { key: string; node: HTMLElement } | null;
}

const mounted = new WeakMap<HTMLElement, Mounted>();

/** Draw `view` into `root`. `now` (ms) is fixed by tests; the clock is used otherwise. */
export function renderApp(root: HTMLElement, view: View, ui: UiState, actions: Actions, now?: number): void {
  const previous = mounted.get(root);
  const m: Mounted = {
    view,
    ui,
    actions,
    now,
    tab: previous?.tab ?? null,
    parts: previous?.parts ?? makeParts(root),
    settings: previous?.settings ?? null,
  };
  mounted.set(root, m);
  draw(root, m);
}

/** Draw `root` again from its last view (after a change of `UiState`, or as time passes). */
export function refresh(root: HTMLElement): void {
  const m = mounted.get(root);
  if (m) draw(root, m);
}

/** Scroll a site's card into view; false when it is not drawn. */
export function revealSite(root: HTMLElement, site: string): boolean {
  const section = [...root.querySelectorAll<HTMLElement>('[data-testid="site"]')].find(
    (s) => s.dataset.site === site,
  );
  section?.scrollIntoView({ block: "nearest", behavior: "smooth" });
  return section !== undefined;
}

function makeParts(root: HTMLElement): Mounted["parts"] {
  const parts = {
    top: el("div", { class: "top" }),
    main: el("main", { class: "main" }),
    overlay: el("div", { class: "overlay" }),
  };
  root.replaceChildren(parts.top, parts.main, parts.overlay);
  return parts;
}

function draw(root: HTMLElement, m: Mounted): void {
  const { view, ui } = m;
  const { top, main, overlay } = m.parts;
  const focus = ui.focus ?? focusedKey(root);
  ui.focus = null;
  const scrollTop = m.tab === ui.tab ? main.scrollTop : 0;

  const redraw = (): void => refresh(root);
  const ctx: Ctx = {
    root,
    view,
    ui,
    actions: m.actions,
    now: m.now ?? Date.now(),
    redraw,
    run: (command) => {
      command.catch((error: unknown) => {
        ui.error = errorMessage(error);
        redraw();
      });
    },
  };

  top.replaceChildren(
    ...[header(ctx), pausedStrip(ctx), doNotDisturbStrip(ctx), banner(ctx), errorLine(ctx)].filter((n) => n !== null),
  );
  if (ui.tab === "sites") {
    main.replaceChildren(sitesPanel(ctx));
  } else {
    // Left in place while what it shows is unchanged: presence updates don't disturb typing.
    const key = JSON.stringify([view.settings, view.accounts, ui.signIn, ui.error]);
    if (m.settings?.key !== key) {
      m.settings = { key, node: settingsPanel(ctx, view.settings, m.settings?.node ?? null) };
    }
    if (main.firstElementChild !== m.settings.node) main.replaceChildren(m.settings.node);
  }
  const shown = ui.tab === "sites" ? card(ctx) : null;
  overlay.replaceChildren(...(shown ? [shown] : []));
  main.scrollTop = scrollTop;
  m.tab = ui.tab;
  if (focus) focusByKey(root, focus);
}

function focusedKey(root: HTMLElement): string | null {
  const active = document.activeElement;
  if (!(active instanceof HTMLElement) || !root.contains(active)) return null;
  return active.closest<HTMLElement>("[data-focus]")?.dataset.focus ?? null;
}

function focusByKey(root: HTMLElement, key: string): void {
  const target = [...root.querySelectorAll<HTMLElement>("[data-focus]")].find((n) => n.dataset.focus === key);
  target?.focus({ preventScroll: true });
}
