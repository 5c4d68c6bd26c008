/**
 * Presence for one editor tab: join when it opens, heartbeat, move with its page, leave when it
 * closes, and the site's live state to show who else is there.
 *
 * The tab's session is attached to its feed (`?session=`), so a tab that closes without saying
 * goodbye (a crash, a killed browser) leaves within the service's reconnect grace, seconds, not
 * after the TTL; heartbeats keep it present across a feed that is reconnecting.
 */

import type { Client } from "./client.js";
import { CopresenceError } from "./errors.js";
import type { EventSourceClass, Feed, FeedUpdate } from "./feed.js";
import { LiveState } from "./live.js";
import type { SaveRecord, SessionState, SiteState } from "./types.js";

export interface PresenceOptions {
  /** The site being edited. */
  site: string;
  /** The page the tab opens on. */
  page: string;
  /** That page's title, should the site not have it yet. */
  title?: string;
  /** The tab's address in a web editor of the site, which maps it to `page` (a card's Open). */
  url?: string;
  /** What the tab is, as user cards show it: `studio`, `vscode-web`, … */
  client: string;
  /** The session id; default a new random one. Reuse one across page loads to keep the session. */
  session?: string;
  /**
   * The session TTL to heartbeat against, every third of it. Default: what the service answers
   * on join (`ttl_ms`, 45 s unless its operator set `--session-ttl`).
   */
  ttlMs?: number;
  /** Called when the site's live state (who is where, its version and last save) changed. */
  onChange?: (state: SiteState | undefined) => void;
  /** Called with every update of the feed, after the live state took it. */
  onUpdate?: (update: FeedUpdate) => void;
  /** Called when a heartbeat fails (the next one tries again) or the feed ends for good. */
  onError?: (error: CopresenceError) => void;
  /** The `EventSource` for the feed; see {@link FeedOptions.EventSource}. */
  EventSource?: EventSourceClass;
}

export class Presence {
  readonly session: string;
  /** Every site the feed follows (this one), kept current. */
  readonly live = new LiveState();
  readonly #client: Client;
  readonly #options: PresenceOptions;
  #page: string;
  #title: string | undefined;
  #url: string | undefined;
  #feed: Feed | undefined;
  #heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatMs: number | undefined;
  /** Session changes go out one after another, so the service sees them in the tab's order. */
  #queue: Promise<unknown> = Promise.resolve();
  #started = false;
  #closed = false;

  constructor(client: Client, options: PresenceOptions) {
    this.#client = client;
    this.#options = options;
    this.#page = options.page;
    this.#title = options.title;
    this.#url = options.url;
    this.session = options.session ?? crypto.randomUUID();
  }

  /** The site's live state, once the feed's snapshot arrived. */
  get state(): SiteState | undefined {
    return this.live.site(this.#options.site);
  }

  /** The page the tab is on. */
  get page(): string {
    return this.#page;
  }

  /** The feed, once started: its {@link Feed.lastEventId}, or to close it without leaving. */
  get feed(): Feed | undefined {
    return this.#feed;
  }

  /** Join, then follow the site with the session attached, and heartbeat. */
  async start(): Promise<SessionState> {
    if (this.#started || this.#closed) {
      throw new CopresenceError("invalid_argument", "a presence starts once");
    }
    this.#started = true;
    const joined = await this.#put();
    if (this.#closed) return joined;
    this.#feed = this.#client.feed({
      sites: [this.#options.site],
      session: this.session,
      onUpdate: (update) => this.#updated(update),
      ...(this.#options.EventSource === undefined
        ? {}
        : { EventSource: this.#options.EventSource }),
    });
    return joined;
  }

  /**
   * The tab went to another page; `title` names it if the site does not have it yet (the
   * service registers it when the site allows); `url` is the tab's address in a web editor of
   * the site, which maps it to `page`.
   */
  async move(page: string, title?: string, url?: string): Promise<SessionState> {
    this.#page = page;
    this.#title = title;
    this.#url = url;
    return this.#put();
  }

  /**
   * Save the page (by default the one the tab is on), made on top of `baseVersion`: the site
   * version the tab's content was loaded at or last saved as. Throws a {@link ConflictError}
   * naming the last save when the site has moved on, unless `force` is set.
   */
  async save(
    baseVersion: number,
    options: { page?: string; force?: boolean } = {},
  ): Promise<SaveRecord> {
    return this.#client.save(this.#options.site, {
      page: options.page ?? this.#page,
      base_version: baseVersion,
      force: options.force ?? false,
    });
  }

  /**
   * Stop: no more heartbeats, the feed closed, and (unless `leave` is false) the session deleted,
   * so others see the leave at once. With `leave: false` the session leaves after the reconnect
   * grace instead, unless a page that reuses its id attaches it again first: a reload then shows
   * nobody a leave and a join. A delete that fails is thrown, but the session still leaves
   * within the grace: its stream is closed either way.
   */
  async close(options: { leave?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#heartbeatTimer);
    this.#feed?.close();
    if (options.leave ?? true) {
      // After any change still on its way, so that change cannot bring the session back.
      await this.#enqueue(() =>
        // keepalive: the request outlives a tab that is closing.
        this.#client.deleteSession(this.#options.site, this.session, { keepalive: true }),
      );
    }
  }

  #updated(update: FeedUpdate): void {
    if (update.kind === "event" && this.live.apply(update.event)) {
      this.#options.onChange?.(this.state);
    }
    if (update.kind === "fatal") this.#options.onError?.(update.error);
    this.#options.onUpdate?.(update);
  }

  /** Join, heartbeat or move: `PUT` the page, then wait a heartbeat before the next one. */
  async #put(): Promise<SessionState> {
    if (this.#closed) throw new CopresenceError("closed", "this presence was closed");
    const put = () =>
      this.#client.putSession(this.#options.site, this.session, {
        page: this.#page,
        client: this.#options.client,
        ...(this.#title === undefined ? {} : { title: this.#title }),
        ...(this.#url === undefined ? {} : { url: this.#url }),
      });
    const state = await this.#enqueue(async () => {
      try {
        return await put();
      } catch (error) {
        // The page stands without the address (the site's editors changed meanwhile, say):
        // the tab stays present, and no heartbeat sends the refused address again.
        if (!(error instanceof CopresenceError) || error.code !== "invalid_url" || this.#url === undefined) throw error;
        this.#url = undefined;
        this.#options.onError?.(error);
        return put();
      }
    });
    this.#heartbeatMs = (this.#options.ttlMs ?? state.ttl_ms) / 3;
    this.#scheduleHeartbeat();
    return state;
  }

  #scheduleHeartbeat(): void {
    clearTimeout(this.#heartbeatTimer);
    if (this.#closed || this.#heartbeatMs === undefined) return;
    this.#heartbeatTimer = setTimeout(() => {
      if (this.#closed) return;
      this.#put().catch((error: unknown) => {
        // The next heartbeat tries again; it joins anew if the session was lost meanwhile.
        this.#scheduleHeartbeat();
        this.#options.onError?.(
          error instanceof CopresenceError
            ? error
            : new CopresenceError("network", String(error), { cause: error }),
        );
      });
    }, this.#heartbeatMs);
  }

  #enqueue<T>(change: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(change);
    this.#queue = next.catch(() => undefined);
    return next;
  }
}
