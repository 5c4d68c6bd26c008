/**
 * Builds the popup's DOM from a `View` (what Rust sends) and the `UiState` (what only the
 * popup cares about: collapsed rows, an expanded "+N", the open card, the tab).
 *
 * Nothing here decides who is where: toolbar, overflow, roll-up and followed sites arrive
 * computed. Data only ever reaches the page through `textContent` and `setAttribute`, never as
 * markup. Clicks that change presentational state update `UiState` and redraw; everything else
 * goes to `Actions`, the commands of the Rust side (tests pass fakes).
 */

import type {
  Connection,
  ContactKind,
  PageRow,
  PauseUntil,
  Person,
  Preferences,
  SettingsView,
  SiteView,
  Tab,
  TokenStorage,
  View,
} from "./types";
import { ago, date, presence, until } from "./time";

/** The commands of the Rust side; each rejects with a `CommandError` on failure. */
export interface Actions {
  openContact(site: string, userId: number, kind: ContactKind): Promise<void>;
  setFollow(site: string, follow: boolean): Promise<void>;
  updatePreferences(preferences: Preferences): Promise<void>;
  setAutostart(enabled: boolean): Promise<void>;
  signIn(server: string, token: string): Promise<void>;
  signOut(): Promise<void>;
  pause(until: PauseUntil): Promise<void>;
  resume(): Promise<void>;
}

/** What the popup remembers by itself, none of it shared with Rust. */
export interface UiState {
  tab: Tab;
  /** Collapsed tree rows, as `rowKey(site, path)`; rows are expanded by default. */
  collapsed: Set<string>;
  /** Sites whose "+N" list is open. */
  expanded: Set<string>;
  /** The open user card; `opener` is where focus goes back to when it closes. */
  card: { site: string; userId: number; error: string | null; opener: string | null } | null;
  pauseMenu: boolean;
  signIn: { busy: boolean; error: string | null };
  /** The failure of the last command that has no place of its own to show it. */
  error: string | null;
  /** A site flashed after the tray asked to show it. */
  highlight: string | null;
  /** A `data-focus` key to move focus to after the next draw. */
  focus: string | null;
}

export function initialUi(): UiState {
  return {
    tab: "sites",
    collapsed: new Set(),
    expanded: new Set(),
    card: null,
    pauseMenu: false,
    signIn: { busy: false, error: null },
    error: null,
    highlight: null,
    focus: null,
  };
}

export const rowKey = (site: string, path: string): string => `${site}\n${path}`;

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

/** The message of a command's rejection (`{code, message}`, or a bare string from Tauri). */
export function errorMessage(error: unknown): string {
  if (typeof error === "string") return error;
  if (error && typeof error === "object" && "message" in error && typeof error.message === "string") {
    return error.message;
  }
  return "Something went wrong.";
}

// ---- DOM helpers -------------------------------------------------------------------------

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined>;

/** An element with attributes (skipped when null/undefined/false) and text or element children. */
function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function button(attrs: Attrs, label: Child, onClick: (event: MouseEvent) => void): HTMLButtonElement {
  const b = el("button", { type: "button", ...attrs }, label);
  b.addEventListener("click", onClick);
  return b;
}

function checkbox(
  attrs: Attrs,
  checked: boolean,
  label: string,
  onChange: (checked: boolean) => void,
): HTMLLabelElement {
  const input = el("input", { type: "checkbox", ...attrs });
  input.checked = checked;
  input.addEventListener("change", () => onChange(input.checked));
  return el("label", { class: "check" }, input, label);
}

/** Everything a part of the popup needs to draw itself and react. */
interface Ctx {
  root: HTMLElement;
  view: View;
  ui: UiState;
  actions: Actions;
  now: number;
  redraw: () => void;
  /** Run a command; a failure shows in the error line. */
  run: (command: Promise<void>) => void;
}

// ---- The whole popup ---------------------------------------------------------------------

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
    ...[header(ctx), pausedStrip(ctx), banner(ctx), errorLine(ctx)].filter((n) => n !== null),
  );
  if (ui.tab === "sites") {
    main.replaceChildren(sitesPanel(ctx));
  } else {
    // Left in place while what it shows is unchanged: presence updates don't disturb typing.
    const key = JSON.stringify([view.settings, ui.signIn, ui.error]);
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

function header(ctx: Ctx): HTMLElement {
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

function pausedStrip(ctx: Ctx): HTMLElement | null {
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

const BANNERS: Record<Exclude<Connection, "connected">, string> = {
  connecting: "Connecting…",
  offline: "Offline — retrying",
  signed_out: "Signed out — open Settings to sign in",
};

function banner(ctx: Ctx): HTMLElement | null {
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

function errorLine(ctx: Ctx): HTMLElement | null {
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

// ---- Sites -------------------------------------------------------------------------------

function sitesPanel(ctx: Ctx): HTMLElement {
  const panel = el("div", { class: "sites" });
  if (ctx.view.sites.length === 0) {
    panel.append(el("p", { class: "empty" }, "No sites to show. Choose the sites you follow in Settings."));
  }
  for (const site of ctx.view.sites) panel.append(siteSection(ctx, site));
  return panel;
}

function siteSection(ctx: Ctx, site: SiteView): HTMLElement {
  return el(
    "section",
    {
      class: ctx.ui.highlight === site.id ? "site highlight" : "site",
      "data-testid": "site",
      "data-site": site.id,
    },
    el("div", { class: "site-head" }, el("h2", {}, site.name), el("span", { class: "url" }, site.url)),
    toolbar(ctx, site),
    ctx.ui.expanded.has(site.id) && everyoneList(ctx, site),
    pageTree(ctx, site),
    saves(ctx, site),
  );
}

function toolbar(ctx: Ctx, site: SiteView): HTMLElement {
  const bar = el("div", { class: "toolbar" });
  if (site.toolbar.length === 0 && site.overflow.length === 0) {
    bar.append(el("span", { class: "muted" }, "Nobody else here"));
    return bar;
  }
  for (const p of site.toolbar) bar.append(avatar(ctx, site.id, p, "bar"));
  if (site.overflow.length > 0) {
    const open = ctx.ui.expanded.has(site.id);
    bar.append(
      button(
        {
          class: "more",
          "data-testid": "overflow",
          "data-focus": `overflow:${site.id}`,
          "aria-expanded": String(open),
          title: open ? "Hide the list" : "Everyone on this site",
        },
        `+${site.overflow.length}`,
        () => {
          if (open) ctx.ui.expanded.delete(site.id);
          else ctx.ui.expanded.add(site.id);
          ctx.redraw();
        },
      ),
    );
  }
  return bar;
}

function everyoneList(ctx: Ctx, site: SiteView): HTMLElement {
  return el(
    "ul",
    { class: "people", "data-testid": "overflow-list" },
    ...[...site.toolbar, ...site.overflow].map((p) =>
      el(
        "li",
        {},
        avatar(ctx, site.id, p, "list"),
        el("span", { class: "name" }, p.name),
        el("span", { class: "muted" }, p.page_title),
      ),
    ),
  );
}

function pageTree(ctx: Ctx, site: SiteView): HTMLElement {
  const tree = el("ul", { class: "tree" });
  let hiddenBelow: number | null = null; // rows deeper than this sit under a collapsed row
  for (const row of site.pages) {
    if (hiddenBelow !== null && row.depth > hiddenBelow) continue;
    hiddenBelow = null;
    const collapsed = row.has_children && ctx.ui.collapsed.has(rowKey(site.id, row.path));
    if (collapsed) hiddenBelow = row.depth;
    tree.append(pageRow(ctx, site, row, collapsed));
  }
  return tree;
}

function pageRow(ctx: Ctx, site: SiteView, row: PageRow, collapsed: boolean): HTMLElement {
  const key = rowKey(site.id, row.path);
  const toggle = row.has_children
    ? button(
        {
          class: "toggle",
          "data-testid": "toggle",
          "data-focus": `toggle:${key}`,
          "aria-expanded": String(!collapsed),
          "aria-label": `${collapsed ? "Expand" : "Collapse"} ${row.title}`,
        },
        collapsed ? "▸" : "▾",
        () => {
          if (collapsed) ctx.ui.collapsed.delete(key);
          else ctx.ui.collapsed.add(key);
          ctx.redraw();
        },
      )
    : el("span", { class: "toggle" });
  const people = collapsed ? row.rolled_up : row.here;
  const li = el(
    "li",
    { class: collapsed ? "page collapsed" : "page", "data-testid": "page", "data-path": row.path },
    toggle,
    el("span", { class: "title", title: row.path }, row.title),
    el("span", { class: "avatars" }, ...people.map((p) => avatar(ctx, site.id, p, `page:${row.path}`))),
  );
  li.style.setProperty("--depth", String(row.depth));
  return li;
}

function saves(ctx: Ctx, site: SiteView): HTMLElement {
  const last = site.last_save;
  const first = site.first_save;
  return el(
    "footer",
    { class: "saves" },
    el(
      "p",
      { "data-testid": "last-save" },
      last
        ? [`Last saved by ${last.name}`, last.page_title, ago(last.at, ctx.now), `v${last.version}`]
            .filter(Boolean)
            .join(" · ") + (last.forced ? " (forced)" : "")
        : `Not saved yet · v${site.version}`,
    ),
    first && el("p", { class: "muted" }, `First saved by ${first.name} on ${date(first.at, ctx.now)}`),
  );
}

// ---- Avatars and the user card -----------------------------------------------------------

/** The coloured circle with initials, as a button or a span; `ring` marks you among others. */
function avatarFace<K extends "button" | "span">(
  p: Person,
  tag: K,
  ring = p.is_me,
  attrs: Attrs = {},
): HTMLElementTagNameMap[K] {
  const colour = ((Math.trunc(p.colour) % 8) + 8) % 8;
  return el(tag, { class: `avatar c${colour}${ring ? " me" : ""}`, ...attrs }, p.initials || "?");
}

function avatar(ctx: Ctx, site: string, p: Person, where: string): HTMLButtonElement {
  const label = p.page_title ? `${p.name} — ${p.page_title}` : p.name;
  const focusKey = `avatar:${site}:${where}:${p.user_id}`;
  const b = avatarFace(p, "button", p.is_me, {
    type: "button",
    "data-testid": "avatar",
    "data-user-id": p.user_id,
    "data-name": p.name,
    "data-focus": focusKey,
    title: label,
    "aria-label": p.is_me ? `${label} (you)` : label,
  });
  b.addEventListener("click", () => {
    ctx.ui.card = { site, userId: p.user_id, error: null, opener: focusKey };
    ctx.ui.focus = "card:close";
    ctx.redraw();
  });
  return b;
}

/** The person a card is about, wherever on the site they show. */
function findPerson(site: SiteView, userId: number): Person | undefined {
  const everyone = [
    ...site.toolbar,
    ...site.overflow,
    ...site.pages.flatMap((r) => [...r.here, ...r.rolled_up]),
  ];
  return everyone.find((p) => p.user_id === userId);
}

function card(ctx: Ctx): HTMLElement | null {
  const { ui } = ctx;
  const open = ui.card;
  if (!open) return null;
  const site = ctx.view.sites.find((s) => s.id === open.site);
  const p = site && findPerson(site, open.userId);
  if (!site || !p) {
    ui.card = null; // they left, or the site is no longer followed
    return null;
  }
  const close = (): void => {
    ui.card = null;
    ui.focus = open.opener;
    ctx.redraw();
  };
  const contact = (kind: ContactKind) => (): void => {
    if (open.error) {
      open.error = null;
      ctx.redraw();
    }
    ctx.actions.openContact(site.id, p.user_id, kind).catch((error: unknown) => {
      if (ui.card === open) {
        open.error = errorMessage(error);
        ctx.redraw();
      }
    });
  };
  const sessions = p.sessions.length > 1 ? p.sessions : [];
  const aside = el(
    "aside",
    { class: "card", role: "dialog", "aria-label": p.name, "data-testid": "card" },
    el(
      "div",
      { class: "card-head" },
      avatarFace(p, "span"),
      el(
        "div",
        { class: "who" },
        el("strong", {}, p.is_me ? `${p.name} (you)` : p.name),
        el("span", { class: "muted" }, p.email),
      ),
      button(
        {
          class: "quiet close",
          "aria-label": "Close",
          "data-testid": "card-close",
          "data-focus": "card:close",
        },
        "×",
        close,
      ),
    ),
    p.page &&
      el(
        "p",
        { class: "where" },
        "On ",
        el("strong", {}, p.page_title),
        " ",
        el("span", { class: "muted" }, p.page),
      ),
    el(
      "p",
      { class: "muted" },
      [p.client && `in ${p.client}`, presence(p.since, ctx.now)].filter(Boolean).join(" · "),
    ),
    sessions.length > 0 &&
      el(
        "ul",
        { class: "sessions", "data-testid": "sessions" },
        ...sessions.map((s) =>
          el(
            "li",
            {},
            el("span", {}, s.page_title),
            el(
              "span",
              { class: "muted" },
              [s.client, presence(s.since, ctx.now)].filter(Boolean).join(" · "),
            ),
          ),
        ),
      ),
    el(
      "div",
      { class: "card-actions" },
      button(
        { class: "primary", "data-testid": "send-email", "data-focus": "card:email" },
        "Send email",
        contact("email"),
      ),
      button(
        {
          "data-testid": "chat-teams",
          "data-focus": "card:teams",
          disabled: !p.has_teams,
          title: p.has_teams ? null : "No Teams account",
        },
        "Chat in Teams",
        contact("teams"),
      ),
    ),
    !p.has_teams && el("p", { class: "muted", "data-testid": "no-teams" }, "No Teams account"),
    open.error && el("p", { class: "error-text", role: "alert", "data-testid": "card-error" }, open.error),
  );
  aside.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
  return aside;
}

// ---- Settings ----------------------------------------------------------------------------

const STORAGE: Record<TokenStorage, string | null> = {
  keychain: "Your token is kept in the system keychain.",
  file: "Your token is kept in a file only you can read.",
  environment: "Your token comes from COPRESENCE_TOKEN.",
  none: null,
};

/** The settings tab. `previous`, the panel it replaces, lends what was being typed. */
function settingsPanel(ctx: Ctx, s: SettingsView, previous: HTMLElement | null): HTMLElement {
  const { ui, actions } = ctx;
  const field = (name: string): HTMLInputElement | null =>
    previous?.querySelector<HTMLInputElement>(`[data-testid="${name}"]`) ?? null;

  // Sign in: the token only ever goes *to* Rust.
  const oldServer = field("server");
  const server = el("input", {
    type: "url",
    id: "server",
    "data-testid": "server",
    "data-focus": "server",
    "data-initial": s.server,
    placeholder: "https://copresence.example.com",
    autocomplete: "off",
    spellcheck: "false",
  });
  server.value = oldServer && oldServer.dataset.initial === s.server ? oldServer.value : s.server;
  const token = el("input", {
    type: "password",
    id: "token",
    "data-testid": "token",
    "data-focus": "token",
    autocomplete: "off",
    placeholder: s.signed_in_as ? "Paste a new token to switch" : "Paste your token",
  });
  token.value = field("token")?.value ?? "";
  const form = el(
    "form",
    { class: "sign-in", "data-testid": "sign-in" },
    el("label", { for: "server" }, "Server"),
    server,
    el("label", { for: "token" }, "Token"),
    token,
    el(
      "button",
      { type: "submit", class: "primary", disabled: ui.signIn.busy, "data-focus": "sign-in" },
      ui.signIn.busy ? "Signing in…" : "Sign in",
    ),
    ui.signIn.error &&
      el("p", { class: "error-text", role: "alert", "data-testid": "sign-in-error" }, ui.signIn.error),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ui.signIn = { busy: true, error: null };
    ctx.redraw();
    actions.signIn(server.value.trim(), token.value).then(
      () => {
        ui.signIn = { busy: false, error: null };
        // Clear the field that is on screen now (a new view may have replaced this one).
        const current = ctx.root.querySelector<HTMLInputElement>('[data-testid="token"]');
        if (current) current.value = "";
        token.value = "";
        ctx.redraw();
      },
      (error: unknown) => {
        ui.signIn = { busy: false, error: errorMessage(error) };
        ctx.redraw();
      },
    );
  });

  // Preferences go as a whole, read back from the controls.
  const joins = checkbox(
    { "data-testid": "notify-joins", "data-focus": "notify-joins" },
    s.notify_joins,
    "When someone joins",
    () => sendPreferences(),
  );
  const saves = checkbox(
    { "data-testid": "notify-saves", "data-focus": "notify-saves" },
    s.notify_saves,
    "When someone saves",
    () => sendPreferences(),
  );
  const quiet = checkbox(
    { "data-testid": "quiet-hours", "data-focus": "quiet-hours" },
    s.quiet_hours_enabled,
    "Quiet hours",
    () => sendPreferences(),
  );
  const time = (name: string, value: string): HTMLInputElement => {
    const input = el("input", {
      type: "time",
      "data-testid": name,
      "data-focus": name,
      "aria-label": name === "quiet-start" ? "Quiet from" : "Quiet until",
      disabled: !s.quiet_hours_enabled,
    });
    input.value = value;
    input.addEventListener("change", () => sendPreferences());
    return input;
  };
  const start = time("quiet-start", s.quiet_start);
  const end = time("quiet-end", s.quiet_end);
  const checked = (label: HTMLLabelElement): boolean => label.querySelector("input")?.checked ?? false;
  function sendPreferences(): void {
    const enabled = checked(quiet);
    start.disabled = end.disabled = !enabled;
    ctx.run(
      actions.updatePreferences({
        notify_joins: checked(joins),
        notify_saves: checked(saves),
        quiet_hours_enabled: enabled,
        quiet_start: start.value,
        quiet_end: end.value,
      }),
    );
  }

  return el(
    "div",
    { class: "settings", "data-testid": "settings" },
    el("h2", {}, "Account"),
    s.signed_in_as
      ? el(
          "div",
          { class: "account" },
          el("span", {}, "Signed in as ", el("strong", {}, s.signed_in_as)),
          button({ class: "quiet", "data-testid": "sign-out", "data-focus": "sign-out" }, "Sign out", () =>
            ctx.run(actions.signOut()),
          ),
        )
      : el("p", { class: "muted" }, "Not signed in."),
    STORAGE[s.token_storage] && el("p", { class: "muted" }, STORAGE[s.token_storage]),
    s.storage_warning &&
      el("div", { class: "warning", role: "alert", "data-testid": "storage-warning" }, s.storage_warning),
    s.server_warning &&
      el("div", { class: "warning", role: "alert", "data-testid": "server-warning" }, s.server_warning),
    form,
    el("h2", {}, "Sites you follow"),
    s.sites.length === 0 && el("p", { class: "muted" }, "Sign in to see your sites."),
    ...s.sites.map((site) =>
      checkbox(
        { "data-testid": "follow", "data-site": site.id, "data-focus": `follow:${site.id}` },
        site.followed,
        site.name,
        (follow) => ctx.run(actions.setFollow(site.id, follow)),
      ),
    ),
    el("h2", {}, "Notify me"),
    joins,
    saves,
    el("div", { class: "quiet-hours" }, quiet, start, el("span", { class: "muted" }, "to"), end),
    el("h2", {}, "App"),
    checkbox(
      { "data-testid": "autostart", "data-focus": "autostart" },
      s.autostart,
      "Start at login",
      (enabled) => ctx.run(actions.setAutostart(enabled)),
    ),
  );
}
