/**
 * This window on one site: its session (join, heartbeat, move, leave; attached to the live
 * feed, so a window that closes leaves within the reconnect grace), the site's live state, and
 * saves made on top of the version the maker started from.
 *
 * The version a save is made on is the window's, not the file's: the site's version when the
 * window joined, then its own saves', then whatever the maker took on with **Refresh**. A save by
 * anyone else since makes the next save a conflict, as in the design studio. Nothing here
 * touches VS Code: the UI reads {@link SitePresence.people} and shows what it says.
 */

import {
  Client,
  ConflictError,
  CopresenceError,
  Presence,
  type Member,
  type SaveRecord,
  type SessionInfo,
  type SiteState,
  type TokenSource,
  type UserCard,
} from "@copresence/client";

import type { Page } from "./mapping.js";

export interface SitePresenceOptions {
  server: string;
  site: string;
  /** What user cards show as this editor: `vscode` or `vscode-web`. */
  clientName: string;
  token: TokenSource;
  /** The page the window opens on. */
  page: Page;
  /** The site's state changed (who is where, a save, the page tree). */
  onChange: () => void;
  /** A heartbeat failed (the next one tries again), or the feed ended for good. */
  onError: (error: CopresenceError) => void;
}

/** Someone on the site: another person, or this maker's other windows and tools. */
export interface PersonOnPage {
  user: UserCard;
  session: SessionInfo;
  /** One of this maker's own sessions elsewhere (another window, the CLI, a studio tab). */
  mine: boolean;
}

/** The people on one page, for the view and the quick pick. */
export interface PageOfPeople {
  path: string;
  title: string;
  people: PersonOnPage[];
}

export type SaveOutcome =
  | { kind: "saved"; save: SaveRecord }
  | { kind: "conflict"; conflict: ConflictError };

export class SitePresence {
  readonly client: Client;
  readonly #options: SitePresenceOptions;
  #presence: Presence | undefined;
  #me: UserCard | undefined;
  #baseVersion: number | undefined;
  #closed = false;

  constructor(options: SitePresenceOptions) {
    this.#options = options;
    this.client = new Client({ server: options.server, token: options.token });
  }

  get site(): string {
    return this.#options.site;
  }

  /** Who this maker is, once started. */
  get me(): UserCard | undefined {
    return this.#me;
  }

  get state(): SiteState | undefined {
    return this.#presence?.state;
  }

  /** This window's session id. */
  get session(): string | undefined {
    return this.#presence?.session;
  }

  get page(): string | undefined {
    return this.#presence?.page;
  }

  /** The version the next save is made on top of. */
  get baseVersion(): number | undefined {
    return this.#baseVersion;
  }

  /** Who am I, then join and follow the site. Throws what the service answered. */
  async start(): Promise<void> {
    this.#me = (await this.client.me()).user;
    const options = this.#options;
    const presence = new Presence(this.client, {
      site: options.site,
      page: options.page.path,
      ...(options.page.title === undefined ? {} : { title: options.page.title }),
      client: options.clientName,
      onChange: (state) => {
        // The first snapshot is what the window starts from.
        if (this.#baseVersion === undefined && state !== undefined) {
          this.#baseVersion = state.version;
        }
        options.onChange();
      },
      onError: options.onError,
    });
    this.#presence = presence;
    await presence.start();
  }

  /** The maker went to a file on another page; the same page changes nothing. */
  async moveTo(page: Page): Promise<void> {
    const presence = this.#presence;
    if (presence === undefined || this.#closed || presence.page === page.path) return;
    await presence.move(page.path, page.title);
    this.#options.onChange();
  }

  /**
   * Record a save of `page` made on top of the window's version; a conflict names the last
   * saver. `force` overwrites (the record then says so).
   */
  async save(page: Page, force = false): Promise<SaveOutcome> {
    const presence = this.#presence;
    if (presence === undefined) throw new CopresenceError("closed", "not connected to the site");
    const base = this.#baseVersion ?? presence.state?.version ?? 0;
    try {
      const save = await presence.save(base, { page: page.path, force });
      this.#baseVersion = Math.max(save.version, this.#baseVersion ?? 0);
      return { kind: "saved", save };
    } catch (error) {
      if (error instanceof ConflictError) return { kind: "conflict", conflict: error };
      throw error;
    }
  }

  /** **Refresh**: the maker took on the site as it is now; later saves are made on top of it. */
  adopt(version: number): void {
    this.#baseVersion = version;
  }

  /**
   * Who is where, by page in the site's page order: other people, and this maker's sessions
   * other than this window's. This window is left out.
   */
  people(): PageOfPeople[] {
    const state = this.state;
    if (state === undefined) return [];
    const byPage = new Map<string, PersonOnPage[]>();
    for (const member of state.members) {
      for (const session of member.sessions) {
        const mine = member.user.id === this.#me?.id;
        if (mine && session.id === this.session) continue;
        const list = byPage.get(session.page) ?? [];
        list.push({ user: member.user, session, mine });
        byPage.set(session.page, list);
      }
    }
    const order = new Map(state.pages.map((p, i) => [p.path, i] as const));
    return [...byPage]
      .map(([path, people]) => ({
        path,
        title: state.pages.find((p) => p.path === path)?.title ?? path,
        people: people.sort(
          (a, b) => Number(a.mine) - Number(b.mine) || a.user.name.localeCompare(b.user.name),
        ),
      }))
      .sort(
        (a, b) =>
          (order.get(a.path) ?? Infinity) - (order.get(b.path) ?? Infinity) ||
          a.path.localeCompare(b.path),
      );
  }

  /** Other people on the site (not this maker), each once. */
  others(): Member[] {
    return (this.state?.members ?? []).filter((m) => m.user.id !== this.#me?.id);
  }

  /** Leave now, so others see it at once. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#presence?.close().catch(() => undefined);
  }
}
