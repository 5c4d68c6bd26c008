/**
 * The Settings tab: the accounts (each service signed in to: who you are there and how, where
 * the credential is kept, warnings, Sign out), the form that signs in to one more, the sites
 * you follow, what to be notified of, and the app's own settings.
 *
 * The popup rebuilds this panel only when what it shows changes, and a rebuild takes over what
 * was being typed from the panel it replaces, so a view that arrives mid-typing loses nothing.
 * The token only ever goes to Rust; preferences go as a whole, read back from the controls.
 */

import type { AccountView, SettingsView, TokenStorage } from "../types";
import { errorMessage, type Ctx } from "./context";
import { button, checkbox, el } from "./dom";

const STORAGE: Record<TokenStorage, string | null> = {
  keychain: "Your token is kept in the system keychain.",
  file: "Your token is kept in a file only you can read.",
  environment: "Your token comes from COPRESENCE_TOKEN.",
  none: null,
};

/** The settings tab. `previous`, the panel it replaces, lends what was being typed. */
export function settingsPanel(ctx: Ctx, s: SettingsView, previous: HTMLElement | null): HTMLElement {
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
    placeholder: "Paste your token",
  });
  token.value = field("token")?.value ?? "";
  // With the organisation's account: the provider's page opens in the browser.
  const withAccount = button(
    {
      class: "primary",
      disabled: ui.signIn.busy,
      "data-testid": "sign-in-account",
      "data-focus": "sign-in-account",
    },
    ui.signIn.busy ? "Finish signing in in your browser…" : "Sign in",
    () => {
      ui.signIn = { busy: true, error: null };
      ctx.redraw();
      actions.signInWithAccount(server.value.trim()).then(
        () => {
          ui.signIn = { busy: false, error: null };
          ctx.redraw();
        },
        (error: unknown) => {
          ui.signIn = { busy: false, error: errorMessage(error) };
          ctx.redraw();
        },
      );
    },
  );
  const withToken = el(
    "details",
    { class: "with-token", open: token.value !== "" },
    el("summary", {}, "Use a token instead"),
    el("label", { for: "token" }, "Token"),
    token,
    el(
      "button",
      { type: "submit", disabled: ui.signIn.busy, "data-testid": "sign-in-token", "data-focus": "sign-in" },
      "Sign in with the token",
    ),
  );
  const form = el(
    "form",
    { class: "sign-in", "data-testid": "sign-in" },
    el("label", { for: "server" }, "Server"),
    server,
    withAccount,
    withToken,
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
    el("h2", {}, ctx.view.accounts.length > 1 ? "Accounts" : "Account"),
    ctx.view.accounts.length === 0 && el("p", { class: "muted" }, "Not signed in."),
    ...ctx.view.accounts.map((account) => accountEntry(ctx, account)),
    el("h3", {}, ctx.view.accounts.some((a) => a.signed_in_as) ? "Add an account" : "Sign in"),
    form,
    el("h2", {}, "Sites you follow"),
    s.sites.length === 0 && el("p", { class: "muted" }, "Sign in to see your sites."),
    ...s.sites.map((site) =>
      checkbox(
        {
          "data-testid": "follow",
          "data-site": site.id,
          "data-account": site.account,
          "data-focus": `follow:${site.account}:${site.id}`,
        },
        site.followed,
        ctx.view.accounts.length > 1 ? `${site.name} (${hostOf(site.account)})` : site.name,
        (follow) => ctx.run(actions.setFollow(site.account, site.id, follow)),
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
    toolbarSize(ctx, s),
    shortcutSetting(ctx, s, field("shortcut")),
  );
}

/** One service signed in to: who you are there and how, what to know of where the credential is, and Sign out. */
function accountEntry(ctx: Ctx, account: AccountView): HTMLElement {
  return el(
    "div",
    { class: "account", "data-testid": "account", "data-server": account.server },
    account.signed_in_as
      ? el(
          "span",
          { "data-testid": "signed-in-as" },
          "Signed in to ",
          el("strong", {}, hostOf(account.server)),
          " as ",
          el("strong", {}, account.signed_in_as),
          account.signed_in_with ? " with your organisation's account" : " with a token",
        )
      : el(
          "span",
          { class: "muted" },
          `${hostOf(account.server)}: ${account.message ?? "not signed in"}`,
        ),
    button(
      { class: "quiet", "data-testid": "sign-out", "data-focus": `sign-out:${account.server}` },
      "Sign out",
      () => ctx.run(ctx.actions.signOut(account.server)),
    ),
    STORAGE[account.token_storage] && el("p", { class: "muted" }, STORAGE[account.token_storage]),
    account.storage_warning &&
      el("div", { class: "warning", role: "alert", "data-testid": "storage-warning" }, account.storage_warning),
    account.server_warning &&
      el("div", { class: "warning", role: "alert", "data-testid": "server-warning" }, account.server_warning),
  );
}

/** A server's host (and port), as people name it. */
function hostOf(server: string): string {
  try {
    return new URL(server).host;
  } catch {
    return server;
  }
}

/** What a shortcut starts as when turned on: no app or desktop we know of takes it. */
const SUGGESTED_SHORTCUT = "Alt+Shift+C";

/**
 * The global shortcut: off by default; turned on, it starts as a suggestion the user may
 * change. Rust binds it and says when it cannot (another app holds it).
 */
function shortcutSetting(ctx: Ctx, s: SettingsView, previous: HTMLInputElement | null): HTMLElement {
  const input = el("input", {
    type: "text",
    "data-testid": "shortcut",
    "data-focus": "shortcut",
    "data-initial": s.shortcut ?? "",
    "aria-label": "Shortcut",
    placeholder: SUGGESTED_SHORTCUT,
    autocomplete: "off",
    spellcheck: "false",
  });
  input.value =
    previous && previous.dataset.initial === (s.shortcut ?? "") ? previous.value : (s.shortcut ?? "");
  const toggle = checkbox(
    { "data-testid": "shortcut-enabled", "data-focus": "shortcut-enabled" },
    s.shortcut !== null,
    "Show or hide with a shortcut",
    (enabled) => {
      if (enabled && input.value.trim() === "") input.value = SUGGESTED_SHORTCUT;
      ctx.run(ctx.actions.setShortcut(enabled ? input.value : null));
    },
  );
  input.addEventListener("change", () => {
    if (toggle.querySelector("input")?.checked) ctx.run(ctx.actions.setShortcut(input.value));
  });
  return el(
    "div",
    { class: "shortcut" },
    el("div", { class: "toolbar-size" }, toggle, input),
    s.shortcut_problem &&
      el("p", { class: "error-text", role: "alert", "data-testid": "shortcut-problem" }, s.shortcut_problem),
  );
}

/** How many avatars a site shows before "+N": the choices come from Rust. */
function toolbarSize(ctx: Ctx, s: SettingsView): HTMLElement {
  const select = el(
    "select",
    { id: "toolbar-avatars", "data-testid": "toolbar-avatars", "data-focus": "toolbar-avatars" },
    ...s.toolbar_avatar_choices.map((n) =>
      el("option", { value: String(n), selected: n === s.toolbar_avatars }, String(n)),
    ),
  );
  select.addEventListener("change", () => ctx.run(ctx.actions.setToolbarAvatars(Number(select.value))));
  return el(
    "div",
    { class: "toolbar-size" },
    el("label", { for: "toolbar-avatars" }, "Avatars before “+N”"),
    select,
  );
}
