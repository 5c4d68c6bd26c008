/**
 * The wire types of the Copresence protocol (docs/protocol.md), mirroring the Rust ones in
 * `crates/copresence-core/src/protocol.rs` field for field. Names are the wire's (snake_case):
 * what arrives is used as it is, with nothing renamed on the way.
 *
 * Times are milliseconds since the Unix epoch.
 */

/** A user's numeric id, stable for the life of the organisation. */
export type UserId = number;

/** Who someone is: what a user card shows. */
export interface UserCard {
  id: UserId;
  name: string;
  email: string;
  /** Microsoft Teams user principal name; absent when the user has none. */
  teams?: string;
  /** Address of their profile photo; absent when they have none. */
  photo?: string;
}

/** `GET /v1/me`. */
export interface Me {
  user: UserCard;
}

/** One OpenID Connect provider whose access tokens the service takes. */
export interface SignInProvider {
  issuer: string;
  client_id: string | null;
  scopes: string[];
  audience: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
  device_authorization_endpoint?: string;
  revocation_endpoint?: string;
  end_session_endpoint?: string;
}

/** `GET /v1/auth` (no token needed): how to sign in to this service. */
export interface AuthInfo {
  providers: SignInProvider[];
  operator_tokens: boolean;
}

/** A site as listed and as named in events. */
export interface SiteInfo {
  id: string;
  name: string;
  url: string;
  /** The web editors the site is built in; absent when it has none. */
  editors?: Editor[];
}

/**
 * A web editor a site is built in: a tab whose address its URL pattern matches is on the page
 * the pattern's `page` group names (docs/editors.md).
 */
export interface Editor {
  name: string;
  /** A URL pattern (the URLPattern standard) over a tab's whole address. */
  pattern: string;
  /** What the pattern's `site` group must be, when the address names the studio's site. */
  site?: string;
  /** The `page` group's value → the page path, where the address carries an id. */
  pages?: Record<string, string>;
}

/** A page of a site. Its parent is the longest other page path that prefixes it at a `/`. */
export interface Page {
  path: string;
  title: string;
}

/** One open editor (tab, window, CLI) of a user on a site. */
export interface SessionInfo {
  id: string;
  page: string;
  client: string;
  /** When this session joined the site. */
  since: number;
  /** When this session last changed page (equal to `since` until it moves). */
  page_since: number;
  /** The editor tab's address, when one of the site's editors maps it to `page`. */
  url?: string;
}

/** A user present on a site, with every session they have open there. */
export interface Member {
  user: UserCard;
  sessions: SessionInfo[];
}

/** One save in a site's history. */
export interface SaveRecord {
  /** The site version this save created. */
  version: number;
  page: string;
  user: UserCard;
  at: number;
  /** True when the save overwrote a newer version than the saver had (`force`). */
  forced: boolean;
}

/**
 * Everything a client shows about one site: what a `snapshot` carries, kept current by
 * {@link applyToSite}. `members` is sorted by user id, each member's sessions by session id.
 */
export interface SiteState {
  site: SiteInfo;
  pages: Page[];
  version: number;
  first_save: SaveRecord | null;
  last_save: SaveRecord | null;
  members: Member[];
}

/** `GET /v1/sites`: one entry per site the caller is a member of. */
export interface SiteSummary {
  site: SiteInfo;
  version: number;
  online: Member[];
}

/** The body of `PUT /v1/sites/{site}/sessions/{session}`: join, heartbeat or move. */
export interface PutSession {
  page: string;
  /** `studio`, `vscode-web`, `cli`…: shown on user cards. */
  client: string;
  /** The page's title, for a page the site does not have yet (registered when it allows). */
  title?: string;
  /** The editor tab's address: one of the site's editors must map it to `page`. */
  url?: string;
}

/** The answer to a session `PUT`. */
export interface SessionState {
  session: SessionInfo;
  /** How long the session lives without another heartbeat. */
  ttl_ms: number;
  /** How often the service expects a heartbeat. */
  heartbeat_ms: number;
}

/** The body of `POST /v1/sites/{site}/saves`. */
export interface SaveRequest {
  page: string;
  /** The version the saved content was made on top of. */
  base_version: number;
  /** Overwrite even when the site has moved on since `base_version`. */
  force?: boolean;
}

/** `POST /v1/tickets`: a short-lived credential for a browser's `EventSource`. */
export interface Ticket {
  ticket: string;
  expires_at: number;
}

/** Why a user left a site. */
export type LeaveReason = "left" | "expired";

/** The full state of every requested site; replaces whatever the client held. */
export interface SnapshotEvent {
  type: "snapshot";
  sites: SiteState[];
}

/** A user's first session on a site. */
export interface JoinEvent {
  type: "join";
  site: string;
  member: Member;
  at: number;
}

/**
 * A session changed page, or a present user opened (`from: null`) or closed (`to: null`)
 * another session. `member` is the user's whole state after the change.
 */
export interface MoveEvent {
  type: "move";
  site: string;
  member: Member;
  session: string;
  from: string | null;
  to: string | null;
  at: number;
}

/** A user's last session on a site ended. */
export interface LeaveEvent {
  type: "leave";
  site: string;
  user: UserCard;
  reason: LeaveReason;
  at: number;
}

/** Someone saved the site: its version moved on. */
export interface SavedEvent {
  type: "saved";
  site: string;
  save: SaveRecord;
}

/**
 * Pages were added to the site's page tree (an editor opened a page the site did not have yet).
 * Applied as "add each page whose path is not there", so it leaves the same tree however often
 * and in whatever order it arrives.
 */
export interface PagesEvent {
  type: "pages";
  site: string;
  added: Page[];
  at: number;
}

/** Every event of `GET /v1/events`; the SSE event name is the same as `type`. */
export type ProtocolEvent =
  | SnapshotEvent
  | JoinEvent
  | MoveEvent
  | LeaveEvent
  | SavedEvent
  | PagesEvent;

/** A join, move, leave, saved or pages: an event about one site. */
export type SiteEvent = JoinEvent | MoveEvent | LeaveEvent | SavedEvent | PagesEvent;

/** The SSE event names of the protocol; any other name is ignored, for forward compatibility. */
export const EVENT_NAMES = ["snapshot", "join", "move", "leave", "saved", "pages"] as const;

/** Why the service ended a stream itself (SSE `event: end`, with no `id:`). */
export type StreamEndReason = "credential_expired" | "access_changed";

/** The data of `event: end`. */
export interface StreamEnd {
  reason: StreamEndReason;
}
