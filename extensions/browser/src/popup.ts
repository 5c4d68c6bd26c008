/**
 * The popup: who is on which page of the current tab's site (or of every site with a studio tab
 * open), and a person's card with Send email, Chat in Teams and Open. It only renders the view
 * the live part published (see background.ts); every name and title goes in as text.
 */

import { hasTeams, mailto, openAddress, teamsChat, type Member } from "@copresence/client";

import { VIEW_KEY, type LiveView, type Settings, type SiteView } from "./messages.js";

const root = document.getElementById("root")!;
let opened: string | undefined; // whose card is open: "site user-id"

function element<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className !== undefined) node.className = className;
  return node;
}

async function render(): Promise<void> {
  const [stored, settings, [tab]] = await Promise.all([
    chrome.storage.session.get(VIEW_KEY),
    chrome.storage.local.get(["server", "credential"]),
    chrome.tabs.query({ active: true, currentWindow: true }),
  ]);
  const view = stored[VIEW_KEY] as LiveView | undefined;
  const { server, credential } = settings as Settings;
  root.replaceChildren();
  if (!server || !credential) {
    root.append(element("p", "Copresence shows who else works on the sites you build, and where."));
    const setup = element("button", "Connect to your Copresence service", "setup");
    setup.onclick = () => void chrome.runtime.openOptionsPage();
    root.append(setup);
    return;
  }
  if (view?.problem) root.append(element("p", view.problem, "problem"));
  const sites = view?.sites ?? [];
  const current = sites.filter((s) => tab?.id !== undefined && s.tabs.includes(tab.id));
  const shown = current.length > 0 ? current : sites;
  if (shown.length === 0) {
    root.append(element("p", "Open a page of one of your sites in its studio to see who else is there.", "muted"));
    return;
  }
  for (const site of shown) root.append(siteSection(site, view?.me));
}

function siteSection(site: SiteView, me: string | undefined): HTMLElement {
  const section = element("section");
  const others = site.members.filter((m) => m.user.email !== me);
  section.append(element("h1", site.site.name));
  section.append(element("p", others.length === 0 ? "Nobody else is here." : `${others.length} other${others.length === 1 ? "" : "s"} here`, "muted"));
  const titles = new Map(site.pages.map((p) => [p.path, p.title]));
  const byPage = new Map<string, Member[]>();
  for (const member of others) {
    const page = member.sessions.reduce((a, b) => (b.page_since > a.page_since ? b : a)).page;
    byPage.set(page, [...(byPage.get(page) ?? []), member]);
  }
  for (const [page, members] of [...byPage].sort(([a], [b]) => a.localeCompare(b))) {
    const title = titles.get(page);
    section.append(element("h2", title && title !== page ? `${title} ${page}` : page));
    const list = element("ul");
    for (const member of members) list.append(person(site, member));
    section.append(list);
  }
  return section;
}

function person(site: SiteView, member: Member): HTMLElement {
  const item = element("li", undefined, "person");
  const key = `${site.site.id} ${member.user.id}`;
  const session = member.sessions.reduce((a, b) => (b.page_since > a.page_since ? b : a));
  const button = element("button", `${member.user.name} (${session.client})`);
  button.setAttribute("aria-expanded", String(opened === key));
  button.onclick = () => {
    opened = opened === key ? undefined : key;
    void render();
  };
  item.append(button);
  if (opened === key) {
    const card = element("div", undefined, "card");
    card.append(element("div", member.user.name));
    card.append(element("div", member.user.email, "muted"));
    const actions = element("div", undefined, "actions");
    const about = `${site.site.name}, ${session.page}`;
    actions.append(action("Send email", mailto(member.user.email, about)));
    if (hasTeams(member.user.teams)) actions.append(action("Chat in Teams", teamsChat(member.user.teams, `About ${about}`)));
    const open = openAddress(site.site.url, site.editors, session);
    if (open !== undefined) actions.append(action("Open", open));
    card.append(actions);
    item.append(card);
  }
  return item;
}

function action(label: string, address: string): HTMLButtonElement {
  const button = element("button", label);
  button.dataset.address = address;
  button.onclick = () => void chrome.tabs.create({ url: address });
  return button;
}

chrome.storage.session.onChanged.addListener((changes) => {
  if (VIEW_KEY in changes) void render();
});
void render();
