/**
 * For the renderer's tests, not the popup: hand-made views (a person, a page row, a site, the
 * whole view), fake commands, and a fresh root drawn at a fixed time, with the queries the
 * tests read the popup by.
 *
 * Every test draws the whole popup, as the app does, and drives the popup's own state by
 * clicks; `root`, `ui` and `actions` are replaced before each test of a file that calls
 * `freshPopupEachTest`.
 */

import { beforeEach, vi } from "vitest";
import type { AccountView, PageRow, Person, SiteView, View } from "../types";
import { initialUi, renderApp, type Actions, type UiState } from "./index";

export const NOW = new Date(2025, 2, 14, 11, 0).getTime();

export function person(id: number, name: string, over: Partial<Person> = {}): Person {
  const session = { page: "/pricing", page_title: "Pricing", client: "studio", since: NOW - 5 * 60_000 };
  return {
    user_id: id,
    name,
    initials: name
      .split(" ")
      .map((w) => w[0])
      .join("")
      .slice(0, 2)
      .toUpperCase(),
    colour: id % 8,
    photo: null,
    is_me: false,
    email: `${name.split(" ")[0].toLowerCase()}@contoso.test`,
    has_teams: true,
    session: "s1",
    open_address: null,
    ...session,
    sessions: [session],
    ...over,
  };
}

export function page(path: string, title: string, depth: number, over: Partial<PageRow> = {}): PageRow {
  return { path, title, depth, has_children: false, here: [], rolled_up: [], ...over };
}

export function site(over: Partial<SiteView> = {}): SiteView {
  return {
    account: "http://127.0.0.1:7878",
    account_label: null,
    id: "contoso",
    name: "Contoso Portal",
    url: "https://contoso.test",
    version: 4,
    toolbar: [],
    overflow: [],
    pages: [page("/", "Home", 0)],
    first_save: null,
    last_save: null,
    ...over,
  };
}

export function account(over: Partial<AccountView> = {}): AccountView {
  return {
    server: "http://127.0.0.1:7878",
    label: "127.0.0.1:7878 — you@example.com",
    connection: "connected",
    message: null,
    signed_in_as: "you@example.com",
    signed_in_with: null,
    token_storage: "keychain",
    storage_warning: null,
    server_warning: null,
    ...over,
  };
}

export function view(sites: SiteView[], over: Partial<View> = {}): View {
  return {
    revision: 1,
    status: { connection: "connected", message: null },
    me: person(99, "You Self", { is_me: true }),
    sites,
    paused_until: null,
    do_not_disturb: false,
    accounts: [account()],
    settings: {
      server: "http://127.0.0.1:7878",
      notify_joins: true,
      notify_saves: true,
      quiet_hours_enabled: false,
      quiet_start: "18:00",
      quiet_end: "08:00",
      autostart: false,
      toolbar_avatars: 3,
      toolbar_avatar_choices: [3, 4],
      shortcut: null,
      shortcut_problem: null,
      sites: sites.map((s) => ({ account: s.account, id: s.id, name: s.name, followed: true })),
    },
    ...over,
  };
}

type FakeActions = Actions & Record<keyof Actions, ReturnType<typeof vi.fn>>;

function fakeActions(): FakeActions {
  const ok = () => vi.fn(() => Promise.resolve());
  return {
    openContact: ok(),
    openSession: ok(),
    setFollow: ok(),
    updatePreferences: ok(),
    setAutostart: ok(),
    setToolbarAvatars: ok(),
    setShortcut: ok(),
    signIn: ok(),
    signInWithAccount: ok(),
    signOut: ok(),
    pause: ok(),
    resume: ok(),
  };
}

export let root: HTMLElement;
export let ui: UiState;
export let actions: FakeActions;

export function freshPopupEachTest(): void {
  beforeEach(() => {
    document.body.replaceChildren();
    root = document.createElement("div");
    document.body.append(root);
    ui = initialUi();
    actions = fakeActions();
  });
}

export function draw(v: View): void {
  renderApp(root, v, ui, actions, NOW);
}

export const q = <E extends Element = HTMLElement>(selector: string, within: ParentNode = root): E | null =>
  within.querySelector<E>(selector);
export const all = (selector: string, within: ParentNode = root): HTMLElement[] => [
  ...within.querySelectorAll<HTMLElement>(selector),
];
export const row = (path: string): HTMLElement | undefined =>
  all('[data-testid="page"]').find((r) => r.dataset.path === path);
export const names = (within: ParentNode): string[] =>
  all('[data-testid="avatar"]', within).map((a) => a.dataset.name ?? "");
