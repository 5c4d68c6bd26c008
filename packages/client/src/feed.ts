/**
 * The live feed, `GET /v1/events`, kept open until closed.
 *
 * Server-Sent Events are read by an `EventSource`, never by hand: a browser's own, which cannot
 * send headers and so is opened with a ticket (`POST /v1/tickets`, `?ticket=`); in Node, the
 * `eventsource` package, whose `fetch` the feed wraps to send the bearer token.
 *
 * Either one reconnects by itself after a dropped connection, sending `Last-Event-ID`, so the
 * service replays what was missed, inside the reconnect grace. What it does not mend, the feed
 * does, with backoff, a fresh credential and `last_event_id=` the last id seen:
 *
 * - the service ending the stream (`event: end`: a ticket or token expired, access changed);
 * - an `EventSource` that gave up (an error status, an answer that is not an event stream).
 *
 * Only an answer that will not change by retrying (401, 404, another 4xx) ends the feed, with a
 * `fatal` update, as in the Rust client.
 */

import { Backoff } from "./backoff.js";
import type { Client } from "./client.js";
import { readEvent } from "./decode.js";
import { CopresenceError, errorFromAnswer, isObject, isRetryableStatus } from "./errors.js";
import { EVENT_NAMES, type ProtocolEvent } from "./types.js";

/** One thing that happened on a feed. */
export type FeedUpdate =
  /** The stream is open; a snapshot or the replay of missed events follows. */
  | { kind: "connected" }
  /** An event, with its SSE id. A `snapshot` replaces whatever the caller held. */
  | { kind: "event"; event: ProtocolEvent; id: string }
  /**
   * The stream was lost or could not be opened; the feed tries again (in `retryInMs`, when it
   * is the one waiting rather than the `EventSource`).
   */
  | { kind: "disconnected"; error: CopresenceError; retryInMs?: number }
  /** The service refused the stream for good (401, 404, …). Nothing follows. */
  | { kind: "fatal"; error: CopresenceError };

/** What the feed uses of an `EventSource`: the DOM's, or the `eventsource` package's. */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: Event) => void): void;
  close(): void;
}

/** An `EventSource` class that cannot send headers (a browser's): opened with tickets. */
export type EventSourceClass = new (url: string) => EventSourceLike;

export interface FeedOptions {
  /** The sites to follow; none (the default) is every site of the caller's. */
  sites?: string[];
  /**
   * One of the caller's sessions to attach: it stays present while the stream is open, and
   * leaves within the reconnect grace after it drops for good (a tab that closed).
   */
  session?: string;
  /** Resume after this event id: the service replays what came after it, with no snapshot. */
  lastEventId?: string;
  /** Called with every update, in order. */
  onUpdate: (update: FeedUpdate) => void;
  /**
   * The `EventSource` to open, one that cannot send headers (authenticated with tickets).
   * Default: the global `EventSource` where there is one (browsers), else the `eventsource`
   * package with the bearer token in a header.
   */
  EventSource?: EventSourceClass;
}

/** `EventSource.CLOSED`: the source gave up and will not reconnect by itself. */
const CLOSED = 2;

/** The longest `Retry-After` honoured: a confused proxy must not silence a feed for hours. */
const MAX_RETRY_AFTER_MS = 60_000;

/** How the feed opens an `EventSource`, decided once. */
interface Transport {
  /** Whether the URL must carry a ticket (the source cannot send an `Authorization` header). */
  tickets: boolean;
  open(url: URL): EventSourceLike;
}

export class Feed {
  readonly #client: Client;
  readonly #options: FeedOptions;
  readonly #backoff = new Backoff();
  #transport: Promise<Transport> | undefined;
  #source: EventSourceLike | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #lastEventId: string | undefined;
  #closed = false;

  /** Opens the stream at once; prefer {@link Client.feed}. */
  constructor(client: Client, options: FeedOptions) {
    this.#client = client;
    this.#options = options;
    this.#lastEventId = options.lastEventId;
    void this.#connect();
  }

  /** The id of the last event received: give it to a new feed to resume where this one ended. */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  /** Whether the feed was closed (by {@link close}, or after a `fatal` update). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Close the stream; nothing more is reported. An attached session leaves after the grace. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#source?.close();
    this.#source = undefined;
  }

  async #connect(): Promise<void> {
    this.#retryTimer = undefined;
    if (this.#closed) return;
    let transport: Transport;
    let url: URL;
    try {
      transport = await (this.#transport ??= this.#chooseTransport());
      url = await this.#url(transport);
    } catch (error) {
      this.#failed(asCopresenceError(error));
      return;
    }
    if (this.#closed) return;
    // Listeners go on before anything can arrive: events are dispatched from later tasks.
    const source = transport.open(url);
    this.#source = source;
    source.addEventListener("open", () => {
      if (this.#source !== source) return;
      this.#backoff.reset();
      this.#options.onUpdate({ kind: "connected" });
    });
    for (const name of EVENT_NAMES) {
      source.addEventListener(name, (message) => this.#received(source, name, message));
    }
    source.addEventListener("end", (message) => this.#ended(source, message));
    source.addEventListener("error", (error) => this.#errored(source, error));
  }

  /** `…/v1/events?site=…&session=…&last_event_id=…[&ticket=…]`. */
  async #url(transport: Transport): Promise<URL> {
    const query = new URLSearchParams();
    for (const site of this.#options.sites ?? []) query.append("site", site);
    if (this.#options.session !== undefined) query.set("session", this.#options.session);
    // The query form of Last-Event-ID, for a first request that cannot set headers. The
    // EventSource's own reconnects send the header, which the service prefers.
    if (this.#lastEventId !== undefined) query.set("last_event_id", this.#lastEventId);
    if (transport.tickets) {
      // A fresh ticket at every connection the feed opens: the last one may have expired.
      const { ticket } = await this.#client.ticket(this.#options.sites);
      query.set("ticket", ticket);
    }
    return this.#client.url(["v1", "events"], query);
  }

  async #chooseTransport(): Promise<Transport> {
    const Browser: EventSourceClass | undefined =
      this.#options.EventSource ??
      (typeof globalThis.EventSource === "function" ? globalThis.EventSource : undefined);
    if (Browser !== undefined) {
      return { tickets: true, open: (url) => new Browser(url.href) };
    }
    // Only where there is no EventSource of the platform's (Node): a bundler for browsers can
    // leave this module in a chunk of its own that is never loaded.
    const { EventSource } = await import("eventsource");
    const client = this.#client;
    return {
      tickets: false,
      open: (url) =>
        new EventSource(url, {
          // Asked at every (re)connection, so a renewed sign-in's token is the one sent.
          fetch: async (input, init) => {
            let authorization: string;
            try {
              authorization = await client.authorization();
            } catch (error) {
              this.#failed(asCopresenceError(error));
              throw error;
            }
            return client.fetch(input, {
              ...init,
              headers: { ...init.headers, Authorization: authorization },
            });
          },
        }),
    };
  }

  #received(source: EventSourceLike, name: string, message: Event): void {
    if (this.#source !== source) return;
    const { data, lastEventId } = message as MessageEvent<unknown>;
    if (lastEventId !== "") this.#lastEventId = lastEventId;
    const event = readEvent(name, String(data));
    if (event !== undefined) this.#options.onUpdate({ kind: "event", event, id: lastEventId });
  }

  /** `event: end`: the service closed the stream; come back with a fresh credential. */
  #ended(source: EventSourceLike, message: Event): void {
    if (this.#source !== source) return;
    source.close();
    this.#source = undefined;
    let reason = "unknown";
    try {
      const data: unknown = JSON.parse(String((message as MessageEvent<unknown>).data));
      if (isObject(data) && typeof data.reason === "string") reason = data.reason;
    } catch {
      // A reason that does not read is still an end.
    }
    this.#retryLater(
      new CopresenceError("stream_ended", `the service ended the event stream (${reason})`),
    );
  }

  #errored(source: EventSourceLike, event: Event): void {
    if (this.#source !== source) return;
    if (source.readyState !== CLOSED) {
      // The EventSource reconnects by itself, with Last-Event-ID.
      this.#options.onUpdate({
        kind: "disconnected",
        error: new CopresenceError("network", "the event stream was lost; reconnecting"),
      });
      return;
    }
    this.#source = undefined;
    // The eventsource package says which status refused the stream; a browser's says nothing,
    // and the ticket asked for at the next try meets any refusal as an answer of its own.
    const { code, message } = event as Event & { code?: unknown; message?: unknown };
    if (typeof code === "number") {
      this.#failed(errorFromAnswer(code, typeof message === "string" ? message : "", null));
    } else {
      this.#retryLater(new CopresenceError("network", "the event stream could not be opened"));
    }
  }

  /** Retry what may work later; end the feed on what will not. */
  #failed(error: CopresenceError): void {
    if (this.#closed) return;
    const refused =
      error.code === "invalid_token" ||
      error.code === "invalid_argument" ||
      error.code === "invalid_url" ||
      (error.status !== undefined &&
        error.status >= 400 &&
        error.status < 500 &&
        !isRetryableStatus(error.status));
    if (refused) {
      this.#source?.close();
      this.close();
      this.#options.onUpdate({ kind: "fatal", error });
    } else {
      this.#retryLater(error);
    }
  }

  #retryLater(error: CopresenceError): void {
    if (this.#closed) return;
    this.#source?.close();
    this.#source = undefined;
    let retryInMs = this.#backoff.nextDelayMs();
    if (error.retryAfterMs !== undefined) {
      retryInMs = Math.max(retryInMs, Math.min(error.retryAfterMs, MAX_RETRY_AFTER_MS));
    }
    this.#options.onUpdate({ kind: "disconnected", error, retryInMs });
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => void this.#connect(), retryInMs);
  }
}

function asCopresenceError(error: unknown): CopresenceError {
  if (error instanceof CopresenceError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new CopresenceError("network", message, { cause: error });
}
