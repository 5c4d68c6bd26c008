/**
 * Reading the service's JSON into the wire types, by the rules the Rust client's serde types
 * follow, so both clients accept and refuse the same events and hold the same values:
 *
 * - a required field missing, or of the wrong type, refuses the whole event (it is skipped);
 * - an optional field (`teams`, `photo`) that is absent or `null` is left out;
 * - `from`, `to`, `first_save` and `last_save` that are absent read as `null`;
 * - fields this version does not know are dropped, as serde drops them.
 *
 * Every value is built anew from the fields named here: nothing the service (or anyone between)
 * sends reaches the caller's state unless the protocol defines it.
 */

import { isObject } from "./errors.js";
import {
  EVENT_NAMES,
  type Editor,
  type LeaveReason,
  type Member,
  type Page,
  type ProtocolEvent,
  type AuthInfo,
  type Me,
  type SaveRecord,
  type SessionInfo,
  type SessionState,
  type SignInProvider,
  type SiteInfo,
  type SiteState,
  type SiteSummary,
  type Ticket,
  type UserCard,
} from "./types.js";

/** Why a value does not read as its type; caught by the top-level readers. */
class Unreadable extends Error {}

/**
 * One SSE message (its `event:` name and `data:`) as a protocol event, or `undefined` for what is
 * to be skipped: a name that is not the protocol's (forward compatibility), data that does not
 * read. Like the Rust client, the data's `type` decides what the event is.
 */
export function readEvent(name: string, data: string): ProtocolEvent | undefined {
  if (!(EVENT_NAMES as readonly string[]).includes(name)) return undefined;
  try {
    return event(JSON.parse(data));
  } catch (error) {
    if (error instanceof Unreadable || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/** A JSON value as a value of type `T`, read by `read`; throws {@link Unreadable} if not. */
export function readAs<T>(value: unknown, read: (value: unknown) => T): T | undefined {
  try {
    return read(value);
  } catch (error) {
    if (error instanceof Unreadable) return undefined;
    throw error;
  }
}

function event(value: unknown): ProtocolEvent {
  const o = object(value);
  switch (o.type) {
    case "snapshot":
      return { type: "snapshot", sites: array(o.sites, siteState) };
    case "join":
      return { type: "join", site: string(o.site), member: member(o.member), at: integer(o.at) };
    case "move":
      return {
        type: "move",
        site: string(o.site),
        member: member(o.member),
        session: string(o.session),
        from: nullable(o.from, string),
        to: nullable(o.to, string),
        at: integer(o.at),
      };
    case "leave":
      return {
        type: "leave",
        site: string(o.site),
        user: userCard(o.user),
        reason: leaveReason(o.reason),
        at: integer(o.at),
      };
    case "saved":
      return { type: "saved", site: string(o.site), save: saveRecord(o.save) };
    case "pages":
      return {
        type: "pages",
        site: string(o.site),
        added: array(o.added, page),
        at: integer(o.at),
      };
    default:
      throw new Unreadable(`unknown event type ${String(o.type)}`);
  }
}

export function siteState(value: unknown): SiteState {
  const o = object(value);
  return {
    site: siteInfo(o.site),
    pages: array(o.pages, page),
    version: integer(o.version),
    first_save: nullable(o.first_save, saveRecord),
    last_save: nullable(o.last_save, saveRecord),
    members: array(o.members, member),
  };
}

function siteInfo(value: unknown): SiteInfo {
  const o = object(value);
  const info: SiteInfo = { id: string(o.id), name: string(o.name), url: string(o.url) };
  // Left out by the service when the site has none, and by services from before editors.
  if (o.editors !== undefined) info.editors = array(o.editors, editor);
  return info;
}

function editor(value: unknown): Editor {
  const o = object(value);
  const found: Editor = { name: string(o.name), pattern: string(o.pattern) };
  if (o.site !== undefined) found.site = string(o.site);
  if (o.pages !== undefined) {
    const pages = object(o.pages);
    found.pages = Object.fromEntries(Object.entries(pages).map(([id, path]) => [id, string(path)]));
  }
  return found;
}

function page(value: unknown): Page {
  const o = object(value);
  return { path: string(o.path), title: string(o.title) };
}

export function userCard(value: unknown): UserCard {
  const o = object(value);
  const card: UserCard = { id: integer(o.id), name: string(o.name), email: string(o.email) };
  const teams = nullable(o.teams, string);
  if (teams !== null) card.teams = teams;
  const photo = nullable(o.photo, string);
  if (photo !== null) card.photo = photo;
  return card;
}

function sessionInfo(value: unknown): SessionInfo {
  const o = object(value);
  return {
    id: string(o.id),
    page: string(o.page),
    client: string(o.client),
    since: integer(o.since),
    page_since: integer(o.page_since),
    ...(o.url === undefined ? {} : { url: string(o.url) }),
  };
}

function member(value: unknown): Member {
  const o = object(value);
  return { user: userCard(o.user), sessions: array(o.sessions, sessionInfo) };
}

export function saveRecord(value: unknown): SaveRecord {
  const o = object(value);
  return {
    version: integer(o.version),
    page: string(o.page),
    user: userCard(o.user),
    at: integer(o.at),
    forced: boolean(o.forced),
  };
}

// The answers of the REST calls.

export function me(value: unknown): Me {
  return { user: userCard(object(value).user) };
}

export function siteSummaries(value: unknown): SiteSummary[] {
  return array(value, (item) => {
    const o = object(item);
    return { site: siteInfo(o.site), version: integer(o.version), online: array(o.online, member) };
  });
}

export function sessionState(value: unknown): SessionState {
  const o = object(value);
  return {
    session: sessionInfo(o.session),
    ttl_ms: integer(o.ttl_ms),
    heartbeat_ms: integer(o.heartbeat_ms),
  };
}

export function saveRecords(value: unknown): SaveRecord[] {
  return array(value, saveRecord);
}

export function ticket(value: unknown): Ticket {
  const o = object(value);
  return { ticket: string(o.ticket), expires_at: integer(o.expires_at) };
}

export function authInfo(value: unknown): AuthInfo {
  const o = object(value);
  return {
    providers: array(o.providers, signInProvider),
    operator_tokens: boolean(o.operator_tokens),
  };
}

function signInProvider(value: unknown): SignInProvider {
  const o = object(value);
  const provider: SignInProvider = {
    issuer: string(o.issuer),
    client_id: nullable(o.client_id, string),
    scopes: array(o.scopes, string),
    audience: string(o.audience),
  };
  for (const key of [
    "authorization_endpoint",
    "token_endpoint",
    "device_authorization_endpoint",
    "revocation_endpoint",
    "end_session_endpoint",
  ] as const) {
    const endpoint = nullable(o[key], string);
    if (endpoint !== null) provider[key] = endpoint;
  }
  return provider;
}

function leaveReason(value: unknown): LeaveReason {
  if (value === "left" || value === "expired") return value;
  throw new Unreadable("a leave reason is left or expired");
}

function object(value: unknown): Record<string, unknown> {
  if (!isObject(value)) throw new Unreadable("expected an object");
  return value;
}

function array<T>(value: unknown, read: (item: unknown) => T): T[] {
  if (!Array.isArray(value)) throw new Unreadable("expected an array");
  return value.map(read);
}

function string(value: unknown): string {
  if (typeof value !== "string") throw new Unreadable("expected a string");
  return value;
}

function integer(value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new Unreadable("expected an integer");
  }
  return value;
}

function boolean(value: unknown): boolean {
  if (typeof value !== "boolean") throw new Unreadable("expected true or false");
  return value;
}

/** An `Option`: absent and `null` are `null`, anything else must read. */
function nullable<T>(value: unknown, read: (value: unknown) => T): T | null {
  return value === undefined || value === null ? null : read(value);
}
