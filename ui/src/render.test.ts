// @vitest-environment jsdom
/**
 * The renderer against hand-made views: toolbar overflow, tree roll-up, hostile names, the user
 * card and the connection banner. Commands are fakes; UI-local state is driven by clicks.
 */

import { beforeEach, describe, expect, it, vi } from "vitest";
import { initialUi, renderApp, type Actions, type UiState } from "./render";
import type { PageRow, Person, SiteView, View } from "./types";

const NOW = new Date(2025, 2, 14, 11, 0).getTime();

function person(id: number, name: string, over: Partial<Person> = {}): Person {
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
    is_me: false,
    email: `${name.split(" ")[0].toLowerCase()}@contoso.test`,
    has_teams: true,
    ...session,
    sessions: [session],
    ...over,
  };
}

function page(path: string, title: string, depth: number, over: Partial<PageRow> = {}): PageRow {
  return { path, title, depth, has_children: false, here: [], rolled_up: [], ...over };
}

function site(over: Partial<SiteView> = {}): SiteView {
  return {
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

function view(sites: SiteView[], over: Partial<View> = {}): View {
  return {
    revision: 1,
    status: { connection: "connected", message: null },
    me: person(99, "You Self", { is_me: true }),
    sites,
    paused_until: null,
    settings: {
      server: "http://127.0.0.1:7878",
      signed_in_as: "you@example.com",
      token_storage: "keychain",
      storage_warning: null,
      server_warning: null,
      notify_joins: true,
      notify_saves: true,
      quiet_hours_enabled: false,
      quiet_start: "18:00",
      quiet_end: "08:00",
      autostart: false,
      sites: sites.map((s) => ({ id: s.id, name: s.name, followed: true })),
    },
    ...over,
  };
}

function fakeActions(): Actions & Record<keyof Actions, ReturnType<typeof vi.fn>> {
  const ok = () => vi.fn(() => Promise.resolve());
  return {
    openContact: ok(),
    setFollow: ok(),
    updatePreferences: ok(),
    setAutostart: ok(),
    signIn: ok(),
    signOut: ok(),
    pause: ok(),
    resume: ok(),
  };
}

let root: HTMLElement;
let ui: UiState;
let actions: ReturnType<typeof fakeActions>;

function draw(v: View): void {
  renderApp(root, v, ui, actions, NOW);
}

const q = <E extends Element = HTMLElement>(selector: string, within: ParentNode = root): E | null =>
  within.querySelector<E>(selector);
const all = (selector: string, within: ParentNode = root): HTMLElement[] => [
  ...within.querySelectorAll<HTMLElement>(selector),
];
const row = (path: string): HTMLElement | undefined =>
  all('[data-testid="page"]').find((r) => r.dataset.path === path);
const names = (within: ParentNode): string[] =>
  all('[data-testid="avatar"]', within).map((a) => a.dataset.name ?? "");

beforeEach(() => {
  document.body.replaceChildren();
  root = document.createElement("div");
  document.body.append(root);
  ui = initialUi();
  actions = fakeActions();
});

describe("toolbar", () => {
  it("shows three avatars and +2 for five others, expanding to all five", () => {
    const others = ["Ann Lee", "Bo Chen", "Cy Diaz", "Di Eze", "Ed Fox"].map((n, i) => person(i + 1, n));
    draw(view([site({ toolbar: others.slice(0, 3), overflow: others.slice(3) })]));

    const bar = q(".toolbar")!;
    expect(names(bar)).toEqual(["Ann Lee", "Bo Chen", "Cy Diaz"]);
    const more = q<HTMLButtonElement>('[data-testid="overflow"]')!;
    expect(more.textContent).toBe("+2");
    expect(q('[data-testid="overflow-list"]')).toBeNull();

    more.click();
    const list = q('[data-testid="overflow-list"]')!;
    expect(all("li", list).map((li) => li.querySelector(".name")?.textContent)).toEqual([
      "Ann Lee",
      "Bo Chen",
      "Cy Diaz",
      "Di Eze",
      "Ed Fox",
    ]);
    expect(list.textContent).toContain("Pricing");
  });

  it("says nobody else is here when nobody is", () => {
    draw(view([site()]));
    expect(q(".toolbar")!.textContent).toBe("Nobody else here");
    expect(q('[data-testid="overflow"]')).toBeNull();
  });
});

describe("page tree", () => {
  const bo = person(2, "Bo Chen", { page: "/products/pricing" });
  const tree = (): View =>
    view([
      site({
        toolbar: [bo],
        pages: [
          page("/", "Home", 0, { has_children: true, rolled_up: [bo] }),
          page("/products", "Products", 1, { has_children: true, rolled_up: [bo] }),
          page("/products/pricing", "Pricing", 2, { here: [bo], rolled_up: [bo] }),
          page("/about", "About", 1),
        ],
      }),
    ]);

  it("rolls people up into a collapsed row and hides its children", () => {
    draw(tree());
    expect(names(row("/products")!)).toEqual([]);
    expect(names(row("/products/pricing")!)).toEqual(["Bo Chen"]);

    q<HTMLButtonElement>('[data-testid="toggle"]', row("/products"))!.click();

    expect(names(row("/products")!)).toEqual(["Bo Chen"]);
    expect(row("/products/pricing")).toBeUndefined();
    expect(row("/about")).toBeDefined(); // a sibling stays
    expect(q('[data-testid="toggle"]', row("/products"))!.getAttribute("aria-expanded")).toBe("false");

    // Collapsing survives a new view, and expanding brings the child back.
    draw(tree());
    expect(row("/products/pricing")).toBeUndefined();
    q<HTMLButtonElement>('[data-testid="toggle"]', row("/products"))!.click();
    expect(names(row("/products/pricing")!)).toEqual(["Bo Chen"]);
  });

  it("shows several people on a page and rings your own avatar", () => {
    const me = person(99, "You Self", { is_me: true });
    draw(view([site({ pages: [page("/", "Home", 0, { here: [bo, me], rolled_up: [bo, me] })] })]));
    const avatars = all('[data-testid="avatar"]', row("/")!);
    expect(avatars.map((a) => a.dataset.name)).toEqual(["Bo Chen", "You Self"]);
    expect(avatars[1].classList.contains("me")).toBe(true);
    expect(avatars[0].classList.contains("me")).toBe(false);
  });
});

describe("hostile data", () => {
  it("renders markup in a name as text", () => {
    const name = "<img src=x onerror=alert(1)>";
    const evil = person(7, name, { initials: "<I", page_title: "<b>Pricing</b>" });
    draw(
      view([
        site({
          toolbar: [person(1, "Ann Lee"), person(2, "Bo Chen"), person(3, "Cy Diaz")],
          overflow: [evil],
        }),
      ]),
    );

    q<HTMLButtonElement>('[data-testid="overflow"]')!.click();
    expect(q('[data-testid="overflow-list"]')!.textContent).toContain(name);
    all('[data-testid="avatar"]')
      .find((a) => a.dataset.userId === "7")!
      .click();

    expect(q('[data-testid="card"]')!.textContent).toContain(name);
    expect(document.querySelector("img")).toBeNull();
    expect(document.querySelector("b")).toBeNull();
  });
});

describe("user card", () => {
  const ann = person(1, "Ann Lee", {
    has_teams: false,
    sessions: [
      { page: "/pricing", page_title: "Pricing", client: "studio", since: NOW - 5 * 60_000 },
      { page: "/faq", page_title: "FAQ", client: "vscode-web", since: NOW - 3 * 3_600_000 },
    ],
  });

  it("opens from an avatar, offers e-mail, and says when there is no Teams account", () => {
    draw(view([site({ toolbar: [ann] })]));
    q<HTMLButtonElement>('.toolbar [data-testid="avatar"]')!.click();

    const card = q('[data-testid="card"]')!;
    expect(card.textContent).toContain("ann@contoso.test");
    expect(card.textContent).toContain("Pricing");
    expect(card.textContent).toContain("for 5 min");
    expect(all("li", q('[data-testid="sessions"]', card)!)).toHaveLength(2);
    expect(q<HTMLButtonElement>('[data-testid="chat-teams"]', card)!.disabled).toBe(true);
    expect(q('[data-testid="no-teams"]', card)!.textContent).toBe("No Teams account");

    q<HTMLButtonElement>('[data-testid="send-email"]', card)!.click();
    expect(actions.openContact).toHaveBeenCalledWith("contoso", 1, "email");
  });

  it("shows a failure inline and closes", async () => {
    actions.openContact.mockImplementation(() =>
      Promise.reject({ code: "invalid_address", message: "No valid e-mail address" }),
    );
    draw(view([site({ toolbar: [person(1, "Ann Lee")] })]));
    q<HTMLButtonElement>('[data-testid="avatar"]')!.click();
    q<HTMLButtonElement>('[data-testid="send-email"]')!.click();
    await vi.waitFor(() =>
      expect(q('[data-testid="card-error"]')?.textContent).toBe("No valid e-mail address"),
    );

    q<HTMLButtonElement>('[data-testid="card-close"]')!.click();
    expect(q('[data-testid="card"]')).toBeNull();
  });
});

describe("banner", () => {
  it("shows when offline and is absent when connected", () => {
    draw(view([site()], { status: { connection: "offline", message: "connection refused" } }));
    const banner = q('[data-testid="banner"]')!;
    expect(banner.dataset.connection).toBe("offline");
    expect(banner.textContent).toContain("Offline");
    expect(banner.textContent).toContain("connection refused");

    draw(view([site()]));
    expect(q('[data-testid="banner"]')).toBeNull();
  });
});

describe("saves and settings", () => {
  it("words the last save", () => {
    draw(
      view([
        site({
          last_save: {
            name: "Bo Chen",
            page_title: "Pricing",
            version: 5,
            at: NOW - 5 * 60_000,
            forced: false,
          },
        }),
      ]),
    );
    expect(q('[data-testid="last-save"]')!.textContent).toBe(
      "Last saved by Bo Chen · Pricing · 5 min ago · v5",
    );
  });

  it("sends the whole preferences object and the token, and clears the token after", async () => {
    ui.tab = "settings";
    draw(view([site()], { settings: { ...view([]).settings, storage_warning: "Stored in a file" } }));
    expect(q('[data-testid="storage-warning"]')!.textContent).toBe("Stored in a file");
    draw(view([site()], { settings: { ...view([]).settings, server_warning: "plain http" } }));
    expect(q('[data-testid="server-warning"]')!.textContent).toBe("plain http");

    q<HTMLInputElement>('[data-testid="notify-saves"]')!.click();
    expect(actions.updatePreferences).toHaveBeenCalledWith({
      notify_joins: true,
      notify_saves: false,
      quiet_hours_enabled: false,
      quiet_start: "18:00",
      quiet_end: "08:00",
    });

    const token = q<HTMLInputElement>('[data-testid="token"]')!;
    token.value = "secret";
    q<HTMLFormElement>('[data-testid="sign-in"]')!.requestSubmit();
    expect(actions.signIn).toHaveBeenCalledWith("http://127.0.0.1:7878", "secret");
    await vi.waitFor(() => expect(q<HTMLInputElement>('[data-testid="token"]')!.value).toBe(""));
  });

  it("keeps what is being typed when a presence update arrives", () => {
    ui.tab = "settings";
    draw(view([site()]));
    const token = q<HTMLInputElement>('[data-testid="token"]')!;
    token.value = "half-typed";
    token.focus();

    draw(view([site({ toolbar: [person(1, "Ann Lee")] })]));
    expect(q<HTMLInputElement>('[data-testid="token"]')!.value).toBe("half-typed");
    expect(document.activeElement).toBe(q('[data-testid="token"]'));
  });
});
