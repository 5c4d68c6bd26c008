/**
 * The live part: one {@link Presence} per site the maker has a studio tab of, each holding the
 * site's event stream with the session attached, so that a browser that dies leaves within the
 * service's reconnect grace.
 *
 * It runs where the stream can stay open: an MV3 service worker is stopped after seconds
 * without events, which would close the stream and make the maker leave. On Chromium it runs in
 * an offscreen document, which lives until the extension closes it; on Firefox, which has no
 * offscreen documents, in the background page.
 *
 * Several tabs on one site are one person: one session per site, on the page of the tab the
 * maker looked at last. When no tab is on a site any more, its session leaves at once.
 */

import {
  Client,
  CopresenceError,
  Presence,
  pageOfAddressIn,
  type Editor,
  type SiteSummary,
} from "@copresence/client";

import { Bearer, identity, type Credential } from "./credential.js";
import type { LiveView, SiteView, TabSeen } from "./messages.js";

/** How often the sites and their editors are read again. */
const SITES_REFRESH_MS = 5 * 60_000;

/** How long to wait before trying again after a failure, one step further each time. */
const RETRY_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

/** A site the maker is a member of, with the editors it is built in. */
interface KnownSite {
  summary: SiteSummary;
  editors: Editor[];
}

/** Where a site's current tab is. */
interface Place {
  page: string;
  url: string;
  tabs: number[];
}

export class Live {
  readonly #publish: (view: LiveView) => void;
  #client: Client | undefined;
  #server: string | undefined;
  #who = "";
  #bearer: Bearer | undefined;
  #me: string | undefined;
  #problem: string | undefined;
  #sites = new Map<string, KnownSite>();
  #sitesRead: Promise<void> | undefined;
  #sitesReadAt = 0;
  #tabs: TabSeen[] = [];
  #retry = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #presences = new Map<string, { presence: Presence; place: Place }>();
  /** Changes are applied one after another, in the order they came. */
  #queue: Promise<void> = Promise.resolve();

  readonly #renewed: (server: string, credential: Credential) => void;

  /** `publish` gets each new view; `renewed` each renewed credential, to keep. */
  constructor(publish: (view: LiveView) => void, renewed: (server: string, credential: Credential) => void) {
    this.#publish = publish;
    this.#renewed = renewed;
  }

  /** Another service or credential: everything leaves, and starts again with the new one. */
  configure(server: string | undefined, credential: Credential | undefined): void {
    // Sent again whenever the service worker wakes, and after each renewal: only another
    // service or another person starts anything again.
    const who = identity(credential);
    if (server === this.#server && who === this.#who) {
      if (credential !== undefined) this.#bearer?.update(credential);
      return;
    }
    this.#server = server;
    this.#who = who;
    this.#bearer = server && credential ? new Bearer(server, credential, (renewed) => this.#renewed(server, renewed)) : undefined;
    const bearer = this.#bearer;
    this.#enqueue(async () => {
      await this.#leaveAll();
      this.#sites.clear();
      this.#sitesReadAt = 0;
      this.#me = undefined;
      this.#problem = undefined;
      this.#client = server && bearer ? new Client({ server, token: () => bearer.token() }) : undefined;
      await this.#follow();
    });
  }

  /** The tabs now (every one the extension may read the address of). */
  tabs(tabs: TabSeen[]): void {
    this.#tabs = tabs;
    this.#enqueue(() => this.#follow());
  }

  #enqueue(change: () => Promise<void>): void {
    this.#queue = this.#queue.then(change).catch((error: unknown) => {
      this.#problem = describe(error);
      this.#render();
    });
  }

  /**
   * Join, move or leave each site so that it matches the tabs. What fails (the network is not
   * up yet, the service is restarting) is tried again after a while, so a maker is never left
   * unseen until the next tab change.
   */
  async #follow(): Promise<void> {
    const client = this.#client;
    if (client === undefined) {
      this.#render();
      return;
    }
    let failed = false;
    try {
      if (this.#sitesReadAt + SITES_REFRESH_MS < Date.now()) await this.#readSites(client);
    } catch (error) {
      this.#failed(error);
      return;
    }
    const places = this.#places();
    for (const [site, { presence }] of this.#presences) {
      if (!places.has(site)) {
        this.#presences.delete(site);
        await presence.close().catch(() => undefined);
      }
    }
    for (const [site, place] of places) {
      try {
        await this.#place(client, site, place);
      } catch (error) {
        failed = true;
        this.#failed(error);
      }
    }
    if (!failed) {
      this.#retry = 0;
      this.#problem = undefined;
    }
    this.#render();
  }

  /** Be on `place` of `site`: join, or move there. */
  async #place(client: Client, site: string, place: Place): Promise<void> {
    const held = this.#presences.get(site);
    if (held === undefined) {
      const presence = new Presence(client, {
        site,
        page: place.page,
        url: place.url,
        client: "browser",
        onChange: () => this.#render(),
        onError: (error) => {
          this.#problem = error.message;
          // The site's editors changed since they were read: read them again.
          if (error.code === "invalid_url") this.#sitesReadAt = 0;
          this.#render();
        },
      });
      try {
        await presence.start();
      } catch (error) {
        // Not joined: tried afresh next time (a started presence is not started again).
        await presence.close({ leave: false }).catch(() => undefined);
        throw error;
      }
      this.#presences.set(site, { presence, place });
      return;
    }
    const before = held.place;
    if (before.page === place.page && before.url === place.url) return;
    await held.presence.move(place.page, undefined, place.url);
    held.place = place;
  }

  /**
   * Something failed: say so, and try again after a while. An address the service refused
   * (`invalid_url`) means the site's editors changed since they were read: read them again.
   */
  #failed(error: unknown): void {
    this.#problem = describe(error);
    if (error instanceof CopresenceError && error.code === "invalid_url") this.#sitesReadAt = 0;
    clearTimeout(this.#retryTimer);
    const wait = RETRY_MS[Math.min(this.#retry++, RETRY_MS.length - 1)]!;
    this.#retryTimer = setTimeout(() => this.#enqueue(() => this.#follow()), wait);
  }

  async #readSites(client: Client): Promise<void> {
    this.#sitesRead ??= (async () => {
      try {
        const [me, sites] = await Promise.all([client.me(), client.sites()]);
        this.#me = me.user.email;
        this.#sites = new Map(sites.map((summary) => [summary.site.id, { summary, editors: editorsOf(summary) }]));
        this.#sitesReadAt = Date.now();
      } finally {
        this.#sitesRead = undefined;
      }
    })();
    await this.#sitesRead;
  }

  /** Each site's current tab: of the tabs on one of its pages, the one looked at last. */
  #places(): Map<string, Place> {
    const places = new Map<string, Place & { lastAccessed: number }>();
    for (const tab of this.#tabs) {
      for (const [id, known] of this.#sites) {
        const page = pageOfAddressIn(known.editors, tab.url);
        if (page === undefined) continue;
        const place = places.get(id);
        if (place === undefined) {
          places.set(id, { page, url: tab.url, tabs: [tab.id], lastAccessed: tab.lastAccessed });
        } else {
          place.tabs.push(tab.id);
          if (tab.lastAccessed > place.lastAccessed) Object.assign(place, { page, url: tab.url, lastAccessed: tab.lastAccessed });
        }
        break;
      }
    }
    return places;
  }

  async #leaveAll(): Promise<void> {
    const held = [...this.#presences.values()];
    this.#presences.clear();
    await Promise.all(held.map(({ presence }) => presence.close().catch(() => undefined)));
  }

  #render(): void {
    const sites: SiteView[] = [];
    for (const [id, { presence, place }] of this.#presences) {
      const known = this.#sites.get(id);
      const state = presence.state;
      if (known === undefined) continue;
      sites.push({
        site: state?.site ?? known.summary.site,
        editors: known.editors,
        pages: state?.pages ?? [],
        members: state?.members ?? known.summary.online,
        lastSave: state?.last_save ?? null,
        tabs: place.tabs,
      });
    }
    this.#publish({ me: this.#me, problem: this.#problem, sites });
  }
}

/** The editors a site is built in, as `GET /v1/sites` gives them. */
function editorsOf(summary: SiteSummary): Editor[] {
  return summary.site.editors ?? [];
}

function describe(error: unknown): string {
  if (error instanceof CopresenceError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
