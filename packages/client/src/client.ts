/**
 * The REST side of the protocol (docs/protocol.md): one method per endpoint, answers read into
 * the wire types, error answers thrown as {@link CopresenceError} (a save conflict as
 * {@link ConflictError}).
 */

import * as read from "./decode.js";
import { readAs } from "./decode.js";
import { CopresenceError, errorFromAnswer } from "./errors.js";
import { Feed, type FeedOptions } from "./feed.js";
import type {
  AuthInfo,
  Me,
  PutSession,
  SaveRecord,
  SaveRequest,
  SessionState,
  SiteState,
  SiteSummary,
  Ticket,
  UserCard,
  UserId,
} from "./types.js";

/**
 * The bearer token: one given once (an operator token), or a function asked before every request
 * and every reconnect of a feed (a sign-in that renews its access token).
 */
export type TokenSource = string | (() => string | Promise<string>);

export interface ClientOptions {
  /** The service's address, `https://copresence.example.com` (a path prefix is kept). */
  server: string | URL;
  token: TokenSource;
  /** The `fetch` to call; by default the global one. */
  fetch?: typeof fetch;
  /** How long a REST call may take, from sending to the end of the answer. Default 15 s. */
  timeoutMs?: number;
}

/** How long a REST call may take by default: the Rust client's `REQUEST_TIMEOUT`. */
export const DEFAULT_TIMEOUT_MS = 15_000;

/** A client of one Copresence service, acting as one user (the token's). */
export class Client {
  /** The service's address, normalised to end with `/`. */
  readonly server: URL;
  readonly #token: TokenSource;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(options: ClientOptions) {
    this.server = parseServer(options.server);
    this.#token = options.token;
    // Called unbound: a browser's fetch throws "Illegal invocation" when called on another object.
    const fetchImpl = options.fetch ?? globalThis.fetch;
    this.#fetch = (input, init) => fetchImpl(input, init);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** `GET /v1/auth` (asked with no token): how to sign in to this service. */
  async auth(): Promise<AuthInfo> {
    return this.#call("GET", ["v1", "auth"], read.authInfo, { anonymous: true });
  }

  /** `GET /v1/me`: who the token belongs to. */
  async me(): Promise<Me> {
    return this.#call("GET", ["v1", "me"], read.me);
  }

  /** `GET /v1/users/{id}`: a user card (yourself, or someone who shares a site with you). */
  async user(id: UserId): Promise<UserCard> {
    return this.#call("GET", ["v1", "users", String(id)], read.userCard);
  }

  /** `GET /v1/sites`: every site the caller is a member of, with who is online. */
  async sites(): Promise<SiteSummary[]> {
    return this.#call("GET", ["v1", "sites"], read.siteSummaries);
  }

  /** `GET /v1/sites/{site}`: a site's whole state. */
  async site(site: string): Promise<SiteState> {
    return this.#call("GET", ["v1", "sites", segment("site", site)], read.siteState);
  }

  /**
   * `PUT /v1/sites/{site}/sessions/{session}`: join, heartbeat or move, in one idempotent call.
   * Send it again every `heartbeat_ms` of the answer to stay present ({@link Presence} does).
   */
  async putSession(site: string, session: string, body: PutSession): Promise<SessionState> {
    const path = ["v1", "sites", segment("site", site), "sessions", segment("session", session)];
    return this.#call("PUT", path, read.sessionState, { body });
  }

  /**
   * `DELETE /v1/sites/{site}/sessions/{session}`: leave at once (idempotent). `keepalive` lets
   * the request outlive the page that sends it, for a tab that is closing.
   */
  async deleteSession(
    site: string,
    session: string,
    options: { keepalive?: boolean } = {},
  ): Promise<void> {
    const path = ["v1", "sites", segment("site", site), "sessions", segment("session", session)];
    await this.#send("DELETE", path, { keepalive: options.keepalive ?? false });
  }

  /**
   * `POST /v1/sites/{site}/saves`: record a save made on top of `base_version`. When the site
   * has moved on since, this throws a {@link ConflictError} naming the last save, unless `force`
   * is set.
   */
  async save(site: string, request: SaveRequest): Promise<SaveRecord> {
    const body = {
      page: request.page,
      base_version: request.base_version,
      force: request.force ?? false,
    };
    return this.#call("POST", ["v1", "sites", segment("site", site), "saves"], read.saveRecord, {
      body,
    });
  }

  /** `GET /v1/sites/{site}/saves?limit=N`: a site's saves, newest first. */
  async saves(site: string, limit?: number): Promise<SaveRecord[]> {
    const query = limit === undefined ? undefined : new URLSearchParams({ limit: String(limit) });
    return this.#call("GET", ["v1", "sites", segment("site", site), "saves"], read.saveRecords, {
      query,
    });
  }

  /**
   * `POST /v1/tickets`: a short-lived credential for a browser's `EventSource`, which cannot send
   * an `Authorization` header; good for these sites only, or every site of the caller's.
   */
  async ticket(sites?: string[]): Promise<Ticket> {
    const body = sites === undefined || sites.length === 0 ? undefined : { sites };
    return this.#call("POST", ["v1", "tickets"], read.ticket, { body });
  }

  /** Open the live feed, `GET /v1/events`; see {@link Feed}. */
  feed(options: FeedOptions): Feed {
    return new Feed(this, options);
  }

  /** The service's address with these path segments, each encoded as one segment. */
  url(segments: string[], query?: URLSearchParams): URL {
    const url = new URL(segments.map(encodeURIComponent).join("/"), this.server);
    if (query !== undefined && query.toString() !== "") url.search = query.toString();
    return url;
  }

  /** The `Authorization` header for a request now (a token source is asked every time). */
  async authorization(): Promise<string> {
    const token = (typeof this.#token === "string" ? this.#token : await this.#token()).trim();
    if (token === "" || !/^[\x21-\x7e]+$/.test(token)) {
      throw new CopresenceError(
        "invalid_token",
        "the token must be visible ASCII characters without spaces",
      );
    }
    return `Bearer ${token}`;
  }

  /** The `fetch` this client calls. */
  get fetch(): typeof fetch {
    return this.#fetch;
  }

  async #call<T>(
    method: string,
    path: string[],
    reader: (value: unknown) => T,
    options: { body?: unknown; query?: URLSearchParams | undefined; anonymous?: boolean } = {},
  ): Promise<T> {
    const response = await this.#send(method, path, options);
    const text = await response.text().catch((error: unknown) => {
      throw new CopresenceError("network", `the answer from ${this.server.host} broke off`, {
        cause: error,
      });
    });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new CopresenceError(
        "decode",
        `the answer to ${method} /${path.join("/")} is not JSON`,
        {
          cause: error,
        },
      );
    }
    const value = readAs(json, reader);
    if (value === undefined) {
      throw new CopresenceError(
        "decode",
        `the answer to ${method} /${path.join("/")} is not what the protocol promises`,
      );
    }
    return value;
  }

  /** Send a request with the token and the timeout; an error answer is thrown. */
  async #send(
    method: string,
    path: string[],
    options: {
      body?: unknown;
      query?: URLSearchParams | undefined;
      anonymous?: boolean;
      keepalive?: boolean;
    },
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (!options.anonymous) headers.Authorization = await this.authorization();
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await this.#fetch(this.url(path, options.query), {
        method,
        headers,
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        ...(options.keepalive ? { keepalive: true } : {}),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof DOMException && error.name === "TimeoutError";
      throw new CopresenceError(
        "network",
        timedOut
          ? `${this.server.host} did not answer within ${this.#timeoutMs} ms`
          : `cannot reach ${this.server.host}: ${describe(error)}`,
        { cause: error },
      );
    }
    if (!response.ok) {
      const body = await response.text().catch(() => "");
      throw errorFromAnswer(response.status, body, response.headers.get("Retry-After"));
    }
    return response;
  }
}

/**
 * An id as a path segment. Encoding takes care of every character but `.` and `..`, which a URL
 * resolves away, and an empty id would name another endpoint: refuse those, as the Rust client.
 */
function segment(what: string, value: string): string {
  if (value === "" || value === "." || value === "..") {
    throw new CopresenceError(
      "invalid_argument",
      `invalid ${what}: ${JSON.stringify(value)} cannot be used as an id`,
    );
  }
  return value;
}

/** `http(s)://host[/prefix]` with no query or fragment, its path ending with `/`. */
function parseServer(server: string | URL): URL {
  let url: URL;
  try {
    url = new URL(typeof server === "string" ? server.trim() : server.href);
  } catch (error) {
    throw new CopresenceError(
      "invalid_url",
      `invalid server URL ${JSON.stringify(String(server))}: expected an http:// or https:// URL`,
      { cause: error },
    );
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.host === "") {
    throw new CopresenceError(
      "invalid_url",
      `invalid server URL ${JSON.stringify(url.href)}: expected an http:// or https:// URL`,
    );
  }
  url.search = "";
  url.hash = "";
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url;
}

/** The innermost cause of a fetch failure (`ECONNREFUSED …`), which says the most. */
function describe(error: unknown): string {
  let current = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
